"""Checks of `briefings:`, `followups:` and their write-backs against the rest of the file.

Like the other cross-section checks, they read the loader's plain data and skip
what is malformed (the model reports that), so one run lists every problem.
"""

from __future__ import annotations

from ._checks import as_mapping, named_section, when_teams
from ._yaml import Document


def check_briefings(doc: Document) -> None:
    data = doc.data
    if not isinstance(data, dict):
        return
    sources = as_mapping(data.get("sources")) or {}
    writeback = as_mapping(data.get("writeback")) or {}
    notion = as_mapping(sources.get("notion"))
    databases = as_mapping(notion.get("databases")) if notion else None
    has_briefings_db = bool(databases and databases.get("briefings"))
    briefings_on = "briefings" in data
    # A key left with only commented lines under it reads as null: still switched on.
    status = "status" in (as_mapping(writeback.get("notion")) or {})
    epic = "epic" in (as_mapping(writeback.get("jira")) or {})
    if status and not briefings_on:
        doc.problem(
            ("writeback", "notion", "status"),
            "the delivery status comes from the `briefings:` section: add it (`briefings: {}` uses the "
            "default property names), or remove writeback.notion.status",
        )
    if epic and not briefings_on:
        doc.problem(
            ("writeback", "jira", "epic"),
            "the epic's health comes from its briefing: add a `briefings:` section, or remove "
            "writeback.jira.epic",
        )
    if briefings_on:
        if databases is not None and not has_briefings_db:
            doc.problem(
                ("briefings",),
                "briefings are read from Notion: add sources.notion.databases.briefings, "
                "or remove the `briefings:` section",
            )
        elif notion is None and "notion" not in sources:
            doc.problem(
                ("briefings",),
                "briefings are read from Notion: add sources.notion with a briefings "
                "database, or remove the `briefings:` section",
            )
        if "jira" not in sources:
            doc.problem(
                ("briefings",),
                "a briefing's progress comes from its epic in Jira: add sources.jira, or "
                "remove the `briefings:` section",
            )
    followups = data.get("followups")
    if "followups" in data:
        _followups(doc, data, sources, as_mapping(followups) or {})


def _followups(doc: Document, data: dict, sources: dict, followups: dict) -> None:
    missing = [tool for tool in ("pagerduty", "jira") if tool not in sources]
    if missing:
        doc.problem(
            ("followups",),
            "follow-ups are filed in Jira for PagerDuty incidents: add "
            + " and ".join(f"sources.{tool}" for tool in missing)
            + ", or remove the `followups:` section",
        )
    teams = named_section(data, "teams")
    when_teams(doc, ("followups", "when"), followups.get("when"), teams)
    for name, team in (teams or {}).items():
        team = as_mapping(team) or {}
        services = (as_mapping(team.get("pagerduty")) or {}).get("services")
        projects = (as_mapping(team.get("jira")) or {}).get("projects")
        if services and not projects:
            doc.problem(
                ("teams", name, "jira"),
                f"team {name!r} owns PagerDuty services, and follow-ups of their incidents are filed in the "
                "team's first Jira project: add teams." + name + ".jira.projects",
            )
