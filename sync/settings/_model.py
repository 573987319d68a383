"""The whole configuration document, ``Settings``, and its smaller sections.

The model mirrors the YAML exactly (its JSON Schema is what editors check the
file against). What the file does not say — which file it is, where each rule
was written — comes from the validation context that ``load_settings`` passes:
``{"file": name as given, "lines": {path: line}, "base_dir": config folder}``.
"""

from __future__ import annotations

import zoneinfo
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from sync.dialect import is_url
from sync.models import WorkClass

from ._balance import Balance
from ._briefings import Briefings, FollowUps, JiraEpicWriteback, StatusSection
from ._daemon import Daemon
from ._route import Route
from ._rules import ClassifyEntry, ClassifyRule, Rule, default_problems
from ._sources import Model, Sources
from ._types import (
    ConfigPath,
    Email,
    Names,
    NotionId,
    Text,
    distinct_properties,
    none_is_empty,
    quoted,
    relais_error,
    suggest,
)

SUPPORTED_VERSION = 1
DEFAULT_ERROR = "relais_classify_default"


class Person(Model):
    """How one person is known in each tool."""

    email: Email | None = None
    jira: Text | None = Field(None, description="Atlassian account id.")
    notion: NotionId | None = Field(None, description="Notion user id.")
    pagerduty: Text | None = Field(None, description="PagerDuty user id.")


class TeamJira(Model):
    projects: Names = Field(default_factory=list, description="Project keys the team owns.")
    components: Names = Field(
        default_factory=list, description="When listed, only these components of the projects."
    )


class TeamPagerDuty(Model):
    services: Names = Field(default_factory=list, description="Service ids the team owns.")
    teams: Names = Field(default_factory=list, description="PagerDuty team ids.")


class TeamNotion(Model):
    team: Text | None = Field(None, description="Value of the Team property on Notion pages.")


class Team(Model):
    pm: Text | None = Field(None, description="The team's product manager: a key of `people`.")
    jira: TeamJira = Field(default_factory=TeamJira)
    pagerduty: TeamPagerDuty = Field(default_factory=TeamPagerDuty)
    notion: TeamNotion = Field(default_factory=TeamNotion)


class State(Model):
    """Where relais keeps its state: a SQLite file (the default), or a PostgreSQL database."""

    path: ConfigPath = Field(
        Path("relais.db"), validate_default=True, description="SQLite file, relative to this file."
    )
    url: Text | None = Field(
        None,
        description="A PostgreSQL database instead of the file: postgresql://user@host:5432/database. "
        "Its password never here: RELAIS_STATE_URL (or RELAIS_STATE_URL_FILE), which may hold the whole URL "
        "and wins over this one, or libpq's PGPASSWORD or ~/.pgpass.",
    )

    @field_validator("url")
    @classmethod
    def _postgres(cls, url: str | None) -> str | None:
        if url is not None and not is_url(url):
            raise relais_error("a PostgreSQL URL, postgresql://user@host:5432/database")
        return url

    @model_validator(mode="after")
    def _one_store(self) -> State:
        if self.url is not None and "path" in self.model_fields_set:
            raise relais_error("set one of `path` (a SQLite file) or `url` (a PostgreSQL database), not both")
        return self


class JiraWorkType(Model):
    """Exactly one of: a single-select custom field (by name), or managed labels."""

    field: Text | None = Field(None, description="Custom field name; options RUN, BUILD, IMPROVE.")
    labels_prefix: Text | None = Field(None, description='e.g. "work:" → labels work:RUN, work:BUILD…')

    @model_validator(mode="after")
    def _exactly_one(self) -> JiraWorkType:
        if (self.field is None) == (self.labels_prefix is None):
            raise relais_error("set exactly one of `field` (a custom field name) or `labels_prefix`")
        return self


class JiraUserField(Model):
    """A user-picker custom field, found by name; relais writes the routed PM's Atlassian account id."""

    field: Text = Field("Product Manager", description="The custom field's name.")


class JiraTeamField(Model):
    """A single-select custom field, found by name, whose options are the keys of `teams`."""

    field: Text = Field("Team", description="The custom field's name; its options are team keys.")


class JiraUrlField(Model):
    """A URL custom field, found by name; relais writes the linked briefing's Notion URL."""

    field: Text = Field("Briefing link", description="The custom field's name.")


class JiraWriteback(Model):
    work_type: JiraWorkType | None = None
    pm: JiraUserField | None = Field(
        None, description="The product manager of routed feedback issues. Needs route.feedback."
    )
    team: JiraTeamField | None = Field(
        None, description="The team of routed issues. Needs route.maintenance or route.feedback."
    )
    initiative: JiraUrlField | None = Field(
        None, description="The briefing a routed feedback issue concerns. Needs route.feedback."
    )
    epic: JiraEpicWriteback | None = Field(
        None, description="Health and briefing link on the epics of briefings. Needs `briefings`."
    )


class NotionWorkType(Model):
    property: Text = Field(description="A select property on each listed database.")
    databases: Annotated[Names, Field(min_length=1)] = Field(description="Keys of sources.notion.databases.")


class ScorecardProperties(Model):
    """Names of the scorecard database's properties relais owns (one row per team and period)."""

    title: Text = "Name"
    key: Text = Field(
        "Key", description="A text property: the row's team and period, by which relais finds it."
    )
    team: Text = "Team"
    period: Text = Field("Period", description="A date property: the period's first day.")
    run: Text = "RUN %"
    build: Text = "BUILD %"
    improve: Text = "IMPROVE %"
    run_hours: Text = "RUN hours"
    incidents: Text = "Incidents"
    urgent: Text = "Urgent requests"
    level: Text = "Level"
    alerts: Text = "Alerts"

    @model_validator(mode="after")
    def _distinct(self) -> ScorecardProperties:
        distinct_properties(self.model_dump())
        return self


class ScorecardWriteback(Model):
    """One row per (team, period) in a Notion database; needs `balance`."""

    database: Text = Field("scorecard", description="A key of sources.notion.databases.")
    properties: Annotated[ScorecardProperties, BeforeValidator(none_is_empty)] = Field(
        default_factory=ScorecardProperties
    )


class BriefingWriteback(Model):
    """On each active briefing of a team: its RUN load and mode; needs `balance`."""

    run_load: Text = Field("Team RUN load", description="A number property (percent).")
    mode: Text = Field(
        "Team mode", description="A select property: the team's highest active alert level, or ok."
    )


class NotionRouting(Model):
    """On each routed feedback page: who it went to, for which initiative, and by which rule."""

    database: Text = Field(
        "feedback", description="A key of sources.notion.databases: the feedback database."
    )
    pm: Text = Field("PM", description="A people property: the routed PM (or person).")
    team: Text = Field("Team", description="A select property: the target team.")
    initiative: Text = Field("Briefing", description="A relation property to the briefings database.")
    routed_by: Text = Field(
        "Routed by",
        description="A text property: the name of the rule that decided (never its file or line).",
    )

    @model_validator(mode="after")
    def _distinct(self) -> NotionRouting:
        distinct_properties(self.model_dump(exclude={"database"}))
        return self


class NotionWriteback(Model):
    work_type: NotionWorkType | None = None
    routing: NotionRouting | None = Field(
        None, description="PM, team, initiative and rule on routed feedback pages. Needs route.feedback."
    )
    scorecard: ScorecardWriteback | None = Field(
        None, description="The balance scorecard: one row per (team, period). Needs `balance`."
    )
    briefings: BriefingWriteback | None = Field(
        None, description="The team's RUN load and mode on each active briefing. Needs `balance`."
    )
    status: StatusSection = Field(
        None,
        description="Delivery status on each briefing: health, progress, forecast, dependencies, score. "
        "Needs `briefings`.",
    )


Adopt = Literal["keep", "overwrite"]


class AdoptFields(Model):
    """Per decision field; a field left out follows ``default``."""

    default: Adopt = "keep"
    work_type: Adopt | None = None
    team: Adopt | None = None
    pm: Adopt | None = None


class Writeback(Model):
    """The fields relais owns: it writes only these, only when the value changed."""

    jira: JiraWriteback | None = None
    notion: NotionWriteback | None = None
    adopt: Adopt | AdoptFields = Field(
        "keep",
        description="A decision field (work type, team, PM) that holds a value relais never wrote is a "
        "person's: `keep` it (reported as kept) or `overwrite` it once with what the rules say. Either one word "
        "for all, or per field: {default: keep, work_type: overwrite}. The initiative and the briefing/epic "
        "links are only ever filled when empty.",
    )

    def adopt_policy(self, field: str) -> str:
        """``keep`` or ``overwrite`` for a decision field holding a value relais never wrote."""
        if isinstance(self.adopt, str):
            return self.adopt
        return getattr(self.adopt, field, None) or self.adopt.default


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class Settings(Model):
    version: int = Field(description="Version of this file's format; this relais reads 1.")
    timezone: str = Field(description="IANA time zone for weeks, 'today' and report dates.")
    # Validated even when absent, so the default path resolves against the config folder.
    state: Annotated[State, BeforeValidator(none_is_empty)] = Field(
        default_factory=dict, validate_default=True
    )
    sources: Sources
    people: Annotated[dict[str, Person], BeforeValidator(none_is_empty)] = Field(default_factory=dict)
    teams: Annotated[dict[str, Team], BeforeValidator(none_is_empty)] = Field(default_factory=dict)
    classify_entries: list[ClassifyEntry] = Field(
        alias="classify",
        min_length=1,
        description="Ordered rules, first match wins; the last entry must be `- default: …`.",
    )
    writeback: Annotated[Writeback, BeforeValidator(none_is_empty)] = Field(default_factory=Writeback)
    # Absent: no balance is computed. Present, even empty: computed with the defaults.
    balance: Annotated[Balance | None, BeforeValidator(none_is_empty)] = Field(
        None, description="RUN/BUILD/IMPROVE balance per team and week, and its alerts. Absent: off."
    )
    route: Route | None = Field(
        None, description="Who gets each feedback item, which team owns each maintenance ticket. Absent: off."
    )
    briefings: Annotated[Briefings | None, BeforeValidator(none_is_empty)] = Field(
        None, description="What briefings say about delivery (epic, target date, dependencies…). Absent: off."
    )
    followups: Annotated[FollowUps | None, BeforeValidator(none_is_empty)] = Field(
        None, description="One Jira ticket after each resolved incident that matches. Absent: off."
    )
    daemon: Annotated[Daemon, BeforeValidator(none_is_empty)] = Field(
        default_factory=Daemon,
        description="`relais run`: intervals, HTTP endpoints, webhooks. Absent: defaults.",
    )

    _file: Path = PrivateAttr(default=Path("relais.yaml"))
    _rules: list[ClassifyRule] = PrivateAttr(default_factory=list)
    _default: WorkClass = PrivateAttr(default=WorkClass.BUILD)
    _default_where: str = PrivateAttr(default="")

    @field_validator("version")
    @classmethod
    def _supported(cls, version: int) -> int:
        if version != SUPPORTED_VERSION:
            raise relais_error(
                f"unsupported config version {version}, this relais reads version {SUPPORTED_VERSION}"
            )
        return version

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            raise relais_error(
                f"unknown time zone {quoted(name)}{suggest(name, _time_zones())}; "
                "use an IANA name such as Europe/Paris or UTC"
            ) from None
        return name

    @model_validator(mode="after")
    def _split_classify(self, info: ValidationInfo) -> Settings:
        for index, message, _ in default_problems(self.classify_entries):
            # load_settings reports these itself, with lines; this guards direct construction.
            at = f"entry {index + 1}" if index is not None else "the list"
            raise PydanticCustomError(
                DEFAULT_ERROR, "classify ({at}): {message}", {"at": at, "message": message}
            )
        context = info.context or {}
        file = str(context.get("file", self._file))
        lines: dict[tuple, int] = context.get("lines", {})

        def where(index: int) -> str:
            return f"{file}:{lines.get(('classify', index), '?')}"

        self._file = Path(file)
        self._rules = [
            ClassifyRule(name=entry.name, when=entry.when, then=entry.then, where=where(i))
            for i, entry in enumerate(self.classify_entries)
            if isinstance(entry, Rule)
        ]
        last = len(self.classify_entries) - 1
        default = self.classify_entries[last]  # a DefaultRule: default_problems found none
        self._default = default.default  # type: ignore[union-attr]
        self._default_where = where(last)
        return self

    @property
    def file(self) -> Path:
        """The configuration file, as the caller named it."""
        return self._file

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    # Cached: plan reads these for every stored item, and a private attribute of a pydantic
    # model is slow to read. The settings never change once loaded.
    @cached_property
    def classify(self) -> tuple[ClassifyRule, ...]:
        """The ordered rules, without the default entry."""
        return tuple(self._rules)

    @cached_property
    def classify_default(self) -> WorkClass:
        return self._default

    @cached_property
    def classify_default_where(self) -> str:
        """``file:line`` of the ``- default:`` entry."""
        return self._default_where
