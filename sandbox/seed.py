"""Everything seeded for one organisation, generated in one ordered pass.

Each step is handed what the steps before it made, instead of replaying their draws:

1. the teams' issues, with their worklogs and routing fields (:mod:`sandbox.jira.data`);
2. the FB project's feedback issues, numbered after them (:mod:`sandbox.jira.feedback`);
3. the Notion pages as drawn, briefings then feedback (:mod:`sandbox.notion.data`);
4. the initiatives: the briefings paired with epics keyed after each project's issues and
   numbered after the feedback (:mod:`sandbox.initiatives`);
5. the epics, their children and links (:mod:`sandbox.jira.epics`);
6. the briefings' relais properties, from the initiatives (:mod:`sandbox.notion.briefings`);
7. the PagerDuty incidents and their log entries (:mod:`sandbox.pagerduty.data`).

Every step draws from its own RNG stream (:meth:`sandbox.org.Org.rng`), so a step added at the
end changes nothing before it. :func:`fingerprint` hashes the result: the same (seed, size, UTC
day) gives the same fingerprint.

The fakes' states (:class:`sandbox.jira.state.JiraState` and its Notion and PagerDuty peers)
take the records of a :class:`Seed` over and change them as the tenant changes: hand each
:class:`Seed` to one sandbox only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .initiatives import Plan as Initiatives
from .initiatives import build_plan, project_counts
from .jira.data import FIRST_ISSUE_ID, seed_issues
from .jira.epics import Plan as EpicPlan
from .jira.epics import build_epics
from .jira.feedback import Plan as FeedbackPlan
from .jira.feedback import build_feedback
from .jira.routing import Plan as RoutingPlan
from .jira.worklogs import Plan as WorklogPlan
from .notion.data import add_briefing_values, drawn_pages
from .org import Org, org_summary
from .pagerduty.data import iter_incidents

Record = dict[str, Any]


@dataclass
class Seed:
    """The seeded records of every vendor, and what each step decided."""

    issues: list[Record]  # the teams' issues, oldest first, worklogs included
    worklog_plan: WorklogPlan
    routing_plan: RoutingPlan
    feedback: list[Record]  # the FB project's issues, oldest first
    feedback_plan: FeedbackPlan
    initiatives: Initiatives
    epics: list[Record]
    parents: dict[str, str]  # child issue id -> epic id
    links: list[tuple[str, str, str]]  # (type, source issue id, target issue id)
    epic_plan: EpicPlan
    pages: list[Record]  # Notion pages, briefings first; select values are option names
    incidents: list[Record]  # PagerDuty incidents, each with its "log_entries"


def generate(org: Org) -> Seed:
    """The ordered pass of the module docstring."""
    issues, worklog_plan, routing_plan = seed_issues(org)
    next_id = FIRST_ISSUE_ID + len(issues)  # Jira numbers every project's issues in one sequence
    feedback, feedback_plan = build_feedback(org, next_id)
    next_id += len(feedback)
    pages = list(drawn_pages(org))
    briefings = [p for p in pages if p["source"] == "briefings"]
    initiatives = build_plan(org, project_counts(issues), briefings, next_id)
    epics, parents, links, epic_plan = build_epics(org, issues, initiatives)
    add_briefing_values(org, pages, initiatives)
    incidents = list(iter_incidents(org))
    return Seed(
        issues,
        worklog_plan,
        routing_plan,
        feedback,
        feedback_plan,
        initiatives,
        epics,
        parents,
        links,
        epic_plan,
        pages,
        incidents,
    )


def iter_dump(org: Org) -> Iterator[str]:
    """Every generated record of the org as canonical JSON lines."""

    def line(record: Any) -> str:
        return json.dumps(record, sort_keys=True, default=str)

    seed = generate(org)
    yield line(org_summary(org))
    yield from map(line, seed.issues)
    yield from map(line, seed.pages)
    yield from map(line, seed.incidents)
    yield from map(line, seed.feedback)
    yield from map(line, [*seed.epics, seed.parents, *seed.links])


def fingerprint(org: Org) -> str:
    """sha256 of :func:`iter_dump`: equal for equal (seed, size, day)."""
    digest = hashlib.sha256()
    for line in iter_dump(org):
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
