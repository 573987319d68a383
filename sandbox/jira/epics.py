"""Epics for relais' initiative briefings: what the Epic type and the Health field mean, and
the seeded epics (the catalogue is :mod:`sandbox.jira.fields`, parent writes :mod:`sandbox.jira.write`).

- Issue type ``Epic`` (id 10000, ``hierarchyLevel`` 1; every other type is level 0). A level-0
  issue may have an epic as ``fields.parent`` (Jira Cloud's parent, which replaced Epic Link):
  ``{"id", "key", "self", "fields": {summary, status, priority, issuetype}}`` with the epic's
  current values. An issue without a parent has no ``parent`` key in ``fields`` at all.
  ``parent`` is written ``{"key"}``/``{"id"}`` (or null); a parent that is not one level up is
  Jira's "Given parent work item does not belong to appropriate hierarchy."; the change is the
  ``IssueParentAssociation`` changelog item (from/to ids, fromString/toString keys).
- ``customfield_10094`` "Health": a single select (On track, At risk, Off track, Blocked; options
  10330…), on the teams' projects like Work type (an FB issue reads null and refuses it). relais
  writes it on epics; it is empty everywhere when seeded.

Seeded (:func:`build_epics`), after everything else and from streams of their own, so the teams'
issues keep every value they had: the epics :mod:`sandbox.initiatives` plans (summary = their
briefing's feature, Team = their project's team, Briefing link = the page URL when the pairing
is carried by the epic), then (``jira-epic-children``) a share of each team's BUILD/IMPROVE
issues as their children, set as if at creation (no changelog, ``updated`` unchanged), then
(``jira-links``) the links each role needs. An epic's status follows its children: none or all
To Do → To Do, all Done → Done (resolved after the last of them), else In Progress.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ..initiatives import Plan as Initiatives
from ..org import FEATURES, Org
from ..timeutil import floor_ms
from .fields import (
    BRIEFING_LINK,
    EPIC,
    PM,
    STORY_POINTS,
    TEAM,
    WORK_TYPE,
    expected_work_type,
    team_options,
)
from .links import FIRST_LINK_ID

# An epic without a briefing is named after one of the first eight features (seeded so).
EPIC_FEATURES = FEATURES[:8]


@dataclass
class Seeded:
    """One seeded epic and what its role put around it (``sb.jira.epic_plan``)."""

    epic: str  # key
    role: str | None
    children: list[str] = field(default_factory=list)  # keys, oldest first
    child: str | None = None  # the child carrying the role's link
    other: str | None = None  # the other team's issue it is linked to
    link: str | None = None  # that link's id


@dataclass
class Plan:
    initiatives: Initiatives
    epics: dict[str, Seeded]  # epic key -> what was seeded

    def role(self, name: str) -> Seeded:
        """The epic seeded for a role of :data:`sandbox.initiatives.ROLES` (KeyError if none)."""
        return self.epics[self.initiatives.role(name).epic or ""]


# --------------------------------------------------------------------- seeding
def build_epics(
    org: Org, records: list[dict[str, Any]], initiatives: Initiatives
) -> tuple[list[dict[str, Any]], dict[str, str], list[tuple[str, str, str]], Plan]:
    """(epic records, child id -> epic id, links as (type, source id, target id), plan)."""
    team_option = dict(zip((t.slug for t in org.teams), team_options(org)))
    plan = Plan(initiatives, {})
    by_team: dict[str, list[dict[str, Any]]] = {}
    project_team = {t.project_key: t.slug for t in org.teams}
    for rec in records:
        if rec["project"] in project_team:
            by_team.setdefault(project_team[rec["project"]], []).append(rec)
    # Children first: an epic's dates and status follow them.
    rng = org.rng("jira-epic-children")
    children: dict[str, list[dict[str, Any]]] = {}
    for team in org.teams:
        pool = [
            r for r in by_team.get(team.slug, []) if expected_work_type(r["issuetype"], r["labels"]) != "RUN"
        ]
        rng.shuffle(pool)
        text = {r["id"]: r["summary"].lower() for r in pool}
        naming: dict[str, list[dict[str, Any]]] = {}  # feature -> pool issues whose summary names it
        taken: set[str] = set()
        for epic in (e for e in initiatives.epics if e.team == team.slug):
            initiative = initiatives.initiatives[epic.briefing] if epic.briefing is not None else None
            role = initiative.role if initiative else None
            feature = (initiative.feature if initiative else "").lower()
            if feature not in naming:
                naming[feature] = [r for r in pool if feature and feature in text[r["id"]]]

            def ranked() -> Iterator[dict[str, Any]]:  # the issues naming the feature first, shuffled order
                return (r for r in itertools.chain(naming[feature], pool) if r["id"] not in taken)  # noqa: B023 - used in this pass

            if role == "empty":
                picked: list[dict[str, Any]] = []
            elif role == "done":
                picked = _take(ranked(), rng.randint(2, 3), lambda r: r["status"] == "Done")
            else:
                n = rng.randint(2, 4)
                opened = _take(ranked(), 1, lambda r: r["status"] != "Done") if role else []
                picked = opened + _take(ranked(), n - len(opened), lambda r: r not in opened)  # noqa: B023
            taken.update(r["id"] for r in picked)
            children[epic.key] = picked  # in pick order: the first open one carries a role's link
    rng = org.rng("jira-epics")
    epics: list[dict[str, Any]] = []
    parents: dict[str, str] = {}
    for epic in initiatives.epics:
        team = org.team(epic.team)
        initiative = initiatives.initiatives[epic.briefing] if epic.briefing is not None else None
        summary = initiative.feature if initiative else rng.choice(EPIC_FEATURES)
        kids = children[epic.key]
        pm = org.person(team.pm).jira_account_id
        if kids:
            created = max(org.start, min(k["created"] for k in kids) - timedelta(hours=rng.uniform(2, 72)))
        else:
            created = org.start + (org.anchor - org.start - timedelta(days=7)) * rng.random()
        created = floor_ms(created)
        statuses = {k["status"] for k in kids}
        status = "To Do" if statuses <= {"To Do"} else "Done" if statuses == {"Done"} else "In Progress"
        resolved = None
        updated = floor_ms(created + (org.anchor - created) * 0.9 * rng.random())
        if status == "Done":
            last = max(k["resolutiondate"] for k in kids)
            resolved = updated = floor_ms(
                min(last + timedelta(hours=rng.uniform(1, 24)), org.anchor - timedelta(minutes=5))
            )
        epics.append(
            {
                "id": epic.id,
                "key": epic.key,
                "project": team.project_key,
                "issuetype": EPIC,
                "summary": summary,
                "description": f"Everything needed to ship {summary.lower()}.",
                "status": status,
                "priority": rng.choice(["High", "Medium"]),
                "labels": [],
                "components": [],
                "assignee": pm,
                "reporter": pm,
                "created": created,
                "updated": updated,
                "resolutiondate": resolved,
                STORY_POINTS: None,
                WORK_TYPE: None,
                PM: None,
                TEAM: team_option[team.slug],
                BRIEFING_LINK: initiative.url if initiative and initiative.via == "briefing link" else None,
                "changelog": [],
                "worklogs": [],
            }
        )
        for kid in kids:
            parents[kid["id"]] = epic.id
        plan.epics[epic.key] = Seeded(
            epic.key,
            initiative.role if initiative else None,
            [k["key"] for k in sorted(kids, key=lambda r: int(r["id"]))],
        )
    links = _seed_links(org, by_team, children, initiatives, plan)
    return epics, parents, links, plan


def _take(candidates: Iterator[dict[str, Any]], n: int, want: Any) -> list[dict[str, Any]]:
    """The first ``n`` distinct candidates ``want`` accepts."""
    out: list[dict[str, Any]] = []
    for r in candidates:
        if len(out) == n:
            break
        if want(r) and r not in out:
            out.append(r)
    return out


def _seed_links(
    org: Org,
    by_team: dict[str, list[dict[str, Any]]],
    children: dict[str, list[dict[str, Any]]],
    initiatives: Initiatives,
    plan: Plan,
) -> list[tuple[str, str, str]]:
    """The links each role needs (:mod:`sandbox.initiatives`); a plain epic's first two children
    relate to each other (same team: not a dependency)."""
    rng = org.rng("jira-links")
    links: list[tuple[str, str, str]] = []
    used: set[str] = set()
    for epic in initiatives.epics:
        initiative = initiatives.initiatives[epic.briefing] if epic.briefing is not None else None
        kids, seeded = children[epic.key], plan.epics[epic.key]
        role = initiative.role if initiative else None
        if role in ("blocked", "validated", "undeclared") and kids and initiative and initiative.partner:
            want_done = role == "validated"
            others = [
                r
                for r in by_team.get(initiative.partner, [])
                if (r["status"] == "Done") == want_done and r["key"] not in used
            ]
            if not others:
                continue
            other = rng.choice(others)
            used.add(other["key"])
            child = next((k for k in kids if k["status"] != "Done"), kids[0])
            links.append(("Blocks", other["id"], child["id"]))
            seeded.child, seeded.other = child["key"], other["key"]
            seeded.link = str(FIRST_LINK_ID + len(links) - 1)  # the state adds them in this order
        elif role is None and len(kids) >= 2:
            links.append(("Relates", kids[0]["id"], kids[1]["id"]))
    return links
