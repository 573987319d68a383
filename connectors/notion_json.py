"""Notion's JSON as relais reads and writes it: error bodies, property values in both shapes.

Pure functions, no client, used by :mod:`connectors.notion` (as connectors/jira_json.py is by the Jira one).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def describe_error(status: int, headers: Mapping[str, str], body: bytes) -> tuple[str, str | None]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return (body[:200].decode("utf-8", "replace").strip() or "no body"), None
    if not isinstance(data, dict):
        return f"HTTP {status}", None
    message = f"{data.get('code', 'error')}: {data.get('message', '')}".strip()
    if status == 401:
        message += " — check NOTION_TOKEN (an internal integration secret)"
    if status == 404:
        message += " — is the database shared with the integration?"
    return message, data.get("request_id")


def plain_text(rich: list[dict[str, Any]] | None) -> str:
    return "".join(part.get("plain_text", "") for part in rich or [])


def prop_value(prop: dict[str, Any] | None) -> Any:
    """The human value of one property, for the types relais reads."""
    if not prop:
        return None
    kind = prop.get("type")
    value = prop.get(kind)
    if kind in ("title", "rich_text"):
        return plain_text(value)
    if kind in ("select", "status"):
        return value.get("name") if value else None
    if kind == "multi_select":
        return tuple(v.get("name", "") for v in value or [])
    if kind == "date":
        return value.get("start") if value else None
    if kind in ("people", "relation"):
        return tuple(v.get("id") for v in value or [] if isinstance(v, dict))
    return value


def text_or_none(prop: dict[str, Any] | None) -> str | None:
    value = prop_value(prop)
    return value if isinstance(value, str) and value else None


def write_value(kind: str, value: Any) -> dict[str, Any]:
    """A value in Notion's write shape for a property of type ``kind``."""
    if kind in ("title", "rich_text"):
        text = str(value or "")[:2000]  # Notion's limit for one text object
        return {kind: [{"text": {"content": text}}] if text else []}
    if kind in ("select", "status"):
        return {kind: {"name": value} if value else None}
    if kind == "date":
        return {"date": {"start": value} if value else None}
    if kind == "number":
        return {"number": value}
    if kind in ("people", "relation"):
        ids = (value,) if isinstance(value, str) else tuple(value or ())
        return {kind: [{"id": i} for i in ids]}
    raise ValueError(f"relais does not write {kind} properties")
