"""Jira single-select custom fields: reading, writing, changelog and JQL of an option.

One behaviour for every select the sandbox adds (Team, Origin, Tier, Area, Health), from Jira
Cloud: a value renders ``{"self", "value", "id"}``; a write names ``{"id"}`` or ``{"value"}`` and
must match exactly (a person in the UI may give the plain value); JQL values match an option's
value or id in any case; an unknown option is an error worded like Jira's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import JQLError

Options = Mapping[str, str]  # option id -> value


def option_id(options: Options, value: Any) -> str | None:
    """The option a write names (``{"id"}`` or ``{"value"}``, exact) or a JQL value names (a
    string: value or id, any case), or None."""
    if isinstance(value, dict):
        if value.get("id") is not None:
            return str(value["id"]) if str(value["id"]) in options else None
        return next((oid for oid, v in options.items() if value.get("value") == v), None)
    text = str(value).strip().lower() if value is not None else ""
    return next((oid for oid, v in options.items() if text in (v.lower(), oid)), None)


def render(base: str, options: Options, value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "self": f"{base}/rest/api/3/customFieldOption/{value}",
        "value": options.get(value, value),
        "id": value,
    }


def set_option(rec: dict[str, Any], fid: str, options: Options, value: Any, human: bool) -> str | None:
    """Validate and store a write; Jira's message, or None."""
    if value is None:
        rec[fid] = None
        return None
    if isinstance(value, str) and human:
        value = {"value": value}
    if not isinstance(value, dict) or not ({"id", "value"} & set(value)):
        return "Could not find valid 'id' or 'value' in the Parent Option object."
    oid = option_id(options, value)
    if oid is None:
        return (
            f"Option id '{value['id']}' is not valid"
            if value.get("id") is not None
            else f"Option value '{value.get('value')}' is not valid"
        )
    rec[fid] = oid
    return None


def change_item(fid: str, name: str, options: Options, old: Any, new: Any) -> dict[str, Any]:
    return {
        "field": name,
        "fieldtype": "custom",
        "fieldId": fid,
        "from": old,
        "fromString": options.get(old),
        "to": new,
        "toString": options.get(new),
    }


def jql_values(options: Options, name: str, values: list[str | None]) -> list[Any]:
    """Clause values as stored (option ids); EMPTY stays None."""
    out: list[Any] = []
    for raw in values:
        oid = None if raw is None else option_id(options, raw)
        if raw is not None and oid is None:
            raise JQLError(f"The option '{raw}' for field '{name}' does not exist.")
        out.append(oid)
    return out
