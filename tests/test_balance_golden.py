"""Balance golden tests: a small org whose every figure was computed by hand.

Weeks are ISO weeks in Europe/Paris. 2026: W43 = Mon 19 Oct (the week DST
ends: Sun 25 Oct 03:00 CEST → 02:00 CET, 169 clock hours), W44 = 26 Oct,
W45 = 2 Nov, W46 = 9 Nov, W47 = 16 Nov (the current week: now is Wed 18 Nov
12:34 UTC).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from item_support import pagerduty_incident

from sync.balance import BalanceAccumulator, split_by_week, week_of
from sync.models import WorkItem
from sync.plan import derive
from sync.settings import load_settings

FIXTURE = Path(__file__).parent / "fixtures" / "balance.yaml"
NOW = datetime(2026, 11, 18, 12, 34, tzinfo=UTC)
W43, W44, W45, W46, W47 = (
    date(2026, 10, 19),
    date(2026, 10, 26),
    date(2026, 11, 2),
    date(2026, 11, 9),
    date(2026, 11, 16),
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


_n = iter(range(1, 10_000))


def issue(
    project: str,
    issuetype: str,
    *,
    worklog_hours: float | None = None,
    at: datetime | None = None,
    points: float | None = None,
    resolved: datetime | None = None,
    priority: str = "Medium",
    created: datetime | None = None,
    labels: tuple[str, ...] = (),
) -> WorkItem:
    n = next(_n)
    created = created or utc(2026, 9, 1)
    return WorkItem(
        source="jira",
        id=str(10_000 + n),
        key=f"{project}-{n}",
        kind="issue",
        title=f"{issuetype} {n}",
        updated=created,
        created=created,
        project=project,
        issuetype=issuetype,
        priority=priority,
        labels=labels,
        points=points,
        resolved=resolved,
        worklogs=((at, worklog_hours * 3600),) if worklog_hours is not None else (),
    )


def incident(service: str, start: datetime, end: datetime | None, urgency: str = "high") -> WorkItem:
    return pagerduty_incident(next(_n), service, urgency, start, end)


def wed(monday: date) -> datetime:
    """Wednesday 10:00 UTC of the week starting ``monday``."""
    return datetime.combine(monday + timedelta(days=2), time(10), UTC)


ORG = [
    # alpha: exactly 50 % in W44 and W45 (no alert); count fallback in W43;
    # an incident across the W46/W47 boundary; an open incident in W47.
    issue("ALP", "Bug", worklog_hours=10, at=wed(W44)),
    issue("ALP", "Story", worklog_hours=10, at=wed(W44)),
    issue("ALP", "Bug", worklog_hours=10, at=wed(W45)),
    issue("ALP", "Story", worklog_hours=10, at=wed(W45)),
    issue("ALP", "Task", resolved=utc(2026, 10, 21, 15)),  # neither worklog nor points → 2 h BUILD
    issue("ALP", "Story", points=3),  # points but unresolved: nothing yet
    incident("PALP", utc(2026, 11, 15, 21), utc(2026, 11, 16, 1)),  # Sun 22:00 → Mon 02:00 Paris
    incident("PALP", utc(2026, 11, 18, 9), None),  # open: 09:00 → 12:00 (now, at the hour)
    # an epic, Highest priority, created and resolved in W46, no worklog, no points: a container,
    # it adds no hours (W46 stays BUILD 0 %) and is no urgent request
    replace(
        issue("ALP", "Epic", resolved=utc(2026, 11, 11, 15), priority="Highest", created=wed(W46)),
        kind="epic",
    ),
    # beta: 50.1 % in W45 and W46 (alert in W46 only); 3 urgent in W45, 4 in W46.
    issue("BET", "Bug", worklog_hours=50.1, at=wed(W45)),
    issue("BET", "Story", worklog_hours=49.9, at=wed(W45)),
    issue("BET", "Bug", worklog_hours=50.1, at=wed(W46)),
    issue("BET", "Story", worklog_hours=49.9, at=wed(W46)),
    *[issue("BET", "Story", priority="Highest", created=wed(W45)) for _ in range(3)],
    *[issue("BET", "Story", priority="Highest", created=wed(W46)) for _ in range(4)],
    # gamma: high, normal, high (no alert); a low-urgency incident across the DST week boundary.
    issue("GAM", "Bug", worklog_hours=6, at=wed(W43)),
    issue("GAM", "Story", worklog_hours=4, at=wed(W43)),
    issue("GAM", "Bug", worklog_hours=4, at=wed(W44)),
    issue("GAM", "Story", worklog_hours=6, at=wed(W44)),
    issue("GAM", "Bug", worklog_hours=6, at=wed(W45)),
    issue("GAM", "Story", worklog_hours=4, at=wed(W45)),
    incident("PGAM", utc(2026, 10, 25, 20), utc(2026, 10, 26, 2), urgency="low"),
    # nobody's: a bug in a project no team lists.
    issue("ZZZ", "Bug", worklog_hours=3, at=wed(W45)),
]


@pytest.fixture(scope="module")
def balance():
    settings = load_settings(FIXTURE)
    acc = BalanceAccumulator(settings, NOW)
    for item in ORG:
        d = derive(item, settings)
        acc.add(item, d.team, d.decision.value)
    return acc


def week(acc, team, monday):
    return next(tw for tw in acc.team_weeks(team) if tw.week == monday)


def names(tw):
    return sorted(a.name for a in tw.alerts)


def test_exactly_50_percent_two_weeks_running_is_no_alert(balance):
    for monday in (W44, W45):
        tw = week(balance, "alpha", monday)
        assert tw.metrics["run_share"] == 0.5
        assert "RUN overload" not in names(tw)


def test_just_over_50_percent_two_weeks_running_alerts_in_the_second_week(balance):
    w45, w46 = week(balance, "beta", W45), week(balance, "beta", W46)
    assert w45.metrics["run_share"] == pytest.approx(0.501)
    assert "RUN overload" not in names(w45)
    assert "RUN overload" in names(w46)
    assert w46.mode == "alert"


def test_two_high_weeks_apart_are_no_alert(balance):
    shares = [round(week(balance, "gamma", w).metrics["run_share"], 4) for w in (W43, W44, W45)]
    assert shares == [round(7.5 / 11.5, 4), round(5.5 / 11.5, 4), 0.6]
    assert all("RUN overload" not in names(week(balance, "gamma", w)) for w in (W43, W44, W45))


def test_an_incident_across_a_week_boundary_is_split_at_local_midnight(balance):
    assert week(balance, "alpha", W46).metrics["run_hours"] == pytest.approx(2.0)
    assert week(balance, "alpha", W46).metrics["incidents"] == 1


def test_an_open_incident_counts_up_to_the_current_hour(balance):
    w47 = week(balance, "alpha", W47)
    assert w47.metrics["run_hours"] == pytest.approx(2.0 + 3.0)
    assert w47.metrics["incidents"] == 1
    assert w47.metrics["buffer_left"] == pytest.approx(0.2 - 1.0)
    # The current week is partial: its shares are shown but judged only once it is complete.
    assert w47.metrics["run_share"] == 1.0
    assert names(w47) == [] and w47.mode == "ok"


def test_an_epic_adds_no_hours_and_no_urgent_request(balance):
    w46 = week(balance, "alpha", W46)
    assert w46.metrics["build_hours"] == 0.0 and w46.metrics["urgent_requests"] == 0


def test_a_complete_week_without_build_is_survival_mode(balance):
    w46 = week(balance, "alpha", W46)
    assert w46.metrics["build_share"] == 0.0  # the epic resolved that week counts nothing
    assert names(w46) == ["survival mode"]  # RUN 100 %, but W45 was exactly 50 %: no overload yet
    assert w46.mode == "survival"


def test_the_week_with_the_dst_change_splits_at_the_real_local_midnight(balance):
    # The incident runs 20:00Z Sun 25 Oct → 02:00Z Mon 26 Oct. After DST ends, Paris is UTC+1:
    # the week boundary is 23:00Z, so 3 h + 3 h (× 0.5 low urgency), not 2 h + 4 h.
    assert week(balance, "gamma", W43).metrics["run_hours"] == pytest.approx(6 + 1.5)
    assert week(balance, "gamma", W44).metrics["run_hours"] == pytest.approx(4 + 1.5)
    # W43 runs from Mon 19 Oct 00:00 CEST (18 Oct 22:00Z) to Mon 26 Oct 00:00 CET (25 Oct 23:00Z): 169 h.
    assert split_by_week(utc(2026, 10, 18, 22), utc(2026, 10, 25, 23), balance.tz) == [(W43, 169.0)]
    assert split_by_week(utc(2026, 10, 19, 0), utc(2026, 10, 26, 0), balance.tz) == [(W43, 167.0), (W44, 1.0)]


def test_work_of_no_team_is_reported_as_unowned(balance):
    unowned = next(tw for tw in balance.unowned() if tw.week == W45)
    assert unowned.metrics["run_hours"] == pytest.approx(3.0)
    assert week(balance, "alpha", W45).metrics["run_hours"] == pytest.approx(10.0)  # not attributed to anyone


def test_an_issue_with_neither_worklog_nor_points_falls_back_to_count(balance):
    w43 = week(balance, "alpha", W43)
    assert w43.metrics["build_hours"] == pytest.approx(2.0)
    assert w43.metrics["total_hours"] == pytest.approx(2.0)


def test_more_than_3_urgent_requests_is_a_watch(balance):
    assert week(balance, "beta", W45).metrics["urgent_requests"] == 3
    assert "urgent flood" not in names(week(balance, "beta", W45))
    assert "urgent flood" in names(week(balance, "beta", W46))


def test_weeks_are_iso_weeks_in_the_configured_zone(balance):
    # Sunday 23:30 in Paris is still the week of the Monday before.
    assert week_of(utc(2026, 11, 15, 22, 30), balance.tz) == W46
    assert week_of(utc(2026, 11, 15, 23, 30), balance.tz) == W47
