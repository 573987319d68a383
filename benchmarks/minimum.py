"""The least any sync could spend: the reads needed to see what changed, the writes needed
to change what differs. Computed from what the sandbox holds, never from relais.

Reads, per stream: the pages needed to list what is in it (100 items a page; a stream
asked with nothing in it still costs one request, since nobody knows it is empty before
asking), plus the reads no listing can avoid: an issue's worklogs past the 20 search
embeds, and an older incident named by a log entry (PagerDuty cannot list incidents by
id). Setup: the calls that resolve names once per process (server info, fields,
database schemas, credentials).

Writes: one request per item whose owned values the tools show changed, one per thing
created; with Jira's bulk edit, issues getting the same values share a request of up to
1,000 issues. Counted from the tools' own state before and after
(:func:`benchmarks.common.changed_values`), so a write that changed nothing is not in it.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from benchmarks.counting import Streams

PAGE = 100  # Jira search, Notion query and PagerDuty's classic pagination, at their maximum
EMBEDDED_WORKLOGS = 20
BULK_MAX = 1_000


def pages(n: int) -> int:
    return max(1, math.ceil(n / PAGE))


def setup_requests(streams: Streams) -> dict[str, int]:
    return {"jira": 3, "notion": 1 + 2 * len(streams.data_sources), "pagerduty": 1}


def initial_reads(sb: Any, streams: Streams, first_sync_days: int, now: datetime) -> dict[str, int]:
    """Per stream, the reads a first sync needs."""
    keys = sb.jira.keys()
    worklogs = sb.jira.worklog_counts()
    out = {
        "jira:issues": pages(len(keys)),
        "jira:worklogs": sum(1 for k in keys if worklogs[k] > EMBEDDED_WORKLOGS),
    }
    if streams.feedback_jql:
        out["jira:feedback"] = pages(len(sb.jira.feedback_keys()))
    for key in streams.data_sources.values():
        out[f"notion:{key}"] = pages(len(sb.notion.page_ids(key)))
    created = list(
        sb.pagerduty.incidents_in(now - timedelta(days=first_sync_days), now + timedelta(seconds=1))
    )
    out["pagerduty:created"] = pages(len(created))
    out["pagerduty:open"] = pages(len(open_incidents(sb)))
    return out


def open_incidents(sb: Any) -> list[str]:
    return [i for i in sb.pagerduty.incident_ids() if sb.pagerduty.find(i)["status"] != "resolved"]


def incremental_reads(
    sb: Any, streams: Streams, edited: dict[str, set[str]], since: datetime, now: datetime
) -> dict[str, int]:
    """Per stream, the reads a cycle needs to see the edits made since ``since``: ``edited``
    holds the Jira keys, Notion page ids per database and incident ids (new and older)."""
    worklogs = sb.jira.worklog_counts()
    jira = edited.get("jira", set())
    out = {
        "jira:issues": pages(len(jira)),
        "jira:worklogs": sum(1 for k in jira if worklogs.get(k, 0) > EMBEDDED_WORKLOGS),
    }
    if streams.feedback_jql:
        out["jira:feedback"] = pages(len(edited.get("jira:feedback", ())))
    for key in streams.data_sources.values():
        out[f"notion:{key}"] = pages(len(edited.get(f"notion:{key}", ())))
    new = {rec["id"] for rec in sb.pagerduty.incidents_in(since, now + timedelta(seconds=1))}
    changed = {i for i in edited.get("pagerduty", set()) if i not in new}
    out["pagerduty:created"] = pages(len(new))
    out["pagerduty:log_entries"] = pages(len(sb.pagerduty.entries_in(since, now + timedelta(seconds=1))))
    out["pagerduty:changed"] = len(changed)
    out["pagerduty:open"] = pages(len(open_incidents(sb)))
    return out


def write_requests(changed: dict[str, Any]) -> dict[str, Any]:
    """The write requests what changed needs: one per item (and per create), and with Jira's bulk
    edit one per group of issues getting the same values (the fewer of two groupings: by the
    whole set of values an issue gets, or by each field and value)."""
    per_item = Counter(changed["items"]) + Counter(changed["created"])
    jira = {k: v for k, v in changed["changes"].items() if k.startswith("jira:")}
    by_set = Counter(tuple(sorted((f, repr(v)) for f, v in values.items())) for values in jira.values())
    by_field = Counter((f, repr(v)) for values in jira.values() for f, v in values.items())
    bulk = min(
        sum(math.ceil(n / BULK_MAX) for n in by_set.values()),
        sum(math.ceil(n / BULK_MAX) for n in by_field.values()),
    )
    with_bulk = dict(per_item)
    with_bulk["jira"] = bulk + changed["created"].get("jira", 0)
    return {"per_item": dict(per_item), "with_bulk": {k: v for k, v in with_bulk.items() if v}}
