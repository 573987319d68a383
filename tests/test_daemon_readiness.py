"""/readyz on the monotonic clock: a source whose timer stopped is stale, a long cycle is not."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from conftest import write_config
from daemon_support import daemon_config, get, wait_for

from sync.daemon import Daemon, SourceState
from sync.engine import Engine
from sync.log import JsonFormatter, get_logger
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


class Lines(logging.Handler):
    """The daemon's log records, as they are emitted."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_slow_first_sync_shows_its_progress_on_readyz_and_in_the_log(sandbox, tmp_path):
    # Jira at 5 requests/s and 5 issues a page: a first read of some 15 pages, slow enough to watch
    sandbox.set_rate_limit("jira", 5, burst=5)
    config = daemon_config(
        sandbox,
        tmp_path,
        interval=600,
        tweak=lambda d: d["sources"]["jira"].update(requests_per_second=5, page_size=5),
    )
    settings = load_settings(config)
    daemon = Daemon(config, settings, resolve_secrets(settings, environ=sandbox.env), environ=sandbox.env)
    daemon.PROGRESS_EVERY = 0.2  # the log line's pace (15 s in production)
    lines = Lines()
    log = get_logger()
    log.addHandler(lines)
    daemon.start()
    try:
        url = f"http://{daemon.listen_address()}/readyz"

        def reading_jira() -> dict | None:
            status, body, _ = get(url)
            data = json.loads(body)
            jira = ((data.get("progress") or {}).get("sources") or {}).get("jira")
            return data if status == 503 and jira and 0 < jira["read"] < (jira["estimate"] or 0) else None

        data = wait_for(reading_jira, what="/readyz during Jira's first read")
        assert data["status"] == "starting" and data["message"] == "not ready: first sync in progress"
        jira = data["progress"]["sources"]["jira"]
        issues = len(sandbox.jira.keys())  # the demo's issues, every one of them in the work JQL
        assert jira["estimate"] == issues and jira["estimate_from"] == "approximate-count"
        assert 0 < jira["read"] < issues and jira["eta_seconds"] > 0

        def progress_line() -> logging.LogRecord | None:
            return next((r for r in list(lines.records) if r.getMessage().startswith("progress: ")), None)

        # the status page shows the same figures while the read runs
        status, page, _ = get(f"http://{daemon.listen_address()}/")
        assert status == 200 and '<section id="progress"><h2>Sync in progress</h2>' in page
        assert (
            "<td>reading jira</td><td>" in page
            and f"</td><td>{issues:,}</td><td>approximate-count</td>" in page
        )

        record = wait_for(progress_line, what="a progress line in the log")
        logged = record.__dict__["progress"]
        assert logged["sources"]["jira"]["estimate"] == issues
        assert f"jira {logged['sources']['jira']['read']:,}/{issues:,} (ETA " in record.getMessage()
        assert json.loads(JsonFormatter().format(record))["progress"]["sources"]["jira"]["estimate"] == issues

        wait_for(lambda: daemon.readiness()[0], timeout=120, what="the first cycles")
        _, ready = daemon.readiness()
        assert "message" not in ready and ready["progress"] is None  # nothing runs any more
    finally:
        daemon.shutdown()
        log.removeHandler(lines)
