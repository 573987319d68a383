"""Seeded Jira worklogs, and the team profiles that give the demo a RUN/BUILD story.

Worklogs are generated after the issues (their own RNG stream, so the seeded
issues keep every value they had, except the Highest priorities below) by
simulating working days: on each weekday of the history, every member logs
4–7 hours in 15-minute multiples from 09:00 Europe/Paris on issues of their
team that are *alive* then (created before the entry starts, last updated
after it ends: a seeded worklog never post-dates its issue's ``updated``). An
entry's kind of work follows the team's profile (team index modulo 3); if no
issue of that kind is alive, the team's main kind is used, else nothing is
logged:

- ``calm`` (demo: Payments): 75 % BUILD; each member's first entry of the day
  goes to the team's longest-lived open BUILD issue (``Plan.focus``).
- ``firefighting`` (demo: Core): in two consecutive complete ISO weeks
  (``Plan.hot_weeks``, the pair its RUN issues cover best) 85 % RUN, the first
  two entries of each member's day on one RUN issue; an ordinary mix
  elsewhere.
- ``steady`` (demo: Support): an ordinary mix (35 % RUN, 50 % BUILD, 15 %
  IMPROVE), a BUILD focus, and four issues created in its busiest complete ISO
  week made Highest priority (``Plan.urgent_weeks``).

RUN issues of calm and firefighting teams are always logged on, other issues
about half the time; each team keeps a resolved issue with story points and
no worklog and one with neither, so relais' fallbacks (points, then count)
have work (RUN ones in a firefighting team). ISO weeks run Monday 00:00 to
Monday 00:00 in Europe/Paris, relais' default zone. The first and the current
week of the history are thinly logged: few issues exist yet, few are still
being updated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..org import Org
from ..timeutil import UTC
from .fields import expected_work_type

WEEK_TZ = ZoneInfo("Europe/Paris")
QUARTER = 900  # seconds: every timeSpentSeconds is a multiple of 15 minutes
FIRST_WORKLOG_ID = 100001
PROFILES = ("calm", "firefighting", "steady")
CLASSES = ("RUN", "BUILD", "IMPROVE")
MIXES = {  # share of entries per class (RUN, BUILD, IMPROVE), and the class to turn to when one has no issue
    "usual": ((0.35, 0.5, 0.15), "BUILD"),
    "hot": ((0.85, 0.1, 0.05), "RUN"),
    "calm": ((0.1, 0.75, 0.15), "BUILD"),
}
URGENT_PER_WEEK = 4
IN_PROGRESS = ("In Progress", "In Review")
_COMMENTS = {
    "RUN": [
        "Investigated the alert",
        "Reproduced and fixed",
        "Call with the customer",
        "Hotfix and deploy",
        "Read the logs and the traces",
        "Post-incident clean-up",
    ],
    "BUILD": [
        "Implementation",
        "Code review",
        "Design session",
        "Pairing on the feature",
        "Wrote the tests",
        "Demo preparation",
    ],
    "IMPROVE": ["Refactoring", "Removed dead code", "CI pipeline work", "Dependency upgrade", "Training"],
}


@dataclass
class Plan:
    """What the generator decided; Mondays are dates in Europe/Paris."""

    profiles: dict[str, str] = field(default_factory=dict)  # team slug -> profile
    hot_weeks: dict[str, tuple[date, date]] = field(default_factory=dict)  # firefighting team -> 2 Mondays
    urgent_weeks: dict[str, date] = field(default_factory=dict)  # steady team -> Monday
    focus: dict[str, str] = field(default_factory=dict)  # team slug -> key of its most-logged issue


def monday_of(moment: datetime) -> date:
    local = moment.astimezone(WEEK_TZ).date()
    return local - timedelta(days=local.weekday())


def week_start(monday: date) -> datetime:
    return datetime.combine(monday, time(0), tzinfo=WEEK_TZ).astimezone(UTC)


def complete_weeks(org: Org) -> list[date]:
    """Mondays of the ISO weeks lying entirely inside the org's history."""
    monday = monday_of(org.start)
    out = []
    while week_start(monday + timedelta(weeks=1)) <= org.anchor:
        if week_start(monday) >= org.start:
            out.append(monday)
        monday += timedelta(weeks=1)
    return out


def _overlap(rec: dict[str, Any], lo: datetime, hi: datetime) -> float:
    return max(0.0, (min(rec["_until"], hi) - max(rec["created"], lo)).total_seconds())


def seed_worklogs(org: Org, records: list[dict[str, Any]]) -> Plan:
    """Give ``records`` (seeded issues, oldest first) their worklogs; return the plan."""
    rng = org.rng("jira-worklogs")
    plan = Plan()
    weeks = complete_weeks(org)
    by_team: dict[str, list[dict[str, Any]]] = {t.project_key: [] for t in org.teams}
    for rec in records:
        rec["worklogs"] = []
        rec["_class"] = expected_work_type(rec["issuetype"], rec["labels"])
        # Work on an issue in progress goes on until today (and bumps its `updated`);
        # other issues are worked on between their creation and their last update.
        rec["_until"] = org.anchor - timedelta(minutes=1) if rec["status"] in IN_PROGRESS else rec["updated"]
        by_team[rec["project"]].append(rec)
    hot: dict[str, tuple[datetime, datetime]] = {}
    focus: dict[str, dict[str, Any] | None] = {}
    for i, team in enumerate(org.teams):
        profile = PROFILES[i % len(PROFILES)]
        plan.profiles[team.slug] = profile
        issues = by_team[team.project_key]
        if profile == "firefighting" and len(weeks) >= 2:
            run = [r for r in issues if r["_class"] == "RUN"]
            bounds = {m: (week_start(m), week_start(m + timedelta(weeks=1))) for m in weeks}
            cover = {m: sum(_overlap(r, *bounds[m]) for r in run) for m in weeks}
            pairs = list(zip(weeks, weeks[1:]))
            best = max(reversed(pairs), key=lambda pair: min(cover[m] for m in pair))  # ties: the later pair
            plan.hot_weeks[team.slug] = best
            hot[team.project_key] = (week_start(best[0]), week_start(best[1] + timedelta(weeks=1)))
        if profile == "steady" and weeks:
            urgent = _mark_urgent(issues, weeks)
            if urgent:
                plan.urgent_weeks[team.slug] = urgent
        window = hot.get(team.project_key)
        _choose_tracked(rng, issues, profile, window)
        focus[team.project_key] = _focus(issues, window)
        _keep_fallbacks(issues, profile, window, focus[team.project_key])
    plan.focus = {t.slug: f["key"] for t in org.teams if (f := focus[t.project_key])}
    _simulate_days(org, rng, by_team, plan, hot, focus)
    _log_the_forgotten(org, rng, by_team)
    _number(records)
    for rec in records:
        rec["updated"] = max([rec["updated"], *(w["updated"] for w in rec["worklogs"])])
        del rec["_class"], rec["_tracked"], rec["_until"]
    return plan


def _mark_urgent(issues: list[dict[str, Any]], weeks: list[date]) -> date | None:
    """Make four issues created in the team's busiest complete week Highest priority."""
    created: dict[date, list[dict[str, Any]]] = {}
    for rec in issues:
        created.setdefault(monday_of(rec["created"]), []).append(rec)
    candidates = [m for m in reversed(weeks) if len(created.get(m, [])) >= URGENT_PER_WEEK]
    if not candidates:
        return None
    monday = max(candidates, key=lambda m: len(created[m]))
    chosen = sorted(created[monday], key=lambda r: (r["issuetype"] not in ("Bug", "Support"), r["created"]))
    for rec in chosen[:URGENT_PER_WEEK]:
        rec["priority"] = "Highest"
    return monday


def _choose_tracked(
    rng: Any, issues: list[dict[str, Any]], profile: str, hot: tuple[datetime, datetime] | None
) -> None:
    """Which issues people log time on; the others fall back to points or count."""
    for rec in issues:
        draw = rng.random()
        if rec["_class"] == "RUN" and profile in ("firefighting", "calm"):
            rec["_tracked"] = True
        elif hot and rec["resolutiondate"] and hot[0] <= rec["resolutiondate"] < hot[1]:
            rec["_tracked"] = True  # no BUILD points landing in the firefighting weeks
        else:
            rec["_tracked"] = draw < (0.7 if profile == "calm" and rec["_class"] == "BUILD" else 0.45)


def _focus(issues: list[dict[str, Any]], hot: tuple[datetime, datetime] | None) -> dict[str, Any] | None:
    """The issue the whole team keeps logging on: the RUN issue most alive in the firefighting
    weeks, else the longest-lived BUILD issue still open (resolved ones are left to the fallbacks)."""
    if hot:
        pool = [r for r in issues if r["_class"] == "RUN"]
        best = max(pool, key=lambda r: _overlap(r, *hot), default=None)
    else:
        best = max(
            (r for r in issues if r["_class"] == "BUILD"),
            key=lambda r: (r["resolutiondate"] is None, r["_until"] - r["created"]),
            default=None,
        )
    if best is not None:
        best["_tracked"] = True
    return best


def _keep_fallbacks(
    issues: list[dict[str, Any]],
    profile: str,
    hot: tuple[datetime, datetime] | None,
    focus: dict[str, Any] | None,
) -> None:
    """Keep one resolved issue with points and one without that nobody logs on, so relais'
    fallbacks have work: RUN ones in a firefighting team (the fallback then adds RUN), the
    latest-resolved BUILD ones in a calm team (points land in the thinly logged recent weeks)."""

    def preference(r: dict[str, Any]) -> tuple[Any, ...]:
        if profile == "firefighting":
            return (r["_class"] != "RUN", r["created"])
        if profile == "calm":
            return (r["_class"] == "RUN", r["_class"] == "BUILD", r["created"])
        return (False, r["created"])

    for with_points in (True, False):
        pool = [
            r
            for r in issues
            if r["resolutiondate"] and r is not focus and (r["customfield_10016"] is not None) == with_points
        ]
        if hot:
            pool = [
                r for r in pool if r["_class"] == "RUN" or not hot[0] <= r["resolutiondate"] < hot[1]
            ] or pool
        if pool and all(r["_tracked"] for r in pool):
            min(pool, key=preference)["_tracked"] = False


def _fits(rec: dict[str, Any], start: datetime, seconds: int) -> bool:
    return rec["created"] <= start and start + timedelta(seconds=seconds) <= rec["_until"]


def _simulate_days(
    org: Org,
    rng: Any,
    by_team: dict[str, list[dict[str, Any]]],
    plan: Plan,
    hot: dict[str, tuple[datetime, datetime]],
    focus: dict[str, dict[str, Any] | None],
) -> None:
    day = org.start.astimezone(WEEK_TZ).date()
    last = (org.anchor - timedelta(seconds=1)).astimezone(WEEK_TZ).date()
    waiting = {key: [r for r in issues if r["_tracked"]] for key, issues in by_team.items()}  # oldest first
    alive: dict[str, list[dict[str, Any]]] = {key: [] for key in by_team}
    while day <= last:
        if day.weekday() < 5:
            morning = datetime.combine(day, time(9), tzinfo=WEEK_TZ).astimezone(UTC)
            evening = morning + timedelta(hours=10)
            for team in org.teams:
                key = team.project_key
                born = 0
                while born < len(waiting[key]) and waiting[key][born]["created"] < evening:
                    born += 1
                alive[key] = [r for r in alive[key] + waiting[key][:born] if r["_until"] > morning]
                del waiting[key][:born]
                pools = {cls: [r for r in alive[key] if r["_class"] == cls] for cls in CLASSES}
                window = hot.get(key)
                in_hot = window is not None and window[0] <= morning < window[1]
                mix = MIXES["hot" if in_hot else "calm" if plan.profiles[team.slug] == "calm" else "usual"]
                sessions = 2 if in_hot else (0 if window else 1)  # focus sessions per member
                for member in org.members(team.slug):
                    if rng.random() < 0.1:
                        continue  # a day off, a day of meetings: nothing logged
                    _member_day(org, rng, member.jira_account_id, morning, pools, mix, focus[key], sessions)
        day += timedelta(days=1)


def _pick(rng: Any, pool: list[dict[str, Any]], at: datetime, seconds: int) -> dict[str, Any] | None:
    """A uniformly chosen issue of ``pool`` that fits the entry (rejection sampling, then a scan)."""
    for _ in range(min(6, len(pool))):
        rec = pool[rng.randrange(len(pool))]
        if _fits(rec, at, seconds):
            return rec
    fitting = [r for r in pool if _fits(r, at, seconds)]
    return rng.choice(fitting) if fitting else None


def _member_day(
    org: Org,
    rng: Any,
    author: str,
    morning: datetime,
    pools: dict[str, list[dict[str, Any]]],
    mix: tuple[tuple[float, float, float], str],
    focus: dict[str, Any] | None,
    sessions: int,
) -> None:
    weights, main = mix
    target = rng.randint(16, 28) * QUARTER
    spent = 0
    at = morning
    entry = 0
    while spent < target:
        seconds = min(rng.choice([2, 3, 4, 4, 6, 8, 8, 12]) * QUARTER, target - spent)
        if entry < sessions and focus is not None and _fits(focus, at, seconds):
            rec: dict[str, Any] | None = focus
        else:
            cls = rng.choices(CLASSES, weights)[0]
            # Nothing of that kind to work on: people turn to the team's main kind of work.
            rec = _pick(rng, pools[cls], at, seconds) or (
                _pick(rng, pools[main], at, seconds) if main != cls else None
            )
        if rec is not None:
            _add(org, rng, rec, author, at, seconds)
        spent += seconds
        entry += 1
        at += timedelta(seconds=seconds + rng.choice([0, 0, 1, 2]) * QUARTER)


def _add(org: Org, rng: Any, rec: dict[str, Any], author: str, started: datetime, seconds: int) -> None:
    end = started + timedelta(seconds=seconds)
    created = min(end + timedelta(seconds=rng.randint(0, 8) * QUARTER), rec["_until"])
    created = max(created, started)
    updated = created
    if rng.random() < 0.1:  # corrected later the same day
        updated = min(created + timedelta(seconds=rng.randint(1, 16) * QUARTER), rec["_until"])
    rec["worklogs"].append(
        {
            "id": "",
            "author": author,
            "started": started,
            "seconds": seconds,
            "created": created,
            "updated": max(updated, created),
            "comment": rng.choice(_COMMENTS[rec["_class"]]),
        }
    )


def _log_the_forgotten(org: Org, rng: Any, by_team: dict[str, list[dict[str, Any]]]) -> None:
    """A tracked issue that got no entry gets one short worklog somewhere in its life."""
    for team in org.teams:
        members = org.members(team.slug) or org.people
        for rec in by_team[team.project_key]:
            if not rec["_tracked"] or rec["worklogs"]:
                continue
            life = int((rec["_until"] - rec["created"]).total_seconds())
            seconds = min(rng.choice([2, 4, 6, 8]) * QUARTER, max(QUARTER, life // QUARTER * QUARTER))
            room = max(0, life - seconds) // 60
            started = rec["created"].replace(second=0, microsecond=0) + timedelta(
                minutes=rng.randint(0, room) + 1
            )
            started = min(started, rec["_until"])
            _add(org, rng, rec, rng.choice(members).jira_account_id, started, seconds)


def _number(records: list[dict[str, Any]]) -> None:
    """Ids in the order the worklogs were entered, like Jira's global sequence."""
    every = [(w["created"], int(rec["id"]), w["started"], w) for rec in records for w in rec["worklogs"]]
    every.sort(key=lambda t: t[:3])
    for n, (_, _, _, worklog) in enumerate(every):
        worklog["id"] = str(FIRST_WORKLOG_ID + n)
    for rec in records:
        rec["worklogs"].sort(key=lambda w: int(w["id"]))


def time_spent(seconds: int) -> str:
    """Jira's ``timeSpent`` with the default time tracking (8h days, 5d weeks): ``1d 2h 30m``."""
    minutes = seconds // 60
    parts = []
    for unit, size in (("w", 5 * 8 * 60), ("d", 8 * 60), ("h", 60), ("m", 1)):
        if minutes >= size:
            parts.append(f"{minutes // size}{unit}")
            minutes %= size
    return " ".join(parts) or "0m"
