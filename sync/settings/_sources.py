"""`sources:` — which tools relais reads, and how politely."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from connectors import registry

if TYPE_CHECKING:
    from connectors.jira import JiraSourceSettings
    from connectors.notion import NotionSourceSettings
    from connectors.pagerduty import PagerDutySourceSettings

from ._types import Email, ExistingFile, NonEmptyNames, NotionId, ServiceUrl, Text, relais_error


class Model(BaseModel):
    """Base of every settings model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @cached_property
    def built(self) -> dict[str, Any]:
        """What the core builds from this part of the settings once (compiled conditions, the
        classify table, the team index: :func:`sync.rules.built_once`), held by it: a reload
        makes new settings, and what was built from the old ones goes with them. Not a field:
        never validated, dumped or compared."""
        return {}

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy builds its own: what was built from the original may not hold for it."""
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("built", None)
        return copied


Overlap = Annotated[int, Field(ge=0, le=1440)]
RequestsPerSecond = Annotated[float, Field(gt=0, le=100)]
TimeoutSeconds = Annotated[float, Field(gt=0, le=600)]

_QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


def _jql_without_order(jql: str) -> str:
    # Outside quoted strings only: `summary ~ "order by"` is a legitimate search.
    if _ORDER_BY.search(_QUOTED.sub('""', jql)):
        raise relais_error(
            "jql must not contain ORDER BY: relais adds its own (by update time) to page reliably"
        )
    return jql.strip()


Jql = Annotated[Text, AfterValidator(_jql_without_order)]


class JiraFeedbackFields(Model):
    """Names of the Jira fields that describe a feedback issue (custom fields, select or text)."""

    origin: Text = Field("Origin", description="Who reported it: Sales, Support, Account management…")
    customer: Text = Field("Customer", description="The customer concerned.")
    tier: Text = Field("Tier", description="The customer's tier.")
    area: Text = Field("Area", description="The product area.")


class JiraSource(Model):
    url: ServiceUrl = Field(description="Jira Cloud site, e.g. https://acme.atlassian.net")
    jql: Jql = Field(description="Which issues relais reads. No ORDER BY: relais adds its own.")
    feedback_jql: Jql | None = Field(
        None,
        description="Which Jira issues are feedback for `route.feedback`. No ORDER BY. Must not "
        "overlap `jql`: an issue is either work or feedback.",
    )
    feedback_fields: JiraFeedbackFields = Field(
        default_factory=JiraFeedbackFields, description="The fields read on feedback issues."
    )
    overlap_minutes: Overlap = Field(
        5, description="Re-read this many minutes before the last change seen (JQL has minute precision)."
    )
    page_size: int = Field(100, ge=1, le=100, description="Issues per search page (Jira caps it at 100).")
    bulk_edit: bool = Field(
        True,
        description="Write a select value on many issues with one bulk edit (needs Jira's Global bulk "
        "change permission; without it relais writes issue by issue).",
    )
    requests_per_second: RequestsPerSecond = 10
    ca_bundle: ExistingFile | None = Field(
        None, description="PEM file of extra CA certificates (relative to this file)."
    )
    timeout_seconds: TimeoutSeconds = 30


class NotionDatabases(Model):
    briefings: NotionId | None = Field(None, description="Initiative briefings database id.")
    feedback: NotionId | None = Field(None, description="Feedback database id.")
    scorecard: NotionId | None = Field(
        None, description="Balance scorecard database id; relais writes its rows, never reads them as work."
    )

    @model_validator(mode="after")
    def _at_least_one(self) -> NotionDatabases:
        configured = self.configured()
        if not configured:
            raise relais_error("list at least one database (briefings, feedback, scorecard)")
        first: dict[str, str] = {}
        for key, database_id in configured.items():
            if database_id in first:
                raise relais_error(
                    f"{first[database_id]} and {key} are the same database; each needs its own"
                )
            first[database_id] = key
        return self

    def configured(self) -> dict[str, str]:
        """Database key → id, for the databases that are set."""
        keys = ("briefings", "feedback", "scorecard")
        return {k: getattr(self, k) for k in keys if getattr(self, k)}


class NotionProperties(Model):
    title: Text = "Name"
    team: Text = "Team"
    status: Text = "Status"
    tags: Text = "Tags"
    # On feedback pages, for `route.feedback`:
    origin: Text = Field("Origin", description="Feedback: where it came from (a select: Sales, Support…).")
    customer: Text = Field("Customer", description="Feedback: the customer's name.")
    tier: Text = Field("Tier", description="Feedback: the customer's tier.")
    area: Text = Field("Area", description="Feedback: the product area.")
    briefing: Text = Field("Briefing", description="Feedback: the relation to the briefing it concerns.")
    pm: Text = Field("PM", description="Feedback: the product manager it is routed to (people).")


class NotionSource(Model):
    url: ServiceUrl = "https://api.notion.com"
    databases: NotionDatabases = Field(
        description="Database ids (from the database URL); relais resolves each to its data source."
    )
    properties: NotionProperties = Field(
        default_factory=NotionProperties,
        description="Names of the properties relais reads on those databases.",
    )
    overlap_minutes: Overlap = Field(3, description="Notion rounds last_edited_time down to the minute.")
    requests_per_second: RequestsPerSecond = Field(
        3, description="Notion allows about 3 requests per second per integration."
    )
    ca_bundle: ExistingFile | None = None
    timeout_seconds: TimeoutSeconds = 30


class PagerDutySource(Model):
    url: ServiceUrl = Field(
        "https://api.pagerduty.com", description="EU accounts: https://api.eu.pagerduty.com"
    )
    services: NonEmptyNames = Field(description="Service ids whose incidents relais reads.")
    from_email: Email = Field(
        description="A user of the account; PagerDuty requires it (From header) for writes."
    )
    overlap_minutes: Overlap = 10
    first_sync_days: int = Field(90, ge=1, le=180, description="How far back the first sync reads incidents.")
    requests_per_second: RequestsPerSecond = 10
    ca_bundle: ExistingFile | None = None
    timeout_seconds: TimeoutSeconds = 30


if TYPE_CHECKING:  # each slice is what its connector reads (mypy checks the assignments)
    _jira: type[JiraSourceSettings] = JiraSource
    _notion: type[NotionSourceSettings] = NotionSource
    _pagerduty: type[PagerDutySourceSettings] = PagerDutySource


class Sources(Model):
    """Leave a source out to switch it off."""

    jira: JiraSource | None = None
    notion: NotionSource | None = None
    pagerduty: PagerDutySource | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Sources:
        if not self.enabled():
            raise relais_error(f"configure at least one source ({', '.join(registry.NAMES)})")
        return self

    def enabled(self) -> list[str]:
        return [name for name in registry.NAMES if getattr(self, name) is not None]
