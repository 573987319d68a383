"""Derive desired owned-field values and diff them with what the tools hold.

Pure: no I/O. Equal values produce nothing — that is what makes a steady
state write nothing, and what stops echo loops (our own write comes back on
the next pull with the value we wrote, and the diff is empty).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sync import owned
from sync.balance import BalanceAccumulator
from sync.briefings import BriefingFacts, plan_briefing_status
from sync.classify import Decision, classify, resolve_team
from sync.followups import FOLLOWUP_LABEL, plan_followup, with_filed_tickets
from sync.models import FieldChange, WorkItem
from sync.route import briefing_of, maintenance_decision, plan_routing
from sync.rules import first_failure
from sync.scorecard import plan_briefings, plan_scorecard

if TYPE_CHECKING:
    from sync.settings import Settings


@dataclass(frozen=True)
class Derived:
    item: WorkItem
    team: str | None
    decision: Decision


def derive(item: WorkItem, settings: Settings) -> Derived:
    team = resolve_team(item, settings)
    return Derived(item, team, classify(item, settings, team))


def owns_work_type(item: WorkItem, settings: Settings) -> bool:
    wb = settings.writeback
    if wb is None:
        return False
    if item.source == "jira":
        return wb.jira is not None and wb.jira.work_type is not None
    if item.source == "notion":
        return (
            wb.notion is not None
            and wb.notion.work_type is not None
            and item.database in wb.notion.work_type.databases
        )
    return False


def changes_for(d: Derived, settings: Settings) -> list[FieldChange]:
    item = d.item
    if not owns_work_type(item, settings) or "work_type" not in item.owned:
        # Not owned here, or pulled before the field was owned: the next full read fills it in.
        return []
    new = d.decision.value.value
    old = item.owned["work_type"]
    if old == new:
        return []
    return [FieldChange(item.source, item.id, item.key, "work_type", old, new, d.decision.label)]


#: Bumped when a connector starts reading something new for every item (2: Jira parent and
#: issue links, Notion briefing inputs): items stored before lack it, so relais re-reads once.
READ_VERSION = 2


def writeback_fingerprint(settings: Settings) -> str:
    """Changes when what the connectors read changes (owned fields, worklogs, story points,
    briefing inputs, relais' own reader): items pulled before lack those values, so the next
    sync re-reads everything once."""
    wb = settings.writeback
    owned = (
        wb.jira.model_dump() if wb and wb.jira else None,
        wb.notion.model_dump() if wb and wb.notion else None,
    )
    effort = settings.balance.effort.jira.model_dump() if settings.balance else None
    briefings = settings.briefings.model_dump() if settings.briefings else None
    return repr((READ_VERSION, owned, effort, briefings))


@dataclass
class CyclePlan:
    """Everything one cycle would write, and what it was derived from."""

    work: dict[tuple[str, str], tuple[WorkItem, list[FieldChange]]]
    creates: list  # sync.scorecard.Create
    classified: dict[
        str, Counter
    ]  # team (or "(unowned)") -> class -> items; counts, not items: memory stays flat
    balance: object | None  # sync.balance.BalanceAccumulator when `balance` is configured
    duplicates: list[str]
    routing: Any = None  # sync.route.RoutingPlan when `route` is configured
    briefings: Any = None  # sync.briefings.BriefingPlan when `briefings` is configured
    followups: list = field(default_factory=list)  # sync.followups.FollowUp
    conflicts: list = field(default_factory=list)  # Conflict: measurements a person keeps changing
    kept: list = field(default_factory=list)  # Kept: decisions people made, which relais keeps
    decided: Counter = field(default_factory=Counter)  # classify rule name -> items it decided

    @property
    def changes(self) -> list[FieldChange]:
        return [c for _, changes in self.work.values() for c in changes]


def _merge(work: dict, item: WorkItem, changes: list[FieldChange]) -> None:
    prior = work.get((item.source, item.id), (item, []))[1]
    work[(item.source, item.id)] = (item, prior + changes)


#: A person who changes a *measurement* this many times after relais wrote it wins: relais stops
#: writing that field on that item and reports a conflict (docs/decisions.md, "Writing"). On a
#: *decision* people win at once (:func:`sync.owned.kept_reason`).
CONFLICT_AFTER = 2


@dataclass(frozen=True)
class Conflict:
    """An owned field someone keeps setting to another value than relais'; relais leaves it."""

    source: str
    item_id: str
    target: str
    field: str
    theirs: Any
    rules_say: Any
    changes: int  # times it was changed away from relais' value

    def as_dict(self) -> dict[str, Any]:
        return {**_person_value(self, self.theirs), "changes": self.changes}


@dataclass(frozen=True)
class Kept:
    """A decision a person made (a value relais did not write), which relais keeps."""

    source: str
    item_id: str
    target: str
    field: str
    value: Any
    rules_say: Any
    why: str

    def as_dict(self) -> dict[str, Any]:
        return {**_person_value(self, self.value), "why": self.why}


def _person_value(entry: Conflict | Kept, value: Any) -> dict[str, Any]:
    """What a conflict and a kept decision both say in ``plan --json``, ``report`` and ``explain``:
    the item, the field, the person's value and the rules' (each then adds its own last key)."""
    return {
        "item": f"{entry.source}:{entry.item_id}",
        "target": f"{entry.source}:{entry.target}",
        "field": entry.field,
        "value": value,
        "rules_say": entry.rules_say,
    }


def conflict_of(change: FieldChange, overwrites: dict) -> Conflict | None:
    """The conflict ``change`` would continue, if its field has been changed away from relais'
    value ``CONFLICT_AFTER`` times: the times relais wrote back, plus the change pending now."""
    written_back, last = overwrites.get((change.source, change.item_id, change.field), (0, None))
    if not written_back or change.old is None or json.dumps(change.old) == last:
        return None  # never fought over; emptied (relais takes it back); or still relais' value
    if written_back + 1 < CONFLICT_AFTER:
        return None
    return Conflict(
        change.source, change.item_id, change.target, change.field, change.old, change.new, written_back + 1
    )


def guard(
    item: WorkItem, change: FieldChange, overwrites: Any, settings: Settings | None
) -> Conflict | Kept | None:
    """What stops ``change``: a person's decision (Kept), a measurement fought over (Conflict),
    or nothing. The policy is the field's kind (:mod:`sync.owned`)."""
    if owned.is_decision(change.source, item.kind, change.field):
        key = (change.source, change.item_id, change.field)
        written = getattr(overwrites, "written", None)  # the store's; a plain mapping in pure uses
        last = (
            written(key).relais_value(change.old)
            if written is not None
            else overwrites.get(key, (0, None))[1]
        )
        why = owned.kept_reason(change.old, last, owned.adopt_policy(settings, change.field))
        return (
            None
            if why is None
            else Kept(change.source, change.item_id, change.target, change.field, change.old, change.new, why)
        )
    return conflict_of(change, overwrites)


def hold_conflicts(
    work: dict, overwrites: Any, settings: Settings | None = None
) -> tuple[list[Conflict], list[Kept]]:
    """Take out of ``work`` the changes a person's decision or a conflict stops; return both."""
    prefetch = getattr(overwrites, "prefetch", None)  # the state store's: one query for all
    if prefetch is not None:
        prefetch((c.source, c.item_id, c.field) for _, changes in work.values() for c in changes)
    conflicts: list[Conflict] = []
    kept: list[Kept] = []
    for key, (item, changes) in list(work.items()):
        left = []
        for change in changes:
            stop = guard(item, change, overwrites, settings)
            if stop is None:
                left.append(change)
            elif isinstance(stop, Kept):
                kept.append(stop)
            else:
                conflicts.append(stop)
        if left:
            work[key] = (item, left)
        else:
            del work[key]
    return conflicts, kept


def plan_cycle(
    items: Iterable[WorkItem],
    settings: Settings,
    now: datetime,
    relais_wrote: dict | None = None,
    key_states: dict[str, str] | None = None,
    overwrites: dict | None = None,
) -> CyclePlan:
    """Pass 1 streams the stored items (classify, per-item changes, balance, briefing facts,
    follow-ups); pass 2 turns the balance into scorecard rows and briefing properties, and the
    facts into each briefing's delivery status. ``key_states``: the state store's follow-up keys;
    ``overwrites``: StateStore.overwrites() (any ``.get`` mapping), for the fields people keep
    changing (conflicts)."""

    balance = BalanceAccumulator(settings, now) if settings.balance else None
    facts = BriefingFacts(settings, now) if settings.briefings else None
    followups = []
    work: dict[tuple[str, str], tuple[WorkItem, list[FieldChange]]] = {}
    classified: dict[str, Counter] = {}
    decided: Counter = Counter()
    rows: list[WorkItem] = []
    briefings: list[tuple[WorkItem, str | None]] = []
    feedback: list[tuple[WorkItem, str | None]] = []
    maintenance: list = []  # (item, Routing) for RUN tickets routed to a team this cycle
    team_overrides: list = []  # teams people set on tickets, where a rule would say otherwise
    all_briefings: list = []
    filed: dict[str, str] = {}  # follow-up label -> the key of a stored Jira issue carrying it
    routed = settings.route is not None
    for item in items:
        if item.kind == "scorecard":
            rows.append(item)
            continue
        if item.source == "jira" and settings.followups is not None:
            for label in item.labels:
                if label.startswith(FOLLOWUP_LABEL):
                    filed.setdefault(label, item.key)
        d = derive(item, settings)
        klass = d.decision.value.value
        if routed:
            m, kept_team = maintenance_decision(
                item, settings, d.team, klass == "RUN", (relais_wrote or {}).get((item.source, item.id))
            )
            if kept_team is not None:
                team_overrides.append(kept_team)
            if m is not None:
                maintenance.append((item, m))
                d = Derived(item, m.team, d.decision)  # the balance counts it for its new team now
        counts = classified.get(d.team or "(unowned)")
        if counts is None:
            counts = classified[d.team or "(unowned)"] = Counter()
        counts[klass] += 1
        decided[d.decision.rule] += 1
        changes = changes_for(d, settings)
        if changes:
            work[(item.source, item.id)] = (item, changes)
        if facts is not None:
            facts.add(item, d.team)
        if settings.followups is not None and item.source == "pagerduty":
            f = plan_followup(item, d.team, settings, now, key_states or {})
            if f is not None:
                followups.append(f)
        if balance is not None:
            balance.add(item, d.team, d.decision.value)
            if item.kind == "briefing" and "run_load" in item.owned:
                briefings.append((item, d.team))
        if routed:
            if item.kind == "feedback":
                feedback.append((item, d.team))
            elif item.kind == "briefing":
                all_briefings.append(briefing_of(item, d.team))
    followups = with_filed_tickets(followups, filed)
    creates, duplicates = [], []
    notion_wb = settings.writeback.notion if settings.writeback else None
    if balance is not None and notion_wb is not None:
        if notion_wb.scorecard is not None:
            sc = plan_scorecard(settings, balance, rows)
            creates, duplicates = sc.creates, sc.duplicates
            for item, changes in sc.updates:
                work[(item.source, item.id)] = (item, changes)
        if notion_wb.briefings is not None:
            for item, changes in plan_briefings(settings, balance, briefings):
                _merge(work, item, changes)
    routing = None
    if routed:
        modes = _last_complete_modes(balance, settings) if balance is not None else {}
        routing = plan_routing(
            settings, feedback, maintenance, all_briefings, modes, relais_wrote or {}, team_overrides
        )
        for item, changes in routing.changes:
            _merge(work, item, changes)
    status = None
    if facts is not None:
        status = plan_briefing_status(
            facts, _last_complete_modes(balance, settings, labelled=True) if balance else {}
        )
        for item, changes in status.changes:
            _merge(work, item, changes)
    conflicts, kept = hold_conflicts(work, overwrites or {}, settings)
    if routing is not None:  # the PM and team routing kept before deciding "Routed by"
        kept = [
            Kept(source, item_id, o.target, o.field, o.human, o.rule_says, o.why)
            for o in routing.overrides
            for source, item_id in [o.item.split(":", 1)]
        ] + kept
    if facts is not None:
        _stamp_last_synced(work, settings, now)
    return CyclePlan(
        work, creates, classified, balance, duplicates, routing, status, followups, conflicts, kept, decided
    )


def rule_warnings(decided: Counter, items: Iterable[WorkItem], settings: Settings) -> list[dict[str, Any]]:
    """The classify rules that decided no item this plan, each told apart: one that matches no
    stored item (a value mistyped, a label nobody uses) from one that matches items an earlier
    rule decides (it is shadowed: move it up, or narrow the earlier one). ``decided``: the plan's
    counts; ``items``: the stored items again, read only when a rule decided nothing."""
    idle = [r for r in settings.classify if not decided.get(r.name)]
    if not idle:
        return []
    shadowing: dict[str, Counter] = {r.name: Counter() for r in idle}
    for item in items:
        if item.kind == "scorecard":
            continue
        d = derive(item, settings)
        for rule in idle:
            if first_failure(rule.when, item, d.team) is None:
                shadowing[rule.name][d.decision.rule] += 1
    out = []
    for rule in idle:
        by = shadowing[rule.name]
        if not by:
            out.append(
                {
                    "rule": rule.name,
                    "where": rule.where,
                    "problem": "matches nothing",
                    "message": f"{rule.where}: rule {rule.name!r} matches no stored item: check its values (a typo?)",
                }
            )
        else:
            first, _ = by.most_common(1)[0]
            out.append(
                {
                    "rule": rule.name,
                    "where": rule.where,
                    "problem": "shadowed",
                    "by": first,
                    "message": f"{rule.where}: rule {rule.name!r} decides nothing: the {sum(by.values())} "
                    f"item(s) it matches are decided by the earlier rule {first!r}",
                }
            )
    return out


def _stamp_last_synced(work: dict, settings: Settings, now: datetime) -> None:
    """ "Last synced" rides along with a briefing's other changes; it never causes a write itself."""
    stamp = now.astimezone(settings.tz).isoformat(timespec="seconds")
    for key, (item, changes) in work.items():
        if item.kind == "briefing" and "last_synced" in item.owned and changes:
            work[key] = (
                item,
                changes
                + [
                    FieldChange(
                        item.source,
                        item.id,
                        item.key,
                        "last_synced",
                        item.owned.get("last_synced"),
                        stamp,
                        "briefing status",
                    )
                ],
            )


def _last_complete_modes(
    balance: BalanceAccumulator, settings: Settings, labelled: bool = False
) -> dict[str, Any]:
    """team → its mode in its last complete week (with the week's label when ``labelled``)."""
    out: dict[str, Any] = {}
    for team in settings.teams:
        weeks = balance.team_weeks(team)
        if len(weeks) >= 2:
            out[team] = (weeks[-2].mode, weeks[-2].label) if labelled else weeks[-2].mode
    return out
