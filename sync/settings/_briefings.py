"""`briefings:` and `followups:` — initiative delivery status, and tickets after incidents.

``briefings`` names the briefing properties a PM fills (the epic, the target
date, the teams the initiative depends on and which of them validated it,
impact, effort, the security flag) and how far back the team's throughput is
measured. What relais writes is under ``writeback.notion.status`` (on the
briefing) and ``writeback.jira.epic`` (on its epic).

``followups`` says which resolved PagerDuty incidents get a follow-up ticket
in their team's Jira project (one per incident, ever) and what it looks like.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, field_validator, model_validator

from ._rules import When
from ._sources import Model
from ._types import Names, Text, distinct_properties, none_is_empty, quoted, relais_error


class Briefings(Model):
    """Where relais reads what a briefing says about its delivery."""

    epic_property: Text = Field(
        "Epic",
        description="A text property holding the epic's key (PAY-12) or its Jira URL. relais fills it "
        "when the epic names the briefing and it is empty; it never changes a value a person wrote.",
    )
    target_date: Text = Field(
        "Target date", description="A date property: when the initiative should be done."
    )
    depends_on: Text = Field(
        "Depends on", description="A multi-select of team names the initiative depends on."
    )
    validated_by: Text = Field(
        "Validated by",
        description="A multi-select where each team the initiative depends on ticks its own name "
        "once it has validated the dependency.",
    )
    impact: Text = Field(
        "Impact", description="A number property: the expected impact (any scale, used as is)."
    )
    effort: Text = Field("Effort", description="A number property: the expected effort (same scale for all).")
    security: Text = Field(
        "Security critical",
        description="A checkbox: critical security work, scored `security_score` whatever "
        "its impact and effort.",
    )
    throughput_weeks: int = Field(
        4,
        ge=1,
        le=26,
        description="The team's throughput is what it finished in this many weeks before today.",
    )
    security_score: float = Field(
        1000, ge=0, description="The priority score of a security-critical briefing."
    )


def _default_when(value: object) -> object:
    return {"urgency": "high"} if value is None else value


class FollowUps(Model):
    """After a resolved incident that matches ``when``: one ticket in its team's first Jira project,
    and a note on the incident naming the ticket."""

    when: Annotated[When, BeforeValidator(_default_when)] = Field(
        default_factory=lambda: When(urgency=["high"]),
        description="Conditions on the incident (urgency, service, priority, title…). Default: high urgency.",
    )
    issuetype: Text = Field("Task", description="The Jira issue type of the follow-up ticket.")
    labels: Annotated[Names, BeforeValidator(lambda v: [] if v is None else v)] = Field(
        default_factory=lambda: ["incident-follow-up"],
        description="Labels on the ticket (a classify rule on them decides its Work type).",
    )
    lookback_days: int = Field(
        7,
        ge=1,
        le=180,
        description="Only incidents resolved this many days back or less: enabling follow-ups "
        "does not file a ticket for every incident of the last months.",
    )
    confirm_after_seconds: int = Field(
        120,
        ge=0,
        le=3600,
        description="After a create whose answer was lost, Jira's search is trusted to show "
        "the ticket after this long (it lags behind writes); until then the follow-up waits, after it a "
        "ticket search does not find is filed again.",
    )

    @field_validator("labels")
    @classmethod
    def _labels_are_labels(cls, labels: list[str]) -> list[str]:
        for label in labels:
            if any(c.isspace() for c in label):
                raise relais_error(f"Jira labels cannot contain spaces: {quoted(label)}")
        return labels


class JiraSelectField(Model):
    """A single-select custom field, found by name."""

    field: Text = Field(description="The custom field's name.")


class JiraEpicWriteback(Model):
    """On each epic a briefing names (or that names a briefing): its health, and the link to the briefing."""

    health: JiraSelectField | None = Field(
        None, description="A single select with options On track, At risk, Off track, Blocked."
    )
    briefing_link: JiraSelectField | None = Field(
        None, description="A URL field: relais fills it with the briefing's URL when it is empty."
    )


class NotionStatus(Model):
    """The delivery status relais writes on each briefing (property names)."""

    health: Text = Field("Health", description="A select: On track, At risk, Off track, Blocked.")
    reason: Text = Field("Health reason", description="A text property: why the health is what it is.")
    progress: Text = Field("Progress", description="A number property: % of the epic's work done.")
    forecast: Text = Field("Forecast", description="A date property: the expected finish at the team's pace.")
    incidents: Text = Field(
        "Open incidents", description="A number property: open incidents on the team's services."
    )
    dependencies: Text = Field("Dependencies", description='A text property: "N of M validated".')
    undeclared: Text = Field(
        "Undeclared dependencies",
        description="A text property: teams the epic's issues link to that the briefing does not declare.",
    )
    score: Text = Field(
        "Priority score", description="A number property: impact / (effort × (1 + dependencies))."
    )
    last_synced: Text = Field(
        "Last synced",
        description="A date property: written with the other values when one of them changed, never alone.",
    )

    @model_validator(mode="after")
    def _distinct(self) -> NotionStatus:
        distinct_properties(self.model_dump())
        return self


StatusSection = Annotated[NotionStatus | None, BeforeValidator(none_is_empty)]
