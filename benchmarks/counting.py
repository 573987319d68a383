"""Requests as the sandbox saw them: by vendor, endpoint, stream and kind.

Every figure of the benchmark is counted at the sandbox (``sb.log``), never by
relais itself, so a request relais' own counters would miss (a client's hidden
call, a retry) is still counted.

* **endpoint**: method and path with ids folded (``PUT /rest/api/3/issue/{id}``).
* **kind**: ``setup`` (what a client asks once per process: server info, field
  list, database schemas, credentials), ``read``, ``write`` (a request that
  changes the tool: PUT, PATCH, DELETE, a creating POST, a bulk edit) or
  ``write_poll`` (a read of a write's progress, Jira's bulk-edit queue: part of
  the write's cost, not of reading what changed).
* **stream**: which incremental read a read belongs to (``jira:issues``,
  ``jira:feedback``, ``notion:<database>``, ``pagerduty:created`` …), the unit
  the steady-state target counts in.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_ID = re.compile(
    r"^(\d+|[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|[A-Z][A-Z0-9]*-\d+|"
    r"(?=[A-Z0-9]*\d)[A-Z][A-Z0-9]{6,})$"
)
#: Reads relais makes once per process (connect), not per cycle.
SETUP = {
    ("jira", "GET", "/rest/api/3/serverInfo"),
    ("jira", "GET", "/rest/api/3/myself"),
    ("jira", "GET", "/rest/api/3/field"),
    ("notion", "GET", "/v1/users/me"),
    ("notion", "GET", "/v1/databases/{id}"),
    ("notion", "GET", "/v1/data_sources/{id}"),
    ("pagerduty", "GET", "/abilities"),
}
#: POSTs that only read.
READ_POSTS = {
    ("jira", "/rest/api/3/search/jql"),
    ("jira", "/rest/api/3/search/approximate-count"),
    ("notion", "/v1/data_sources/{id}/query"),
}
#: Reads of a write's progress (Jira's bulk edit answers a task id; its queue is polled).
WRITE_POLLS = {("jira", "GET", "/rest/api/3/bulk/queue/{id}")}


def endpoint(path: str) -> str:
    """The path with ids (numbers, UUIDs, issue keys, PagerDuty ids) replaced by ``{id}``;
    an API version (``/rest/api/3``) is kept."""
    parts = path.split("/")
    return "/".join(
        "{id}" if _ID.match(part) and parts[i - 1] != "api" else part for i, part in enumerate(parts)
    )


def kind(vendor: str, method: str, path: str) -> str:
    ep = endpoint(path)
    if (vendor, method, ep) in SETUP:
        return "setup"
    if (vendor, method, ep) in WRITE_POLLS:
        return "write_poll"
    if method in ("GET", "HEAD") or (method == "POST" and (vendor, ep) in READ_POSTS):
        return "read"
    return "write"


@dataclass(frozen=True)
class Streams:
    """What tells the streams apart: the configured JQLs and the Notion data sources."""

    jql: str
    feedback_jql: str | None
    data_sources: dict[str, str]  # data source id -> database key

    @classmethod
    def of(cls, sb: Any, config: dict[str, Any]) -> Streams:
        jira = config["sources"]["jira"]
        dbs = config["sources"]["notion"]["databases"]
        ids = {
            sb.org.notion[f"{key}_database"]: sb.org.notion[f"{key}_data_source"]
            for key in ("briefings", "feedback", "scorecard")
        }
        return cls(
            jira["jql"], jira.get("feedback_jql"), {ids[db]: key for key, db in dbs.items() if db in ids}
        )

    def of_record(self, r: Any) -> str:
        """The stream a read belongs to ("" for setup and writes)."""
        ep = endpoint(r.path)
        if r.vendor == "jira":
            if ep.endswith("/search/jql"):
                jql = (r.query.get("jql") or [""])[0]
                if self.feedback_jql and jql.startswith(f"({self.feedback_jql})"):
                    return "jira:feedback"
                return "jira:issues" if jql.startswith(f"({self.jql})") else "jira:other searches"
            if ep.endswith("/issue/{id}/worklog"):
                return "jira:worklogs"
        if r.vendor == "notion" and ep.endswith("/query"):
            return "notion:" + self.data_sources.get(r.path.split("/")[3], "other")
        if r.vendor == "pagerduty":
            if ep == "/incidents":
                return "pagerduty:open" if r.query.get("statuses[]") else "pagerduty:created"
            if ep == "/log_entries":
                return "pagerduty:log_entries"
            if ep == "/incidents/{id}":
                return "pagerduty:changed"
        return f"{r.vendor}:other"


def tally(records: Iterable[Any], streams: Streams | None = None) -> dict[str, Any]:
    """Counts of a slice of ``sb.log``: per vendor, endpoint, kind and (reads) stream."""
    by_endpoint: Counter = Counter()
    by_kind: Counter = Counter()
    by_stream: Counter = Counter()
    per_vendor: dict[str, Counter] = {}
    throttled = 0
    for r in records:
        k = kind(r.vendor, r.method, r.path)
        if r.status == 429:
            throttled += 1
        by_endpoint[f"{r.vendor} {r.method} {endpoint(r.path)}"] += 1
        by_kind[k] += 1
        per_vendor.setdefault(r.vendor, Counter())[k] += 1
        if k == "read" and streams is not None:
            by_stream[streams.of_record(r)] += 1
    return {
        "total": sum(by_kind.values()),
        "by_kind": dict(by_kind),
        "throttled": throttled,
        "by_vendor": {v: dict(c) | {"total": sum(c.values())} for v, c in sorted(per_vendor.items())},
        "by_endpoint": dict(sorted(by_endpoint.items())),
        "reads_by_stream": dict(sorted(by_stream.items())),
    }


def stream_names(streams: Streams) -> list[str]:
    """The streams an incremental cycle reads, each at least once."""
    out = ["jira:issues"] + (["jira:feedback"] if streams.feedback_jql else [])
    out += [f"notion:{key}" for key in sorted(streams.data_sources.values())]
    return out + ["pagerduty:created", "pagerduty:log_entries", "pagerduty:open"]
