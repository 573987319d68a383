"""Briefing status and incident follow-ups against the sandbox, through the real clients."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
import yaml
from conftest import make_engine, relais_env, run_relais, start_relais, write_config

from sandbox import Sandbox
from sync.followups import label_for, note_key, ticket_key
from sync.state import StateStore

OWNED_STATUS = (
    "Health",
    "Health reason",
    "Progress",
    "Forecast",
    "Open incidents",
    "Dependencies",
    "Undeclared dependencies",
    "Priority score",
    "Last synced",
    "Team RUN load",
    "Team mode",
    "Work type",
    "Epic",
)


def briefings_config(sb: Sandbox, directory: Path) -> Path:
    return write_config(sb, directory, balance=True, briefings=True)


@pytest.fixture
def config(sandbox, tmp_path) -> Path:
    return briefings_config(sandbox, tmp_path)


def prop(sb: Sandbox, page_id: str, name: str):
    p = sb.notion.get_page(page_id)["properties"][name]
    value = p[p["type"]]
    if p["type"] == "rich_text":
        return "".join(t["plain_text"] for t in value)
    if p["type"] in ("select",):
        return value["name"] if value else None
    if p["type"] == "date":
        return value["start"] if value else None
    return value


def field(sb: Sandbox, key: str, name: str):
    fid = {"Health": "customfield_10094", "Briefing link": "customfield_10080"}[name]
    value = sb.jira.get_issue(key)["fields"].get(fid)
    return value.get("value") if isinstance(value, dict) else value


def followup_tickets(sb: Sandbox) -> dict[str, list[str]]:
    """relais' follow-up label → the keys of the issues carrying it."""
    out: dict[str, list[str]] = {}
    for key in sb.jira:
        for label in sb.jira.get_issue(key)["fields"].get("labels") or []:
            if label.startswith("relais-followup-"):
                out.setdefault(label, []).append(key)
    return out


def notes_naming(sb: Sandbox, incident_id: str, ticket: str) -> int:
    return sum(ticket in n["content"] for n in sb.pagerduty.find(incident_id)["notes"])


# -- delivery status ---------------------------------------------------------------------
def test_briefings_show_their_status_and_epics_their_health_and_link(sandbox, engine):
    first = engine.run_cycle(apply=True)
    assert first.errors == {} and first.briefings_updated == len(sandbox.notion.page_ids("briefings"))
    statuses = first.briefings.statuses
    for page_id, s in statuses.items():
        assert prop(sandbox, page_id, "Health") == s.health, page_id
        assert prop(sandbox, page_id, "Health reason") == s.reason
        assert prop(sandbox, page_id, "Progress") == s.progress
        assert prop(sandbox, page_id, "Dependencies") == s.dependencies
        assert prop(sandbox, page_id, "Last synced") is not None
        if s.epic:
            assert field(sandbox, s.epic, "Health") == s.health
    blocked = sandbox.initiatives.role("blocked")  # paired by its epic's Briefing link
    assert prop(sandbox, blocked.page_id, "Epic") == blocked.epic  # relais filled the briefing's side
    assert prop(sandbox, blocked.page_id, "Health") == "Blocked"
    seeded = sandbox.jira.epic_plan.role("blocked")
    assert f"{seeded.child} is blocked by {seeded.other}" in prop(sandbox, blocked.page_id, "Health reason")
    assert prop(sandbox, blocked.page_id, "Dependencies") == "0 of 1 validated (waiting for Payments)"
    validated = sandbox.initiatives.role("validated")  # paired by the briefing's Epic property
    assert field(sandbox, validated.epic, "Briefing link") == validated.url  # relais filled the epic's side
    assert prop(sandbox, validated.page_id, "Dependencies") == "1 of 1 validated"
    done = sandbox.initiatives.role("done")
    assert (prop(sandbox, done.page_id, "Progress"), prop(sandbox, done.page_id, "Health")) == (
        100,
        "On track",
    )
    second = engine.run_cycle(apply=True)
    assert second.writes == 0 and second.created == 0 and second.followups_created == 0


def test_removing_the_link_clears_the_undeclared_flag_and_nothing_a_person_wrote_changes(sandbox, engine):
    undeclared = sandbox.initiatives.role("undeclared")
    seeded = sandbox.jira.epic_plan.role("undeclared")
    engine.run_cycle(apply=True)
    assert seeded.other in prop(sandbox, undeclared.page_id, "Undeclared dependencies")
    before = {
        name: p
        for name, p in sandbox.notion.get_page(undeclared.page_id)["properties"].items()
        if name not in OWNED_STATUS
    }
    sandbox.jira.unlink(seeded.link)
    second = engine.run_cycle(apply=True)
    assert second.errors == {}
    assert prop(sandbox, undeclared.page_id, "Undeclared dependencies") == ""
    assert seeded.child not in prop(sandbox, undeclared.page_id, "Health reason")  # no longer blocked by it
    after = {
        name: p
        for name, p in sandbox.notion.get_page(undeclared.page_id)["properties"].items()
        if name not in OWNED_STATUS
    }
    assert after == before
    assert sandbox.count(vendor="notion", path_prefix="/v1/blocks") == 0  # a page's body is never touched


# -- incident follow-ups -----------------------------------------------------------------
def test_one_ticket_and_one_note_per_resolved_high_urgency_incident(sandbox, engine):
    first = engine.run_cycle(apply=True)
    planned = first.planned_followups
    assert planned and first.followups_created == len(planned) == first.notes_created
    tickets = followup_tickets(sandbox)
    for f in planned:
        keys = tickets[label_for(f.incident.id)]
        assert len(keys) == 1
        issue = sandbox.jira.get_issue(keys[0])["fields"]
        assert issue["project"]["key"] == f.project and issue["issuetype"]["name"] == "Task"
        assert issue["customfield_10050"]["value"] == "RUN"  # labelled for the classify rule that says RUN
        assert f.incident.key in issue["summary"]
        assert notes_naming(sandbox, f.incident.id, keys[0]) == 1
    second = engine.run_cycle(apply=True)
    assert second.planned_followups == [] and second.followups_created == 0 and second.writes == 0
    assert followup_tickets(sandbox) == tickets


def test_a_follow_up_ticket_names_the_incidents_service(sandbox, engine):
    """Summary and description name the PagerDuty service as PagerDuty names it, not by its id
    (the seeded titles start with the service's name: taken out, as many real titles have it)."""
    from sandbox.testing import pagerduty_client

    def untitled(served):  # incidents; a note or a log entry is served through this too
        if "title" in served and "service" in served:
            served["title"] = served["title"].removeprefix(served["service"]["summary"] + ": ")

    sandbox.tamper("pagerduty", untitled)
    first = engine.run_cycle(apply=True)
    assert first.followups_created
    tickets = followup_tickets(sandbox)
    pd = pagerduty_client(sandbox)
    try:
        for f in first.planned_followups:
            service = pd.rget(f"/incidents/{f.incident.id}")["service"]
            issue = sandbox.jira.get_issue(tickets[label_for(f.incident.id)][0])["fields"]
            description = json.dumps(issue["description"], ensure_ascii=False)
            assert service["summary"] not in f.incident.title  # the title does not say it
            assert f"on {service['summary']}: " in issue["summary"], issue["summary"]
            assert f"on service {service['summary']} ({service['id']})" in description, description
    finally:
        pd.close()


@pytest.mark.parametrize("fault", ["timeout", "lost"])
def test_a_create_whose_answer_is_lost_files_one_ticket(sandbox, tmp_path, fault):
    """The issue is created, the answer never arrives: the client times out, or the connection drops."""
    config = briefings_config(sandbox, tmp_path)
    data = yaml.safe_load(config.read_text())
    data["sources"]["jira"]["timeout_seconds"] = 2
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    engine = make_engine(sandbox, config)
    try:
        _lost_answer(sandbox, engine, fault)
    finally:
        engine.close()


def _lost_answer(sandbox, engine, fault):
    sandbox.jira.search_lag_seconds = 4.0  # the ticket is not in search results at once
    options = {"delay": 4, "after": True} if fault == "timeout" else {}
    sandbox.faults.add("jira", fault, method="POST", path=r"/rest/api/3/issue$", count=1, **options)
    first = engine.run_cycle(apply=True)
    assert "jira" in first.errors and first.followups_created == 0  # created, but relais could not know
    lost = first.planned_followups[0].incident
    assert engine.store.key_state(ticket_key(lost.id))[0] == "creating"
    assert len(followup_tickets(sandbox)[label_for(lost.id)]) == 1
    second = engine.run_cycle(apply=True)  # search does not see it yet: wait, do not create again
    assert lost.key in second.followups_waiting
    assert len(followup_tickets(sandbox)[label_for(lost.id)]) == 1  # the others were filed; this one waits
    time.sleep(4.0)
    third = engine.run_cycle(apply=True)  # now search finds it: recorded, and its note added
    assert third.errors == {}
    tickets = followup_tickets(sandbox)
    assert all(len(keys) == 1 for keys in tickets.values()) and len(tickets) == len(first.planned_followups)
    for f in first.planned_followups:
        assert notes_naming(sandbox, f.incident.id, tickets[label_for(f.incident.id)][0]) == 1
    assert engine.run_cycle(apply=True).followups_created == 0


def test_a_create_that_never_happened_is_made_once_search_has_had_time(sandbox, tmp_path):
    config = briefings_config(sandbox, tmp_path)
    data = yaml.safe_load(config.read_text())
    data["followups"]["confirm_after_seconds"] = 1
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    engine = make_engine(sandbox, config)
    try:
        sandbox.faults.add("jira", "reset", method="POST", path=r"/rest/api/3/issue$", count=1)
        first = engine.run_cycle(apply=True)
        failed = first.planned_followups[0].incident
        assert "jira" in first.errors and label_for(failed.id) not in followup_tickets(sandbox)
        second = engine.run_cycle(apply=True)  # not found, but search may lag: wait
        assert failed.key in second.followups_waiting and label_for(failed.id) not in followup_tickets(
            sandbox
        )
        time.sleep(1.1)
        third = engine.run_cycle(apply=True)  # search has had its time: the ticket was never made
        assert third.errors == {} and third.followups_waiting == []
        tickets = followup_tickets(sandbox)
        assert len(tickets[label_for(failed.id)]) == 1 and all(len(k) == 1 for k in tickets.values())
        assert note_key(failed.id) in engine.store.key_states("followup-note:")
    finally:
        engine.close()


@pytest.mark.parametrize("after", [False, True], ids=["note-not-sent", "note-sent-answer-held"])
def test_sigkill_between_the_ticket_and_its_note_leaves_one_of_each(sandbox, config, after):
    """The note request hangs (the sandbox holds it); relais is killed there, then run again."""
    env = relais_env(sandbox)
    sandbox.faults.add("pagerduty", "timeout", method="POST", path=r"/notes$", count=1, delay=30, after=after)
    proc = start_relais(["sync", "--once", "-c", str(config)], env)
    state = yaml.safe_load(config.read_text())["state"]["path"]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _note_in_flight(state):
            time.sleep(0.05)
        assert _note_in_flight(state), "relais never reached the note"
        time.sleep(0.3)  # the request is on the wire
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    for _ in range(2):
        result = run_relais(["sync", "--once", "--json", "-c", str(config)], env)
        assert result.returncode == 0, result.stderr
    tickets = followup_tickets(sandbox)
    assert tickets and all(len(keys) == 1 for keys in tickets.values())
    for label, keys in tickets.items():
        incident_id = label.removeprefix("relais-followup-")
        assert notes_naming(sandbox, incident_id, keys[0]) == 1, label


def _note_in_flight(state_path: str) -> bool:
    if not Path(state_path).exists():
        return False
    store = StateStore(state_path)
    try:
        states = store.key_states("followup-note:")
    finally:
        store.close()
    return "creating" in states.values()
