"""Delivery status of each initiative briefing, from the work itself. Pure functions.

A briefing (Notion) and its epic (Jira) are paired when the briefing's Epic
property names the epic (its key, or a URL holding it), or, when that property
is empty, when the epic's Briefing link holds the briefing's URL. relais fills
the empty side (owned): the epic's key into the briefing, the briefing's URL
into the epic. A value a person wrote is never changed.

For each briefing, with "today" in the configured time zone:

* **progress** — the epic's child issues done, in % of all of them: by story
  points when every child has points, by count otherwise. No epic, or an epic
  without children: no progress.
* **forecast** — today + remaining ÷ pace, in days rounded up. The pace is what
  the team (the epic's team) finished in the last ``throughput_weeks`` weeks
  (whole days: from that weekday N weeks ago to today, so a forecast moves at
  most once a day), per week, in the same unit, shared evenly among the team's epics that still
  have open children. Nothing finished in that time: no forecast.
* **health** — the worst of what applies, each with its reason:
  *Blocked*: an open child (or the epic) "is blocked by" an open issue of
  another team, or a high-urgency incident is open on the team's services;
  *Off track*: the target date has passed with work open;
  *At risk*: the team is in survival mode (its last complete week), the
  forecast is after the target date, there is no forecast while work is open,
  no epic, or an epic with no children;
  *On track* otherwise — and always once every child is done.
* **open incidents** — incidents open on the team's services, any urgency.
* **dependencies** — "N of M validated": M teams in *Depends on*, N of them
  also in *Validated by* (the team ticks its own name once it has discussed
  it). **Undeclared**: teams whose issues are linked (any link type) from the
  epic or its children, that *Depends on* does not list.
* **priority score** — impact ÷ (effort × (1 + dependencies)), declared and
  undeclared teams counted once each; ``security_score`` for a briefing marked
  security-critical. Shown, never used to reorder anything.
* **last synced** — now, written only together with another change.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sync.models import FieldChange, WorkItem
from sync.rules import fold

if TYPE_CHECKING:
    from sync.settings import Settings

HEALTHS = ("On track", "At risk", "Off track", "Blocked")  # ascending severity
RULE = "briefing status"
LINK_RULE = "briefing ↔ epic link"
ISSUE_KEY = re.compile(r"\b([A-Z][A-Z0-9_]+-\d+)\b")
NOTION_ID = re.compile(r"([0-9a-f]{32})(?:[?#].*)?$")


@dataclass(frozen=True)
class Child:
    key: str
    done: bool
    points: float | None
    links: tuple[tuple[str, str, str, str | None], ...]


@dataclass
class Status:
    """What relais computed for one briefing (also what `relais explain` shows)."""

    epic: str | None
    health: str
    reasons: list[str]
    progress: float | None = None
    forecast: str | None = None
    incidents: int = 0
    dependencies: str = ""
    undeclared: str = ""
    score: float | None = None
    unit: str = "issues"
    done: float = 0
    total: float = 0
    title: str = ""
    team: str | None = None

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def values(self) -> dict[str, Any]:
        return {
            "health": self.health,
            "reason": self.reason,
            "progress": self.progress,
            "forecast": self.forecast,
            "incidents": self.incidents,
            "dependencies": self.dependencies,
            "undeclared": self.undeclared,
            "score": self.score,
        }


def epic_key_in(text: Any) -> str | None:
    """The first issue key in a briefing's Epic value: ``PAY-12`` or ``https://…/browse/PAY-12``."""
    match = ISSUE_KEY.search(str(text or ""))
    return match.group(1) if match else None


def notion_page_id(url: Any) -> str | None:
    """The page id (32 hex digits, no dashes) at the end of a Notion page URL."""
    path = str(url or "").strip().rstrip("/").replace("-", "").lower()
    match = NOTION_ID.search(path)
    return match.group(1) if match else None


@dataclass
class BriefingFacts:
    """What the status needs, gathered while plan streams the stored items (compact: no raw items
    but briefings and epics, which are few)."""

    settings: Any
    now: datetime
    briefings: list[tuple[WorkItem, str | None]] = field(default_factory=list)
    epics: dict[str, tuple[WorkItem, str | None]] = field(default_factory=dict)
    children: dict[str, list[Child]] = field(default_factory=lambda: defaultdict(list))
    issues: dict[str, tuple[str | None, str | None]] = field(
        default_factory=dict
    )  # key -> (team, status cat.)
    finished: dict[str | None, list[float | None]] = field(default_factory=lambda: defaultdict(list))
    open_incidents: dict[str | None, list[WorkItem]] = field(default_factory=lambda: defaultdict(list))
    paces: dict[tuple[str | None, str], float] = field(default_factory=dict)  # filled by _pace

    @cached_property
    def window(self) -> tuple[date, date]:
        """The pace's window, in whole days of the configured zone: from the same weekday
        ``throughput_weeks`` weeks ago to today. By days, so that a forecast moves at most
        once a day, at midnight, not whenever an old resolution leaves a sliding window."""
        today = self.now.astimezone(self.settings.tz).date()
        return today - timedelta(weeks=self.settings.briefings.throughput_weeks), today

    def add(self, item: WorkItem, team: str | None) -> None:
        if item.source == "jira" and item.kind in ("issue", "epic"):
            self.issues[item.key] = (team, item.status_category)
            if item.kind == "epic":
                self.epics[item.key] = (item, team)
            elif item.parent:
                self.children[item.parent].append(
                    Child(item.key, item.status_category == "done", item.points, item.links)
                )
            if item.kind == "issue" and item.status_category == "done" and item.resolved is not None:
                if self.window[0] <= item.resolved.astimezone(self.settings.tz).date() <= self.window[1]:
                    self.finished[team].append(item.points)
        elif item.source == "notion" and item.kind == "briefing":
            self.briefings.append((item, team))
        elif item.source == "pagerduty" and item.status_category != "done":
            self.open_incidents[team].append(item)


# -- pairing ---------------------------------------------------------------------
def pair(facts: BriefingFacts) -> dict[str, tuple[str | None, str]]:
    """Briefing id → (epic key or None, how: named | linked | none). The briefing's own
    Epic value wins; an epic whose Briefing link names a briefing with an empty Epic
    pairs with it (the lowest key, if several do)."""
    by_page: dict[str, list[str]] = defaultdict(list)
    for key, (epic, _) in sorted(facts.epics.items()):
        page = notion_page_id(epic.owned.get("briefing_link"))
        if page:
            by_page[page].append(key)
    out: dict[str, tuple[str | None, str]] = {}
    for item, _ in facts.briefings:
        named = epic_key_in(item.inputs.get("epic") or item.owned.get("epic"))
        if named:
            out[item.id] = (named, "named")
        elif by_page.get(item.id.replace("-", "").lower()):
            out[item.id] = (by_page[item.id.replace("-", "").lower()][0], "linked")
        else:
            out[item.id] = (None, "none")
    return out


# -- the status of one briefing ----------------------------------------------------------
def _team_names(settings: Settings, team: str) -> set[str]:
    cfg = settings.teams.get(team)
    display = cfg.notion.team if cfg is not None and cfg.notion and cfg.notion.team else None
    return {fold(team)} | ({fold(display)} if display else set())


def _team_of_key(facts: BriefingFacts, key: str) -> tuple[str | None, str | None, bool]:
    """(team, status category, known): from the store, or from the key's project."""
    if key in facts.issues:
        team, status = facts.issues[key]
        return team, status, True
    project = key.rsplit("-", 1)[0]
    team = next(
        (name for name, t in facts.settings.teams.items() if project in (t.jira.projects or [])), None
    )
    return team, None, False


def _pace(facts: BriefingFacts, team: str | None, unit: str) -> float:
    """Per week, for one epic: the team's finished work ÷ weeks ÷ its epics with open children.
    The same for all of a team's epics: computed once per team and unit (facts no longer
    change once the status is being planned)."""
    paces = facts.paces
    if (team, unit) not in paces:
        finished = facts.finished.get(team, [])
        amount = sum(p or 0 for p in finished) if unit == "points" else len(finished)
        active = sum(
            1
            for key, (_, t) in facts.epics.items()
            if t == team and any(not c.done for c in facts.children.get(key, ()))
        )
        paces[(team, unit)] = amount / facts.settings.briefings.throughput_weeks / max(active, 1)
    return paces[(team, unit)]


def _dependencies(
    facts: BriefingFacts, item: WorkItem, team: str | None, linked: list[tuple[str, str]]
) -> tuple[str, str, int]:
    """("N of M validated (waiting for …)", undeclared text, number of dependencies)."""
    declared = [str(v) for v in item.inputs.get("depends_on") or ()]
    validated = {fold(str(v)) for v in item.inputs.get("validated_by") or ()}
    waiting = [d for d in declared if fold(d) not in validated]
    if declared:
        text = f"{len(declared) - len(waiting)} of {len(declared)} validated"
        text += f" (waiting for {', '.join(waiting)})" if waiting else ""
    else:
        text = "none declared"
    folded = {fold(d) for d in declared}
    undeclared: dict[str, list[str]] = {}
    for here, there in linked:
        other, _, _ = _team_of_key(facts, there)
        if other is None or other == team or _team_names(facts.settings, other) & folded:
            continue
        undeclared.setdefault(other, [])
        if f"{here} → {there}" not in undeclared[other]:
            undeclared[other].append(f"{here} → {there}")
    parts = [f"{t} ({', '.join(sorted(links))})" for t, links in sorted(undeclared.items())]
    return text, "; ".join(parts), len(declared) + len(undeclared)


def _score(settings: Settings, item: WorkItem, dependencies: int) -> float | None:
    assert settings.briefings is not None, "briefings are scored only when the config has a briefings section"
    if item.inputs.get("security"):
        return settings.briefings.security_score
    impact, effort = item.inputs.get("impact"), item.inputs.get("effort")
    if not isinstance(impact, (int, float)) or not isinstance(effort, (int, float)) or effort <= 0:
        return None
    return round(impact / (effort * (1 + dependencies)), 2)


def briefing_status(
    facts: BriefingFacts,
    item: WorkItem,
    team: str | None,
    epic_key: str | None,
    modes: dict[str, tuple[str, str]],
) -> Status:
    """The status of one briefing. ``modes``: team → (mode, ISO week) of its last complete week."""
    settings = facts.settings
    today = facts.now.astimezone(settings.tz).date()
    children = facts.children.get(epic_key, []) if epic_key else []
    unit = "points" if children and all(c.points is not None for c in children) else "issues"
    total = sum(c.points or 0 for c in children) if unit == "points" else len(children)
    done = (
        sum(c.points or 0 for c in children if c.done) if unit == "points" else sum(c.done for c in children)
    )
    remaining = total - done
    status = Status(epic_key, "On track", [], unit=unit, done=done, total=total, title=item.title, team=team)
    status.progress = round(100 * done / total, 1) if total else None
    status.incidents = len(facts.open_incidents.get(team, [])) if team else 0
    target = _date(item.inputs.get("target_date"))
    epic_team = facts.epics[epic_key][1] if epic_key in facts.epics else team
    pace = _pace(facts, epic_team, unit) if children else 0.0
    if children and remaining > 0 and pace > 0:
        status.forecast = (today + timedelta(days=math.ceil(remaining / pace * 7))).isoformat()
    linked: list[tuple[str, str]] = []
    if epic_key is not None and epic_key in facts.epics:
        linked += [(epic_key, link[2]) for link in facts.epics[epic_key][0].links]
    linked += [(c.key, link[2]) for c in children for link in c.links]
    status.dependencies, status.undeclared, n_deps = _dependencies(facts, item, team, linked)
    status.score = _score(settings, item, n_deps)
    if children and remaining == 0:
        status.reasons.append(f"done: all {_amount(total, unit)}")
        return status
    found: dict[str, list[str]] = defaultdict(list)
    for here, links in _open_links(facts, epic_key, children):
        for _, phrase, there, snapshot in links:
            other, category, known = _team_of_key(facts, there)
            if phrase != "is blocked by" or other == team or (category if known else snapshot) == "done":
                continue
            found["Blocked"].append(f"{here} is blocked by {there}" + (f" ({other})" if other else ""))
    for incident in facts.open_incidents.get(team, []) if team else []:
        if incident.urgency == "high":
            found["Blocked"].append(f"high-urgency incident {incident.key} is open: {incident.title}")
    if target is not None and target < today:
        found["Off track"].append(
            f"the target date {target.isoformat()} has passed with "
            f"{_amount(remaining, unit) if children else 'the work'} open"
        )
    mode = modes.get(epic_team or team or "")
    if mode and mode[0] == "survival":
        found["At risk"].append(f"team {epic_team or team} is in survival mode ({mode[1]})")
    if epic_key is None:
        found["At risk"].append("no epic: name one in the briefing, or link the briefing from its epic")
    elif epic_key not in facts.epics:
        found["At risk"].append(f"{epic_key} is not an epic relais reads")
    elif not children:
        found["At risk"].append(f"{epic_key} has no child issues yet")
    elif status.forecast is None:
        found["At risk"].append(
            f"no issue of the team finished in the last {settings.briefings.throughput_weeks} "
            "weeks: no forecast"
        )
    elif target is not None and today <= target and status.forecast > target.isoformat():
        found["At risk"].append(
            f"the forecast {status.forecast} is after the target date {target.isoformat()}"
        )
    for health in reversed(HEALTHS[1:]):
        if found[health]:
            status.health = status.health if status.health != "On track" else health
            status.reasons += found[health]
    if not status.reasons:
        ahead = f", forecast {status.forecast}" + (f" for a target of {target.isoformat()}" if target else "")
        status.reasons.append(f"{_number(done)} of {_amount(total, unit)} done{ahead}")
    return status


def _open_links(
    facts: BriefingFacts, epic_key: str | None, children: list[Child]
) -> Iterator[tuple[str, Any]]:
    if epic_key in facts.epics:
        epic = facts.epics[epic_key][0]
        if epic.status_category != "done":
            yield epic.key, epic.links
    for c in children:
        if not c.done:
            yield c.key, c.links


def _number(n: float) -> int | float:
    return int(n) if float(n).is_integer() else round(n, 1)


def _amount(n: float, unit: str) -> str:
    value = _number(n)
    if unit == "points":
        return f"{value} points"
    return f"{value} issue" + ("" if value == 1 else "s")


def _date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


# -- the writes ----------------------------------------------------------------------------
@dataclass
class BriefingPlan:
    changes: list[tuple[WorkItem, list[FieldChange]]] = field(default_factory=list)
    statuses: dict[str, Status] = field(default_factory=dict)  # briefing id -> status


def _diff(item: WorkItem, desired: dict[str, Any], rule: str) -> list[FieldChange]:
    return [
        FieldChange(item.source, item.id, item.key, k, item.owned.get(k), v, rule)
        for k, v in desired.items()
        if k in item.owned and item.owned.get(k) != v
    ]


def plan_briefing_status(facts: BriefingFacts, modes: dict[str, tuple[str, str]]) -> BriefingPlan:
    """Owned values on each briefing and its epic: the status, and the empty side of the link."""
    out = BriefingPlan()
    epic_changes: dict[str, list[FieldChange]] = {}
    pairs = pair(facts)
    for item, team in sorted(facts.briefings, key=lambda b: (b[0].created, b[0].id)):
        epic_key, how = pairs[item.id]
        status = briefing_status(facts, item, team, epic_key, modes)
        out.statuses[item.id] = status
        desired = status.values()
        if how == "linked" and not item.owned.get("epic"):
            desired["epic"] = epic_key
        changes = _diff(item, {k: v for k, v in desired.items() if k != "epic"}, RULE)
        changes += _diff(item, {"epic": desired["epic"]} if "epic" in desired else {}, LINK_RULE)
        if changes:
            out.changes.append((item, changes))
        if epic_key in facts.epics and epic_key not in epic_changes:  # the oldest briefing naming it speaks
            epic = facts.epics[epic_key][0]
            epic_changes[epic_key] = _diff(epic, {"health": status.health}, f"{RULE} ({item.key})")
            if how == "named" and not epic.owned.get("briefing_link") and item.url:
                epic_changes[epic_key] += _diff(epic, {"briefing_link": item.url}, LINK_RULE)
    for key, changes in sorted(epic_changes.items()):
        if changes:
            out.changes.append((facts.epics[key][0], changes))
    return out
