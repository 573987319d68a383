"""PagerDuty JSON in relais' terms, with no client: incidents to work items.

Plain functions of a payload (``Incident`` objects as ``GET /incidents`` and
``GET /incidents/{id}`` return them, and as recorded from the live API: see
the differences listed in the tests' recorded fixtures). No mapping context is
needed: an incident carries everything relais reads, and relais owns no
PagerDuty field, so there is no write body (the follow-up note is plain text,
:mod:`sync.followups`).

Reads: id, incident_number, title (or summary), html_url, status, urgency,
priority.summary, service.id and service.summary (its name), the first of teams, created_at, updated_at,
resolved_at and last_status_change_at (older incidents have no ``updated_at``
or ``resolved_at``; accounts without priorities have no ``priority`` key).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from connectors.base import check_status_category, invalid, parse_time
from connectors.spec import Secret
from sync.models import WorkItem

#: The REST API key (VendorSpec.credentials): its error messages name it.
CREDENTIALS = (Secret("pagerduty_token", "PAGERDUTY_TOKEN", "no API token"),)


#: The values relais decides on; anything else is an item it cannot read as meant.
STATUS_CATEGORIES = frozenset({"open", "done"})
STATUSES = frozenset({"triggered", "acknowledged", "resolved"})
URGENCIES = frozenset({None, "high", "low"})


def check(item: WorkItem) -> None:
    """What an incident's own values must be (connectors.base.checked)."""
    check_status_category(item, STATUS_CATEGORIES)
    if not item.service:
        raise invalid(item, "service", "the incident's service")
    if item.status not in STATUSES:
        raise invalid(item, "status", " or ".join(sorted(STATUSES)))
    if item.urgency not in URGENCIES:
        raise invalid(item, "urgency", "high or low")


def to_item(raw: dict[str, Any]) -> WorkItem:
    """One incident as a work item."""
    created = parse_time(raw["created_at"])
    status = raw["status"]
    resolved = parse_time(raw.get("resolved_at")) or (
        parse_time(raw.get("last_status_change_at")) if status == "resolved" else None
    )
    updated = parse_time(raw.get("updated_at")) or parse_time(raw.get("last_status_change_at")) or created
    teams = raw.get("teams") or []
    return WorkItem(
        source="pagerduty",
        id=raw["id"],
        key=f"#{raw.get('incident_number', raw['id'])}",
        kind="incident",
        title=raw.get("title") or raw.get("summary") or "",
        url=raw.get("html_url"),
        updated=updated,  # type: ignore[arg-type]  # checked() rejects None
        created=created,  # type: ignore[arg-type]
        status=status,
        status_category="done" if status == "resolved" else "open",
        urgency=raw.get("urgency"),
        priority=(raw.get("priority") or {}).get("summary"),
        service=(raw.get("service") or {}).get("id"),
        # the service's name, for what relais writes about the incident (the follow-up ticket)
        inputs={"service": name} if (name := (raw.get("service") or {}).get("summary")) else {},
        team=teams[0].get("id") if teams else None,
        resolved=resolved,
    )


def describe_error(status: int, headers: Mapping[str, str], body: bytes) -> tuple[str, str | None]:
    """An error answer as (what to tell the operator, PagerDuty's request id). A 401's body is
    a single space served as text/html: never assume JSON on errors."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return (body[:200].decode("utf-8", "replace").strip() or "no body"), None
    err = data.get("error") if isinstance(data, dict) else None
    if not isinstance(err, dict):
        return f"HTTP {status}", None
    message = str(err.get("message", ""))
    details = err.get("errors")
    if details:
        message += f" ({'; '.join(map(str, details))})"
    if status == 401:
        message += (
            f" — check {CREDENTIALS[0].variable} (a REST API key), and the region in sources.pagerduty.url"
        )
    request_id = next((v for k, v in headers.items() if k.lower() == "x-request-id"), None)
    return message, request_id
