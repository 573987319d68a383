"""relais configuration: one YAML file, validated up front, secrets from the environment.

    settings = load_settings("config/relais.yaml")   # ConfigError lists every problem
    secrets = resolve_secrets(settings)              # SecretError names every variable looked for

Exceptions:

    ConfigError     the file cannot be used; .problems: list[ConfigProblem] (file, line, path, message)
    SecretError     a secret an enabled source needs is missing or unreadable; .problems: list[str]

``python -m sync.settings.schema`` prints the JSON Schema editors use
(committed as config/relais.schema.json).
"""

from ._balance import AlertRule, Balance, Effort, JiraEffort, NotionEffort, PagerDutyEffort, Urgent
from ._errors import ConfigError, ConfigProblem
from ._load import load_settings
from ._model import (
    BriefingWriteback,
    JiraTeamField,
    JiraUrlField,
    JiraUserField,
    JiraWorkType,
    JiraWriteback,
    NotionRouting,
    NotionWorkType,
    NotionWriteback,
    Person,
    ScorecardProperties,
    ScorecardWriteback,
    Settings,
    State,
    Team,
    TeamJira,
    TeamNotion,
    TeamPagerDuty,
    Writeback,
)
from ._route import Route, RouteFallback, RouteRule
from ._rules import ClassifyRule, SetMatch, TextMatch, When
from ._secrets import SecretError, Secrets, read_secret, resolve_secrets, state_location
from ._sources import (
    JiraFeedbackFields,
    JiraSource,
    NotionDatabases,
    NotionProperties,
    NotionSource,
    PagerDutySource,
    Sources,
)

__all__ = [
    "AlertRule",
    "Balance",
    "BriefingWriteback",
    "ClassifyRule",
    "ConfigError",
    "ConfigProblem",
    "Effort",
    "JiraEffort",
    "JiraFeedbackFields",
    "JiraSource",
    "JiraTeamField",
    "JiraUrlField",
    "JiraUserField",
    "JiraWorkType",
    "JiraWriteback",
    "NotionDatabases",
    "NotionEffort",
    "NotionProperties",
    "NotionRouting",
    "NotionSource",
    "NotionWorkType",
    "NotionWriteback",
    "PagerDutyEffort",
    "PagerDutySource",
    "Person",
    "Route",
    "RouteFallback",
    "RouteRule",
    "ScorecardProperties",
    "ScorecardWriteback",
    "SecretError",
    "Secrets",
    "SetMatch",
    "Settings",
    "Sources",
    "State",
    "Team",
    "TeamJira",
    "TeamNotion",
    "TeamPagerDuty",
    "TextMatch",
    "Urgent",
    "When",
    "Writeback",
    "load_settings",
    "read_secret",
    "resolve_secrets",
    "state_location",
]
