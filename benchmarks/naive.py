"""The naive baseline: the sync a quick script or a no-code flow does.

Every cycle it re-reads everything (every issue of the JQLs with their worklogs, every
row of every Notion database, every incident of the window) and writes every owned
field of every item, whether it changed or not — one request per item, the vendors one
after the other. It uses the same official clients (``jira``, ``notion-client``,
``pagerduty``) and, to be fair to it, paces itself just under each vendor's limit and
waits out a 429 as asked, computes the same values (relais' own mapping and pure
``plan_cycle``: the point is its I/O, not its logic) and puts all of an item's fields
in one request. It keeps no state, so each of its cycles costs the same; it files no
incident follow-ups (that needs state to be done once).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.jira import JiraConnector
from sandbox.testing import jira_client, notion_client, pagerduty_client
from sync.engine import build_connectors
from sync.models import FieldChange
from sync.plan import plan_cycle
from sync.settings import load_settings, resolve_secrets


class Pace:
    """At most ``rate`` requests a second, and a 429's Retry-After waited out before retrying."""

    def __init__(self, rate: float) -> None:
        self.gap = 1.0 / rate
        self.next = time.monotonic()

    def __call__(self, request: Any) -> Any:
        for _ in range(10):
            delay = self.next - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.next = max(self.next, time.monotonic()) + self.gap
            try:
                return request()
            except Exception as e:  # each client has its own error type; all carry the status
                status = (
                    getattr(e, "status_code", None)
                    or getattr(e, "status", None)
                    or getattr(getattr(e, "response", None), "status_code", None)
                )
                if status != 429:
                    raise
                time.sleep(float(_retry_after(e) or 1))
        raise RuntimeError("still rate limited after 10 tries")


def _retry_after(e: Exception) -> str | None:
    response = getattr(e, "response", None)
    headers = getattr(response, "headers", None) or {}
    return headers.get("Retry-After") or headers.get("retry-after")


def naive_cycle(
    sb: Any, config: Path, rates: dict[str, float], now: datetime | None = None
) -> dict[str, Any]:
    """One cycle of the naive sync; returns the owned fields it wrote and the items it wrote to."""
    settings = load_settings(config)
    mappers = build_connectors(settings, resolve_secrets(settings, environ=sb.env))
    jira_map: JiraConnector = mappers["jira"]
    notion_map, pd_map = mappers["notion"], mappers["pagerduty"]
    pace = {v: Pace(rate * 0.95) for v, rate in rates.items()}
    for name, m in mappers.items():  # field ids, data sources: what the script needs to know once
        pace[name](m.connect)
    jira, notion, pd = jira_client(sb), notion_client(sb), pagerduty_client(sb)
    now = now or datetime.now(UTC)
    items = []
    try:
        # -- read everything --------------------------------------------------------------
        for jql, kind in (
            (settings.sources.jira.jql, "issue"),
            (settings.sources.jira.feedback_jql, "feedback"),
        ):
            if not jql:
                continue
            token = None
            while True:
                page = pace["jira"](
                    lambda: jira.enhanced_search_issues(
                        jql, nextPageToken=token, maxResults=100, fields=jira_map._fields(), json_result=True
                    )
                )
                for raw in page.get("issues") or []:
                    wl = raw["fields"].get("worklog") or {}
                    if wl.get("total", 0) > len(wl.get("worklogs") or []):
                        wl["worklogs"] = pace["jira"](
                            lambda: jira._get_json(f"issue/{raw['id']}/worklog", params={"maxResults": 5000})
                        )["worklogs"]
                    items.append(jira_map.to_item(raw, kind))
                token = page.get("nextPageToken")
                if not token:
                    break
        for key, ds in notion_map.data_sources.items():
            cursor = None
            while True:
                kwargs = {
                    "data_source_id": ds,
                    "page_size": 100,
                    **({"start_cursor": cursor} if cursor else {}),
                }
                page = pace["notion"](lambda: notion.data_sources.query(**kwargs))
                items += [notion_map.to_item(key, raw) for raw in page["results"]]
                cursor = page.get("next_cursor")
                if not page.get("has_more"):
                    break
        since = now.timestamp() - settings.sources.pagerduty.first_sync_days * 86400
        params = {
            "service_ids[]": sorted(settings.sources.pagerduty.services),
            "time_zone": "UTC",
            "since": datetime.fromtimestamp(since, UTC).isoformat(),
            "until": now.isoformat(),
        }
        items += [
            pd_map.to_item(raw)
            for raw in pace["pagerduty"](lambda: list(pd.iter_all("incidents", params=params)))
        ]
        # -- the same values relais computes ------------------------------------------------
        plan = plan_cycle(items, settings, now)
        # -- write every owned field of every item --------------------------------------------
        fields = writes = 0
        for item in items:
            if not item.owned or item.source == "pagerduty":
                continue
            planned = {c.field: c.new for c in plan.work.get((item.source, item.id), (item, []))[1]}
            changes = [
                FieldChange(item.source, item.id, item.key, name, value, planned.get(name, value), "naive")
                for name, value in item.owned.items()
            ]
            if item.source == "jira":
                body = jira_map.write_body(item, changes)
                pace["jira"](lambda: jira._session.put(jira._get_url(f"issue/{item.id}"), json=body))
            else:
                body = notion_map.write_body(item, changes)
                pace["notion"](lambda: notion.pages.update(page_id=item.id, properties=body))
            fields += len(changes)
            writes += 1
        for create in plan.creates:
            props = notion_map._properties(create.database, create.values)
            ds = notion_map.data_sources[create.database]
            pace["notion"](lambda: notion.pages.create(parent={"data_source_id": ds}, properties=props))
            writes += 1
    finally:
        for client in (jira, notion, pd):
            client.close()
        for m in mappers.values():
            m.close()
    return {"items": len(items), "fields_written": fields, "write_requests": writes}
