"""End to end against the sandbox: steady state, minute boundaries, owned fields only."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Clock, make_engine, relais_env, run_relais, write_config

from sandbox import Sandbox
from sync.engine import Engine

JIRA_WRITES = {"vendor": "jira", "method": "PUT", "path_prefix": "/rest/api/3/issue/"}
NOTION_WRITES = {"vendor": "notion", "method": "PATCH", "path_prefix": "/v1/pages/"}
WORK_TYPE = "customfield_10050"


def writes(sb: Sandbox) -> int:
    """Field writes the tools received: one per PUT or PATCH, one per issue of a bulk edit."""
    return sb.count(**JIRA_WRITES) + sb.count(**NOTION_WRITES) + sb.jira.bulk_edited()


def work_type(sb: Sandbox, key: str) -> str | None:
    value = sb.jira.get_issue(key)["fields"].get(WORK_TYPE)
    return value["value"] if value else None


def story_classified_build(engine: Engine) -> str:
    for item in engine.store.iter_items("jira"):
        if (
            item.issuetype == "Story"
            and item.owned.get("work_type") == "BUILD"
            and not {"maintenance", "ops", "tech-debt"} & set(item.labels)
        ):
            return item.key
    raise AssertionError("the demo org has no Story classified BUILD")


def test_first_sync_writes_the_class_and_the_second_writes_nothing(sandbox, engine):
    first = engine.run_cycle(apply=True)
    assert first.writes > 0 and first.errors == {}
    assert writes(sandbox) == first.writes  # one field written per item, by request or in a bulk edit
    before = writes(sandbox)
    second = engine.run_cycle(apply=True)
    assert second.writes == 0 and second.planned == []
    assert writes(sandbox) == before
    # Our own writes came back (updated moved) but are not changes: no echo loop.
    assert second.pulled["jira"] > 0 and second.changed == {"jira": 0, "notion": 0, "pagerduty": 0}


def test_sandbox_holds_what_relais_computed(sandbox, engine):
    report = engine.run_cycle(apply=True)
    # The one Work type a person had set against the rules before relais ran is theirs: kept.
    kept = {k["target"].split(":", 1)[1] for k in report.kept if k["item"].startswith("jira:")}
    assert kept == {"SUP-3"}
    for item in engine.store.iter_items("jira"):
        if item.issuetype in ("Bug", "Support") and item.key not in kept:
            assert work_type(sandbox, item.key) == "RUN", item.key
    assert work_type(sandbox, "SUP-3") == "BUILD"
    for page_id in sandbox.notion.page_ids("briefings"):
        page = sandbox.notion.get_page(page_id)
        assert page["properties"]["Work type"]["select"]["name"] in ("RUN", "BUILD", "IMPROVE")


def test_jira_edit_in_the_same_minute_is_picked_up_exactly_once(pinned_sandbox, clock: Clock, tmp_path):
    sb = pinned_sandbox
    engine = make_engine(sb, write_config(sb, tmp_path))
    try:
        engine.run_cycle(apply=True)
        key = story_classified_build(engine)
        clock.advance(seconds=15)  # same minute as the sync's last writes
        labels = sb.jira.get_issue(key)["fields"]["labels"]
        sb.jira.edit_issue(key, {"labels": [*labels, "tech-debt"]})

        second = engine.run_cycle(apply=True)
        assert second.changed["jira"] == 1
        assert [(c.target, c.old, c.new) for c in second.planned] == [(key, "BUILD", "IMPROVE")]
        assert work_type(sb, key) == "IMPROVE"

        clock.advance(seconds=10)
        third = engine.run_cycle(apply=True)
        assert third.pulled["jira"] >= 1  # the overlap window re-reads it…
        assert third.changed["jira"] == 0 and third.writes == 0  # …without calling it a change
    finally:
        engine.close()


def test_notion_edit_in_the_same_rounded_minute_is_picked_up_exactly_once(
    pinned_sandbox, clock: Clock, tmp_path
):
    sb = pinned_sandbox
    engine = make_engine(sb, write_config(sb, tmp_path))
    try:
        engine.run_cycle(apply=True)
        page_id = sb.notion.page_ids("feedback")[0]
        stamp_before = sb.notion.get_page(page_id)["last_edited_time"]
        clock.advance(seconds=20)
        sb.notion.edit_page(page_id, {"Tags": {"multi_select": [{"name": "tech-debt"}]}})
        # Notion rounds to the minute: the edit carries the same timestamp as before.
        assert sb.notion.get_page(page_id)["last_edited_time"] == stamp_before

        second = engine.run_cycle(apply=True)
        assert second.changed["notion"] == 1
        assert [(c.item_id, c.new) for c in second.planned] == [(page_id, "IMPROVE")]
        third = engine.run_cycle(apply=True)
        assert third.changed["notion"] == 0 and third.writes == 0
    finally:
        engine.close()


def test_a_human_edit_between_plan_and_apply_survives(sandbox, engine):
    cycle = engine.begin("sync")
    engine.pull(cycle)
    work = engine.plan(cycle)
    jira_item, jira_changes = next((item, ch) for item, ch in work if item.source == "jira")
    notion_item = next(item for item, _ in work if item.source == "notion")
    # A person edits fields relais does not own, after relais planned.
    labels = sandbox.jira.get_issue(jira_item.key)["fields"]["labels"]
    sandbox.jira.edit_issue(
        jira_item.key, {"summary": "Renamed by a human", "labels": [*labels, "customer-x"]}
    )
    sandbox.notion.edit_page(
        notion_item.id, {"Customer": {"rich_text": [{"text": {"content": "ACME (typed)"}}]}}
    )

    engine.apply(cycle, work)
    engine.finish(cycle)

    issue = sandbox.jira.get_issue(jira_item.key)["fields"]
    assert issue["summary"] == "Renamed by a human"
    assert "customer-x" in issue["labels"]
    assert issue[WORK_TYPE]["value"] == jira_changes[0].new
    page = sandbox.notion.get_page(notion_item.id)["properties"]
    assert page["Customer"]["rich_text"][0]["plain_text"] == "ACME (typed)"


def test_write_bodies_carry_only_owned_fields(sandbox, engine):
    cycle = engine.begin("plan")
    engine.pull(cycle)
    work = engine.plan(cycle)
    jira_item, jira_changes = next((i, c) for i, c in work if i.source == "jira")
    body = engine.connectors["jira"].write_body(jira_item, jira_changes)
    assert body == {"fields": {WORK_TYPE: {"value": jira_changes[0].new}}}
    notion_item, notion_changes = next((i, c) for i, c in work if i.source == "notion")
    props = engine.connectors["notion"].write_body(notion_item, notion_changes)
    assert props == {"Work type": {"select": {"name": notion_changes[0].new}}}


def test_labels_mode_keeps_human_labels_and_replaces_only_managed_ones(sandbox, tmp_path):
    def labels_mode(cfg):
        cfg["writeback"]["jira"]["work_type"] = {"labels_prefix": "work:"}

    engine = make_engine(sandbox, write_config(sandbox, tmp_path, labels_mode))
    try:
        engine.run_cycle(apply=True)
        key = story_classified_build(engine)
        labels = sandbox.jira.get_issue(key)["fields"]["labels"]
        assert "work:BUILD" in labels
        sandbox.jira.edit_issue(key, {"labels": [*labels, "tech-debt", "keep-me"]})
        engine.run_cycle(apply=True)
        labels = sandbox.jira.get_issue(key)["fields"]["labels"]
        assert "work:IMPROVE" in labels and "work:BUILD" not in labels
        assert {"tech-debt", "keep-me"} <= set(labels)
        assert engine.run_cycle(apply=True).writes == 0
    finally:
        engine.close()


def test_plan_json_lists_changes_and_writes_nothing(sandbox, config: Path):
    result = run_relais(["plan", "--json", "-c", str(config)], relais_env(sandbox))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    entries = data["changes"]
    assert entries and all(set(e) >= {"target", "field", "old", "new", "rule"} for e in entries)
    assert data["errors"] == {} and data["held"] == [] and data["summary"]["writes"] == len(entries)
    assert writes(sandbox) == 0


def test_explain_names_the_rule_and_its_line(sandbox, config: Path, engine):
    engine.run_cycle(apply=True)
    bug = next(i for i in engine.store.iter_items("jira") if i.issuetype == "Bug")
    result = run_relais(["explain", f"jira:{bug.key}", "--json", "-c", str(config)], relais_env(sandbox))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["classification"]["value"] == "RUN"
    assert data["classification"]["rule"] == "bugs and support"
    file, line = data["classification"]["where"].rsplit(":", 1)
    assert Path(file).name == "relais.yaml"
    assert "bugs and support" in config.read_text().splitlines()[int(line) - 1]
    human = run_relais(["explain", f"jira:{bug.key}", "-c", str(config)], relais_env(sandbox))
    assert "bugs and support" in human.stdout and f"relais.yaml:{line}" in human.stdout


def test_sync_once_json_reports_the_cycle(sandbox, config: Path):
    result = run_relais(["sync", "--once", "--json", "-c", str(config)], relais_env(sandbox))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["pulled"]) == {"jira", "notion", "pagerduty"}
    assert report["writes"] == writes(sandbox) > 0
    assert len(report["changes"]) == report["writes"]
