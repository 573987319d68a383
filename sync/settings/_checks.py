"""Checks that span sections, and the inline-secret scan.

Both work on the plain data from the YAML loader, not on the validated model,
so they still run when another part of the file is malformed: one run lists
every problem. Each check looks only at the parts whose shape it can trust and
silently skips the rest (the model validation reports those). The checks of
`route:` and its write-backs are in ``_checks_route``, which uses the helpers here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._balance import folded_name
from ._rules import default_problems
from ._secretlike import (
    NAME_KEYED,
    SOURCE_VARIABLE,
    WEBHOOK_VARIABLE,
    advice,
    is_credential_key,
    looks_like_secret,
    variable_for_value,
)
from ._types import closest, quoted, suggest
from ._yaml import Document

Path_ = tuple[str | int, ...]


def check_references(doc: Document) -> None:
    data = doc.data
    if not isinstance(data, dict):
        return
    people = named_section(data, "people")
    teams = named_section(data, "teams")
    _team_pms(doc, teams, people)
    classify = data.get("classify")
    if isinstance(classify, list):
        _classify_default(doc, classify)
        rule_names(doc, ("classify",), classify)
        _rule_teams(doc, classify, teams)
    balance = as_mapping(data.get("balance"))
    if balance is not None:
        _alert_names(doc, balance)
        urgent = as_mapping(balance.get("urgent"))
        if urgent is not None:
            when_teams(doc, ("balance", "urgent", "when"), urgent.get("when"), teams)
    _writeback(doc, data)
    _balance_writeback(doc, data)


def _team_pms(doc: Document, teams: dict | None, people: dict | None) -> None:
    if teams is None or people is None:
        return
    for name, team in teams.items():
        pm = team.get("pm") if isinstance(team, dict) else None
        if isinstance(pm, str) and pm not in people:
            doc.problem(("teams", name, "pm"), unknown("person", pm, people, "people"))


def _classify_default(doc: Document, classify: list) -> None:
    for index, message, first in default_problems(classify):
        if index is None and misspelt_final(classify, "default"):
            continue  # "unknown key 'defualt' (did you mean 'default'?)" says it better
        path: Path_ = ("classify",) if index is None else ("classify", index)
        if first is not None:
            message += f" (first at line {doc.line_of(('classify', first))})"
        doc.problem(path, message)


def misspelt_final(entries: list, key: str) -> bool:
    """Some entry has a key close to ``key`` (`defualt`, `fallbak`): its own problem says it better."""
    return any(
        isinstance(entry, dict) and any(k != key and closest(k, [key]) for k in entry) for entry in entries
    )


def rule_names(doc: Document, path: Path_, rules: list) -> None:
    """Rule names are unique within their list, regardless of case and spacing."""
    seen: dict[str, int] = {}
    for index, rule in enumerate(rules):
        name = rule.get("name") if isinstance(rule, dict) else None
        if not isinstance(name, str):
            continue
        folded = " ".join(name.casefold().split())
        if folded in seen:
            first = doc.line_of(path + (seen[folded],))
            doc.problem(
                path + (index, "name"),
                f"duplicate rule name {quoted(name)} (first used at line {first}); "
                "`relais explain` names rules, so each name must be unique",
            )
        else:
            seen[folded] = index


def _rule_teams(doc: Document, classify: list, teams: dict | None) -> None:
    for index, rule in enumerate(classify):
        when = rule.get("when") if isinstance(rule, dict) else None
        when_teams(doc, ("classify", index, "when"), when, teams)


def when_teams(doc: Document, path: Path_, when: Any, teams: dict | None) -> None:
    named = when.get("team") if isinstance(when, dict) else None
    values = [named] if isinstance(named, str) else named if isinstance(named, list) else []
    for value in values:
        if teams is not None and isinstance(value, str) and value not in teams:
            doc.problem(path + ("team",), unknown("team", value, teams, "teams"))


def _alert_names(doc: Document, balance: dict) -> None:
    alerts = balance.get("alerts")
    seen: dict[str, int] = {}
    for index, alert in enumerate(alerts if isinstance(alerts, list) else []):
        name = alert.get("name") if isinstance(alert, dict) else None
        if not isinstance(name, str):
            continue
        if folded_name(name) in seen:
            first = doc.line_of(("balance", "alerts", seen[folded_name(name)]))
            doc.problem(
                ("balance", "alerts", index, "name"),
                f"duplicate alert name {quoted(name)} (first used at line {first}); "
                "the scorecard and `relais report` name alerts, so each name must be unique",
            )
        else:
            seen[folded_name(name)] = index


def _writeback(doc: Document, data: dict) -> None:
    writeback = as_mapping(data.get("writeback"))
    sources = as_mapping(data.get("sources"))
    if writeback is None or sources is None:
        return
    for tool in ("jira", "notion"):
        misspelt = any(key != tool and closest(key, [tool]) for key in sources)  # reported already
        if writeback.get(tool) is not None and sources.get(tool) is None and not misspelt:
            doc.problem(
                ("writeback", tool),
                f"relais writes back to {tool} only when it reads it; add sources.{tool} or remove writeback.{tool}",
            )
    work_type = (as_mapping(writeback.get("notion")) or {}).get("work_type")
    notion = as_mapping(sources.get("notion"))
    databases = as_mapping(notion.get("databases")) if notion else None
    listed = work_type.get("databases") if isinstance(work_type, dict) else None
    if not isinstance(listed, list) or databases is None:
        return
    configured = [key for key, value in databases.items() if value is not None]
    for index, key in enumerate(listed):
        if isinstance(key, str) and key not in configured:
            doc.problem(
                ("writeback", "notion", "work_type", "databases", index),
                unknown("Notion database", key, configured, "sources.notion.databases"),
            )


def _balance_writeback(doc: Document, data: dict) -> None:
    """The scorecard and briefing write-backs need `balance` and their Notion databases."""
    notion_wb = as_mapping((as_mapping(data.get("writeback")) or {}).get("notion"))
    if notion_wb is None:
        return
    shows = {"scorecard": "the scorecard shows", "briefings": "the RUN load and mode on briefings come from"}
    for section, what in shows.items():
        if notion_wb.get(section) is not None and "balance" not in data:
            doc.problem(
                ("writeback", "notion", section),
                f"{what} the balance: add a `balance:` section (`balance: {{}}` uses the defaults), "
                f"or remove writeback.notion.{section}",
            )
    notion = as_mapping((as_mapping(data.get("sources")) or {}).get("notion"))
    databases = as_mapping(notion.get("databases")) if notion else None
    if databases is None:
        return  # no Notion source: _writeback says so
    configured = [key for key, value in databases.items() if value is not None]
    scorecard = as_mapping(notion_wb.get("scorecard"))
    database = scorecard.get("database", "scorecard") if scorecard is not None else None
    if isinstance(database, str) and database in ("briefings", "feedback"):
        doc.problem(
            ("writeback", "notion", "scorecard", "database"),
            f"the scorecard needs a database of its own; {database} holds work relais reads",
        )
    elif isinstance(database, str) and database not in configured:
        explicit = "database" in (scorecard or {})
        path: Path_ = ("writeback", "notion", "scorecard") + (("database",) if explicit else ())
        doc.problem(
            path,
            missing_database(
                database, configured, "scorecard", "the Notion database relais writes the scorecard rows to"
            ),
        )
    if notion_wb.get("briefings") is not None and "briefings" not in configured:
        doc.problem(
            ("writeback", "notion", "briefings"),
            "the team's RUN load and mode are written on briefings: add sources.notion.databases.briefings, "
            "or remove writeback.notion.briefings",
        )


def unknown(what: str, value: str, known: Any, section: str) -> str:
    names = list(known)
    hint = suggest(value, names)
    if hint:
        return f"unknown {what} {quoted(value)}{hint}"
    listing = ", ".join(names) if names else "none"
    return f"unknown {what} {quoted(value)}; {section} has: {listing}"


def missing_database(database: str, configured: Any, expected: str, what: str) -> str:
    """The problem of a writeback naming a Notion database ``sources.notion.databases`` lacks:
    how to add the one it ``expected`` (``what`` it is for), or the nearest of those there."""
    if database == expected:
        return f"sources.notion.databases has no `{expected}`: add `{expected}: <database id>` there, {what}"
    return unknown("Notion database", database, configured, "sources.notion.databases")


def as_mapping(value: Any) -> dict | None:
    return value if isinstance(value, dict) else None


def named_section(data: dict, key: str) -> dict | None:
    """A name-keyed section; absent or empty means no names. None: malformed, skip."""
    value = data.get(key)
    return {} if value is None else as_mapping(value)


# ---------------------------------------------------------------- secrets ---


def check_inline_secrets(doc: Document) -> set[Path_]:
    """Report every pasted credential; return their paths (other problems there are moot)."""
    flagged: set[Path_] = set()
    for path, key, value in _entries(doc.data, ()):
        by_key = key is not None and path[:-1] not in NAME_KEYED and is_credential_key(key)
        if by_key or looks_like_secret(value) or (key is not None and looks_like_secret(key)):
            variable = variable_for_value(value) or _variable_for_path(path)
            doc.problem(path, advice(variable))
            flagged.add(path)
    return flagged


def _entries(node: Any, path: Path_) -> Iterator[tuple[Path_, str | None, Any]]:
    """Every (path, key or None for list items, value) in the document, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path + (key,), key, value
            yield from _entries(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if not isinstance(value, (dict, list)):
                yield path + (index,), None, value
            yield from _entries(value, path + (index,))


def _variable_for_path(path: Path_) -> str:
    """`sources.jira.api_token` and `jira_token` both belong in JIRA_API_TOKEN;
    `daemon.webhooks.jira.secret` in JIRA_WEBHOOK_SECRET."""
    table = WEBHOOK_VARIABLE if "webhooks" in path else SOURCE_VARIABLE
    for part in reversed(path):
        if isinstance(part, str):
            for tool, variable in table.items():
                if part.lower().startswith(tool):
                    return variable
    return ""
