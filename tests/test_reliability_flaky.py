"""Scenario 1 — flaky vendors: a full sync while the sandbox fails about 10 % of requests.

The faults: 429 with ``Retry-After`` in seconds, as an HTTP date, the vendor's
default headers and none at all; 500, 502, 503, Notion's 529; answers held back
past relais' timeout; connection resets; truncated JSON. The properties: the end
state equals a clean run's (same seed, same clock), nothing relais creates exists
twice, every planned write is applied (the last cycle plans nothing), and no
request follows a 429 sooner than its ``Retry-After`` asked.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from reliability_support import (
    converge,
    cut_short,
    duplicates,
    end_state,
    engine_for,
    full_config,
    pinned,
    record,
    state_diff,
)

from sandbox import Sandbox

RATE = 0.10
TIMEOUT = 1.0  # relais' timeout per request; a held-back answer waits longer
COMMON = [
    (429, 1),
    (429, "http-date:2"),
    (429, None),
    (429, "omit"),
    (500, None),
    (502, None),
    (503, None),
    ("timeout", None),
    ("reset", None),
    ("malformed", None),
]
KINDS = {"jira": COMMON, "pagerduty": COMMON, "notion": COMMON + [(529, None)]}


def short_timeouts(cfg: dict) -> None:
    for source in cfg["sources"].values():
        source["timeout_seconds"] = TIMEOUT


def add_faults(sb: Sandbox, rate: float = RATE) -> None:
    """Each kind at the rate that makes ~``rate`` of each vendor's requests fail (the first
    matching rule fires, each drawn independently)."""
    for vendor, kinds in KINDS.items():
        each = 1 - (1 - rate) ** (1 / len(kinds))
        for kind, retry_after in kinds:
            sb.faults.add(vendor, kind, rate=each, retry_after=retry_after, delay=TIMEOUT * 1.5)


def run_flaky(tmp_path: Path, seed: int, size: str, fast_backoff: bool) -> dict:
    """A clean run and a faulty run of one org; returns the figures (asserts the properties)."""
    now = datetime.now(UTC)
    with Sandbox(seed=seed, size=size) as ref:
        engine = engine_for(ref, full_config(ref, tmp_path / f"ref-{seed}", short_timeouts), pinned(now))
        try:
            _, clean_cycles = converge(engine)
        finally:
            engine.close()
        expected = end_state(ref)
    assert clean_cycles <= 2

    with Sandbox(seed=seed, size=size) as sb:
        add_faults(sb)
        engine = engine_for(sb, full_config(sb, tmp_path / f"flaky-{seed}", short_timeouts), pinned(now))
        if fast_backoff:
            for connector in engine.connectors.values():
                connector.policy.backoff_base = 0.05  # Retry-After is still honoured in full
        t0 = time.monotonic()
        try:
            # A short pause stands for the daemon's interval between cycles.
            reports, cycles = converge(engine, max_cycles=12, between=lambda: time.sleep(0.3))
        finally:
            engine.close()
        seconds = time.monotonic() - t0
        fired = sum(rule.fired for rule in sb.faults.rules)
        sb.faults.clear()
        actual, dups, short = end_state(sb), duplicates(sb), cut_short(sb)
        requests = len(sb.log)
    assert cycles <= 12, f"still failing or planning after 12 cycles: {[r.errors for r in reports]}"
    assert sum(dups.values()) == 0, dups
    assert state_diff(expected, actual) == []
    assert short == [], short[:5]
    assert fired >= requests * RATE / 3, "the faults must really fire"
    return {
        "requests": requests,
        "requests_faulted": fired,
        "cycles": cycles,
        "writes_applied": sum(r.writes for r in reports),
        "rows_created": sum(r.created for r in reports),
        "duplicates": sum(dups.values()),
        "writes_lost": len(state_diff(expected, actual, limit=10**6)),
        "retry_after_cut_short": len(short),
        "seconds": round(seconds, 1),
    }


def _total(runs: list[dict]) -> dict:
    keys = runs[0].keys()
    out = {k: sum(r[k] for r in runs) for k in keys if k not in ("cycles", "seconds")}
    out["max_cycles"] = max(r["cycles"] for r in runs)
    out["seconds"] = round(sum(r["seconds"] for r in runs), 1)
    out["runs"] = len(runs)
    return out


def test_a_demo_sync_under_ten_percent_faults_ends_like_a_clean_one(tmp_path):
    runs = [run_flaky(tmp_path, seed, "demo", fast_backoff=True) for seed in (7, 8)]
    record("flaky", "fast", size="demo", fault_rate=RATE, **_total(runs))


@pytest.mark.slow
def test_small_syncs_under_ten_percent_faults_end_like_clean_ones(tmp_path):
    runs = [run_flaky(tmp_path, seed, "small", fast_backoff=False) for seed in range(21, 24)]
    record("flaky", "long", size="small", fault_rate=RATE, **_total(runs))
