"""Core throughput (target 4): derive + plan over 100,000 stored items after a rule change,
with no API call.

The state store of the large org's sync (about 15,000 items) is copied and its items
cloned — each clone a distinct item (``<id>~<n>``, ``<key>~<n>``) with the same content,
so the teams, weeks, epics and briefings grow in proportion; scorecard rows are not
cloned (a row is unique per team and week) — until it holds 100,000. Then a classify rule
is added, as Product Ops would in the YAML, and the engine's plan phase runs over the
store as ``relais plan`` does after its pull: quarantine, the audit lookups, derive,
balance, routing, briefing status, scorecard and the diff. Timed in this process, on one
core (the plan is one thread); the sandbox counts the requests made meanwhile (none).

``python -m benchmarks.throughput CONFIG --profile`` prints a cProfile of the same run.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import make_engine
from sync.state import StateStore

TARGET_ITEMS = 100_000
#: The rule change: a label that makes work IMPROVE, placed before the default.
NEW_RULE = {"name": "refactoring is IMPROVE", "when": {"labels": {"any": ["refactoring"]}}, "then": "IMPROVE"}


def cloned_store(source: Path, target: Path, items: int = TARGET_ITEMS) -> int:
    """Copy the store at ``source`` to ``target`` and clone its items up to ``items``; returns the count."""
    src = sqlite3.connect(str(source))
    try:
        src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        src.close()
    shutil.copyfile(source, target)
    db = sqlite3.connect(str(target))
    try:
        base = db.execute("SELECT COUNT(*) FROM items WHERE kind != 'scorecard'").fetchone()[0]
        n = 1
        while db.execute("SELECT COUNT(*) FROM items").fetchone()[0] < items:
            left = items - db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
            db.execute(
                "INSERT INTO items SELECT source, id || ?1, key || ?1, kind, updated, hash, "
                "json_set(item, '$.id', id || ?1, '$.key', key || ?1), raw, first_seen, last_changed "
                "FROM items WHERE kind != 'scorecard' AND instr(id, '~') = 0 ORDER BY source, id LIMIT ?2",
                (f"~{n}", min(base, left)),
            )
            n += 1
        db.commit()
        return db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    finally:
        db.close()


def with_rule_change(config: Path, state: Path | str, out: Path, ca_path: str) -> Path:
    data = yaml.safe_load(config.read_text())
    data["state"] = {"url": state} if isinstance(state, str) else {"path": str(state)}
    for source in data["sources"].values():
        source["ca_bundle"] = ca_path  # a live sandbox's (nothing is asked of it)
    data["classify"].insert(len(data["classify"]) - 1, dict(NEW_RULE))
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return out


def plan_seconds(sb: Any, config: Path, state: Path | str, profile: bool = False) -> dict[str, Any]:
    """The engine's plan phase over the store at ``state`` (no pull, no write)."""
    engine = make_engine(sb, config)
    engine.store = StateStore(state)  # no connect(): nothing but the store is read
    try:
        requests = len(sb.log)
        cycle = engine.begin("plan")
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        engine.plan(cycle)
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        items = sum(engine.store.count_items().values())
        return {
            "items": items,
            "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2),
            "items_per_second": round(items / seconds),
            "planned_changes": len(cycle.report.planned),
            "api_requests": len(sb.log) - requests,
        }
    finally:
        engine.close()


def throughput(
    sb: Any, config: Path, state: Path, work: Path, profile: bool = False, postgres: bool = False
) -> dict[str, Any]:
    """The plan over 100,000 items on SQLite; with ``postgres``, the same store copied into a
    PostgreSQL database (as `relais state copy` does) and planned there too, beside it."""
    work.mkdir(parents=True, exist_ok=True)
    big = work / "relais-100k.db"
    count = cloned_store(state, big)
    changed = with_rule_change(config, big, work / "relais-rule-change.yaml", sb.ca_path)
    result = plan_seconds(sb, changed, big, profile)
    result["cloned_to"] = count
    if postgres:
        result["postgresql"] = on_postgresql(sb, config, big, work)
    return result


def on_postgresql(sb: Any, config: Path, big: Path, work: Path) -> dict[str, Any]:
    from benchmarks.common import postgres_database
    from sync.state import copy_store

    with postgres_database() as url:
        t0 = time.perf_counter()
        source, target = StateStore.existing(big), StateStore(url)
        try:
            copied = sum(copy_store(source, target).values())
        finally:
            source.close()
            target.close()
        copy_seconds = time.perf_counter() - t0
        changed = with_rule_change(config, url, work / "relais-rule-change-pg.yaml", sb.ca_path)
        return {
            **plan_seconds(sb, changed, url),
            "rows_copied": copied,
            "copy_seconds": round(copy_seconds, 1),
        }


if __name__ == "__main__":
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", type=Path, help="the large org's relais.yaml (its state store is cloned)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    from sandbox import Sandbox

    state = Path(yaml.safe_load(args.config.read_text())["state"]["path"])
    with Sandbox(seed=7, size="demo") as sb, tempfile.TemporaryDirectory() as tmp:
        print(throughput(sb, args.config, state, Path(tmp), args.profile))
