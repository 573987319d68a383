"""Scenario 12 — a wall clock that steps: `relais run` keeps polling on schedule.

An NTP correction, a VM resumed after a pause, a daylight-saving change in the
process's zone: the wall clock jumps while the daemon runs. `relais run` runs as a
subprocess whose every Python reading of the wall clock follows a file the test
writes (tests/wallclock/sitecustomize.py; its monotonic clock, TLS and the
sandbox keep the real time). The clock is stepped back an hour, then forward a
day; polling must go on at its pace (each source polled about once per interval,
never stopped, never in a burst) and /readyz must stay ready.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

from daemon_support import RelaisProcess, daemon_config, get, wait_for
from reliability_support import record

WALLCLOCK = Path(__file__).resolve().parent / "wallclock"
WINDOW = 6.0  # seconds watched after each step; the interval is 1 s


def cycles_in(relais: RelaisProcess, seconds: float) -> tuple[dict[str, int], list[float]]:
    """Poll cycles each source finished during the next ``seconds``, from the daemon's log, and how
    far its log's wall clock was from the real one on those lines (seconds)."""
    before = len(relais.lines)
    time.sleep(seconds)
    out = {"jira": 0, "notion": 0, "pagerduty": 0}
    skew = []
    for line in relais.lines[before:]:
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("msg") == "cycle finished" and entry.get("kind") == "poll":
                out[entry["source"]] += 1
                skew.append(datetime.fromisoformat(entry["ts"]).timestamp() - time.time())
    return out, skew


def test_a_wall_clock_stepped_back_an_hour_and_forward_a_day_does_not_stop_or_burst_polling(
    sandbox, tmp_path
):
    offset = tmp_path / "wallclock-offset"
    offset.write_text("0")
    config = daemon_config(sandbox, tmp_path, interval=1)
    env = {"PYTHONPATH": str(WALLCLOCK), "RELAIS_TEST_WALLCLOCK": str(offset)}
    relais = RelaisProcess(sandbox, config, **env)
    try:
        url = relais.url
        wait_for(lambda: get(url + "/readyz")[0] == 200, timeout=60, what="/readyz 200")
        steady, steady_skew = cycles_in(relais, WINDOW)
        offset.write_text("-3600")  # back an hour
        back, back_skew = cycles_in(relais, WINDOW)
        back_ready = json.loads(get(url + "/readyz")[1])
        offset.write_text(str(86_400 - 3600))  # then forward a day from there
        forward, forward_skew = cycles_in(relais, WINDOW)
        forward_ready = json.loads(get(url + "/readyz")[1])
        assert relais.stop() == 0
    finally:
        relais.close()
    # The daemon's wall clock really stepped: its log lines carry it.
    assert max(abs(s) for s in steady_skew) < 60
    assert all(-3700 < s < -3500 for s in back_skew[1:]) and back_skew, back_skew
    assert all(86_400 - 3700 < s < 86_400 - 3500 for s in forward_skew[1:]) and forward_skew, forward_skew
    for window, name in (
        (steady, "steady"),
        (back, "after a step back of an hour"),
        (forward, "after a step forward of a day"),
    ):
        for source, n in window.items():
            # About one poll a second, each counted from the end of the last: never none, never a burst.
            assert WINDOW / 3 <= n <= WINDOW + 2, f"{source} polled {n} times in {WINDOW} s {name}: {window}"
    assert back_ready["status"] == "ready" and forward_ready["status"] == "ready", json.dumps(
        [back_ready, forward_ready]
    )
    record(
        "clock",
        "stepped",
        interval_seconds=1,
        window_seconds=WINDOW,
        polls_steady=steady,
        polls_after_back_1h=back,
        polls_after_forward_1d=forward,
        readyz_after_steps=forward_ready["status"],
    )
