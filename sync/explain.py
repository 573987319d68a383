"""`relais explain source:id` — which rule, from which file:line, decided what.

Reads only the state store: no network, so it also explains what the last
sync saw, even when a tool is down.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC
from typing import TYPE_CHECKING, Any

from connectors.registry import NAMES as SOURCES
from sync.classify import explain_rules
from sync.output import Names, conflict_line, console, inert, kept_line, plain
from sync.plan import derive, owns_work_type
from sync.planner import outlook
from sync.settings import state_location
from sync.state import StateStore

if TYPE_CHECKING:
    from sync.briefings import BriefingPlan
    from sync.models import WorkItem
    from sync.plan import CyclePlan
    from sync.planner import Outlook
    from sync.settings import Settings


def explain_data(settings: Settings, store: StateStore, ref: str) -> dict[str, Any] | None:
    """Why the item is what it is, and what the next sync would do to it: computed by the same
    entry point as sync (:func:`sync.planner.outlook`), never by a shortcut of its own."""
    from datetime import datetime

    source, _, ident = ref.partition(":")
    found = store.get_item(source, ident)
    if found is None:
        return None
    item, _raw = found
    d = derive(item, settings)
    tried = explain_rules(item, settings, d.team)
    view = outlook(settings, store, datetime.now(UTC))
    mine = f"{item.source}:{item.id}"
    names = Names.of(settings)
    pending = [
        c for it, changes in view.work if it.source == item.source and it.id == item.id for c in changes
    ]
    return {
        "item": item.ref,
        "key": item.key,
        "title": item.title,
        "kind": item.kind,
        "url": item.url,
        "team": _team_of(view, item, d.team),
        "classification": {
            "value": d.decision.value.value,
            "rule": d.decision.rule,
            "where": d.decision.where,
        },
        "rules_tried": [
            {"rule": name, "where": where, "matched": failed is None, "failed_condition": failed}
            for name, where, failed in tried
        ],
        "owned": {
            "work_type": {
                "owned": owns_work_type(item, settings),
                "current": item.owned.get("work_type"),
                "desired": d.decision.value.value,
            }
        },
        "pending_changes": [c.as_dict() for c in pending],
        "held": [h.as_dict() for h in view.held if h.item == mine],
        "kept": [
            names.beside(k.as_dict(), "value", "rules_say")
            for k in view.plan.kept
            if f"{k.source}:{k.item_id}" == mine
        ],
        "conflicts": [c.as_dict() for c in view.plan.conflicts if f"{c.source}:{c.item_id}" == mine],
        "quarantined": [
            q["reason"] for q in store.quarantined() if q["source"] == item.source and q["id"] == item.id
        ],
        **_derived(view, settings, item),
        "writes": [_named_write(w, names) for w in store.audit(item.source, item.id, limit=20)],
    }


def _shown(write: dict[str, Any], key: str) -> str:
    """An audit value as JSON, the person's key in place of a user id."""
    return json.dumps(write[f"{key}_name"]) if f"{key}_name" in write else str(write[key])


def _named_write(write: dict[str, Any], names: Names) -> dict[str, Any]:
    """A write of the audit log (old and new as JSON), with ``old_name``/``new_name`` beside a
    person's user id."""
    try:
        values = {k: json.loads(write[k]) for k in ("old", "new") if write[k] is not None}
    except ValueError:
        return write
    named = names.beside({"field": write["field"], **values}, "old", "new")
    return {**write, **{k: v for k, v in named.items() if k.endswith("_name")}}


def _team_of(view: Outlook, item: WorkItem, team: str | None) -> str | None:
    """The team the plan counts the item for (a maintenance decision moves a ticket to its team)."""
    if view.plan.routing is not None:
        for routed, r in view.plan.routing.maintenance:
            if routed.source == item.source and routed.id == item.id:
                return r.team
    return team


def _derived(view: Outlook, settings: Settings, item: WorkItem) -> dict[str, Any]:
    """What the next plan decides for this item beyond its class: its routing and its delivery status."""
    out: dict[str, Any] = {"routing": _routing(view.plan, item) if settings.route is not None else None}
    if view.plan.briefings is not None:
        out["delivery"] = _delivery(view.plan.briefings, item)
    return out


def _delivery(plan: BriefingPlan, item: WorkItem) -> dict | None:
    """A briefing's status, or, for an epic, the status of the briefing it belongs to."""
    for briefing_id, status in plan.statuses.items():
        if (item.kind == "briefing" and briefing_id == item.id) or (
            item.kind == "epic" and status.epic == item.key
        ):
            return {
                "briefing": f"notion:{briefing_id}",
                "briefing_title": status.title,
                "epic": status.epic,
                **status.values(),
                "unit": status.unit,
                "done": status.done,
                "total": status.total,
            }
    return None


def _routing(result: CyclePlan, item: WorkItem) -> dict | None:
    """The routing decision for this item, as the next plan would take it (None: not routed)."""
    for routed, r in [*result.routing.decisions, *result.routing.maintenance]:
        if routed.id == item.id and routed.source == item.source:
            return {
                "rule": r.rule,
                "where": r.where,
                "target": r.target,
                "pm": r.pm,
                "team": r.team,
                "fallback": r.fallback,
                "survival": r.survival,
                "redirected": r.redirected,
                "initiative": r.initiative,
                "initiative_reason": r.initiative_reason,
            }
    kept = [o for o in result.routing.overrides if o.item == item.ref]
    if kept:
        return {
            "kept_by_hand": [{"field": o.field, "value": o.human, "rules_say": o.rule_says} for o in kept]
        }
    return None


def explain(settings: Settings, ref: str, *, as_json: bool) -> int:
    source = ref.partition(":")[0]
    if source not in SOURCES or ":" not in ref:
        print(
            f"relais: explain wants source:id or source:key (source one of {', '.join(SOURCES)}), got {ref!r}",
            file=sys.stderr,
        )
        return 2
    store = StateStore.existing(state_location(settings))
    try:
        data = explain_data(settings, store, ref)
    finally:
        store.close()
    if data is None:
        print(
            f"relais: {ref} is not in the state store (not pulled yet, or outside the configured scope)",
            file=sys.stderr,
        )
        return 1
    if as_json:
        print(json.dumps(data, indent=2, default=str))
        return 0

    c = data["classification"]
    source, _, ident = data["item"].partition(":")
    console.print(
        f"[bold]{inert(source)}:{inert(data['key'])}[/] — {inert(data['title'])} (id {inert(ident)})"
    )
    console.print(f"  team: {inert(data['team'] or '(unowned: no team mapping matches)')}")
    for r in data["rules_tried"]:
        mark = "[green]matched[/]" if r["matched"] else f"no match ({inert(r['failed_condition'])} differs)"
        console.print(f"  rule {inert(repr(r['rule']))} at {inert(r['where'])}: {mark}")
    console.print(f"  → [bold]{inert(c['value'])}[/] by {inert(repr(c['rule']))} ({inert(c['where'])})")
    wt = data["owned"]["work_type"]
    if wt["owned"]:
        console.print(
            plain(f"  work_type in the tool: {wt['current']!r}; the rules say: {wt['desired']!r}"),
            markup=False,
        )
    r = data.get("routing")
    if r and "rule" in r:
        console.print(
            plain(
                f"  routed by {r['rule']!r} ({r['where']}) → {r['target']}"
                + (f", PM {r['pm']}" if r["pm"] else "")
                + (f", team {r['team']}" if r["team"] else "")
                + (" [team in survival mode]" if r["survival"] else "")
                + (f"; initiative {r['initiative']} ({r['initiative_reason']})" if r["initiative"] else "")
            ),
            markup=False,
        )
    elif r:
        for k in r["kept_by_hand"]:
            console.print(
                plain(
                    f"  {k['field']} set by hand to {k['value']!r} (the rules say {k['rules_say']!r}): kept"
                ),
                markup=False,
            )
    dl = data.get("delivery")
    if dl:
        console.print(
            plain(
                f"  delivery ({dl['briefing_title']!r}, epic {dl['epic'] or 'none'}): {dl['health']} — "
                f"{dl['reason']}"
            ),
            markup=False,
        )
        console.print(
            plain(
                f"  progress {dl['progress']}% ({dl['done']} of {dl['total']} {dl['unit']}), forecast "
                f"{dl['forecast'] or 'none'}, open incidents {dl['incidents']}, dependencies: "
                f"{dl['dependencies']}"
                + (f"; undeclared: {dl['undeclared']}" if dl["undeclared"] else "")
                + f", score {dl['score']}"
            ),
            markup=False,
        )
    for change in data["pending_changes"]:
        console.print(
            plain(
                f"  next sync writes {change['field']}: {change['old']!r} → {change['new']!r} "
                f"({change['rule']})"
            ),
            markup=False,
        )
    for h in data["held"]:
        console.print(plain(f"  held: {h['field']} → {h['new']!r}: {h['reason']}"), markup=False)
    for k in data["kept"]:
        console.print(plain("  " + kept_line(k)), markup=False)
    for reason in data["quarantined"]:
        console.print(plain(f"  quarantined: {reason}"), markup=False)
    for conflict in data["conflicts"]:
        console.print(plain("  " + conflict_line(conflict)), markup=False)
    for w in data["writes"]:
        console.print(
            plain(
                f"  {w['at'][:19].replace('T', ' ')}: {w['field']} {_shown(w, 'old')} → {_shown(w, 'new')} "
                f"({w['outcome']}, {w['rule']})"
            ),
            markup=False,
        )
    return 0
