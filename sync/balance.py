"""RUN/BUILD/IMPROVE balance per team and ISO week, and its alerts. Pure functions.

How an item's effort lands in weeks (hours; weeks are ISO weeks, Monday
00:00 to Monday 00:00 in the configured time zone, so a week with a DST
change has 167 or 169 clock hours):

* PagerDuty incident: the hours from trigger to resolve (an open incident
  counts up to "now", taken at the start of the current hour so that numbers
  move at most hourly), capped at ``cap_hours`` from the trigger, times the
  urgency weight; split across weeks in proportion to the clock hours the
  incident was open in each.
* Jira issue: the first measure of ``measures`` the issue has —
  ``worklog``: each worklog's time spent, in the week it was started;
  ``story_points``: points × ``hours_per_point``, in the week it was resolved;
  ``count``: ``hours_per_issue``, in the week it was resolved. An unresolved
  issue without worklogs counts nothing yet.
* Notion page (only with ``notion.count``): ``hours_per_item`` in the week it
  was created.
* Jira epic: nothing — its children carry the effort; nor is it an urgent
  request or anything else the week counts.

Per team and week: hours and share of each class (share = class hours /
all hours; no hours = no shares, and no share alert), incidents triggered
that week, urgent requests (items matching ``urgent.when``) created that
week, and ``buffer_left`` = buffer target − share of the week's hours spent
on incidents and urgent requests (negative: the buffer is overrun).

Alerts on shares and on the buffer are judged on complete weeks only: on a
Monday the current week holds little more than open incidents, and would
read as "survival" for any team with one. Counts (incidents, urgent
requests) and hours are judged as they happen.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sync.models import WorkClass, WorkItem
from sync.rules import Matcher

if TYPE_CHECKING:
    from sync.settings import Settings

LEVELS = ("ok", "watch", "alert", "survival")  # ascending severity
#: Metrics not judged in the current, partial week (counts and hours are).
PARTIAL_WEEK_BLIND = frozenset({"run_share", "build_share", "improve_share", "buffer_left"})
OPS = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


# -- weeks ---------------------------------------------------------------------
def week_of(moment: datetime, tz: ZoneInfo) -> date:
    """The Monday (a date in ``tz``) of the ISO week containing ``moment``."""
    local = moment.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def week_start(monday: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(monday, time(0), tzinfo=tz)


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def recent_weeks(now: datetime, tz: ZoneInfo, n: int) -> list[date]:
    """The ``n`` most recent weeks, oldest first, the current (partial) one last."""
    current = week_of(now, tz)
    return [current - timedelta(weeks=i) for i in range(n - 1, -1, -1)]


def split_by_week(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[date, float]]:
    """Clock hours of [start, end) in each week (absolute time: DST-safe)."""
    out = []
    monday = week_of(start, tz)
    while True:
        lo = max(start, week_start(monday, tz))
        nxt = monday + timedelta(weeks=1)
        hi = min(end, week_start(nxt, tz))
        if hi > lo:
            out.append((monday, (hi - lo).total_seconds() / 3600))
        if week_start(nxt, tz) >= end:
            return out
        monday = nxt


# -- effort ----------------------------------------------------------------------
def effort(item: WorkItem, balance: Any, tz: ZoneInfo, now: datetime) -> list[tuple[date, float]]:
    """Where this item's hours land, as (week, hours) pairs. See the module docstring."""
    eff = balance.effort
    if item.source == "pagerduty":
        cfg = eff.pagerduty
        if not cfg.count:
            return []
        as_of = now.replace(minute=0, second=0, microsecond=0)
        end = item.resolved or as_of
        end = min(end, item.created + timedelta(hours=cfg.cap_hours))
        if end <= item.created:
            return []
        weight = cfg.urgency_weights.get(item.urgency or "", 1.0)
        return [(w, h * weight) for w, h in split_by_week(item.created, end, tz)]
    if item.source == "jira" and item.kind == "issue":
        cfg = eff.jira
        for measure in cfg.measures:
            if measure == "worklog" and item.worklogs:
                return [(week_of(started, tz), seconds / 3600) for started, seconds in item.worklogs]
            if measure == "story_points" and item.points and item.resolved:
                return [(week_of(item.resolved, tz), item.points * cfg.hours_per_point)]
            if measure == "count" and item.resolved:
                return [(week_of(item.resolved, tz), cfg.hours_per_issue)]
        return []
    if item.source == "notion" and eff.notion.count and item.kind in ("briefing", "feedback"):
        return [(week_of(item.created, tz), eff.notion.hours_per_item)]
    return []


# -- aggregation -----------------------------------------------------------------
@dataclass
class WeekFigures:
    hours: dict[str, float] = field(default_factory=lambda: {c.value: 0.0 for c in WorkClass})
    incidents: int = 0
    urgent_requests: int = 0
    unexpected_hours: float = 0.0

    @property
    def total_hours(self) -> float:
        return sum(self.hours.values())

    def metrics(self, buffer_target: float) -> dict[str, float | None]:
        total = self.total_hours
        share = {c: (self.hours[c] / total if total else None) for c in self.hours}
        return {
            "run_share": share["RUN"],
            "build_share": share["BUILD"],
            "improve_share": share["IMPROVE"],
            "run_hours": self.hours["RUN"],
            "build_hours": self.hours["BUILD"],
            "improve_hours": self.hours["IMPROVE"],
            "total_hours": total,
            "incidents": self.incidents,
            "urgent_requests": self.urgent_requests,
            "buffer_left": buffer_target - self.unexpected_hours / total if total else None,
        }


@dataclass
class Alert:
    name: str
    level: str
    message: str
    where: str


@dataclass
class TeamWeek:
    team: str
    week: date
    metrics: dict[str, float | None]
    alerts: list[Alert]

    @property
    def label(self) -> str:
        return week_label(self.week)

    @property
    def mode(self) -> str:
        return max((a.level for a in self.alerts), key=LEVELS.index, default="ok")


class BalanceAccumulator:
    """Fed item by item (streamed from the store), then asked for the team weeks."""

    def __init__(self, settings: Settings, now: datetime) -> None:
        self.settings = settings
        assert settings.balance is not None, "balance is computed only when the config has a balance section"
        self.balance = settings.balance
        self.tz = ZoneInfo(settings.timezone)
        self.now = now
        longest = max((a.for_periods for a in self.balance.alerts), default=1)
        # Extra weeks before the reported ones, so "N weeks running" sees its history.
        self.weeks = recent_weeks(now, self.tz, self.balance.backfill_periods + longest - 1)
        self.first = self.weeks[0]
        self.figures: dict[str | None, dict[date, WeekFigures]] = defaultdict(
            lambda: defaultdict(WeekFigures)
        )
        self.urgent = Matcher(self.balance.urgent.when) if self.balance.urgent is not None else None

    def add(self, item: WorkItem, team: str | None, work_class: WorkClass) -> None:
        if item.kind in ("scorecard", "epic"):  # an epic's effort is its children's
            return
        weeks = self.figures[team]
        urgent = self.urgent is not None and self.urgent(item, team)
        if item.source == "pagerduty" or urgent:
            created = week_of(item.created, self.tz)
            if item.source == "pagerduty" and created >= self.first:
                weeks[created].incidents += 1
            if urgent and created >= self.first:
                weeks[created].urgent_requests += 1
        klass = work_class.value
        for week, hours in effort(item, self.balance, self.tz, self.now):
            if week < self.first or week > self.weeks[-1]:
                continue
            fig = weeks[week]
            fig.hours[klass] += hours
            if item.source == "pagerduty" or urgent:
                fig.unexpected_hours += hours

    def team_weeks(self, team: str | None) -> list[TeamWeek]:
        """Every computed week of ``team``, oldest first, with its active alerts."""
        figures = self.figures.get(team, {})
        metrics = [
            figures[w].metrics(self.balance.buffer_target)
            if w in figures
            else WeekFigures().metrics(self.balance.buffer_target)
            for w in self.weeks
        ]
        out = []
        streaks = {a.name: 0 for a in self.balance.alerts}
        for week, m in zip(self.weeks, metrics):
            current = week == self.weeks[-1]
            active = []
            for rule in self.balance.alerts:
                if current and rule.metric in PARTIAL_WEEK_BLIND:
                    continue  # a half-week's shares swing daily: judged once the week is complete
                value = m.get(rule.metric)
                holds = value is not None and OPS[rule.op](round(value, 9), rule.threshold)
                streaks[rule.name] = streaks[rule.name] + 1 if holds else 0
                if streaks[rule.name] >= rule.for_periods:
                    active.append(Alert(rule.name, rule.level, rule.message, rule.where))
            out.append(TeamWeek(team or "(unowned)", week, m, active))
        return out

    def reported(self, teams: Iterable[str]) -> dict[str, list[TeamWeek]]:
        """The last ``backfill_periods`` weeks per team (the ones a scorecard shows)."""
        n = self.balance.backfill_periods
        return {t: self.team_weeks(t)[-n:] for t in teams}

    def unowned(self) -> list[TeamWeek]:
        return self.team_weeks(None)[-self.balance.backfill_periods :]
