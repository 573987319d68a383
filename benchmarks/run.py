"""`make bench`: relais against the large org, next to the minimum and a naive sync.

Starts the sandbox with the organisation of issue 8 (``benchmarks.common.LARGE``), runs
each scenario, writes ``benchmarks/results.json`` and the table of ``docs/PERFORMANCE.md``
(between its ``results`` markers; the prose around it is kept). Exit status 1 when a
target is missed, so a regression shows; the figures are written either way.

    python benchmarks/run.py [--scale 10] [--size large|small] [--skip latency,naive,...]

``--scale``: the vendors' published limits (and relais' pace) multiplied, so that the
rate-limited initial sync fits the 20-minute budget (see docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    EXAMPLE_PACE,
    LARGE,
    ShiftedClock,
    config_data,
    relais_config,
    run_measured,
    set_limits,
)
from benchmarks.cost import api_cost  # noqa: E402
from benchmarks.report import render, targets  # noqa: E402
from sandbox import Sandbox  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results.json"
DOC = ROOT / "docs" / "PERFORMANCE.md"


def _log(t0: float):
    return lambda message: print(f"[{time.monotonic() - t0:6.0f} s] {message}", flush=True)


def wall_bound(initial: dict, limits: dict[str, float]) -> dict:
    """Target 2's bound: per vendor, the requests it received ÷ its rate; vendors in parallel."""
    bound = {
        v: round(initial["requests"]["by_vendor"][v]["total"] / rate, 1)
        for v, rate in limits.items()
        if v in initial["requests"]["by_vendor"]
    }
    return {
        "wall_bound_by_vendor": bound,
        "wall_bound": max(bound.values()),
        "wall_ratio": round(initial["seconds"] / max(bound.values()), 3),
    }


@contextlib.contextmanager
def limited_org(size: dict | str, scale: float) -> Iterator[tuple[Sandbox, Path, ShiftedClock, dict, Path]]:
    """A sandbox holding the org of ``size`` at the vendors' limits ×``scale``, and relais'
    config for it, paced as the example config says ×``scale``; (sandbox, config, clock,
    limits in force, a scratch directory)."""
    clock = ShiftedClock()
    with tempfile.TemporaryDirectory() as tmp, Sandbox(seed=7, size=size, clock=clock) as sb:
        limits = set_limits(sb, scale)
        config = relais_config(sb, Path(tmp) / "relais", pace={v: r * scale for v, r in EXAMPLE_PACE.items()})
        yield sb, config, clock, limits, Path(tmp)


def initial_at_limits(size: str, scale: float) -> dict:
    """`relais sync --once` on a fresh org of ``size``, the sandbox at the limits ×``scale``."""
    from benchmarks.cost import initial_sync
    from benchmarks.counting import Streams

    with limited_org(size, scale) as (sb, config, _, limits, _):
        m = initial_sync(sb, config, Streams.of(sb, config_data(config)), subprocess=True, engine=None)
        return {
            "size": size,
            "scale": scale,
            "limits": limits,
            "seconds": m["seconds"],
            "requests": m["requests"]["by_vendor"],
            "first_write_after": m["first_write_after"],
            **wall_bound(m, limits),
        }


def measure(size: dict | str, scale: float, skip: set[str], log) -> dict:
    from benchmarks.latency import latency
    from benchmarks.naive import naive_cycle
    from benchmarks.throughput import throughput

    out: dict = {"org": size, "scale": scale}
    with limited_org(size, scale) as (sb, config, clock, limits, tmp):
        out["limits"] = limits
        log(
            f"sandbox up: {len(sb.jira)} issues, {len(sb.pagerduty.incident_ids())} incidents; "
            f"limits {limits} req/s"
        )
        cost = api_cost(sb, config, clock, subprocess=True, log=log)
        cost["initial"].update(wall_bound(cost["initial"], limits))
        out["cost"] = cost
        state = Path(config_data(config)["state"]["path"])
        if "throughput" not in skip:
            log("throughput: derive + plan over 100,000 stored items after a rule change …")
            out["throughput"] = throughput(
                sb, config, state, tmp / "throughput", postgres="postgresql" not in skip
            )
        if "latency" not in skip:
            out["latency"] = latency(sb, config, clock, tmp, log=log)
        if "naive" not in skip:
            log("naive baseline: one cycle (every cycle of it is the same) …")
            start = len(sb.log)
            t0 = time.monotonic()
            done = naive_cycle(sb, config, limits, now=clock())
            from benchmarks.counting import Streams, tally

            records = list(sb.log[start:])
            out["naive"] = {
                **done,
                "seconds": round(time.monotonic() - t0, 1),
                "requests": tally(records, Streams.of(sb, config_data(config))),
            }
    if "published" not in skip:
        log("initial sync of the small org at the published limits (×1) …")
        out["published_limits"] = initial_at_limits("small", 1.0)
    if "soak" not in skip:
        log("memory: 1,000 steady-state cycles in a process of their own …")
        done = run_measured(
            [sys.executable, "-m", "benchmarks.soak", "--size", "small", "--cycles", "1000"], dict(os.environ)
        )
        if done["returncode"] != 0:
            raise RuntimeError(f"soak failed: {done['stderr'][-2000:]}")
        out["soak"] = json.loads(done["stdout"].strip().splitlines()[-1])
    if "postgresql" not in skip and "soak" not in skip:
        log("memory and cycle time with the store on PostgreSQL: 300 steady-state cycles …")
        done = run_measured(
            [sys.executable, "-m", "benchmarks.soak", "--size", "small", "--cycles", "300", "--every", "15"]
            + ["--postgresql"],
            dict(os.environ),
        )
        if done["returncode"] != 0:
            raise RuntimeError(f"soak on PostgreSQL failed: {done['stderr'][-2000:]}")
        out["soak_postgresql"] = json.loads(done["stdout"].strip().splitlines()[-1])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--size", default="large", help="large (issue 8's org) or a sandbox size name")
    parser.add_argument(
        "--skip", default="", help="comma-separated: throughput,latency,naive,published,soak,postgresql"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print, but leave results.json and the doc alone"
    )
    args = parser.parse_args()
    t0 = time.monotonic()
    log = _log(t0)
    size = LARGE if args.size == "large" else args.size
    result = measure(size, args.scale, set(filter(None, args.skip.split(","))), log)
    result.update(
        {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cores": os.cpu_count(),
            "bench_seconds": round(time.monotonic() - t0),
        }
    )
    checks = targets(result)
    result["targets"] = checks
    for row in checks:
        log(f"{'ok  ' if row['met'] else 'MISS'} {row['target']}: {row['measured']} (target {row['wanted']})")
    if not args.no_write:
        RESULTS.write_text(json.dumps(result, indent=1, default=str) + "\n")
        render(result, DOC)
        log(f"written: {RESULTS.relative_to(ROOT)}, {DOC.relative_to(ROOT)}")
    return 0 if all(row["met"] for row in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
