"""A first sync of the benchmark organisation with its progress recorded: what relais says
at the start, at 25 % and 50 % of the run, against the duration measured.

    python benchmarks/first_sync.py [--scale 1] [--out benchmarks/first_sync.json]

The sandbox holds ``benchmarks.common.LARGE`` and enforces the vendors' published limits
×``scale``; relais is paced as the example config says ×``scale`` (``--scale 1``: the real
limits). The engine runs in this process with its :class:`sync.progress.Progress`, sampled
every second: the figures are those `relais sync --once` draws on a terminal, the daemon
logs and ``/readyz`` shows.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import LARGE, make_engine  # noqa: E402
from benchmarks.run import limited_org  # noqa: E402
from sync.progress import Progress, duration, line  # noqa: E402


def _at(samples: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """The last sample taken at or before ``seconds`` into the run."""
    return [s for s in samples if s["t"] <= seconds][-1]


def _shown(sample: dict[str, Any]) -> dict[str, Any]:
    snap = sample["snapshot"]
    left = snap["eta_seconds"]
    return {
        "at_seconds": round(sample["t"], 1),
        "phase": snap["phase"],
        "line": line(snap),
        "time_left_seconds": left,
        "predicted_total_seconds": None if left is None else round(sample["t"] + left, 1),
        "includes_writes": snap["eta_includes_writes"],
    }


def first_sync(scale: float) -> dict[str, Any]:
    samples: list[dict[str, Any]] = []
    with limited_org(LARGE, scale) as (sb, config, clock, limits, _):
        engine = make_engine(sb, config, clock)
        done = threading.Event()
        t0 = time.monotonic()
        announced: list[dict[str, Any]] = []

        def at_start(tracker: Progress) -> None:
            """What is shown once every source has announced its read (before any page)."""
            if not announced and len(tracker.reads) == 3:
                announced.append({"t": time.monotonic() - t0, "snapshot": tracker.snapshot()})

        engine.progress = Progress(listener=at_start)

        def sample() -> None:
            while not done.wait(1.0):
                if engine.progress.phase != "idle":
                    samples.append({"t": time.monotonic() - t0, "snapshot": engine.progress.snapshot()})

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            report = engine.run_cycle(apply=True)
        finally:
            seconds = time.monotonic() - t0
            done.set()
            sampler.join()
            engine.close()
        planned = next((s for s in samples if s["snapshot"]["writes"] is not None), None)
        return {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "org": LARGE,
            "scale": scale,
            "limits": limits,
            "seconds": round(seconds, 1),
            "pulled": report.pulled,
            "writes": report.writes,
            "created": report.created,
            "errors": report.errors,
            "api_calls": report.api_calls,
            "at_start": _shown(announced[0]),
            "writes_planned": None if planned is None else _shown(planned),
            "at_25_percent": _shown(_at(samples, seconds * 0.25)),
            "at_50_percent": _shown(_at(samples, seconds * 0.5)),
            "at_75_percent": _shown(_at(samples, seconds * 0.75)),
            "samples": [{"t": round(s["t"], 1), "line": line(s["snapshot"])} for s in samples[::10]],
        }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "first_sync.json")
    args = parser.parse_args()
    result = first_sync(args.scale)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    for key in ("at_start", "writes_planned", "at_25_percent", "at_50_percent", "at_75_percent"):
        shown = result[key]
        if shown:
            print(f"{key}: {shown['at_seconds']} s: {shown['line']}")
    print(f"measured: {duration(result['seconds'])} ({result['seconds']} s); errors: {result['errors']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
