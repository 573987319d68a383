"""API cost per cycle (targets 1 and 2): requests counted at the sandbox against the minimum.

The sequence, on one sandbox and one state store:

1. **initial sync** — ``relais sync --once`` as a user runs it (a subprocess), the sandbox
   enforcing the vendors' limits (scaled, see ``run.py``): requests against the minimum,
   wall time against the bound the limits impose, the process's peak RSS;
2. **echo** — the clock moves past the overlap window and a cycle runs: it re-reads what
   relais wrote in (1), since its own writes bumped ``updated``, and must write nothing;
3. **steady state** — the clock moves past the overlap again: nothing changed since (2)
   and no edit is inside any overlap window; at most one read per stream, no write;
4. **1 % changed** — people edit 1 % of the items (labels, worklogs, summaries, feedback
   and briefing properties, incidents triggered, acknowledged, resolved), then one cycle:
   reads against the pages needed to see those edits, owned values written against the
   values the tools show changed;
5. **echo of (4)** and **steady state again**.

The clock (:class:`benchmarks.common.ShiftedClock`) is shared by the sandbox and the
engine of this process, so "past the overlap" takes no real waiting; every cycle of
2–5 falls in one hour (open incidents count up to the hour: crossing one is a change).
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import (
    PAST_OVERLAP,
    changed_values,
    config_data,
    make_engine,
    next_quiet_start,
    owned_snapshot,
    run_measured,
)
from benchmarks.counting import Streams, kind, stream_names, tally
from benchmarks.minimum import incremental_reads, initial_reads, setup_requests, write_requests
from sandbox.testing import relais_env
from sync.engine import CycleReport


def bulk_edit_available(sb: Any) -> bool:
    """Whether the sandbox serves Jira's bulk edit (so the minimum may count on it)."""
    routes = getattr(getattr(sb._apps["jira"], "router", None), "_routes", [])
    return any("bulk/issues/fields" in regex.pattern for _, regex, _ in routes)


def _measured(sb: Any, streams: Streams, run: Any) -> dict[str, Any]:
    before = owned_snapshot(sb)
    start = len(sb.log)
    t0 = time.monotonic()
    report = run()
    seconds = time.monotonic() - t0
    records = list(sb.log[start:])
    changed = changed_values(before, owned_snapshot(sb))
    return {
        "seconds": round(seconds, 2),
        "requests": tally(records, streams),
        "report": report,
        "changed": changed,
        "records": records,
    }


def _summary(report: Any) -> dict[str, Any]:
    d = report if isinstance(report, dict) else report.as_dict()
    return {
        k: d.get(k)
        for k in (*CycleReport.COUNTS, "followups_created", "notes_created", "errors", "api_calls", "seconds")
    }


def initial_sync(
    sb: Any, config: Path, streams: Streams, *, subprocess: bool, engine: Any = None
) -> dict[str, Any]:
    """The first sync: ``relais sync --once`` in a subprocess (peak RSS measured), or ``engine``."""
    peak: dict[str, Any] = {}

    def run() -> dict[str, Any]:
        if not subprocess:
            return _summary(engine.run_cycle(apply=True))
        done = run_measured(
            [sys.executable, "-m", "sync.cli", "sync", "--once", "-c", str(config)], relais_env(sb)
        )
        peak.update(done)
        if done["returncode"] != 0:
            raise RuntimeError(f"relais sync --once exited {done['returncode']}: {done['stderr'][-2000:]}")
        return _summary(last_cycle(config_data(config)["state"]["path"]))

    started = sb.clock()
    m = _measured(sb, streams, run)
    writes = [r.received for r in m["records"] if kind(r.vendor, r.method, r.path) == "write" and r.received]
    m["first_write_after"] = round((min(writes) - started).total_seconds(), 1) if writes else None
    m["vendor_busy_until"] = {
        v: round((max(r.at for r in m["records"] if r.vendor == v) - started).total_seconds(), 1)
        for v in {r.vendor for r in m["records"]}
    }
    if peak:
        m["peak_rss_mib"] = round(peak["peak_rss_mib"], 1)
    return m


def last_cycle(state_path: str) -> dict[str, Any]:
    db = sqlite3.connect(state_path)
    try:
        return json.loads(db.execute("SELECT summary FROM cycles ORDER BY id DESC LIMIT 1").fetchone()[0])
    finally:
        db.close()


def edit_one_percent(sb: Any, seed: int = 8) -> dict[str, set[str]]:
    """People's work on 1 % of the items, as the UIs would do it; returns what was edited, by stream."""
    rng = random.Random(seed)
    now = sb.clock()
    edited: dict[str, set[str]] = {}
    epics = set(sb.jira.epic_keys())
    issues = [k for k in sb.jira if k not in epics]
    for i, key in enumerate(rng.sample(issues, max(3, len(sb.jira.keys()) // 100))):
        if i % 3 == 0:  # a person tags tech debt: the class may change, and the team's balance
            labels = sb.jira.get_record(key)["labels"]
            sb.jira.edit_issue(key, {"labels": sorted({*labels, "tech-debt"})})
        elif i % 3 == 1:  # an hour logged yesterday: the balance moves
            sb.jira.add_worklog(key, 3600, now - timedelta(days=1))
        else:  # a rename: read again, nothing to write
            sb.jira.edit_issue(key, {"summary": f"{key}: renamed by a person"})
        edited.setdefault("jira", set()).add(key)
    feedback = sb.notion.page_ids("feedback")
    briefings = sb.notion.page_ids("briefings")
    for i, page in enumerate(rng.sample(feedback, max(1, len(feedback) // 100))):
        text = [
            "Refund requested twice by the customer",
            "Search results are incomplete",
            "CSV export broken",
        ][i % 3]
        sb.notion.edit_page(page, {"Details": {"rich_text": [{"text": {"content": text}}]}})
        edited.setdefault("notion:feedback", set()).add(page)
    for page in rng.sample(briefings, max(1, len(briefings) // 100)):
        sb.notion.edit_page(page, {"Impact": {"number": rng.randint(1, 8)}})
        edited.setdefault("notion:briefings", set()).add(page)
    incidents = sb.pagerduty.incident_ids()
    n = max(2, len(incidents) // 100)
    services = sorted({sb.pagerduty.find(i)["service_id"] for i in incidents})
    for i in range(n // 2):  # new incidents
        inc = sb.pagerduty.trigger_incident(
            services[i % len(services)], f"Benchmark incident {i}", urgency="low"
        )
        edited.setdefault("pagerduty", set()).add(inc["id"])
    older = [i for i in incidents if sb.pagerduty.find(i)["status"] == "resolved"]
    for iid in rng.sample(older, n - n // 2):  # a note on an older incident: a log entry names it
        sb.pagerduty.add_note(iid, "Post-mortem scheduled", sb.org.people[0].pd_user_id)
        edited.setdefault("pagerduty", set()).add(iid)
    return edited


def _checks(m: dict[str, Any], reads_min: dict[str, int] | None, streams: Streams) -> dict[str, Any]:
    reads = m["requests"]["reads_by_stream"]
    out: dict[str, Any] = {
        "reads": m["requests"]["by_kind"].get("read", 0),
        "writes": m["requests"]["by_kind"].get("write", 0),
        "write_polls": m["requests"]["by_kind"].get("write_poll", 0),
        "reads_by_stream": reads,
        "streams": stream_names(streams),
    }
    if reads_min is not None:
        out["reads_min_by_stream"] = reads_min
        out["reads_min"] = sum(reads_min.values())
        out["reads_over_min_by_stream"] = {
            s: reads.get(s, 0) - reads_min.get(s, 0) for s in sorted(set(reads) | set(reads_min))
        }
    return out


def api_cost(
    sb: Any, config: Path, clock: Any, *, subprocess: bool = True, one_percent: bool = True, log: Any = print
) -> dict[str, Any]:
    """Run the sequence of the module docstring; returns the figures of each cycle."""
    data = config_data(config)
    streams = Streams.of(sb, data)
    bulk = bulk_edit_available(sb)
    first_sync_days = data["sources"]["pagerduty"].get("first_sync_days", 90)
    out: dict[str, Any] = {"bulk_edit_in_sandbox": bulk, "streams": stream_names(streams)}

    start = clock()
    engine = None if subprocess else make_engine(sb, config, clock)
    try:
        log("initial sync …")
        m = initial_sync(sb, config, streams, subprocess=subprocess, engine=engine)
        reads_min = initial_reads(sb, streams, first_sync_days, start)
        writes_min = write_requests(m["changed"])
        setup = setup_requests(streams)
        minimum = (
            sum(reads_min.values())
            + sum(setup.values())
            + sum((writes_min["with_bulk"] if bulk else writes_min["per_item"]).values())
        )
        out["initial"] = {
            **_checks(m, reads_min, streams),
            "seconds": m["seconds"],
            "report": m["report"],
            "requests": m["requests"],
            "setup": m["requests"]["by_kind"].get("setup", 0),
            "setup_min": sum(setup.values()),
            "writes_min": writes_min,
            "fields_changed": m["changed"]["fields"],
            "items_changed": m["changed"]["items"],
            "created": m["changed"]["created"],
            "total": m["requests"]["total"],
            "minimum": minimum,
            "ratio": round(m["requests"]["total"] / minimum, 3),
            "peak_rss_mib": m.get("peak_rss_mib"),
            "first_write_after": m["first_write_after"],
            "vendor_busy_until": m["vendor_busy_until"],
        }
        if engine is None:
            engine = make_engine(sb, config, clock)
        engine.connect()  # once per process, as the daemon does: not part of any cycle below

        def cycle(name: str) -> dict[str, Any]:
            log(f"{name} …")
            m = _measured(sb, streams, lambda: _summary(engine.run_cycle(apply=True)))
            return {
                "m": m,
                "seconds": m["seconds"],
                "report": m["report"],
                "requests": m["requests"],
                "fields_changed": m["changed"]["fields"],
                "created": m["changed"]["created"],
            }

        clock.set(next_quiet_start(clock()))
        echo = cycle("echo of the initial sync")
        out["echo"] = {**_checks(echo.pop("m"), None, streams), **echo}
        clock.advance(PAST_OVERLAP)
        steady = cycle("steady state")
        out["steady"] = {**_checks(steady.pop("m"), None, streams), **steady}
        if one_percent:
            clock.advance(PAST_OVERLAP)
            since = clock()
            edited = edit_one_percent(sb)
            reads_min = incremental_reads(sb, streams, edited, since - timedelta(seconds=1), clock())
            change = cycle("1 % changed")
            changed = change["m"]["changed"]
            report = change["report"]
            out["change"] = {
                **_checks(change.pop("m"), reads_min, streams),
                **change,
                "edited": {k: len(v) for k, v in edited.items()},
                "writes_min": write_requests(changed),
                "items_changed": changed["items"],
                "fields_written": report["writes"],
                "fields_changed_total": sum(changed["fields"].values()),
            }
            clock.advance(PAST_OVERLAP)
            echo2 = cycle("echo of the 1 % cycle")
            out["echo_change"] = {**_checks(echo2.pop("m"), None, streams), **echo2}
            clock.advance(PAST_OVERLAP)
            again = cycle("steady state again")
            out["steady_again"] = {**_checks(again.pop("m"), None, streams), **again}
    finally:
        if engine is not None:
            engine.close()
    out["at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return out


def steady_problems(steady: dict[str, Any]) -> list[str]:
    """Why a steady-state cycle misses its target (empty when it meets it)."""
    problems = []
    if steady["writes"] or steady["report"]["writes"]:
        problems.append(f"{steady['writes']} write request(s), {steady['report']['writes']} field(s) written")
    over = {s: n for s, n in steady["reads_by_stream"].items() if n > 1 or s not in steady["streams"]}
    if over:
        problems.append(f"reads over one per stream: {over}")
    return problems
