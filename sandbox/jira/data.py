"""Jira data: the teams' seeded issues (the field catalogue is :mod:`sandbox.jira.fields`).

Issues are stored as compact records (plain values, datetimes, account ids)
and rendered to the Cloud v3 ``IssueBean`` shape on every read
(:mod:`sandbox.jira.render`), so a 50,000-issue tenant stays small in memory
and every read sees current state. The catalogue follows
``jira-cloud-platform-openapi.json`` (FieldDetails).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from ..org import CUSTOMERS, Org
from ..timeutil import floor_ms
from .fields import PRIORITIES, STATUSES, STORY_POINTS, WORK_TYPE, WORK_TYPE_IDS, expected_work_type
from .routing import Plan as RoutingPlan
from .routing import seed_routing
from .worklogs import Plan as WorklogPlan
from .worklogs import seed_worklogs

FIRST_ISSUE_ID = 10001  # the teams' issues first, then the FB project's, then the epics

_THINGS = [
    "refund",
    "invoice export",
    "login",
    "webhook retry",
    "search filter",
    "password reset",
    "card payment",
    "ticket assignment",
    "CSV import",
    "API pagination",
]
_CONDITIONS = [
    "the amount has three decimals",
    "the session expires",
    "two tabs are open",
    "the locale is fr-FR",
    "the payload exceeds 1 MB",
    "the customer has no email",
]
_ACTIONS = [
    "download invoices",
    "reset 2FA",
    "export their data",
    "add a second admin",
    "change billing currency",
]
_FEATURES = [
    "instant refunds",
    "multi-currency invoices",
    "SSO for enterprise",
    "audit log export",
    "self-serve plan upgrades",
    "saved searches",
    "usage-based billing",
    "status page widget",
]
_TASKS = {
    "tech-debt": ["Remove legacy {x} client", "Split the {x} god module", "Delete dead {x} feature flags"],
    "tooling": ["Automate {x} release notes", "Add a CLI to replay {x} events", "Lint {x} migrations in CI"],
    "maintenance": ["Upgrade {x} to Python 3.12", "Rotate {x} certificates", "Patch {x} base image CVEs"],
}


def seed_issues(org: Org) -> tuple[list[dict[str, Any]], WorklogPlan, RoutingPlan]:
    """The teams' seeded issues, oldest first, with their worklogs and routing fields, and what
    the worklogs (:class:`sandbox.jira.worklogs.Plan`) and the routing (:class:`sandbox.jira.routing.Plan`)
    decided."""
    records = list(_seeded_issues(org))
    worklogs = seed_worklogs(org, records)
    routing = seed_routing(
        org, records
    )  # after the worklogs: a person's edit lies before the final `updated`
    return records, worklogs, routing


def build_issues(org: Org) -> tuple[list[dict[str, Any]], WorklogPlan]:
    """Seeded issues, oldest first, with their worklogs, and the worklog plan."""
    records, worklogs, _ = seed_issues(org)
    return records, worklogs


def _seeded_issues(org: Org) -> Iterator[dict[str, Any]]:
    rng = org.rng("jira")
    n = org.counts["issues"]
    span = (org.anchor - org.start).total_seconds() - 3600
    counters: dict[str, int] = {}
    created_offsets = sorted(rng.random() * span for _ in range(n))
    for i in range(n):
        team = org.teams[rng.randrange(len(org.teams))]
        members = org.members(team.slug) or org.people
        counters[team.project_key] = counters.get(team.project_key, 0) + 1
        issuetype = rng.choices(["Bug", "Support", "Story", "Task"], [25, 15, 35, 25])[0]
        component = rng.choice(team.components)
        labels: list[str] = []
        if issuetype == "Bug":
            summary = f"{component}: {rng.choice(_THINGS)} fails when {rng.choice(_CONDITIONS)}"
            if rng.random() < 0.3:
                labels.append("customer")
        elif issuetype == "Support":
            summary = f"{rng.choice(CUSTOMERS)} cannot {rng.choice(_ACTIONS)}"
        elif issuetype == "Story":
            summary = f"{rng.choice(['Ship', 'Add', 'Launch', 'Build'])} {rng.choice(_FEATURES)}"
            labels.append("roadmap")
        else:
            label = rng.choice(["tech-debt", "tooling", "maintenance", "tech-debt"])
            labels.append(label)
            summary = rng.choice(_TASKS[label]).format(x=component)
        created = floor_ms(org.start + timedelta(seconds=created_offsets[i]))
        life = (org.anchor - created).total_seconds()
        updated = floor_ms(created + timedelta(seconds=rng.random() * life * 0.9))
        status = rng.choices(list(STATUSES), [20, 25, 10, 45])[0]
        resolved = None
        if status == "Done":
            resolved = updated
        points = None
        if issuetype in ("Story", "Task") or rng.random() < 0.3:
            points = float(rng.choice([1, 2, 3, 5, 8, 13])) if rng.random() < 0.85 else None
        work_type = None
        if i % 12 == 3:
            work_type = WORK_TYPE_IDS[expected_work_type(issuetype, labels)]
        elif i == 7:  # one deliberately wrong value so a demo has a correction to make
            right = expected_work_type(issuetype, labels)
            work_type = WORK_TYPE_IDS["BUILD" if right != "BUILD" else "RUN"]
        yield {
            "id": str(FIRST_ISSUE_ID + i),
            "key": f"{team.project_key}-{counters[team.project_key]}",
            "project": team.project_key,
            "issuetype": issuetype,
            "summary": summary,
            "description": f"{summary}.\n\nReported against {component}." if rng.random() < 0.8 else None,
            "status": status,
            "priority": rng.choices(list(PRIORITIES), [5, 20, 45, 20, 10])[0],
            "labels": labels,
            "components": [component],
            "assignee": rng.choice(members).jira_account_id if rng.random() < 0.9 else None,
            "reporter": rng.choice(org.people).jira_account_id,
            "created": created,
            "updated": updated,
            "resolutiondate": resolved,
            STORY_POINTS: points,
            WORK_TYPE: work_type,
            "changelog": [],
        }
