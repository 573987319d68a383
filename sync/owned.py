"""Every field relais writes, in one table: its tool, its kind, and what it is computed from.

Two kinds, two conflict policies (docs/decisions.md, "Writing"):

* a **decision** is something a person may also decide — the work type, the
  team, the PM, the initiative, the link between a briefing and its epic.
  People win: a value relais never wrote there is *adopted* (kept, unless
  ``writeback.adopt`` says ``overwrite``), and a value a person put in place of
  relais' own is kept.
* a **measurement** is a figure relais mirrors — scorecard figures, RUN load,
  mode, health, progress, forecast, open incidents, dependencies, score, last
  synced, "Routed by". It is restored when someone changes it (up to the
  ping-pong bound of :data:`sync.plan.CONFLICT_AFTER`), but never from partial
  data: a value is written only when every stream it is computed from has been
  read in full once and its source's latest read succeeded (:mod:`sync.readiness`).

Each entry also says what it is *derived from* (``classify``, ``routing``…),
which :func:`needs` turns into the streams of the configured sources it is
computed from. The connectors (which fields to read on which kind of item),
plan (policy, completeness), validation (an owned field is never an input) and
the README's table (``python -m sync.owned``) read this table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

DECISION = "decision"
MEASUREMENT = "measurement"


@dataclass(frozen=True)
class Owned:
    vendor: str  # jira | notion
    field: str  # the logical name plan and the connectors use
    kind: str  # DECISION | MEASUREMENT
    derived_from: str  # classify | routing | maintenance | balance | scorecard | status | link
    on: tuple[str, ...]  # the item kinds it is written on
    setting: str  # where the config names it
    what: str  # one line for the docs
    type: str = ""  # what the tool's field or property must be


_J = ("issue", "epic", "feedback")


def _measurements(
    derived_from: str, on: str, setting: str, rows: tuple[tuple[str, str, str], ...]
) -> list[Owned]:
    """Notion properties of one write-back section: (field, what, type) rows."""
    return [
        Owned("notion", name, MEASUREMENT, derived_from, (on,), f"{setting}.{name}", what, kind)
        for name, what, kind in rows
    ]


FIELDS: tuple[Owned, ...] = (
    # -- Jira ----------------------------------------------------------------------------------
    Owned(
        "jira",
        "work_type",
        DECISION,
        "classify",
        _J,
        "writeback.jira.work_type",
        "RUN, BUILD or IMPROVE, by the classify rules",
        "single select RUN/BUILD/IMPROVE, or managed labels",
    ),
    Owned(
        "jira",
        "team",
        DECISION,
        "maintenance",
        ("issue",),
        "writeback.jira.team",
        "the team of a RUN ticket no team mapping owns",
        "single select, options = team keys",
    ),
    Owned(
        "jira",
        "team",
        DECISION,
        "routing",
        ("feedback",),
        "writeback.jira.team",
        "the team a feedback issue is routed to",
        "single select, options = team keys",
    ),
    Owned(
        "jira",
        "pm",
        DECISION,
        "routing",
        ("feedback",),
        "writeback.jira.pm",
        "the PM a feedback issue is routed to",
        "user picker",
    ),
    Owned(
        "jira",
        "initiative",
        DECISION,
        "routing",
        ("feedback",),
        "writeback.jira.initiative",
        "the briefing a feedback issue concerns (its Notion URL)",
        "URL or text",
    ),
    Owned(
        "jira",
        "health",
        MEASUREMENT,
        "status",
        ("epic",),
        "writeback.jira.epic.health",
        "the delivery health of the briefing the epic belongs to",
        "single select On track/At risk/Off track/Blocked",
    ),
    Owned(
        "jira",
        "briefing_link",
        DECISION,
        "link",
        ("epic",),
        "writeback.jira.epic.briefing_link",
        "the briefing's URL, filled when empty",
        "URL",
    ),
    # -- Notion --------------------------------------------------------------------------------
    Owned(
        "notion",
        "work_type",
        DECISION,
        "classify",
        ("briefing", "feedback"),
        "writeback.notion.work_type",
        "RUN, BUILD or IMPROVE, by the classify rules",
        "select RUN/BUILD/IMPROVE",
    ),
    Owned(
        "notion",
        "pm",
        DECISION,
        "routing",
        ("feedback",),
        "writeback.notion.routing.pm",
        "the PM a feedback page is routed to",
        "people",
    ),
    Owned(
        "notion",
        "team",
        DECISION,
        "routing",
        ("feedback",),
        "writeback.notion.routing.team",
        "the team a feedback page is routed to (its Notion team name)",
        "select",
    ),
    Owned(
        "notion",
        "initiative",
        DECISION,
        "routing",
        ("feedback",),
        "writeback.notion.routing.initiative",
        "the briefing a feedback page concerns",
        "relation to the briefings database",
    ),
    Owned(
        "notion",
        "routed_by",
        MEASUREMENT,
        "routing",
        ("feedback",),
        "writeback.notion.routing.routed_by",
        "the name of the routing rule that decided",
        "text",
    ),
    Owned(
        "notion",
        "run_load",
        MEASUREMENT,
        "balance",
        ("briefing",),
        "writeback.notion.briefings.run_load",
        "the team's RUN share in its last complete week (percent points)",
        "number",
    ),
    Owned(
        "notion",
        "mode",
        MEASUREMENT,
        "balance",
        ("briefing",),
        "writeback.notion.briefings.mode",
        "the team's alert level in its last complete week",
        "select ok/watch/alert/survival",
    ),
    Owned(
        "notion",
        "epic",
        DECISION,
        "link",
        ("briefing",),
        "briefings.epic_property",
        "the key of the epic that names the briefing, filled when empty",
        "text, URL or title",
    ),
    *_measurements(
        "status",
        "briefing",
        "writeback.notion.status",
        (
            ("health", "On track, At risk, Off track or Blocked", "select"),
            ("reason", "why the health is what it is", "text"),
            ("progress", "% of the epic's work done", "number"),
            ("forecast", "the expected finish at the team's pace", "date"),
            ("incidents", "open incidents on the team's services", "number"),
            ("dependencies", '"N of M validated"', "text"),
            ("undeclared", "teams the epic's issues link to that the briefing does not declare", "text"),
            ("score", "impact / (effort × (1 + dependencies))", "number"),
            ("last_synced", "when relais last changed the status (never written alone)", "date"),
        ),
    ),
    *_measurements(
        "scorecard",
        "scorecard",
        "writeback.notion.scorecard.properties",
        (
            ("title", "team · week, “(so far)” while the week is in progress", "title"),
            ("key", "the row's natural key, team:week (how relais finds it again)", "text"),
            ("team", "the team's name", "select or text"),
            ("period", "the week's Monday", "date"),
            ("run", "RUN share of the week's hours (percent points)", "number"),
            ("build", "BUILD share (percent points)", "number"),
            ("improve", "IMPROVE share (percent points)", "number"),
            ("run_hours", "RUN hours", "number"),
            ("incidents", "incidents triggered that week", "number"),
            ("urgent", "urgent requests created that week", "number"),
            ("level", "the week's alert level", "select ok/watch/alert/survival"),
            ("alerts", "the active alerts", "text"),
        ),
    ),
)

_BY_KEY: dict[tuple[str, str, str], Owned] = {(f.vendor, kind, f.field): f for f in FIELDS for kind in f.on}


#: The owned fields that hold a person (a tool's user id): shown as the person's `people:` key.
PERSON_FIELDS = frozenset(f.field for f in FIELDS if f.type in ("user picker", "people"))


def lookup(vendor: str, item_kind: str, field: str) -> Owned | None:
    """The entry for ``field`` written on an item of ``item_kind`` (an epic is an issue for the fields
    written on any Jira issue)."""
    return _BY_KEY.get((vendor, item_kind, field))


def kind_of(vendor: str, item_kind: str, field: str) -> str:
    entry = lookup(vendor, item_kind, field)
    return entry.kind if entry is not None else MEASUREMENT


def is_decision(vendor: str, item_kind: str, field: str) -> bool:
    return kind_of(vendor, item_kind, field) == DECISION


def written_on(vendor: str, field: str) -> tuple[str, ...]:
    """The item kinds ``field`` is written on (every kind when it is not in the table)."""
    kinds = tuple(k for f in FIELDS if f.vendor == vendor and f.field == field for k in f.on)
    return kinds or _J


# -- the policy of decisions -------------------------------------------------------------------
#: Why a decision is kept (sync.plan.Kept.why).
ADOPTED = "there before relais: adopted"
CHANGED_BY_HAND = "changed by a person after relais wrote it"


def derived_from(what: str) -> tuple[str, ...]:
    """The fields computed from ``what`` (``routing``, ``status``…), in the table's order."""
    return tuple(dict.fromkeys(f.field for f in FIELDS if f.derived_from == what))


def empty(value: Any) -> bool:
    return value is None or value == "" or value == () or value == []


def kept_reason(old: Any, last_written: str | None, policy: str) -> str | None:
    """Why the value ``old`` in a decision field is a person's and stays, or None if relais may write.

    ``last_written``: the JSON of the last value relais wrote there (the audit log), None if it
    never did. Empty: relais fills it. Never written by relais: adopted — kept, unless the adopt
    policy says ``overwrite``. Written by relais, and now something else: a person changed it."""
    if empty(old):
        return None
    if last_written is None:
        return None if policy == "overwrite" else ADOPTED
    if json.dumps(old) != last_written:
        return CHANGED_BY_HAND
    return None


@dataclass(frozen=True)
class Written:
    """What relais wrote in one field of one item, as its audit log has it: the JSON of the last
    value a write of it was confirmed for, and those it sent after that without hearing back (a
    crash between the tool's answer and relais' record). A value sent but unconfirmed is relais'
    if the tool shows it: the write landed."""

    last: str | None = None
    sent: frozenset[str] = frozenset()

    def relais_value(self, current: Any) -> str | None:
        """The JSON of relais' value in the field, given what the tool holds now (None: never wrote)."""
        now = json.dumps(current)
        return now if now in self.sent else self.last


def adopt_policy(settings: Any, field: str) -> str:
    wb = getattr(settings, "writeback", None)
    return wb.adopt_policy(field) if wb is not None and hasattr(wb, "adopt_policy") else "keep"


# -- the settings' names for them ----------------------------------------------------------
def jira_fields(settings: Any) -> dict[str, str]:
    """Logical field → the Jira custom field's name, for the Jira fields this config owns
    (the work type only when it is a field, not managed labels)."""
    wb = settings.writeback.jira if settings.writeback else None
    if wb is None:
        return {}
    out: dict[str, str] = {}
    if wb.work_type is not None and wb.work_type.field:
        out["work_type"] = wb.work_type.field
    for name in ("pm", "team", "initiative"):
        if getattr(wb, name) is not None:
            out[name] = getattr(wb, name).field
    if wb.epic is not None:
        for name in ("health", "briefing_link"):
            if getattr(wb.epic, name) is not None:
                out[name] = getattr(wb.epic, name).field
    return out


def notion_properties(writeback: Any, briefings: Any, database: str) -> dict[str, str]:
    """Logical field → property name, for the properties relais owns on one Notion database
    (``writeback``: settings.writeback.notion; ``briefings``: settings.briefings)."""
    wb, out = writeback, dict[str, str]()
    if wb is None:
        return out
    if wb.work_type is not None and database in wb.work_type.databases:
        out["work_type"] = wb.work_type.property
    if database == "briefings" and wb.briefings is not None:
        out.update(run_load=wb.briefings.run_load, mode=wb.briefings.mode)
    if database == "briefings" and wb.status is not None and briefings is not None:
        out.update(wb.status.model_dump())
        out["epic"] = briefings.epic_property  # filled from the epic's side when empty
    if wb.scorecard is not None and database == wb.scorecard.database:
        out.update(wb.scorecard.properties.model_dump())
    if wb.routing is not None and database == wb.routing.database:
        out.update(
            pm=wb.routing.pm,
            team=wb.routing.team,
            initiative=wb.routing.initiative,
            routed_by=wb.routing.routed_by,
        )
    return out


# -- what a value is computed from ---------------------------------------------------------------
def _balance_streams(settings: Any, configured: list[str]) -> set[str]:
    """The balance counts every item but relais' own scorecard rows."""
    if settings.balance is None:
        return set()
    scorecard = (
        settings.writeback.notion.scorecard if settings.writeback and settings.writeback.notion else None
    )
    return {s for s in configured if scorecard is None or s != f"notion:{scorecard.database}"}


def needs(derived_from: str, own: str | None, settings: Any, configured: list[str]) -> frozenset[str]:
    """The streams a value derived this way is computed from; ``own``: the stream of the item
    it is written on (None for a row or ticket relais creates); ``configured``: the config's
    streams (:func:`sync.readiness.streams`)."""
    have = set(configured)
    out: set[str] = {own} if own else set()
    if derived_from in ("classify", "maintenance"):
        pass  # the item itself, and the config
    elif derived_from == "routing":
        out |= {"notion:briefings"} & have  # initiatives are proposed among the briefings
        out |= _balance_streams(settings, configured)  # a team in survival mode changes the target
    elif derived_from in ("balance", "scorecard"):
        out |= _balance_streams(settings, configured)
        scorecard = (
            settings.writeback.notion.scorecard if settings.writeback and settings.writeback.notion else None
        )
        if derived_from == "scorecard" and scorecard is not None:
            out.add(f"notion:{scorecard.database}")  # the rows already there
    elif derived_from in ("status", "link"):
        out |= {"notion:briefings", "jira:issues"} & have
        if derived_from == "status":
            out |= {"pagerduty:incidents"} & have
            out |= _balance_streams(settings, configured)  # the team's mode
    elif derived_from == "followups":
        out |= {"pagerduty:incidents", "jira:issues"} & have
    else:
        raise ValueError(f"unknown derivation {derived_from!r}")
    return frozenset(out & have)


def table() -> str:
    """The README's table of every field relais writes (``python -m sync.owned``)."""
    rows = ["| tool | field (setting) | kind | on | type | what |", "|---|---|---|---|---|---|"]
    for f in FIELDS:
        rows.append(f"| {f.vendor} | `{f.setting}` | {f.kind} | {', '.join(f.on)} | {f.type} | {f.what} |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    print(table())
