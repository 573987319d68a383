"""`relais explain source:id` — which rule, from which file:line, decided what.

Reads only the state store: no network, so it also explains what the last
sync saw, even when a tool is down.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from sync.classify import explain_rules
from sync.models import SOURCES
from sync.plan import changes_for, conflict_of, derive, owns_work_type
from sync.state import StateStore


def explain_data(settings, store: StateStore, ref: str) -> dict[str, Any] | None:
    source, _, ident = ref.partition(":")
    found = store.get_item(source, ident)
    if found is None:
        return None
    item, _raw = found
    d = derive(item, settings)
    tried = explain_rules(item, settings, d.team)
    overwrites = store.overwrites()
    pending = changes_for(d, settings)
    conflicts = [c.as_dict() for c in (conflict_of(ch, overwrites) for ch in pending) if c is not None]
    return {
        "item": item.ref, "key": item.key, "title": item.title, "kind": item.kind, "url": item.url,
        "team": d.team,
        "classification": {"value": d.decision.value.value, "rule": d.decision.rule, "where": d.decision.where},
        "rules_tried": [{"rule": name, "where": where, "matched": failed is None, "failed_condition": failed}
                        for name, where, failed in tried],
        "owned": {"work_type": {"owned": owns_work_type(item, settings), "current": item.owned.get("work_type"),
                                "desired": d.decision.value.value}},
        "pending_changes": [c.as_dict() for c in pending if conflict_of(c, overwrites) is None],
        "conflicts": conflicts,
        **_derived(settings, store, item),
        "writes": store.audit(item.source, item.id, limit=20),
    }


def _derived(settings, store: StateStore, item) -> dict[str, Any]:
    """What the next plan decides for this item beyond its class: its routing and its delivery status."""
    if settings.route is None and settings.briefings is None:
        return {"routing": None}
    from datetime import datetime, timezone

    from sync.plan import plan_cycle
    from sync.route import ROUTED_FIELDS

    wrote = store.last_applied(ROUTED_FIELDS) if settings.route is not None else {}
    result = plan_cycle(store.iter_items(), settings, datetime.now(timezone.utc), wrote)
    out: dict[str, Any] = {"routing": _routing(result, item) if settings.route is not None else None}
    if result.briefings is not None:
        out["delivery"] = _delivery(result.briefings, item)
    return out


def _delivery(plan, item) -> dict | None:
    """A briefing's status, or, for an epic, the status of the briefing it belongs to."""
    for briefing_id, status in plan.statuses.items():
        if (item.kind == "briefing" and briefing_id == item.id) or (item.kind == "epic" and status.epic == item.key):
            return {"briefing": f"notion:{briefing_id}", "epic": status.epic, **status.values(),
                    "unit": status.unit, "done": status.done, "total": status.total}
    return None


def _routing(result, item) -> dict | None:
    """The routing decision for this item, as the next plan would take it (None: not routed)."""
    for routed, r in [*result.routing.decisions, *result.routing.maintenance]:
        if routed.id == item.id and routed.source == item.source:
            return {"rule": r.rule, "where": r.where, "target": r.target, "pm": r.pm, "team": r.team,
                    "fallback": r.fallback, "survival": r.survival, "redirected": r.redirected,
                    "initiative": r.initiative, "initiative_reason": r.initiative_reason}
    kept = [o for o in result.routing.overrides if o.item == item.ref]
    if kept:
        return {"kept_by_hand": [{"field": o.field, "value": o.human, "rules_say": o.rule_says} for o in kept]}
    return None


def explain(settings, ref: str, *, as_json: bool) -> int:
    source = ref.partition(":")[0]
    if source not in SOURCES or ":" not in ref:
        print(f"relais: explain wants source:id or source:key (source one of {', '.join(SOURCES)}), got {ref!r}",
              file=sys.stderr)
        return 2
    if not settings.state.path.exists():
        print(f"relais: no state store at {settings.state.path} yet: run `relais sync --once` first", file=sys.stderr)
        return 1
    store = StateStore(settings.state.path)
    try:
        data = explain_data(settings, store, ref)
    finally:
        store.close()
    if data is None:
        print(f"relais: {ref} is not in the state store (not pulled yet, or outside the configured scope)",
              file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(data, indent=2, default=str))
        return 0
    from sync.output import console

    c = data["classification"]
    console.print(f"[bold]{data['item']}[/] {data['key']} — {data['title']}")
    console.print(f"  team: {data['team'] or '(unowned: no team mapping matches)'}")
    for r in data["rules_tried"]:
        mark = "[green]matched[/]" if r["matched"] else f"no match ({r['failed_condition']} differs)"
        console.print(f"  rule {r['rule']!r} at {r['where']}: {mark}")
    console.print(f"  → [bold]{c['value']}[/] by {c['rule']!r} ({c['where']})")
    wt = data["owned"]["work_type"]
    if wt["owned"]:
        console.print(f"  work_type in the tool: {wt['current']!r}; desired: {wt['desired']!r}"
                      + ("" if wt["current"] == wt["desired"] else " → will be written on the next sync"))
    r = data.get("routing")
    if r and "rule" in r:
        console.print(f"  routed by {r['rule']!r} ({r['where']}) → {r['target']}"
                      + (f", PM {r['pm']}" if r["pm"] else "") + (f", team {r['team']}" if r["team"] else "")
                      + (" [team in survival mode]" if r["survival"] else "")
                      + (f"; initiative {r['initiative']} ({r['initiative_reason']})" if r["initiative"] else ""))
    elif r:
        for k in r["kept_by_hand"]:
            console.print(f"  {k['field']} set by hand to {k['value']!r} (the rules say {k['rules_say']!r}): kept")
    dl = data.get("delivery")
    if dl:
        console.print(f"  delivery ({dl['briefing']}, epic {dl['epic'] or 'none'}): [bold]{dl['health']}[/] — "
                      f"{dl['reason']}")
        console.print(f"  progress {dl['progress']}% ({dl['done']} of {dl['total']} {dl['unit']}), forecast "
                      f"{dl['forecast'] or 'none'}, open incidents {dl['incidents']}, dependencies: "
                      f"{dl['dependencies']}" + (f"; undeclared: {dl['undeclared']}" if dl["undeclared"] else "")
                      + f", score {dl['score']}")
    from sync.report import conflict_line

    for conflict in data["conflicts"]:
        console.print("  " + conflict_line(conflict), markup=False)
    for w in data["writes"]:
        console.print(f"  {w['at']}: {w['field']} {w['old']} → {w['new']} ({w['outcome']}, {w['rule']})")
    return 0
