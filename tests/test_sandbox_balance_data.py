"""The seeded org tells a RUN/BUILD story (issue 3), whatever weekday the sandbox starts on.

Checked on the generated data alone (no server), with an effort model written
here from relais' documented defaults (config/relais.example.yaml: worklogs in
the week they started, else points × 4 h, else 2 h per resolved issue, in the
week resolved; incidents from trigger to resolve, capped at 24 h, low urgency
weighted 0.5; ISO weeks in Europe/Paris), so the guarantees hold for what
relais will compute, not only for the generator's intent.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from sandbox.jira import data as jira_data
from sandbox.org import build_org
from sandbox.pagerduty import data as pagerduty_data
from sandbox.timeutil import UTC

PARIS = ZoneInfo("Europe/Paris")
FRIDAY = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
WEEKDAYS = [FRIDAY + timedelta(days=n) for n in range(7)]  # every weekday the demo could start on


def monday(moment: datetime) -> date:
    local = moment.astimezone(PARIS).date()
    return local - timedelta(days=local.weekday())


def start_of(week: date) -> datetime:
    return datetime.combine(week, time(0), tzinfo=PARIS)


def balance(day: datetime):
    """(org, plan, issues, per team and week: class hours, worklog class hours, urgent count)."""
    org = build_org(7, "demo", day)
    issues, plan = jira_data.build_issues(org)
    hours = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    logged = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    urgent = defaultdict(lambda: defaultdict(int))
    team_of = {t.project_key: t.slug for t in org.teams}
    for rec in issues:
        team, kind = team_of[rec["project"]], jira_data.expected_work_type(rec["issuetype"], rec["labels"])
        urgent[team][monday(rec["created"])] += rec["priority"] == "Highest"
        for w in rec["worklogs"]:
            hours[team][monday(w["started"])][kind] += w["seconds"] / 3600
            logged[team][monday(w["started"])][kind] += w["seconds"] / 3600
        if not rec["worklogs"] and rec["resolutiondate"]:
            points = rec["customfield_10016"]
            hours[team][monday(rec["resolutiondate"])][kind] += points * 4 if points else 2
    owner = {s.id: s.team for s in org.services}
    for inc in pagerduty_data.iter_incidents(org):
        lo = inc["created_at"]
        hi = min(inc["resolved_at"] or org.anchor, lo + timedelta(hours=24))
        weight = 1.0 if inc["urgency"] == "high" else 0.5
        while lo < hi:
            week = monday(lo)
            cut = min(hi, start_of(week + timedelta(weeks=1)))
            hours[owner[inc["service_id"]]][week]["RUN"] += (cut - lo).total_seconds() / 3600 * weight
            lo = cut
    return org, plan, issues, hours, logged, urgent


def weeks_of(org) -> tuple[list[date], date]:
    """The complete ISO weeks of the history, and the current (partial) one."""
    first = monday(org.start)
    if start_of(first) < org.start:
        first += timedelta(weeks=1)
    current = monday(org.anchor)
    complete = [first + timedelta(weeks=n) for n in range((current - first).days // 7)]
    return complete, current


def share(figures: dict[str, float], kind: str) -> float | None:
    total = sum(figures.values())
    return figures[kind] / total if total else None


def test_worklogs_are_realistic():
    org, plan, issues, *_ = balance(FRIDAY)
    members = {t.project_key: {p.jira_account_id for p in org.members(t.slug)} for t in org.teams}
    ids = [w["id"] for rec in issues for w in rec["worklogs"]]
    assert len(ids) == len(set(ids)) > 200
    for rec in issues:
        assert [w["id"] for w in rec["worklogs"]] == sorted((w["id"] for w in rec["worklogs"]), key=int)
        for w in rec["worklogs"]:
            assert w["seconds"] % 900 == 0 and w["seconds"] > 0
            assert w["author"] in members[rec["project"]]
            assert (
                rec["created"] <= w["started"] <= w["created"] <= w["updated"] <= rec["updated"] < org.anchor
            )
    counts = sorted(len(rec["worklogs"]) for rec in issues)
    assert counts.count(0) >= 15  # many issues nobody logs on
    assert sum(1 for n in counts if n > 20) >= 2  # some a client must page for (search embeds 20)
    assert sum(1 for n in counts if 2 <= n <= 20) >= 15


def test_each_team_has_resolved_issues_for_each_fallback():
    org, plan, issues, *_ = balance(FRIDAY)
    for team in org.teams:
        resolved = [r for r in issues if r["project"] == team.project_key and r["resolutiondate"]]
        assert any(r["customfield_10016"] and not r["worklogs"] for r in resolved), team.slug  # points
        assert any(not r["customfield_10016"] and not r["worklogs"] for r in resolved), team.slug  # count
        assert any(r["worklogs"] for r in resolved), team.slug


def test_seeded_issues_keep_their_classify_fields_and_only_gain_worklogs():
    org = build_org(7, "demo", FRIDAY)
    before = list(jira_data._seeded_issues(org))
    after, _ = jira_data.build_issues(org)
    keep = (
        "id",
        "key",
        "project",
        "issuetype",
        "summary",
        "labels",
        "components",
        "status",
        "created",
        "resolutiondate",
        "customfield_10016",
        "customfield_10050",
        "assignee",
        "reporter",
    )
    assert [[r[k] for k in keep] for r in before] == [[r[k] for k in keep] for r in after]
    moved = [
        (b["key"], b["priority"], a["priority"])
        for b, a in zip(before, after)
        if b["priority"] != a["priority"]
    ]
    assert len(moved) <= 4 and all(new == "Highest" for _, _, new in moved)
    for b, a in zip(before, after):  # only issues in progress are worked on until today
        assert a["updated"] == b["updated"] or (
            a["status"] in ("In Progress", "In Review") and a["updated"] > b["updated"]
        )


@pytest.mark.parametrize("day", WEEKDAYS, ids=lambda d: d.strftime("%a"))
def test_the_demo_weeks_tell_the_balance_story(day):
    org, plan, issues, hours, logged, urgent = balance(day)
    complete, current = weeks_of(org)
    assert plan.profiles == {"payments": "calm", "core": "firefighting", "support": "steady"}

    # Core fights fires two complete weeks running: RUN far above 50 %, by worklogs alone too.
    hot = plan.hot_weeks["core"]
    assert hot[1] - hot[0] == timedelta(weeks=1) and set(hot) <= set(complete)
    for week in hot:
        assert share(logged["core"][week], "RUN") > 0.8
        assert share(hours["core"][week], "RUN") > 0.8

    # Payments is calm and BUILD-heavy: no RUN alert, no survival week, in any reported week.
    reported = complete + [current]
    for week in complete:
        assert share(logged["payments"][week], "BUILD") >= 0.6
    runs = [share(hours["payments"][w], "RUN") or 0 for w in reported]
    assert not any(a > 0.5 and b > 0.5 for a, b in zip(runs, runs[1:])), runs
    builds = [share(hours["payments"][w], "BUILD") for w in reported]
    assert all(b is None or b >= 0.3 for b in builds), builds  # None: a week with no hours yet

    # Support gets an urgent flood (> 3 Highest issues created) in one complete week; nobody else does.
    floods = [(team, week) for team, weeks in urgent.items() for week, n in weeks.items() if n > 3]
    assert floods == [("support", plan.urgent_weeks["support"])] and plan.urgent_weeks["support"] in complete
