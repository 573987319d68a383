"""Routing against the sandbox: feedback to its PM, maintenance to its team, hands off what people set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import make_engine, relais_env, run_relais, write_config

from sandbox import Sandbox
from sync.classify import resolve_team


def routing_config(sb: Sandbox, directory: Path) -> Path:
    return write_config(sb, directory, balance=True, routing=True)


@pytest.fixture
def config(sandbox, tmp_path) -> Path:
    return routing_config(sandbox, tmp_path)


def pm_of(sb: Sandbox, page_id: str) -> list[str]:
    return [p["id"] for p in sb.notion.get_page(page_id)["properties"]["PM"]["people"]]


def routed_by(sb: Sandbox, page_id: str) -> str:
    return "".join(
        t["plain_text"] for t in sb.notion.get_page(page_id)["properties"]["Routed by"]["rich_text"]
    )


def test_every_feedback_page_gets_a_pm_and_the_next_cycle_is_quiet(sandbox, engine):
    before = {pid: pm_of(sandbox, pid) for pid in sandbox.notion.page_ids("feedback")}
    first = engine.run_cycle(apply=True)
    assert first.errors == {}
    for pid in sandbox.notion.page_ids("feedback"):
        assert pm_of(sandbox, pid), pid
        assert routed_by(sandbox, pid)
    hand_set = [pid for pid, pm in before.items() if pm]
    assert hand_set and all(pm_of(sandbox, pid) == before[pid] for pid in hand_set)
    second = engine.run_cycle(apply=True)
    assert second.writes == 0 and second.created == 0
    assert second.changed["notion"] == 0  # our own writes coming back are not changes


def test_what_relais_wrote_never_feeds_the_next_routing(sandbox, tmp_path):
    """ "Routed by" names a rule and its file; a text rule that matches it must not see it,
    or the next cycle re-routes every page relais just routed (an echo loop)."""
    config = routing_config(sandbox, tmp_path)
    data = yaml.safe_load(config.read_text())
    data["route"]["feedback"].insert(
        0, {"name": "echo trap", "when": {"text": {"contains_any": ["relais.yaml"]}}, "to": "support"}
    )
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    engine = make_engine(sandbox, config)
    try:
        first = engine.run_cycle(apply=True)
        assert first.errors == {} and first.writes > 0
        assert not [r for _, r in first.routing.decisions if r.rule == "echo trap"]
        second = engine.run_cycle(apply=True)
        assert second.writes == 0, [c.as_dict() for c in second.planned][:3]
    finally:
        engine.close()


def test_a_new_feedback_page_is_routed_in_the_next_cycle(sandbox, engine):
    engine.run_cycle(apply=True)
    page_id = sandbox.notion.create_page(
        "feedback",
        {
            "Name": {"title": [{"text": {"content": "Facture en double, merci de corriger"}}]},
            "Origin": {"select": {"name": "Sales"}},
        },
    )
    second = engine.run_cycle(apply=True)
    assert {c.item_id for c in second.planned} == {page_id}
    alice = engine.settings.teams["payments"].pm
    assert pm_of(sandbox, page_id) == [engine.settings.people[alice].notion]
    assert routed_by(sandbox, page_id).startswith("billing")
    third = engine.run_cycle(apply=True)
    assert third.writes == 0


def test_a_pm_set_by_hand_survives_and_is_reported_as_an_override(sandbox, engine, config):
    page_id = sandbox.notion.page_ids("feedback")[-1]
    engine.run_cycle(apply=True)
    who, someone = next(
        (k, p.notion)
        for k, p in engine.settings.people.items()
        if p.notion and [p.notion] != pm_of(sandbox, page_id)
    )
    sandbox.notion.edit_page(page_id, {"PM": {"people": [{"id": someone}]}})
    for _ in range(2):
        engine.run_cycle(apply=True)
        assert pm_of(sandbox, page_id) == [someone]
    report = run_relais(["report", "--routing", "--format", "json", "-c", str(config)], relais_env(sandbox))
    assert report.returncode == 0, report.stderr
    overrides = json.loads(report.stdout)["routing"]["overrides"]
    assert {"item": f"notion:{page_id}", "field": "pm", "set_by_hand": who} in [
        {k: o[k] for k in ("item", "field", "set_by_hand")} for o in overrides
    ]


def test_a_team_a_person_set_on_a_ticket_is_kept_and_reported(sandbox, engine, config):
    engine.run_cycle(apply=True)
    fid = engine.connectors["jira"].routing_fields["team"]
    assert sandbox.jira.get_issue("SUP-18")["fields"][fid]["value"] == "support"  # set by a person
    report = run_relais(["report", "--routing", "--format", "json", "-c", str(config)], relais_env(sandbox))
    overrides = json.loads(report.stdout)["routing"]["overrides"]
    sup18 = engine.store.get_item("jira", "SUP-18")[0]
    assert {
        "item": sup18.ref,
        "key": "SUP-18",  # what people call it, beside the id
        "field": "team",
        "set_by_hand": "support",
        "rules_say": "payments",
    } in overrides


def test_maintenance_without_a_team_gets_one_and_the_balance_follows(sandbox, engine):
    first = engine.run_cycle(apply=True)
    assert first.routing.maintenance, "the demo org has RUN tickets without a team"
    assert engine.run_cycle(apply=False).routing.maintenance == []  # all routed in the first cycle
    fid = engine.connectors["jira"].routing_fields["team"]
    teams = {key: (sandbox.jira.get_issue(key)["fields"].get(fid) or {}).get("value") for key in sandbox.jira}
    assert set(teams.values()) - {None} <= set(engine.settings.teams)
    assert {m.key for m, _ in first.routing.maintenance} <= {k for k, v in teams.items() if v}
    # The balance sees the routed team: an issue routed to core counts for core.
    for issue, r in first.routing.maintenance:
        stored = engine.store.get_item("jira", issue.id)[0]
        assert resolve_team(stored, engine.settings) == r.team


def test_explain_shows_the_routing_rule_and_its_line(sandbox, engine, config):
    page_id = sandbox.notion.create_page(
        "feedback",
        {
            "Name": {"title": [{"text": {"content": "Refund took ages"}}]},
            "Origin": {"select": {"name": "Sales"}},
        },
    )
    engine.run_cycle(apply=False)  # pulled, not yet written: explain says what will happen
    result = run_relais(["explain", f"notion:{page_id}", "--json", "-c", str(config)], relais_env(sandbox))
    assert result.returncode == 0, result.stderr
    routing = json.loads(result.stdout)["routing"]
    assert routing["rule"] == "billing" and routing["team"] == "payments"
    line = int(routing["where"].rsplit(":", 1)[1])
    assert "billing" in config.read_text().splitlines()[line - 1]


def test_jira_feedback_issues_are_routed_like_notion_pages(sandbox, engine, config):
    first = engine.run_cycle(apply=True)
    assert first.errors == {}
    jira = engine.connectors["jira"]
    pm_field, team_field = jira.routing_fields["pm"], jira.routing_fields["team"]
    feedback = [i for i in engine.store.iter_items("jira") if i.kind == "feedback"]
    assert feedback and all(i.project == "FB" for i in feedback)
    people_by_account = {p.jira: k for k, p in engine.settings.people.items() if p.jira}
    decisions = {i.id: r for i, r in first.routing.decisions if i.source == "jira"}
    for item in feedback:
        fields = sandbox.jira.get_issue(item.key)["fields"]
        assert fields[pm_field], item.key  # routed, or set by a person before
        r = decisions[item.id]
        if people_by_account.get(fields[pm_field]["accountId"]) == r.pm and r.team:
            assert fields[team_field]["value"] == r.team
    assert engine.run_cycle(apply=True).writes == 0
