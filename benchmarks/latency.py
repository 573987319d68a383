"""Change-to-write latency (target 3): from a person's edit in the sandbox to the write that
depends on it landing there, with ``relais run``'s daemon (in this process, over real
sockets, on the large org's state store).

The edit: a BUILD issue gets the ``tech-debt`` label, as a person would tag it; its Work
type must become IMPROVE. The latency is the time, on the sandbox's clock, between the
edit and the entry relais' write of the Work type leaves in the issue's history (a
``PUT /rest/api/3/issue/{id}``, or a bulk edit once Jira's queue has run it).

* **polling** — webhooks off, every source polled each ``interval`` seconds (no jitter);
  the edits are spread over several intervals, so they fall anywhere in the poll cycle.
  Target: every latency ≤ one interval + 5 s.
* **webhooks** — polling far apart (600 s), each edit followed by the signed Jira webhook
  Jira would send (``jira:issue_updated``, HMAC-SHA256 ``X-Hub-Signature``). Target:
  p95 ≤ 5 s.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import statistics
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from sandbox.jira.fields import WORK_TYPE
from sandbox.testing import wait_until

JIRA_SECRET = "bench-jira-webhook-secret"
ENV = {"JIRA_WEBHOOK_SECRET": JIRA_SECRET}


def _daemon_config(config: Path, out: Path, interval: float, webhooks: bool) -> Path:
    data = yaml.safe_load(config.read_text())
    data["daemon"] = {
        "intervals": {"jira": interval, "notion": interval, "pagerduty": interval},
        "jitter_seconds": 0,
        "stop_seconds": 30,
        "watch_config": False,
        "http": {"listen": "127.0.0.1:0"},
    }
    if webhooks:
        data["daemon"]["webhooks"] = {"jira": None}
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return out


def _build_issues(store: Any) -> list[Any]:
    """Issues relais classified BUILD — it wrote their Work type: one a person had set before relais
    ran is theirs, and stays (``writeback.adopt: keep``) — that a tech-debt label turns IMPROVE."""
    wrote = store.last_applied(("work_type",))
    return [
        i
        for i in store.iter_items("jira")
        if i.kind == "issue"
        and i.owned.get("work_type") == "BUILD"
        and wrote.get((i.source, i.id), {}).get("work_type") is not None
        and wrote[(i.source, i.id)]["work_type"].last == '"BUILD"'
        and not {"maintenance", "ops", "tech-debt", "tooling", "training"} & set(i.labels)
        and i.issuetype not in ("Bug", "Support")
    ]


def tag_tech_debt(sb: Any, key: str) -> None:
    labels = sb.jira.get_record(key)["labels"]
    sb.jira.edit_issue(key, {"labels": sorted({*labels, "tech-debt"})})


def work_type_writes(sb: Any, key: str, since: Any) -> list[Any]:
    """When relais wrote the issue's Work type since ``since``: its changelog entries' times, on
    the sandbox's clock, oldest first.

    Read from the issue's history, not from the request log, because the write may be a
    ``PUT /issue/{id}`` or part of a bulk edit (``POST /bulk/issues/fields``), which lands
    when Jira's queue runs it."""
    floor = since - timedelta(milliseconds=1)  # the sandbox stamps history to the millisecond
    return [
        entry["created"]
        for entry in sb.jira.get_record(key)["changelog"]
        if entry["created"] >= floor and any(item.get("fieldId") == WORK_TYPE for item in entry["items"])
    ]


def work_type_landed(sb: Any, key: str, since: Any) -> Any:
    """When relais' new Work type landed on the issue (its last write since ``since``), or None."""
    writes = work_type_writes(sb, key, since)
    return writes[-1] if writes else None


def _deliver(url: str, sb: Any, key: str, n: int) -> int:
    issue = sb.jira.get_issue(key)
    body = json.dumps(
        {
            "timestamp": int(time.time() * 1000),
            "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "issue": issue,
            "changelog": {
                "id": str(20000 + n),
                "items": [
                    {"field": "labels", "fieldtype": "jira", "fromString": "", "toString": "tech-debt"}
                ],
            },
        }
    ).encode()
    signature = "sha256=" + hmac.new(JIRA_SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature": signature,
            "X-Atlassian-Webhook-Identifier": f"bench-{n}",
            "X-Atlassian-Webhook-Retry": "0",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        return r.status


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))], 2)

    return {
        "n": len(values),
        "p50": round(statistics.median(values), 2),
        "p95": pick(0.95),
        "max": round(max(values), 2),
    }


def _daemon(sb: Any, config: Path, clock: Any) -> Any:
    import logging

    from sync.daemon import Daemon
    from sync.settings import load_settings, resolve_secrets

    environ = {**sb.env, **ENV}
    settings = load_settings(config)
    daemon = Daemon(
        config, settings, resolve_secrets(settings, environ=environ), environ=environ, clock=clock
    )
    daemon.log.setLevel(logging.WARNING)  # one JSON line per cycle would drown the benchmark's own output
    daemon.start()
    if not wait_until(lambda: daemon.readiness()[0], timeout=300, step=0.1):
        daemon.shutdown()
        raise RuntimeError("the daemon's first cycles did not finish")
    return daemon


def latency(
    sb: Any,
    config: Path,
    clock: Any,
    work: Path,
    *,
    interval: float = 15,
    samples: int = 12,
    seed: int = 9,
    log: Any = print,
) -> dict[str, Any]:
    rng = random.Random(seed)
    out: dict[str, Any] = {"interval_seconds": interval}
    # -- polling -----------------------------------------------------------------------------
    log(f"latency with polling every {interval:g} s …")
    daemon = _daemon(sb, _daemon_config(config, work / "relais-poll.yaml", interval, False), clock)
    try:
        candidates = _build_issues(daemon.engine.store)
        rng.shuffle(candidates)
        edits = []
        for item in candidates[:samples]:  # spread over about three intervals, at random points
            time.sleep(rng.uniform(0, interval / 2))
            edits.append((item, clock()))
            tag_tech_debt(sb, item.key)
        wait_until(
            lambda: all(work_type_landed(sb, i.key, at) is not None for i, at in edits),
            timeout=interval + 60,
            step=0.5,
        )
        polled = [
            (work_type_landed(sb, i.key, at) - at).total_seconds()
            for i, at in edits
            if work_type_landed(sb, i.key, at) is not None
        ]
        out["polling"] = {
            **percentiles(polled),
            "missed": len(edits) - len(polled),
            "target_seconds": interval + 5,
        }
    finally:
        daemon.shutdown()
    # -- webhooks ----------------------------------------------------------------------------
    log("latency with webhooks …")
    daemon = _daemon(sb, _daemon_config(config, work / "relais-hooks.yaml", 600, True), clock)
    try:
        url = f"http://{daemon.listen_address()}/webhooks/jira"
        hooked = []
        for n, item in enumerate(candidates[samples : 2 * samples]):
            at = clock()
            tag_tech_debt(sb, item.key)
            assert _deliver(url, sb, item.key, n) == 202
            landed = wait_until(lambda: work_type_landed(sb, item.key, at), timeout=30)
            if landed is not None:
                hooked.append((landed - at).total_seconds())
            time.sleep(rng.uniform(0.2, 1.0))
        out["webhooks"] = {**percentiles(hooked), "missed": samples - len(hooked), "target_p95_seconds": 5}
    finally:
        daemon.shutdown()
    return out
