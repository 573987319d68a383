"""The seeded values of relais' routing fields: Product Manager, Team, Briefing link.

The fields (:mod:`sandbox.jira.fields`, :mod:`sandbox.jira.families`):

- ``customfield_10060`` "Product Manager": a single user picker. The value is a
  user as the spec's ``User`` (``accountId``, ``displayName``, ``active``…); a
  write is ``{"accountId": …}`` (or ``null``) and must name a user of the org.
- ``customfield_10070`` "Team": a single select whose options are the org's team
  keys (``payments``, ``core``, ``support`` in the demo), option ids ``10200 + i``.
- ``customfield_10080`` "Briefing link": a URL field (a string, ``http(s)://``).

Seeded values (:func:`seed_routing`), set on existing issues only (the demo
keeps its 60 issues and every value it had): every issue carries its project
team's key in Team, except the support team's first five RUN issues (oldest
first), left empty for ``route.maintenance``, and the sixth, whose Team a
person set after creation (a changelog entry by that person: ``Plan``). No
issue has a Product Manager or a Briefing link yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..org import Org
from ..timeutil import floor_ms
from . import options as jo
from .families import routing_change_item
from .fields import BRIEFING_LINK, PM, TEAM, expected_work_type, team_options

UNOWNED = 5  # RUN issues of the support team left without a Team
FIRST_SEEDED_HISTORY = 10400  # below JiraState's runtime history ids (10500…)


@dataclass
class Plan:
    """What :func:`seed_routing` decided (``sb.jira.routing_plan``)."""

    unowned: list[str] = field(default_factory=list)  # keys of RUN issues without a Team
    human_team: str | None = None  # key of the issue whose Team a person set
    human: str | None = None  # that person's slug
    human_value: str | None = None  # the team key they chose


def plan_routing(org: Org, records: list[dict[str, Any]]) -> Plan:
    """Which seeded issues are left without a Team and whose Team a person set."""
    owner = org.teams[min(2, len(org.teams) - 1)]  # demo: Support
    run = [
        r["key"]
        for r in records
        if r["project"] == owner.project_key and expected_work_type(r["issuetype"], r["labels"]) == "RUN"
    ]
    plan = Plan(unowned=run[:UNOWNED])
    if len(run) > UNOWNED:
        members = org.members(owner.slug)
        person = members[-1] if members else org.people[0]  # demo: farid, who triages Support's queue
        plan.human_team, plan.human, plan.human_value = run[UNOWNED], person.slug, owner.slug
    return plan


def seed_routing(org: Org, records: list[dict[str, Any]]) -> Plan:
    """Give every seeded issue the three fields (see the module docstring)."""
    plan = plan_routing(org, records)
    by_project = {t.project_key: oid for oid, t in zip(team_options(org), org.teams)}
    for rec in records:
        rec[PM] = None
        rec[BRIEFING_LINK] = None
        rec[TEAM] = None if rec["key"] in plan.unowned else by_project[rec["project"]]
        if rec["key"] == plan.human_team:
            chosen = jo.option_id(team_options(org), plan.human_value)
            rec["changelog"].append(
                {
                    "id": str(FIRST_SEEDED_HISTORY),
                    "author": org.person(plan.human or "").jira_account_id,
                    "created": floor_ms(rec["created"] + (rec["updated"] - rec["created"]) / 2),
                    "items": [routing_change_item(team_options(org), TEAM, None, chosen)],
                }
            )
            rec[TEAM] = chosen
    return plan
