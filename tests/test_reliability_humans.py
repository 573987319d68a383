"""Scenario 5 — people editing while relais works.

Edits to fields relais does not own always survive, also when they land between
relais' plan and its write. For owned fields the documented policy holds, per
kind (docs/decisions.md, "Writing"; sync/owned.py):

* a *decision* (work type, team, PM…) a person changes is theirs at once: relais
  keeps it and reports it as kept, in the cycle report, ``relais report`` and
  ``relais explain``, until the field is emptied (relais fills it again) or the
  person's value matches the rules;
* a *measurement* (health, scorecard figures…) is restored once; a person who
  changes it again wins, and relais reports a conflict every cycle, until the
  field is emptied or matches the rules. No silent ping-pong.
"""

from __future__ import annotations

import json

from conftest import relais_env, run_relais
from reliability_support import engine_for, full_config, record

from sandbox import Sandbox
from sync.owned import CHANGED_BY_HAND
from sync.plan import CONFLICT_AFTER

WORK_TYPE = "customfield_10050"


def jira_work_type(sb: Sandbox, key: str) -> str | None:
    value = sb.jira.get_issue(key)["fields"].get(WORK_TYPE)
    return value["value"] if value else None


def notion_select(sb: Sandbox, page_id: str, prop: str) -> str | None:
    select = sb.notion.get_page(page_id)["properties"][prop]["select"]
    return select["name"] if select else None


def person_sets_work_type(sb: Sandbox, key: str, value: str | None) -> None:
    sb.jira.edit_issue(key, {WORK_TYPE: {"value": value} if value else None})


def test_edits_to_fields_relais_does_not_own_survive_a_write_between_plan_and_apply(tmp_path):
    with Sandbox(seed=7, size="demo") as sb:
        engine = engine_for(sb, full_config(sb, tmp_path))
        try:
            engine.run_cycle(apply=True)  # the scorecard rows exist from here on
            # Work for this cycle: a new incident moves the current week's rows, and issues lose
            # their Work type (relais will write it back).
            sb.pagerduty.trigger_incident(sb.org.services[0].id, "Checkout is down", urgency="high")
            keys = sb.jira.keys()[:6]
            for key in keys:
                sb.jira.edit_issue(key, {WORK_TYPE: None})
            cycle = engine.begin("sync")
            engine.pull(cycle)
            work = engine.plan(cycle)
            planned_jira = {item.key for item, _ in work if item.source == "jira"}
            planned_rows = [item.id for item, _ in work if item.kind == "scorecard"]
            assert set(keys) <= planned_jira and planned_rows
            # People edit, between relais' plan and its write, what relais does not own.
            human = {}
            for key in keys:
                labels = sb.jira.get_issue(key)["fields"]["labels"]
                sb.jira.edit_issue(
                    key,
                    {
                        "summary": f"{key} renamed by a person",
                        "labels": [*labels, "kept"],
                        "priority": {"name": "Highest"},
                    },
                )
                human[key] = sb.jira.get_issue(key)["fields"]
            notes = {row: f"Note typed on {row[:8]}" for row in planned_rows}
            for row, text in notes.items():
                sb.notion.edit_page(row, {"Notes": {"rich_text": [{"text": {"content": text}}]}})
            engine.apply(cycle, work)
            report = engine.finish(cycle)
        finally:
            engine.close()
        assert report.errors == {} and report.writes > 0
        for key in keys:
            fields = sb.jira.get_issue(key)["fields"]
            for name in ("summary", "labels", "priority", "description", "components"):
                assert fields[name] == human[key][name], (key, name)
            assert jira_work_type(sb, key) is not None  # and relais' own write landed
        for row, text in notes.items():
            assert sb.notion.get_page(row)["properties"]["Notes"]["rich_text"][0]["plain_text"] == text
    record("humans", "non-owned", items_edited=len(keys) + len(notes), human_edits_lost=0)


def test_a_decision_a_person_changes_is_theirs_at_once_and_reported(tmp_path):
    """A person sets Work type (and a feedback page's Work type) to their own value before
    every one of ten cycles, the first time between relais' plan and its write."""
    with Sandbox(seed=7, size="demo") as sb:
        config = full_config(sb, tmp_path)
        engine = engine_for(sb, config)
        page = sb.notion.page_ids("feedback")[1]
        key = "PAY-2"
        try:
            cycle = engine.begin("sync")
            engine.pull(cycle)
            work = engine.plan(cycle)
            wanted = next(
                c.new for item, changes in work for c in changes if item.key == key and c.field == "work_type"
            )
            theirs = next(v for v in ("RUN", "BUILD", "IMPROVE") if v != wanted)
            person_sets_work_type(sb, key, theirs)  # between plan and apply: relais cannot see it
            sb.notion.edit_page(page, {"Work type": {"select": {"name": theirs}}})
            engine.apply(cycle, work)
            engine.finish(cycle)
            reports = []
            for _ in range(10):
                person_sets_work_type(sb, key, theirs)
                if notion_select(sb, page, "Work type") != theirs:
                    sb.notion.edit_page(page, {"Work type": {"select": {"name": theirs}}})
                reports.append(engine.run_cycle(apply=True))
            writes = {
                f: [
                    w
                    for w in engine.store.audit(
                        "jira" if f == key else "notion",
                        engine.store.get_item("jira", key)[0].id if f == key else page,
                        limit=100,
                    )
                    if w["field"] == "work_type" and w["outcome"] == "applied"
                ]
                for f in (key, page)
            }
        finally:
            engine.close()
        assert jira_work_type(sb, key) == theirs and notion_select(sb, page, "Work type") == theirs
        # relais wrote each field once (its first value, over the change it could not see), never again.
        assert all(len(w) == 1 for w in writes.values()), writes
        assert all(r.errors == {} for r in reports)
        item_id = sb.jira.get_record(key)["id"]
        # Reported as kept, every cycle, and by `relais report` and `explain`.
        for r in reports:
            kept = {k["item"].split(":", 1)[1]: k for k in r.kept if k["field"] == "work_type"}
            assert {item_id, page} <= set(kept) and kept[item_id]["why"] == CHANGED_BY_HAND
        listed = run_relais(["report", "--format", "json", "-c", str(config)], relais_env(sb))
        assert {item_id, page} <= {k["item"].split(":", 1)[1] for k in json.loads(listed.stdout)["kept"]}
        shown = run_relais(["explain", f"jira:{key}", "-c", str(config)], relais_env(sb))
        assert shown.returncode == 0 and "kept:" in shown.stdout and theirs in shown.stdout
        explained = json.loads(
            run_relais(["explain", f"jira:{key}", "--json", "-c", str(config)], relais_env(sb)).stdout
        )
        assert explained["pending_changes"] == [] and explained["kept"][0]["value"] == theirs
    record(
        "humans",
        "owned-decision",
        cycles=11,
        human_changes=11,
        relais_writes_per_field=max(map(len, writes.values())),
        ping_pong_limit=1,
    )


def test_a_decision_kept_is_handed_back_by_emptying_it_or_agreeing_with_the_rules(tmp_path):
    with Sandbox(seed=7, size="demo") as sb:
        engine = engine_for(sb, full_config(sb, tmp_path))
        key = "CORE-3"
        try:
            engine.run_cycle(apply=True)
            ours = jira_work_type(sb, key)
            theirs = next(v for v in ("RUN", "BUILD", "IMPROVE") if v != ours)
            person_sets_work_type(sb, key, theirs)
            kept = engine.run_cycle(apply=True)
            assert jira_work_type(sb, key) == theirs and any(k["target"] == f"jira:{key}" for k in kept.kept)
            person_sets_work_type(sb, key, None)  # handed back to relais
            back = engine.run_cycle(apply=True)
            assert jira_work_type(sb, key) == ours and all(k["target"] != f"jira:{key}" for k in back.kept)
            person_sets_work_type(sb, key, theirs)  # theirs again: kept at once, not overwritten
            assert engine.run_cycle(apply=True).writes == 0 and jira_work_type(sb, key) == theirs
            person_sets_work_type(sb, key, ours)  # the person now agrees with the rules
            agreed = engine.run_cycle(apply=True)
        finally:
            engine.close()
        assert agreed.writes == 0 and all(k["target"] != f"jira:{key}" for k in agreed.kept)


def briefing_health(sb: Sandbox, page_id: str) -> str | None:
    return notion_select(sb, page_id, "Health")


def person_sets_health(sb: Sandbox, page_id: str, value: str | None) -> None:
    sb.notion.edit_page(page_id, {"Health": {"select": {"name": value} if value else None}})


def test_a_measurement_a_person_keeps_changing_is_restored_once_then_left_and_reported(tmp_path):
    with Sandbox(seed=7, size="demo") as sb:
        config = full_config(sb, tmp_path)
        engine = engine_for(sb, config)
        page = sb.notion.page_ids("briefings")[0]
        try:
            engine.run_cycle(apply=True)
            ours = briefing_health(sb, page)
            theirs = next(v for v in ("On track", "At risk", "Off track", "Blocked") if v != ours)
            person_sets_health(sb, page, theirs)
            engine.run_cycle(apply=True)
            assert briefing_health(sb, page) == ours  # a measurement is restored, once
            reports = []
            for _ in range(5):
                person_sets_health(sb, page, theirs)
                reports.append(engine.run_cycle(apply=True))
            assert briefing_health(sb, page) == theirs
            assert all(
                any(c["item"] == f"notion:{page}" and c["field"] == "health" for c in r.conflicts)
                for r in reports
            )
            listed = run_relais(["report", "--format", "json", "-c", str(config)], relais_env(sb))
            assert f"notion:{page}" in {c["item"] for c in json.loads(listed.stdout)["conflicts"]}
            person_sets_health(sb, page, None)  # handed back
            back = engine.run_cycle(apply=True)
            assert briefing_health(sb, page) == ours and not any(
                c["item"] == f"notion:{page}" for c in back.conflicts
            )
            writes = [
                w
                for w in engine.store.audit("notion", page, limit=100)
                if w["field"] == "health" and w["outcome"] == "applied"
            ]
        finally:
            engine.close()
        # its first value, once back over the person's, and once more when handed back
        assert len(writes) == 3, writes
    record(
        "humans",
        "owned-measurement",
        cycles=8,
        human_changes=6,
        relais_writes_per_field=CONFLICT_AFTER,
        ping_pong_limit=CONFLICT_AFTER,
    )
