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
    type: str = ""  # what the tool's field or property must be, for the docs
    #: Jira: the custom field's schema type (option, user, string)
    jira_type: str = ""
    #: the options relais writes (Jira's Team field: the team keys, :func:`jira_expected`;
    #: Notion's team selects: TEAM_NAMES, the teams' Notion names)
    options: tuple[str, ...] = ()
    # -- Notion: what `relais check` holds the property to, and what `--fix` creates --------
    accepts: tuple[str, ...] = ()  # the Notion property types relais writes it as; the first is created
    percent: bool = False  # a percentage: number format Percent (relais writes 0.494) or Number (49.4)

    def options_or_format(self) -> str:
        """The README's "options or format" of a Notion property."""
        if self.percent:
            return "Percent (a fraction is written) or Number (points)"
        if self.options == TEAM_NAMES:
            return "the teams' Notion names (`teams.*.notion.team`)"
        if self.options == TEAM_KEYS:
            return "the team keys of `teams:` (`payments`)"
        return ", ".join(self.options)


#: ``Owned.options`` of a select whose options are the teams' Notion names (``teams.*.notion.team``,
#: else the team's key), as relais writes them.
TEAM_NAMES = ("(teams.*.notion.team)",)
#: ``Owned.options`` of Jira's Team field: the team **keys** of ``teams:`` (``payments``).
TEAM_KEYS = ("(teams keys)",)
WORK_TYPES = ("RUN", "BUILD", "IMPROVE")
LEVELS = ("ok", "watch", "alert", "survival")
HEALTH = ("On track", "At risk", "Off track", "Blocked")

_J = ("issue", "epic", "feedback")


def _measurements(
    derived_from: str, on: str, setting: str, rows: tuple[tuple[str, str, tuple[str, ...], Any], ...]
) -> list[Owned]:
    """Notion properties of one write-back section: (field, what, accepted types, options or
    PERCENT) rows."""
    return [
        Owned(
            "notion",
            name,
            MEASUREMENT,
            derived_from,
            (on,),
            f"{setting}.{name}",
            what,
            accepts=kinds,
            options=() if extra is PERCENT else extra,
            percent=extra is PERCENT,
        )
        for name, what, kinds, extra in rows
    ]


PERCENT = object()  # a _measurements row's last column: a percentage
_NUMBER, _TEXT, _DATE, _SELECT = ("number",), ("rich_text",), ("date",), ("select",)


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
        "single select, or managed labels (`labels_prefix`)",
        "option",
        WORK_TYPES,
    ),
    Owned(
        "jira",
        "team",
        DECISION,
        "maintenance",
        ("issue",),
        "writeback.jira.team",
        "the team of a RUN ticket no team mapping owns",
        "single select",
        "option",
        TEAM_KEYS,
    ),
    Owned(
        "jira",
        "team",
        DECISION,
        "routing",
        ("feedback",),
        "writeback.jira.team",
        "the team a feedback issue is routed to",
        "single select",
        "option",
        TEAM_KEYS,
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
        "user",
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
        "string",
    ),
    Owned(
        "jira",
        "health",
        MEASUREMENT,
        "status",
        ("epic",),
        "writeback.jira.epic.health",
        "the delivery health of the briefing the epic belongs to",
        "single select",
        "option",
        HEALTH,
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
        "string",
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
        accepts=_SELECT,
        options=WORK_TYPES,
    ),
    Owned(
        "notion",
        "pm",
        DECISION,
        "routing",
        ("feedback",),
        "writeback.notion.routing.pm",
        "the PM a feedback page is routed to",
        accepts=("people",),
    ),
    Owned(
        "notion",
        "team",
        DECISION,
        "routing",
        ("feedback",),
        "writeback.notion.routing.team",
        "the team a feedback page is routed to (its Notion team name)",
        accepts=_SELECT,
        options=TEAM_NAMES,
    ),
    Owned(
        "notion",
        "initiative",
        DECISION,
        "routing",
        ("feedback",),
        "writeback.notion.routing.initiative",
        "the briefing a feedback page concerns (a relation to the briefings database)",
        accepts=("relation",),
    ),
    Owned(
        "notion",
        "routed_by",
        MEASUREMENT,
        "routing",
        ("feedback",),
        "writeback.notion.routing.routed_by",
        "the name of the routing rule that decided",
        accepts=_TEXT,
    ),
    Owned(
        "notion",
        "run_load",
        MEASUREMENT,
        "balance",
        ("briefing",),
        "writeback.notion.briefings.run_load",
        "the team's RUN share in its last complete week",
        accepts=_NUMBER,
        percent=True,
    ),
    Owned(
        "notion",
        "mode",
        MEASUREMENT,
        "balance",
        ("briefing",),
        "writeback.notion.briefings.mode",
        "the team's alert level in its last complete week",
        accepts=_SELECT,
        options=LEVELS,
    ),
    Owned(
        "notion",
        "epic",
        DECISION,
        "link",
        ("briefing",),
        "briefings.epic_property",
        "the key of the epic that names the briefing, filled when empty",
        accepts=("rich_text", "url", "title"),
    ),
    *_measurements(
        "status",
        "briefing",
        "writeback.notion.status",
        (
            ("health", "the delivery health", _SELECT, HEALTH),
            ("reason", "why the health is what it is", _TEXT, ()),
            ("progress", "the share of the epic's work done", _NUMBER, PERCENT),
            ("forecast", "the expected finish at the team's pace", _DATE, ()),
            ("incidents", "open incidents on the team's services", _NUMBER, ()),
            ("dependencies", '"N of M validated"', _TEXT, ()),
            ("undeclared", "teams the epic's issues link to that the briefing does not declare", _TEXT, ()),
            ("score", "impact / (effort × (1 + dependencies))", _NUMBER, ()),
            ("last_synced", "when relais last changed the status (never written alone)", _DATE, ()),
        ),
    ),
    *_measurements(
        "scorecard",
        "scorecard",
        "writeback.notion.scorecard.properties",
        (
            ("title", "team · week, “(so far)” while the week is in progress", ("title",), ()),
            ("key", "the row's natural key, team:week (how relais finds it again)", _TEXT, ()),
            ("team", "the team's Notion name", ("select", "rich_text"), TEAM_NAMES),
            ("period", "the week's Monday", _DATE, ()),
            ("run", "RUN share of the week's hours", _NUMBER, PERCENT),
            ("build", "BUILD share", _NUMBER, PERCENT),
            ("improve", "IMPROVE share", _NUMBER, PERCENT),
            ("run_hours", "RUN hours", _NUMBER, ()),
            ("incidents", "incidents triggered that week", _NUMBER, ()),
            ("urgent", "urgent requests created that week", _NUMBER, ()),
            ("level", "the week's alert level", _SELECT, LEVELS),
            ("alerts", "the active alerts", _TEXT, ()),
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


def jira_expected(field: str, team_keys: tuple[str, ...]) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(schema type, options, item kinds it is written on) of the owned Jira ``field``. Jira's
    Team options are the team **keys** of ``teams:`` (``payments``), where Notion's Team select
    uses the team names (``teams.<key>.notion.team``)."""
    entries = [f for f in FIELDS if f.vendor == "jira" and f.field == field]
    on = tuple(dict.fromkeys(k for f in entries for k in f.on))
    options = team_keys if entries[0].options == TEAM_KEYS else entries[0].options
    return entries[0].jira_type, options, on


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


def notion_entry(field: str, item_kinds: tuple[str, ...]) -> Owned | None:
    """The Notion entry of ``field`` on the first of ``item_kinds`` that has it (a database's own
    kind first: a scorecard's ``incidents`` is not a briefing's)."""
    return next((e for k in item_kinds if (e := lookup("notion", k, field)) is not None), None)


def percent_fields() -> frozenset[str]:
    """The Notion fields that hold a percentage (written as a fraction into a Percent number)."""
    return frozenset(f.field for f in FIELDS if f.vendor == "notion" and f.percent)


#: How the README names a Notion property type.
NOTION_TYPE_NAMES = {"rich_text": "text", "multi_select": "multi-select", "url": "URL"}


def type_of(f: Owned) -> str:
    """The README's "type" of an entry: Jira's description, or Notion's accepted property types."""
    if f.vendor != "notion":
        return f.type
    return " or ".join(NOTION_TYPE_NAMES.get(k, k) for k in f.accepts)


def table() -> str:
    """The README's table of every field relais writes (``python -m sync.owned``)."""
    rows = [
        "| tool | field (setting) | type | options or format | kind | on | what |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in FIELDS:
        rows.append(
            f"| {f.vendor} | `{f.setting}` | {type_of(f)} | {f.options_or_format()} | {f.kind} "
            f"| {', '.join(f.on)} | {f.what} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    print(table())
