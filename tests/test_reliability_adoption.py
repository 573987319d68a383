"""Scenario 11 — a tenant where people already decided: relais adopts, never rewrites.

On day one, teams have already picked Work types and PMs. A decision field holding a
value relais never wrote is a person's: kept, and reported as kept by `sync`, `plan`,
`report` and `explain` (``writeback.adopt: keep``, the default). With
``writeback.adopt: overwrite`` relais replaces each such value once with what the rules
say — and a person who changes it afterwards is kept from then on.

The rules' answer for each item is what relais writes on a second sandbox of the same
seed where nobody had decided anything; people's values are chosen to differ from it.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import relais_env, run_relais
from reliability_support import converge, engine_for, full_config, record

from sandbox import Sandbox

WORK_TYPE = "customfield_10050"
ISSUES = ["PAY-1", "PAY-2", "CORE-2", "CORE-4", "SUP-1", "SUP-2"]
CLASSES = ("RUN", "BUILD", "IMPROVE")


def jira_value(sb: Sandbox, key: str) -> str | None:
    value = sb.jira.get_issue(key)["fields"].get(WORK_TYPE)
    return value["value"] if value else None


def notion_value(sb: Sandbox, page: str, prop: str) -> object:
    p = sb.notion.get_page(page)["properties"][prop]
    if p["type"] == "select":
        return p["select"]["name"] if p["select"] else None
    if p["type"] == "people":
        return tuple(u["id"] for u in p["people"])
    raise AssertionError(p["type"])


def rules_answers(tmp_path: Path) -> tuple[dict, dict, dict]:
    """What relais writes where nobody decided: Work types of ISSUES and briefings, feedback PMs."""
    with Sandbox(seed=7, size="demo") as ref:
        engine = engine_for(ref, full_config(ref, tmp_path / "reference"))
        try:
            converge(engine)
        finally:
            engine.close()
        briefings = ref.notion.page_ids("briefings")[:3]
        feedback = ref.notion.page_ids("feedback")[:2]
        return (
            {k: jira_value(ref, k) for k in ISSUES},
            {p: notion_value(ref, p, "Work type") for p in briefings},
            {p: notion_value(ref, p, "PM") for p in feedback},
        )


def people_decide(sb: Sandbox, issues: dict, briefings: dict, pms: dict) -> dict[str, object]:
    """Before relais ever runs: a value other than the rules' in each field. Returns target → value."""
    theirs: dict[str, object] = {}
    for key, rules in issues.items():
        value = next(c for c in CLASSES if c != rules)
        sb.jira.edit_issue(key, {WORK_TYPE: {"value": value}})
        theirs[f"jira:{key}"] = value
    for page, rules in briefings.items():
        value = next(c for c in CLASSES if c != rules)
        sb.notion.edit_page(page, {"Work type": {"select": {"name": value}}})
        theirs[f"notion:{page}"] = value
    people = [p.notion_user_id for p in sb.org.people]
    for page, rules in pms.items():
        value = next(u for u in people if (u,) != rules)
        sb.notion.edit_page(page, {"PM": {"people": [{"id": value}]}})
        theirs[f"notion:{page}:pm"] = (value,)
    return theirs


def held_now(sb: Sandbox, target: str) -> object:
    if target.startswith("jira:"):
        return jira_value(sb, target[5:])
    page = target.split(":")[1]
    return notion_value(sb, page, "PM" if target.endswith(":pm") else "Work type")


def test_decisions_people_made_before_relais_are_all_kept_and_reported(tmp_path: Path):
    issues, briefings, pms = rules_answers(tmp_path)
    with Sandbox(seed=7, size="demo") as sb:
        theirs = people_decide(sb, issues, briefings, pms)
        config = full_config(sb, tmp_path / "tenant")
        plan = run_relais(["plan", "--json", "-c", str(config)], relais_env(sb))
        assert plan.returncode == 0, plan.stderr
        planned = json.loads(plan.stdout)
        engine = engine_for(sb, config)
        try:
            first = engine.run_cycle(apply=True)
            reports, _ = converge(engine)
        finally:
            engine.close()
        report = json.loads(
            run_relais(["report", "--format", "json", "-c", str(config)], relais_env(sb)).stdout
        )
        explained = json.loads(
            run_relais(["explain", f"jira:{ISSUES[0]}", "--json", "-c", str(config)], relais_env(sb)).stdout
        )
    lost = {t: (v, held_now(sb, t)) for t, v in theirs.items() if held_now(sb, t) != v}
    assert lost == {}, lost
    ids = {f"jira:{k}": sb.jira.get_record(k)["id"] for k in ISSUES}

    def kept_in(entries: list[dict]) -> set[str]:
        out = set()
        for e in entries:
            item = e["item"]
            target = next((t for t, i in ids.items() if item == f"jira:{i}"), item)
            out.add(target + (":pm" if e["field"] == "pm" else ""))
        return out

    for name, entries in (
        ("sync", first.kept),
        ("plan --json", planned["kept"]),
        ("report", report["kept"]),
        ("last cycle", reports[-1].kept),
    ):
        assert set(theirs) <= kept_in(entries), (name, set(theirs) - kept_in(entries))
    assert explained["kept"] and explained["kept"][0]["value"] == theirs[f"jira:{ISSUES[0]}"]
    assert explained["kept"][0]["rules_say"] == issues[ISSUES[0]] and explained["pending_changes"] == []
    record(
        "adoption",
        "keep",
        decisions_made_before=len(theirs),
        kept=len(theirs),
        overwritten=0,
        reported_by=["sync", "plan --json", "report", "explain"],
    )


def test_with_adopt_overwrite_each_decision_is_overwritten_once_then_a_person_wins(tmp_path: Path):
    issues, briefings, pms = rules_answers(tmp_path)
    with Sandbox(seed=7, size="demo") as sb:
        theirs = people_decide(sb, issues, briefings, pms)
        config = full_config(sb, tmp_path / "tenant", lambda d: d["writeback"].update(adopt="overwrite"))
        plan = json.loads(run_relais(["plan", "--json", "-c", str(config)], relais_env(sb)).stdout)
        # plan shows the difference: the person's value as `old`, the rules' as `new`
        overwriting = {(c["target"], c["field"]): (c["old"], c["new"]) for c in plan["changes"]}
        assert overwriting[(f"jira:{ISSUES[0]}", "work_type")] == (
            theirs[f"jira:{ISSUES[0]}"],
            issues[ISSUES[0]],
        )
        engine = engine_for(sb, config)
        try:
            converge(engine)
            rules = {
                **{f"jira:{k}": v for k, v in issues.items()},
                **{f"notion:{p}": v for p, v in briefings.items()},
                **{f"notion:{p}:pm": v for p, v in pms.items()},
            }
            now = {t: held_now(sb, t) for t in theirs}
            assert now == rules
            # A person changes one back afterwards: relais wrote the field, so the person wins now.
            key = ISSUES[0]
            sb.jira.edit_issue(key, {WORK_TYPE: {"value": theirs[f"jira:{key}"]}})
            again = engine.run_cycle(apply=True)
            item = engine.store.get_item("jira", key)[0]
            writes = [
                w
                for w in engine.store.audit("jira", item.id, limit=50)
                if w["field"] == "work_type" and w["outcome"] == "applied"
            ]
        finally:
            engine.close()
        assert jira_value(sb, key) == theirs[f"jira:{key}"] and again.writes == 0
        assert any(k["item"] == f"jira:{item.id}" for k in again.kept)
        assert len(writes) == 1  # overwritten once, never again
    record(
        "adoption",
        "overwrite",
        decisions_made_before=len(theirs),
        overwritten_once=len(theirs),
        writes_per_field=len(writes),
        changed_back_by_a_person_then_kept=1,
    )
