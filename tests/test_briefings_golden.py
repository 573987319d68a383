"""Briefing status golden tests: a small org whose every figure was computed by hand.

Now is Wed 18 Nov 2026 12:34 UTC, so "today" in Europe/Paris is 2026-11-18 and
the throughput window (4 weeks, whole days in Europe/Paris) starts on 21 Oct.

Finished in the window, per team (issues, not epics):
  alpha: ALP-11 (10 Nov), ALP-50 (2 Nov), ALP-51 (28 Oct) → 3 (ALP-52, 1 Oct, is outside)
  beta:  BET-11 (12 Nov) → 1 (BET-2 and BET-3 were finished on 5 Oct)
  gamma: GAM-3 (16 Nov) → 1
Epics with open children: alpha ALP-10, ALP-20 (ALP-1 has none); beta BET-10 (BET-1 is all
done); gamma GAM-1. Pace per epic = finished ÷ 4 weeks ÷ open epics:
  alpha 3/4/2 = 0.375 issue/week, beta 1/4/1 = 0.25, gamma 1/4/1 = 0.25.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from item_support import pagerduty_incident

from connectors.jira_map import issue_links
from sync.briefings import epic_key_in, notion_page_id
from sync.followups import plan_followup
from sync.models import WorkItem
from sync.owned import derived_from
from sync.plan import plan_cycle
from sync.settings import load_settings

FIXTURE = Path(__file__).parent / "fixtures" / "briefings.yaml"
NOW = datetime(2026, 11, 18, 12, 34, tzinfo=UTC)
BASE = "https://acme.atlassian.net"
OPEN, DONE = "indeterminate", "done"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def jira(
    key: str,
    *,
    kind: str = "issue",
    status: str = OPEN,
    parent: str | None = None,
    resolved: datetime | None = None,
    points: float | None = None,
    links=(),
    owned=None,
):
    from sync.models import WorkItem

    return WorkItem(
        source="jira",
        id=key,
        key=key,
        kind=kind,
        title=f"{key} work",
        updated=utc(2026, 9, 1),
        created=utc(2026, 9, 1),
        project=key.split("-")[0],
        issuetype="Epic" if kind == "epic" else "Story",
        status_category=status,
        resolved=resolved if status == DONE else None,
        parent=parent,
        points=points,
        links=tuple(links),
        url=f"{BASE}/browse/{key}",
        owned=owned
        if owned is not None
        else ({"health": None, "briefing_link": None} if kind == "epic" else {}),
    )


def blocked_by(other: str, status: str = OPEN):
    return ("Blocks", "is blocked by", other, status)


def relates(other: str, status: str = OPEN):
    return ("Relates", "relates to", other, status)


PAGE_IDS = {
    name: f"{i:08x}-0000-4000-8000-{i:012x}"
    for i, name in enumerate(
        ["no children", "all done", "today", "blocked", "incident", "no epic", "validated", "missing"],
        start=1,
    )
}


def briefing(
    name: str,
    team: str,
    *,
    epic: str | None = None,
    target: str | None = None,
    depends=(),
    validated=(),
    impact=None,
    effort=None,
    security=False,
    created_day: int = 1,
):
    from sync.models import WorkItem

    owned = dict.fromkeys(derived_from("status")) | {"epic": epic}
    for text_field in ("reason", "dependencies", "undeclared"):
        owned[text_field] = ""
    page = PAGE_IDS[name]
    return WorkItem(
        source="notion",
        id=page,
        key=name,
        kind="briefing",
        title=name,
        team=team,
        database="briefings",
        updated=utc(2026, 11, 1),
        created=utc(2026, 9, created_day),
        url=f"https://www.notion.so/{name.replace(' ', '-')}-{page.replace('-', '')}",
        owned=owned,
        inputs={
            "epic": epic,
            "target_date": target,
            "depends_on": tuple(depends),
            "validated_by": tuple(validated),
            "impact": impact,
            "effort": effort,
            "security": security,
        },
    )


def incident(n: int, service: str, urgency: str):
    return pagerduty_incident(
        n, service, urgency, utc(2026, 11, 18, 9), title="outage", status_category="open"
    )


ORG = [
    # no children: alpha's ALP-1.
    jira("ALP-1", kind="epic"),
    briefing("no children", "Alpha", epic="ALP-1", target="2026-12-31", impact=8, effort=2),
    # all done, by points; the epic names the briefing (its Epic property is empty).
    jira(
        "BET-1",
        kind="epic",
        status=DONE,
        resolved=utc(2026, 10, 6),
        owned={
            "health": None,
            "briefing_link": "https://www.notion.so/acme/All-done-" + PAGE_IDS["all done"].replace("-", ""),
        },
    ),
    jira("BET-2", status=DONE, parent="BET-1", points=3, resolved=utc(2026, 10, 5)),
    jira("BET-3", status=DONE, parent="BET-1", points=5, resolved=utc(2026, 10, 5)),
    briefing("all done", "Beta", target="2026-11-01", security=True, impact=1, effort=9),
    # target date today; 1 of 2 dependencies validated; a link to a declared team.
    jira("ALP-10", kind="epic"),
    jira("ALP-11", status=DONE, parent="ALP-10", resolved=utc(2026, 11, 10)),
    jira("ALP-12", parent="ALP-10"),
    jira("ALP-13", parent="ALP-10", links=[relates("BET-20")]),
    jira("BET-20"),
    briefing(
        "today",
        "Alpha",
        epic="ALP-10",
        target="2026-11-18",
        depends=["Beta", "Gamma"],
        validated=["Beta"],
        impact=6,
        effort=3,
    ),
    # blocked by another team's open issue (undeclared, too); a same-team blocker and a done child don't count.
    jira("ALP-20", kind="epic"),
    jira("ALP-21", parent="ALP-20", links=[blocked_by("GAM-5")]),
    jira("ALP-22", parent="ALP-20", links=[blocked_by("ALP-23")]),
    jira("ALP-23"),
    jira("ALP-24", status=DONE, parent="ALP-20", resolved=utc(2026, 9, 15), links=[blocked_by("GAM-6")]),
    jira("GAM-5"),
    jira("GAM-6"),
    briefing("blocked", "Alpha", epic=f"{BASE}/browse/ALP-20", target="2027-03-31", impact=10, effort=5),
    # a high-urgency incident open on gamma's service; the target has passed.
    jira("GAM-1", kind="epic"),
    jira("GAM-2", parent="GAM-1"),
    jira("GAM-3", status=DONE, parent="GAM-1", resolved=utc(2026, 11, 16)),
    incident(1, "PGAM", "high"),
    incident(2, "PGAM", "low"),
    briefing("incident", "Gamma", epic="GAM-1", target="2026-11-10"),
    # no epic at all; its one dependency is validated.
    briefing("no epic", "Beta", depends=["Alpha"], validated=["Alpha"]),
    # declared and validated (case differs), on track; the epic gets the briefing's URL.
    jira("BET-10", kind="epic"),
    jira("BET-11", status=DONE, parent="BET-10", resolved=utc(2026, 11, 12)),
    jira("BET-12", parent="BET-10", links=[relates("ALP-23")]),
    briefing("validated", "Beta", epic="BET-10", target="2027-01-15", depends=["Alpha"], validated=["alpha"]),
    # names an issue relais does not read as an epic.
    briefing("missing", "Alpha", epic="ALP-999"),
    # alpha's other finished work (the pace), one outside the window.
    jira("ALP-50", status=DONE, resolved=utc(2026, 11, 2)),
    jira("ALP-51", status=DONE, resolved=utc(2026, 10, 28)),
    jira("ALP-52", status=DONE, resolved=utc(2026, 10, 1)),
]


@pytest.fixture(scope="module")
def settings():
    return load_settings(FIXTURE)


@pytest.fixture(scope="module")
def plan(settings):
    return plan_cycle(ORG, settings, NOW)


def status(plan, name):
    return plan.briefings.statuses[PAGE_IDS[name]]


def changes_of(plan, ref):
    return {c.field: c.new for c in plan.changes if f"{c.source}:{c.target}" == ref}


def test_an_epic_with_no_children_has_no_progress_and_is_at_risk(plan):
    s = status(plan, "no children")
    assert (s.progress, s.forecast, s.health) == (None, None, "At risk")
    assert s.reason == "ALP-1 has no child issues yet"
    assert s.dependencies == "none declared" and s.undeclared == ""
    assert s.score == 4.0  # 8 / (2 × (1 + 0))


def test_all_done_by_points_is_on_track_even_past_its_target(plan):
    s = status(plan, "all done")
    assert (s.unit, s.done, s.total, s.progress, s.health) == ("points", 8, 8, 100.0, "On track")
    assert s.reason == "done: all 8 points" and s.forecast is None
    assert s.score == 1000  # security critical: the override, whatever impact and effort say


def test_the_epic_that_names_a_briefing_fills_its_empty_epic_property(plan):
    assert changes_of(plan, "notion:all done")["epic"] == "BET-1"
    assert changes_of(plan, "jira:BET-1") == {"health": "On track"}  # its link is already there


def test_target_date_today_is_not_passed_but_a_later_forecast_is_a_risk(plan):
    s = status(plan, "today")
    assert (s.done, s.total, s.progress) == (1, 3, 33.3)
    # 2 issues left at 0.375 a week: 37.3 days, rounded up to 38 → 26 Dec.
    assert s.forecast == "2026-12-26"
    assert s.health == "At risk"
    assert s.reason == "the forecast 2026-12-26 is after the target date 2026-11-18"


def test_a_dependency_declared_but_not_validated_is_counted_and_named(plan):
    s = status(plan, "today")
    assert s.dependencies == "1 of 2 validated (waiting for Gamma)"
    assert s.undeclared == ""  # ALP-13 relates to BET-20, and Beta is declared
    assert s.score == 0.67  # 6 / (3 × (1 + 2))


def test_blocked_by_another_teams_open_issue(plan):
    s = status(plan, "blocked")
    assert s.epic == "ALP-20"  # named by its URL
    assert s.health == "Blocked"
    assert s.reason == "ALP-21 is blocked by GAM-5 (gamma)"  # not ALP-22 (same team), not ALP-24 (done)
    assert (s.progress, s.forecast) == (33.3, "2026-12-26")


def test_an_undeclared_dependency_through_an_issue_link(plan):
    s = status(plan, "blocked")
    assert (
        s.undeclared == "gamma (ALP-21 → GAM-5, ALP-24 → GAM-6)"
    )  # a done child's link was a dependency too
    assert s.dependencies == "none declared"
    assert s.score == 1.0  # 10 / (5 × (1 + 1 undeclared))


def test_an_open_high_urgency_incident_blocks_and_every_reason_is_told(settings):
    plan = plan_cycle(ORG, settings, NOW)
    s = plan.briefings.statuses[PAGE_IDS["incident"]]
    assert s.incidents == 2 and s.health == "Blocked"
    assert s.reason == (
        "high-urgency incident #1 is open: outage 1; the target date 2026-11-10 has passed with 1 issue open"
    )
    assert s.forecast == "2026-12-16"  # 1 left at 0.25 a week: 28 days


def test_survival_mode_makes_an_initiative_at_risk(settings):
    from sync.briefings import BriefingFacts, plan_briefing_status
    from sync.plan import derive

    facts = BriefingFacts(settings, NOW)
    for item in ORG:
        facts.add(item, derive(item, settings).team)
    statuses = plan_briefing_status(facts, {"beta": ("survival", "2026-W46")}).statuses
    s = statuses[PAGE_IDS["validated"]]
    assert s.health == "At risk" and s.reason == "team beta is in survival mode (2026-W46)"
    assert statuses[PAGE_IDS["all done"]].health == "On track"  # done is done


def test_no_epic_is_at_risk_and_a_validated_dependency_counts(plan):
    s = status(plan, "no epic")
    assert (s.epic, s.progress, s.health) == (None, None, "At risk")
    assert s.reason == "no epic: name one in the briefing, or link the briefing from its epic"
    assert s.dependencies == "1 of 1 validated" and s.score is None  # no impact nor effort


def test_declared_and_validated_with_a_forecast_before_the_target_is_on_track(plan):
    s = status(plan, "validated")
    assert (s.progress, s.forecast, s.health) == (50.0, "2026-12-16", "On track")
    assert s.reason == "1 of 2 issues done, forecast 2026-12-16 for a target of 2027-01-15"
    assert s.dependencies == "1 of 1 validated" and s.undeclared == ""


def test_the_epic_named_by_a_briefing_gets_its_url_and_health(plan):
    ch = changes_of(plan, "jira:BET-10")
    assert ch == {"health": "On track", "briefing_link": next(i.url for i in ORG if i.key == "validated")}


def test_an_epic_relais_does_not_read_is_said_so(plan):
    s = status(plan, "missing")
    assert s.health == "At risk" and s.reason == "ALP-999 is not an epic relais reads"


def test_last_synced_rides_along_with_other_changes_only(settings, plan):
    assert "last_synced" in changes_of(plan, "notion:today")
    # Second pass, with what the first one wrote: nothing left, and no timestamp alone.
    written = {(c.source, c.item_id): {} for c in plan.changes}
    for c in plan.changes:
        written[(c.source, c.item_id)][c.field] = c.new
    from dataclasses import replace

    again = [replace(i, owned={**i.owned, **written.get((i.source, i.id), {})}) for i in ORG]
    assert plan_cycle(again, settings, NOW).changes == []


def test_forecasts_move_at_most_once_a_day(settings):
    """Work finished on the window's first day counts until midnight in the configured zone, not
    until the hour it was finished: a steady daemon must not rewrite forecasts every hour."""
    edge = jira("ALP-53", status=DONE, resolved=utc(2026, 10, 21, 15))  # 17:00 in Paris, 4 weeks ago
    morning = plan_cycle([*ORG, edge], settings, NOW)  # 13:34 in Paris
    night = plan_cycle([*ORG, edge], settings, utc(2026, 11, 18, 22, 30))  # 23:30 in Paris, the same day
    assert status(night, "today").forecast == status(morning, "today").forecast
    # ALP-53 counts: alpha finished 4 issues, 4/4/2 = 0.5 an epic a week; ALP-10 has 2 open → 28 days.
    assert status(morning, "today").forecast == "2026-12-16"


def test_epic_keys_and_page_ids_are_found_in_what_people_paste():
    assert epic_key_in("PAY-12") == "PAY-12"
    assert epic_key_in("see https://acme.atlassian.net/browse/PAY-12?focusedCommentId=1") == "PAY-12"
    assert epic_key_in("no key here") is None and epic_key_in(None) is None
    assert (
        notion_page_id("https://www.notion.so/acme/Q1-SSO-0b7c52e4a59f4f5d9d5d3b9c2a1f0e11")
        == "0b7c52e4a59f4f5d9d5d3b9c2a1f0e11"
    )
    assert (
        notion_page_id("https://www.notion.so/0b7c52e4-a59f-4f5d-9d5d-3b9c2a1f0e11?pvs=4")
        == "0b7c52e4a59f4f5d9d5d3b9c2a1f0e11"
    )
    assert notion_page_id("https://example.com/nothing") is None


def test_issue_links_read_as_jira_cloud_renders_them():
    # The IssueLink shape of the Jira Cloud spec (jira-cloud-platform-openapi.json, IssueBean.fields.issuelinks).
    links = [
        {
            "id": "10001",
            "type": {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
            "inwardIssue": {
                "id": "10004",
                "key": "GAM-5",
                "fields": {"status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}}},
            },
        },
        {
            "id": "10002",
            "type": {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to"},
            "outwardIssue": {
                "id": "10005",
                "key": "BET-20",
                "fields": {"status": {"name": "Done", "statusCategory": {"key": "done"}}},
            },
        },
    ]
    assert issue_links(links) == (
        ("Blocks", "is blocked by", "GAM-5", "indeterminate"),
        ("Relates", "relates to", "BET-20", "done"),
    )
    assert issue_links(None) == ()


def test_a_follow_up_tells_the_incident_s_times_in_the_config_s_time_zone(tmp_path):
    """Found from outside: follow-up tickets gave the incident's times in UTC while every
    other date relais shows is in the config's zone."""
    text = (Path(__file__).resolve().parents[1] / "config" / "relais.example.yaml").read_text()
    text = text.replace("# followups:\n#   when: {urgency: high}", "followups:\n  when: {urgency: high}")
    (tmp_path / "relais.yaml").write_text(text)
    settings = load_settings(tmp_path / "relais.yaml")
    assert settings.timezone == "Europe/Paris" and settings.followups is not None
    incident = WorkItem(
        source="pagerduty",
        id="Q1",
        key="#1",
        kind="incident",
        title="Payments down",
        updated=NOW,
        created=datetime(2026, 11, 17, 21, 30, tzinfo=UTC),  # 22:30 in Paris
        resolved=datetime(2026, 11, 17, 23, 15, tzinfo=UTC),  # 00:15 the next day in Paris
        status="resolved",
        status_category="done",
        urgency="high",
        service="PSVC123",
    )
    team = next(t for t, cfg in settings.teams.items() if "PSVC123" in (cfg.pagerduty.services or ()))
    f = plan_followup(incident, team, settings, NOW, {})
    assert f is not None
    assert "(2026-11-17 22:30 → 2026-11-18 00:15 Europe/Paris)" in f.description, f.description
