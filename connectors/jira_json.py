"""Jira JSON in relais' terms: error bodies, select and text fields, rich text (ADF), issue links.

Pure functions over the shapes of ``jira-cloud-platform-openapi.json``, used by
:mod:`connectors.jira` to map an ``IssueBean`` to a :class:`~sync.models.WorkItem`.
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
    msgs = list(data.get("errorMessages") or []) if isinstance(data, dict) else []
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, dict):
        msgs += [f"{k}: {v}" for k, v in errors.items()]
    elif isinstance(errors, list):  # the bulk endpoints: {"errors": [{"message": …}]}
        msgs += [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors]
    request_id = next((v for k, v in headers.items() if k.lower() == "x-arequestid"), None)
    if status == 401:
        msgs.insert(
            0,
            "authentication failed: check JIRA_EMAIL and JIRA_API_TOKEN "
            "(an API token from id.atlassian.com, for that email)",
        )
    return ("; ".join(str(m) for m in msgs) or f"HTTP {status}"), request_id


def _field_text(value: Any) -> str | None:
    """A select ({"value": …}), a text field, or rich text (ADF) as plain text."""
    if isinstance(value, dict) and "value" in value:
        return value["value"] or None
    text = adf_text(value).strip() if isinstance(value, (dict, list)) else (value or "")
    return text or None


def issue_links(links: Any) -> tuple[tuple[str, str, str, str | None], ...]:
    """Jira's ``issuelinks`` as (type, how it reads from this issue, other key, other status category).

    A link shows on each of its two issues: the one that "is blocked by" sees the other
    as ``inwardIssue`` with the type's ``inward`` phrase, the blocker as ``outwardIssue``
    with the ``outward`` phrase ("blocks")."""
    out = []
    for link in links or ():
        kind = link.get("type") or {}
        side = "inward" if "inwardIssue" in link else "outward"
        other = link.get(f"{side}Issue") or {}
        status = ((other.get("fields") or {}).get("status") or {}).get("statusCategory") or {}
        out.append((kind.get("name") or "", kind.get(side) or "", other["key"], status.get("key")))
    return tuple(out)


def adf_text(node: Any) -> str:
    """Flatten Atlassian Document Format (v3 rich text) to plain text."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        inner = " ".join(adf_text(c) for c in node.get("content") or [])
        return inner
    if isinstance(node, list):
        return " ".join(adf_text(c) for c in node)
    return ""
