"""Scenario 4 — bad payloads: vendor items with missing fields, nulls, wrong types,
100,000-character text, odd unicode and unknown enum values.

An item relais cannot read as meant is quarantined with its reason (shown in the
cycle report and in ``relais report``); an item that is merely unusual (huge
text, odd unicode, an option relais does not know in a field it owns) is read
and written like any other; the rest of the cycle completes; and a quarantined
item is read again, and leaves quarantine, when it changes.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import relais_env, run_relais
from reliability_support import converge, engine_for, full_config, record

from sandbox import Sandbox
from sync.state import StateStore

HUGE = "x" * 100_000
ODD = "Zéro\u200bwidth 🚀 עברית \u202eRTL\u202c \u0000NUL \ufeffBOM 𝔘𝔫𝔦 e\u0301"


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """A mutation putting ``value`` at a dotted path (``fields.status.statusCategory.key``)."""
    *parents, last = path.split(".")

    def mutate(item: dict) -> None:
        for name in parents:
            if not isinstance(item.get(name), dict):
                item[name] = {}
            item = item[name]
        item[last] = value

    return mutate


def _drop(name: str) -> Callable[[dict], None]:
    return lambda item: item.pop(name, None)


def _title(prop: str, text: Any) -> Callable[[dict], None]:
    def mutate(page: dict) -> None:
        page["properties"][prop]["title"] = [{"type": "text", "text": {"content": text}, "plain_text": text}]

    return mutate


def _rich(prop: str, text: Any) -> Callable[[dict], None]:
    def mutate(page: dict) -> None:
        page["properties"][prop]["rich_text"] = [
            {"type": "text", "text": {"content": text}, "plain_text": text}
        ]

    return mutate


@dataclass(frozen=True)
class Bad:
    name: str
    vendor: str
    mutate: Callable[[dict], None]
    quarantined: bool  # False: unusual but readable, processed like any other item
    pool: str = (
        ""  # "briefings" (where Team is read, not owned) or "feedback" (Customer): a Notion page of that kind
    )


CASES = [
    Bad("jira issue without fields", "jira", _drop("fields"), True),
    Bad("jira updated is null", "jira", _set("fields.updated", None), True),
    Bad("jira created is not a date", "jira", _set("fields.created", "yesterday"), True),
    Bad("jira summary is a number", "jira", _set("fields.summary", 12345), True),
    Bad("jira labels is a string", "jira", _set("fields.labels", "urgent"), True),
    Bad("jira priority is a string", "jira", _set("fields.priority", "High"), True),
    Bad("jira component name is null", "jira", _set("fields.components", [{"name": None}]), True),
    Bad("jira unknown status category", "jira", _set("fields.status.statusCategory.key", "limbo"), True),
    Bad("jira story points are text", "jira", _set("fields.customfield_10016", "five"), True),
    Bad(
        "jira 100,000-character description",
        "jira",
        _set(
            "fields.description",
            {
                "type": "doc",
                "version": 1,
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": HUGE}]}],
            },
        ),
        False,
    ),
    Bad("jira odd unicode summary", "jira", _set("fields.summary", ODD), False),
    Bad(
        "jira unknown Work type option",
        "jira",
        _set("fields.customfield_10050", {"value": "Chaos", "id": "1"}),
        False,
    ),
    Bad("jira issuetype is null", "jira", _set("fields.issuetype", None), False),
    Bad("notion page without properties", "notion", _drop("properties"), True),
    Bad("notion last_edited_time is null", "notion", _set("last_edited_time", None), True),
    Bad("notion title text is null", "notion", _title("Name", None), True),
    Bad(
        "notion Team option is a number",
        "notion",
        _set("properties.Team.select", {"name": 7}),
        True,
        "briefings",
    ),
    Bad("notion 100,000-character title", "notion", _title("Name", HUGE), False),
    Bad("notion odd unicode text", "notion", _rich("Customer", ODD), False, "feedback"),
    Bad(
        "notion unknown Work type option",
        "notion",
        _set("properties.Work type.select", {"name": "Chaos"}),
        False,
    ),
    Bad("notion tags are null", "notion", _set("properties.Tags.multi_select", None), False),
    Bad("pagerduty created_at is null", "pagerduty", _set("created_at", None), True),
    Bad("pagerduty created_at is a number", "pagerduty", _set("created_at", 1700000000), True),
    Bad("pagerduty unknown status", "pagerduty", _set("status", "snoozed"), True),
    Bad("pagerduty unknown urgency", "pagerduty", _set("urgency", "critical"), True),
    Bad("pagerduty title is a list", "pagerduty", _set("title", ["a", "b"]), True),
    Bad("pagerduty without a service", "pagerduty", _drop("service"), True),
    Bad("pagerduty 100,000-character title", "pagerduty", _set("title", HUGE), False),
]


def targets(sb: Sandbox, rng: random.Random) -> dict[str, list[str]]:
    """Item ids per vendor, shuffled, that the cases are applied to (one item each)."""
    jira = [sb.jira.get_record(k)["id"] for k in sb.jira]
    briefings, feedback = sb.notion.page_ids("briefings"), sb.notion.page_ids("feedback")
    notion = feedback + briefings
    pagerduty = list(sb.pagerduty.incident_ids())
    for ids in (jira, notion, pagerduty, briefings, feedback):
        rng.shuffle(ids)
    return {
        "jira": jira,
        "notion": notion,
        "pagerduty": pagerduty,
        "briefings": briefings,
        "feedback": feedback,
    }


def pick(pools: dict[str, list[str]], case: Bad) -> str:
    """An item for ``case`` that no other case has taken."""
    chosen = pools[case.pool or case.vendor].pop()
    for ids in pools.values():
        if chosen in ids:
            ids.remove(chosen)
    return chosen


def tamperer(plan: dict[str, Bad], vendor: str) -> Callable[[dict], None]:
    def apply(item: dict) -> None:
        case = plan.get(str(item.get("id")))
        if case is not None and case.vendor == vendor:
            case.mutate(item)

    return apply


def change_like_a_person(sb: Sandbox, vendor: str, item_id: str) -> None:
    if vendor == "jira":
        sb.jira.edit_issue(item_id, {"summary": "Edited after it was quarantined"})
    elif vendor == "notion":
        sb.notion.edit_page(item_id, {"Name": {"title": [{"text": {"content": "Edited after quarantine"}}]}})
    else:
        sb.pagerduty.add_note(item_id, "edited after it was quarantined", sb.org.people[0].pd_user_id)


def run_bad_payloads(tmp_path, seed: int, size: str, cases: list[Bad]) -> dict:
    rng = random.Random(seed)
    with Sandbox(seed=seed, size=size) as sb:
        pools = targets(sb, rng)
        plan = {pick(pools, c): c for c in sorted(cases, key=lambda c: not c.pool)}
        for vendor in ("jira", "notion", "pagerduty"):
            sb.tamper(vendor, tamperer(plan, vendor))
        config = full_config(sb, tmp_path)
        engine = engine_for(sb, config)
        try:
            report = engine.run_cycle(apply=True)
            assert report.errors == {}, report.errors
            assert report.writes > 0
            reasons = {q["id"]: q["reason"] for q in report.quarantined}
            expected = {i for i, c in plan.items() if c.quarantined}
            missing = sorted(plan[i].name for i in expected - set(reasons))
            extra = sorted(plan[i].name if i in plan else i for i in set(reasons) - expected)
            assert (missing, extra) == ([], []), (
                f"not quarantined: {missing}; quarantined but readable: {extra}"
            )
            assert all(reasons[i] for i in expected)
            for item_id, case in plan.items():  # the unusual ones were read and are known
                if not case.quarantined:
                    assert engine.store.get_item(case.vendor, item_id) is not None, case.name

            # Shown by `relais report` (table and JSON), with the reason.
            shown = run_relais(["report", "--format", "json", "-c", str(config)], relais_env(sb))
            assert shown.returncode == 0, shown.stderr
            listed = {q["id"]: q["reason"] for q in json.loads(shown.stdout)["quarantined"]}
            assert listed == reasons
            table = run_relais(["report", "-c", str(config)], relais_env(sb))
            assert all(i in table.stdout for i in expected) and "quarantined" in table.stdout

            # A later cycle goes on with the rest; the quarantined stay out of the writes. (The
            # unusual payloads now read as relais wrote them, as the tools would.)
            broken = {i: c for i, c in plan.items() if c.quarantined}
            for vendor in ("jira", "notion", "pagerduty"):
                sb.tamper(vendor, tamperer(broken, vendor))
            later, settled = converge(engine, max_cycles=3)
            assert settled <= 2, [
                (r.errors, [c.as_dict() for c in r.planned][:3], r.planned_creates[:3]) for r in later
            ]

            # Fixed and changed in the tool: read again, out of quarantine.
            for vendor in ("jira", "notion", "pagerduty"):
                sb.tamper(vendor, None)
            for item_id in expected:
                change_like_a_person(sb, plan[item_id].vendor, item_id)
            again = engine.run_cycle(apply=True)
            assert again.errors == {} and again.quarantined == []
            for item_id in expected:
                assert engine.store.get_item(plan[item_id].vendor, item_id) is not None, plan[item_id].name
        finally:
            engine.close()
        store = StateStore(tmp_path / "relais.db")
        try:
            assert store.quarantined() == []
        finally:
            store.close()
    return {
        "payloads_tried": len(plan),
        "quarantined": len(expected),
        "read_as_unusual": len(plan) - len(expected),
        "retried_after_change": len(expected),
        "cycles_failed": 0,
    }


def test_bad_payloads_are_quarantined_with_a_reason_and_retried_when_they_change(tmp_path):
    record("payloads", "fast", size="demo", **run_bad_payloads(tmp_path, 7, "demo", CASES))


@pytest.mark.slow
def test_every_kind_of_bad_payload_on_many_items_of_a_larger_org(tmp_path):
    cases = [c for _ in range(4) for c in CASES]  # each case on four different items
    record("payloads", "long", size="small", **run_bad_payloads(tmp_path, 21, "small", cases))
