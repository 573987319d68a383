"""Cycle cost against the sandbox: API calls per vendor, wall time, peak memory.

Prints a table and writes benchmarks/results/cycle-<size>.json. Numbers, not
pass/fail: a first full sync, then a steady-state cycle (which must make no
writes). Run with `make bench` or `python benchmarks/run.py --size small`.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox import Sandbox  # noqa: E402
from sync.engine import Engine  # noqa: E402
from sync.settings import load_settings, resolve_secrets  # noqa: E402


def measure(size: str, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, Sandbox(seed=seed, size=size) as sb:
        cfg = sb.config(str(Path(tmp) / "relais.db"))
        path = Path(tmp) / "relais.yaml"
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        settings = load_settings(path)
        engine = Engine(settings, resolve_secrets(settings, environ=sb.env))
        rows = []
        try:
            engine.connect()
            for label in ("first sync", "steady state"):
                tracemalloc.start()
                t0 = time.perf_counter()
                report = engine.run_cycle(apply=True)
                seconds = time.perf_counter() - t0
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                rows.append({
                    "cycle": label, "seconds": round(seconds, 3), "peak_mib": round(peak / 2**20, 1),
                    "pulled": report.pulled, "api_calls": report.api_calls, "writes": report.writes,
                    "errors": report.errors,
                })
        finally:
            engine.close()
    return {"size": size, "seed": seed, "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="small", help="sandbox org size: demo, small, large")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = measure(args.size, args.seed)
    result.update({"when": datetime.now(timezone.utc).isoformat(), "python": platform.python_version(),
                   "machine": platform.machine()})
    print(f"size={args.size} seed={args.seed}")
    print(f"{'cycle':14} {'seconds':>8} {'peak MiB':>9} {'writes':>7}  pulled / API calls per vendor")
    for r in result["rows"]:
        per_vendor = ", ".join(f"{v}: {r['pulled'].get(v, 0)}/{r['api_calls'].get(v, 0)}" for v in sorted(r["api_calls"]))
        print(f"{r['cycle']:14} {r['seconds']:8.2f} {r['peak_mib']:9.1f} {r['writes']:7}  {per_vendor}")
    out = ROOT / "benchmarks" / "results" / f"cycle-{args.size}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {out.relative_to(ROOT)}")
    steady = result["rows"][-1]
    return 0 if steady["writes"] == 0 and not steady["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
