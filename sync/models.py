"""The data the core works on.

A connector turns vendor JSON into :class:`WorkItem` (one place per vendor);
everything after that — classify, team resolution, plan — is a pure function
of work items and the configuration.

Datetimes are always timezone-aware (UTC once normalised).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

#: A vendor's name, one of connectors.registry.NAMES (the one list of vendors).
Source = str


class WorkClass(str, Enum):
    RUN = "RUN"
    BUILD = "BUILD"
    IMPROVE = "IMPROVE"


@dataclass(frozen=True)
class WorkItem:
    """One piece of work, normalised across the three tools.

    ``owned`` holds the current value, as the tool holds it now, of every
    relais-owned field that applies to this item (logical name → value,
    ``None`` when empty). ``plan`` compares against it.
    """

    source: Source
    id: str  # the vendor's stable id: Jira issue id, Notion page id, PagerDuty incident id
    key: str  # what a person calls it: PAY-12, #1042, the page title
    kind: str  # issue | epic | incident | briefing | feedback | scorecard
    title: str
    updated: datetime
    created: datetime
    url: str | None = None
    text: str = ""  # body/description flattened to plain text
    status: str | None = None
    status_category: str | None = None  # new | indeterminate | done (Jira) / open | resolved (PD)
    project: str | None = None
    issuetype: str | None = None
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    priority: str | None = None
    urgency: str | None = None  # PagerDuty high/low
    service: str | None = None  # PagerDuty service id
    team: str | None = None  # the team as the tool names it (Notion Team property, PD team id)
    resolved: datetime | None = None
    database: str | None = None  # Notion: the configured database key (briefings, feedback)
    origin: str | None = None  # feedback: sales, support, account management…
    tier: str | None = None  # feedback: the customer's tier
    area: str | None = None  # feedback: the product area
    customer: str | None = None
    worklogs: tuple[tuple[datetime, float], ...] = ()  # Jira: (started, seconds spent)
    points: float | None = None  # Jira story points
    natural_key: str | None = None  # rows relais creates (scorecard): the key it created them under
    parent: str | None = None  # Jira: the key of the parent issue (an epic's child names its epic)
    # Jira issue links: (link type name, how it reads from this issue, the other issue's key,
    # its status category when read), e.g. ("Blocks", "is blocked by", "CORE-7", "indeterminate").
    links: tuple[tuple[str, str, str, str | None], ...] = ()
    # What a briefing says about its delivery (sources.notion + `briefings:`): epic, target_date,
    # depends_on, validated_by, impact, effort, security; an incident's service name (service).
    # Read, never written.
    inputs: dict[str, Any] = field(default_factory=dict)
    owned: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        """The `source:id` handle used by `relais explain` and the state store."""
        return f"{self.source}:{self.id}"


@dataclass(frozen=True)
class FieldChange:
    """One owned field whose desired value differs from what the tool holds."""

    source: Source
    item_id: str
    target: str  # human handle: PAY-12, a Notion page title
    field: str  # logical owned-field name (work_type)
    old: Any
    new: Any
    rule: str  # the rule that decided `new`, with its file:line

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": "update",
            "target": f"{self.source}:{self.target}",
            "item": f"{self.source}:{self.item_id}",
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class Quarantined:
    """A payload a connector could not map; reported, never fatal to the cycle."""

    source: Source
    id: str
    reason: str
