"""Checks of `route:` against the rest of the file, and of the routing write-backs.

Like ``_checks``, they read the plain data from the YAML loader, so they still
run when another part of the file is malformed, and skip what they cannot trust.
"""

from __future__ import annotations

from typing import Any

from ._checks import (
    Path_,
    as_mapping,
    missing_database,
    misspelt_final,
    named_section,
    rule_names,
    when_teams,
)
from ._route import LISTS, fallback_problems
from ._sources import JiraSource, NotionDatabases, Sources
from ._types import closest, quoted, suggest
from ._yaml import Document

TARGET_KEYS = ("to", "when_survival", "fallback")


def check_routes(doc: Document) -> None:
    data = doc.data
    if not isinstance(data, dict):
        return
    route = as_mapping(data.get("route"))
    if route is not None:
        teams = named_section(data, "teams")
        people = named_section(data, "people")
        for section in LISTS:
            entries = route.get(section)
            if isinstance(entries, list):
                _route_list(doc, data, section, entries, teams, people)
        _route_sources(doc, data, route)
    _routing_writeback(doc, data, route or {})


def _route_list(doc: Document, data: dict, section: str, entries: list, teams: Any, people: Any) -> None:
    path: Path_ = ("route", section)
    for index, message, first in fallback_problems(section, entries):
        if index is None and misspelt_final(entries, "fallback"):
            continue  # "unknown key 'fallbak' (did you mean 'fallback'?)" says it better
        if first is not None:
            message += f" (first at line {doc.line_of(path + (first,))})"
        doc.problem(path if index is None else path + (index,), message)
    rule_names(doc, path, entries)
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        when_teams(doc, path + (index, "when"), entry.get("when"), teams)
        for key in TARGET_KEYS:
            target = entry.get(key)
            if isinstance(target, str) and isinstance(teams, dict) and isinstance(people, dict):
                problem = _target_problem(section, target, teams, people)
                if problem:
                    doc.problem(path + (index, key), problem)
        if entry.get("when_survival") is not None and "balance" not in data:
            doc.problem(
                path + (index, "when_survival"),
                "when_survival applies while the target team is in survival mode, which the balance computes: "
                "add a `balance:` section (`balance: {}` uses the defaults), or remove when_survival",
            )


def _target_problem(section: str, target: str, teams: dict, people: dict) -> str | None:
    """Why ``target`` cannot receive what ``route.<section>`` routes, or None."""
    is_team, is_person = target in teams, target in people
    if section == "maintenance":
        if is_team:
            return None
        if is_person:
            return (
                f"{quoted(target)} is a person: maintenance routes to a team (relais sets the ticket's team, "
                f"so that the balance counts it); teams has: {_listing(teams)}"
            )
        return f"unknown target {quoted(target)}: not a team{_hint(target, teams)}"
    if is_team and is_person:
        return (
            f"ambiguous target {quoted(target)}: both a team and a person; "
            "rename one of them so that every route says whom it means"
        )
    if is_team or is_person:
        return None
    return f"unknown target {quoted(target)}: not a team or a person{_hint(target, [*teams, *people], teams, people)}"


def _hint(target: str, names: Any, teams: Any = None, people: Any = None) -> str:
    hint = suggest(target, names)
    if hint:
        return hint
    if people is None:
        return f"; teams has: {_listing(names)}"
    return f"; teams has: {_listing(teams)}; people has: {_listing(people)}"


def _listing(names: Any) -> str:
    return ", ".join(names) or "none"


def _route_sources(doc: Document, data: dict, route: dict) -> None:
    """Each route list needs something to route: feedback relais reads, Jira tickets."""
    sources = as_mapping(data.get("sources"))
    if sources is None or any(key not in Sources.model_fields for key in sources):
        return  # malformed or misspelt: reported already
    jira = as_mapping(sources.get("jira"))
    notion = as_mapping(sources.get("notion"))
    databases = as_mapping(notion.get("databases")) if notion else None
    if (jira and any(k not in JiraSource.model_fields for k in jira)) or (
        databases and any(k not in NotionDatabases.model_fields for k in databases)
    ):
        return
    if route.get("feedback") is not None:
        reads_feedback = bool(databases and databases.get("feedback")) or bool(
            jira and jira.get("feedback_jql")
        )
        if not reads_feedback:
            doc.problem(
                ("route", "feedback"),
                "route.feedback routes the feedback relais reads, and it reads none: add "
                "sources.notion.databases.feedback or sources.jira.feedback_jql, or remove route.feedback",
            )
    if route.get("maintenance") is not None and jira is None:
        doc.problem(
            ("route", "maintenance"),
            "route.maintenance sets the team of Jira tickets: add sources.jira, or remove route.maintenance",
        )


#: A routing write-back and the route lists that decide what it writes (one of them will do):
#: (vendor, field, what it writes, the lists).
_NEEDS = (
    ("notion", "routing", "the routing written on feedback pages", ("feedback",)),
    ("jira", "pm", "the PM written on feedback issues", ("feedback",)),
    ("jira", "initiative", "the briefing linked on feedback issues", ("feedback",)),
    ("jira", "team", "the team written on tickets", ("maintenance", "feedback")),
)


def _routing_writeback(doc: Document, data: dict, route: dict) -> None:
    """The routing write-backs write what `route` decides, on a database relais reads."""
    writeback = as_mapping(data.get("writeback")) or {}
    notion_wb = as_mapping(writeback.get("notion")) or {}
    if not isinstance(data.get("route"), (dict, type(None))) or _misspelt_list(route):
        return  # the route section's own problem says it
    for vendor, field, what, lists in _NEEDS:
        if (as_mapping(writeback.get(vendor)) or {}).get(field) is not None:
            if all(route.get(section) is None for section in lists):
                needed = " or ".join(f"route.{section}" for section in lists)
                doc.problem(
                    ("writeback", vendor, field),
                    f"{what} comes from {needed}: add {needed}, or remove writeback.{vendor}.{field}",
                )
    routing = as_mapping(notion_wb.get("routing"))
    if routing is not None:
        _routing_database(doc, data, routing)


def _misspelt_list(route: dict) -> bool:
    return any(key not in LISTS and closest(str(key), LISTS) for key in route)


def _routing_database(doc: Document, data: dict, routing: dict) -> None:
    notion = as_mapping((as_mapping(data.get("sources")) or {}).get("notion"))
    databases = as_mapping(notion.get("databases")) if notion else None
    if databases is None:
        return  # no Notion source: _checks says so
    configured = [key for key, value in databases.items() if value is not None]
    database = routing.get("database", "feedback")
    explicit = "database" in routing
    path: Path_ = ("writeback", "notion", "routing") + (("database",) if explicit else ())
    if not isinstance(database, str):
        return
    if database == "scorecard":
        doc.problem(
            path, "the routing is written on feedback pages; relais writes the scorecard database itself"
        )
    elif database not in configured:
        doc.problem(
            path,
            missing_database(
                database, configured, "feedback", "the Notion database of the feedback relais routes"
            ),
        )
