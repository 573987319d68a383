"""Memory over many steady-state cycles (target 5, second half): run as its own process
(``python -m benchmarks.soak``), so that its resident set is relais' and this sandbox's only.

One engine, one sandbox (the small org), one shared clock: a first sync, its echo, then the
clock is past the overlap and ``--cycles`` steady-state cycles run back to back, as a
daemon's would. The resident set (``VmRSS``) is sampled every ``--every`` cycles; the
sandbox's request log is emptied at each sample, so what grows is not the benchmark's own
bookkeeping. Prints one JSON object: the samples, and the slope of a least-squares line
through the samples after the first tenth (warm-up), in KiB per 100 cycles.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import PAST_OVERLAP, ShiftedClock, make_engine, next_quiet_start, relais_config
from sandbox import Sandbox


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def slope(points: list[tuple[int, int]]) -> float:
    """Least-squares slope of (cycle, KiB), in KiB per cycle."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def soak(size: str, cycles: int, every: int, state_url: str | None = None) -> dict:
    """``state_url``: the store on PostgreSQL (an empty database) instead of a SQLite file."""
    clock = ShiftedClock()

    def on(data: dict) -> None:
        if state_url:
            data["state"] = {"url": state_url}

    with tempfile.TemporaryDirectory() as tmp, Sandbox(seed=7, size=size, clock=clock) as sb:
        config = relais_config(sb, Path(tmp), pace={"jira": 100, "notion": 100, "pagerduty": 100}, tweak=on)
        engine = make_engine(sb, config, clock)
        try:
            engine.run_cycle(apply=True)
            clock.set(next_quiet_start(clock()))
            engine.run_cycle(apply=True)  # the echo of the first sync's writes
            clock.advance(PAST_OVERLAP)
            samples, writes, t0 = [(0, rss_kib())], 0, time.monotonic()
            for n in range(1, cycles + 1):
                writes += engine.run_cycle(apply=True).writes
                if n % every == 0:
                    sb.log.clear()
                    samples.append((n, rss_kib()))
            seconds = time.monotonic() - t0
        finally:
            engine.close()
    settled = [p for p in samples if p[0] >= cycles // 10]
    return {
        "store": "postgresql" if state_url else "sqlite",
        "size": size,
        "cycles": cycles,
        "cycle_ms": round(seconds / cycles * 1000, 1),
        "seconds": round(seconds, 1),
        "writes": writes,
        "rss_kib": samples,
        "first_mib": round(samples[0][1] / 1024, 1),
        "last_mib": round(samples[-1][1] / 1024, 1),
        "peak_mib": round(max(y for _, y in samples) / 1024, 1),
        "slope_kib_per_100_cycles": round(slope(settled) * 100, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="small")
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument(
        "--postgresql",
        action="store_true",
        help="the store in a fresh PostgreSQL database (benchmarks.common)",
    )
    args = parser.parse_args()
    if args.postgresql:
        from benchmarks.common import postgres_database

        with postgres_database() as url:
            print(json.dumps(soak(args.size, args.cycles, args.every, url)))
    else:
        print(json.dumps(soak(args.size, args.cycles, args.every)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
