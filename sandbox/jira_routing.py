"""Jira custom fields for relais' routing: Product Manager, Team, Briefing link.

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
from urllib.parse import urlsplit

from . import jira_options as jo
from .jira_errors import JQLError
from .org import Org
from .timeutil import floor_ms

PM = "customfield_10060"
TEAM = "customfield_10070"
BRIEFING_LINK = "customfield_10080"
ROUTING_FIELDS = (PM, TEAM, BRIEFING_LINK)
FIRST_TEAM_OPTION = 10200
UNOWNED = 5  # RUN issues of the support team left without a Team
FIRST_SEEDED_HISTORY = 10400  # below JiraState's runtime history ids (10500…)
_PLUGIN = "com.atlassian.jira.plugin.system.customfieldtypes:"


def _custom(fid: str, name: str, searcher: str, schema: dict[str, Any]) -> dict[str, Any]:
    number = fid.rsplit("_", 1)[1]
    return {
        "id": fid,
        "key": fid,
        "name": name,
        "custom": True,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": [f"cf[{number}]", name, f"{name}[{searcher}]"],
        "schema": {**schema, "customId": int(number)},
    }


FIELDS: list[dict[str, Any]] = [
    _custom(
        PM, "Product Manager", "User Picker (single user)", {"type": "user", "custom": _PLUGIN + "userpicker"}
    ),
    _custom(TEAM, "Team", "Dropdown", {"type": "option", "custom": _PLUGIN + "select"}),
    _custom(BRIEFING_LINK, "Briefing link", "URL Field", {"type": "string", "custom": _PLUGIN + "url"}),
]


@dataclass
class Plan:
    """What :func:`seed_routing` decided (``sb.jira.routing_plan``)."""

    unowned: list[str] = field(default_factory=list)  # keys of RUN issues without a Team
    human_team: str | None = None  # key of the issue whose Team a person set
    human: str | None = None  # that person's slug
    human_value: str | None = None  # the team key they chose


def team_options(org: Org) -> dict[str, str]:
    """Option id → team key."""
    return {str(FIRST_TEAM_OPTION + i): t.slug for i, t in enumerate(org.teams)}


def option_id(org: Org, value: Any) -> str | None:
    """The Team option a write names (``{"id"}`` or ``{"value"}``, exact like Jira) or a JQL
    value names (a string: value or id, any case), or None."""
    return jo.option_id(team_options(org), value)


def plan_routing(org: Org, records: list[dict[str, Any]]) -> Plan:
    """Which seeded issues are left without a Team and whose Team a person set."""
    from .jira_data import expected_work_type

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
            chosen = option_id(org, plan.human_value)
            rec["changelog"].append(
                {
                    "id": str(FIRST_SEEDED_HISTORY),
                    "author": org.person(plan.human or "").jira_account_id,
                    "created": floor_ms(rec["created"] + (rec["updated"] - rec["created"]) / 2),
                    "items": [change_item(org, TEAM, None, chosen)],
                }
            )
            rec[TEAM] = chosen
    return plan


# --------------------------------------------------------------------- reads
def render(renderer: Any, org: Org, rec: dict[str, Any], fid: str) -> Any:
    value = rec.get(fid)
    if value is None:
        return None
    if fid == PM:
        return renderer.user(value)
    if fid == TEAM:
        return jo.render(renderer.base, team_options(org), value)
    return value


# --------------------------------------------------------------------- writes
def set_value(state: Any, rec: dict[str, Any], fid: str, value: Any, human: bool) -> str | None:
    """Validate and store one write; the message Jira answers with, or None."""
    if fid == PM:
        if value is None:
            rec[fid] = None
            return None
        if isinstance(value, str) and human:
            value = {"accountId": value}
        if not isinstance(value, dict) or value.get("accountId") not in state.renderer().users:
            return "Specified user does not exist or you do not have required permissions"
        rec[fid] = str(value["accountId"])
        return None
    if fid == TEAM:
        return jo.set_option(rec, fid, team_options(state.org), value, human)
    # BRIEFING_LINK
    if value is None or value == "":
        rec[fid] = None
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 255:
        return "Not a valid URL"
    rec[fid] = value
    return None


def change_item(
    org: Org, fid: str, old: Any, new: Any, users: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The changelog item Jira records for a change of one of these fields."""
    name = next(f["name"] for f in FIELDS if f["id"] == fid)
    if fid == TEAM:
        return jo.change_item(fid, name, team_options(org), old, new)
    item = {
        "field": name,
        "fieldtype": "custom",
        "fieldId": fid,
        "from": None,
        "fromString": None,
        "to": None,
        "toString": None,
    }
    if fid == PM:
        users = users or {}
        item.update(
            {
                "from": old,
                "fromString": users[old].name if old in users else None,
                "to": new,
                "toString": users[new].name if new in users else None,
            }
        )
    else:
        item.update({"fromString": old, "toString": new})
    return item


# --------------------------------------------------------------------- JQL
def jql_values(org: Org, fid: str, name: str, values: list[str | None], users: Any) -> list[Any]:
    """Clause values as stored: option ids for Team, account ids for Product Manager."""
    if fid == TEAM:
        return jo.jql_values(team_options(org), name, values)
    out: list[Any] = []
    for raw in values:
        if raw is None or fid == BRIEFING_LINK:
            out.append(raw)
        else:
            if raw not in users:
                raise JQLError(f"The value '{raw}' does not exist for the field '{name}'.")
            out.append(raw)
    return out
