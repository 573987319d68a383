"""/readyz on the monotonic clock: a source whose timer stopped is stale, a long cycle is not."""

from __future__ import annotations

import time
from pathlib import Path

from conftest import write_config

from sync.daemon import Daemon, SourceState
from sync.engine import Engine
from sync.settings import load_settings, resolve_secrets


def readiness_with(sandbox, tmp_path: Path, **ages: tuple[float, float]) -> tuple[bool, dict]:
    """/readyz of a daemon (not started) whose sources last started and finished a cycle so many
    seconds ago."""
    config = write_config(
        sandbox,
        tmp_path,
        lambda d: d.update(
            daemon={"intervals": {"jira": 60, "notion": 60, "pagerduty": 60}, "jitter_seconds": 0}
        ),
    )
    settings = load_settings(config)
    secrets = resolve_secrets(settings, environ=sandbox.env)
    daemon = Daemon(config, settings, secrets)
    daemon.engine = Engine(settings, secrets, writer=False)
    now = time.monotonic()
    for name, (started, finished) in ages.items():
        daemon.sources[name] = SourceState(
            name, cycles=3, last_started_monotonic=now - started, last_finished_monotonic=now - finished
        )
    try:
        return daemon.readiness()
    finally:
        daemon.engine.close()


def test_a_source_whose_last_cycle_is_several_intervals_old_is_stale_and_ready_says_degraded(
    sandbox, tmp_path
):
    ready, details = readiness_with(sandbox, tmp_path, jira=(1000, 999), notion=(5, 4), pagerduty=(3, 2))
    assert ready and details["status"] == "degraded"
    assert {n: s["status"] for n, s in details["sources"].items()} == {
        "jira": "stale",
        "notion": "ok",
        "pagerduty": "ok",
    }
    assert details["sources"]["jira"]["seconds_since_last_cycle"] >= 999


def test_a_long_first_cycle_still_running_is_not_stale(sandbox, tmp_path):
    ready, details = readiness_with(sandbox, tmp_path, jira=(900, 1000), notion=(5, 4), pagerduty=(3, 2))
    assert details["sources"]["jira"]["status"] == "ok" and details["status"] == "ready"
