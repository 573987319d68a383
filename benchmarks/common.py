"""What the benchmark's scenarios share: the organisations, the clock, relais' config and
engine, and what the tools hold (to count the owned values a cycle really changed)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from sandbox import Sandbox
from sync.engine import Engine
from sync.settings import load_settings, resolve_secrets

ROOT = Path(__file__).resolve().parents[1]

#: The organisation issue 8 names: 10,000 Jira issues with worklogs and links, 2,000
#: incidents with their log entries, 500 briefings, 2,000 feedback pages, 12 teams, 12 weeks.
LARGE = {
    "teams": 12,
    "people_per_team": 4,
    "weeks": 12,
    "issues": 10_000,
    "incidents": 2_000,
    "open_incidents": 10,
    "briefings": 500,
    "feedback": 2_000,
    "epics_per_team": 20,
}
#: The smoke version in `make test` (a few seconds).
SMOKE = "demo"

#: The vendors' published limits (requests/s, burst): Notion's average of 3/s, PagerDuty's
#: 960/min, and for Jira Cloud's unpublished burst limits the 10/s the reliability suite uses.
PUBLISHED = {"notion": (3.0, 3.0), "pagerduty": (16.0, 16.0), "jira": (10.0, 10.0)}
#: relais' pace in config/relais.example.yaml.
EXAMPLE_PACE = {"notion": 3.0, "pagerduty": 10.0, "jira": 10.0}
#: Minutes after which a source's overlap window no longer holds a given edit (the longest
#: overlap, PagerDuty's 10 minutes, plus one).
PAST_OVERLAP = timedelta(minutes=11)


class ShiftedClock:
    """The system's time plus an offset that :meth:`set` moves: shared by the sandbox and relais'
    engine in this process, so that "the overlap has passed" takes no real waiting. Real time
    still flows (a cycle takes its real seconds); a ``relais`` subprocess sees offset 0."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def set(self, when: datetime) -> None:
        with self._lock:
            self._offset = when - datetime.now(UTC)

    def advance(self, delta: timedelta) -> datetime:
        self.set(self() + delta)
        return self()


def next_quiet_start(now: datetime) -> datetime:
    """One minute into the next hour that starts after the overlap of ``now``'s writes has passed:
    the steady cycles that follow all fall in that hour (open incidents count up to the hour, so
    crossing one is a real change)."""
    after = now + PAST_OVERLAP
    return after.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1, minutes=1)


def relais_config(
    sb: Sandbox,
    directory: Path,
    *,
    pace: dict[str, float] | None = None,
    tweak: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """Everything relais writes switched on (work types, scorecard, routing, briefing status,
    follow-ups), as the reliability suite runs it; ``pace``: relais' requests_per_second."""
    directory.mkdir(parents=True, exist_ok=True)
    data = sb.config(str(directory / "relais.db"), balance=True, routing=True, briefings=True)
    data["followups"]["confirm_after_seconds"] = 1  # the sandbox's search does not lag
    for vendor, rate in (pace or {}).items():
        data["sources"][vendor]["requests_per_second"] = min(100.0, rate)
    if tweak:
        tweak(data)
    path = directory / "relais.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def config_data(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def make_engine(sb: Sandbox, config: Path, clock: Callable[[], datetime] | None = None) -> Engine:
    settings = load_settings(config)
    return Engine(settings, resolve_secrets(settings, environ=sb.env), clock=clock)


def set_limits(sb: Sandbox, scale: float | None) -> dict[str, float]:
    """The sandbox enforces the published limits times ``scale`` (None: the sandbox's generous
    default, for the runs that count requests and not seconds); returns the rates in force."""
    if scale is None:
        for vendor in PUBLISHED:
            sb.set_rate_limit(vendor, 10_000, burst=10_000)
        return {}
    for vendor, (rate, burst) in PUBLISHED.items():
        sb.set_rate_limit(vendor, rate * scale, burst=burst * scale)
    return {v: rate * scale for v, (rate, _) in PUBLISHED.items()}


# -- what the tools hold -----------------------------------------------------------------
_VOLATILE = {"last_edited_time", "last_edited_by", "created_time", "created_by"}


def owned_snapshot(sb: Sandbox) -> dict[str, Any]:
    """Every value relais may write, as the tools hold it: each Jira issue's custom fields and
    labels, each Notion page's properties, each incident's notes (their count)."""
    snap: dict[str, Any] = {}
    for key, values in sb.jira.field_values().items():
        snap[f"jira:{key}"] = values
    for page_id, rec in sb.notion.snapshot_pages().items():
        if rec["in_trash"]:
            continue
        schema = sb.notion.schemas[rec["source"]]
        snap[f"notion:{rec['source']}:{page_id}"] = {
            name: value
            for name, value in rec["values"].items()
            if getattr(schema.get(name), "type", None) not in _VOLATILE
        }
    for iid in sb.pagerduty.incident_ids():
        snap[f"pagerduty:{iid}"] = {"notes": len(sb.pagerduty.find(iid)["notes"])}
    return snap


def changed_values(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What changed between two snapshots, counted as the tools see it: values changed on items
    that existed (fields, by vendor), items created (by vendor), and the items touched."""
    fields: dict[str, int] = {}
    items: dict[str, int] = {}
    created: dict[str, int] = {}
    changes: dict[str, dict[str, Any]] = {}
    for key, values in after.items():
        vendor = key.split(":", 1)[0]
        old = before.get(key)
        if old is None:
            created[vendor] = created.get(vendor, 0) + 1
            continue
        diff = {name: value for name, value in values.items() if old.get(name) != value}
        if vendor == "pagerduty" and diff:  # a note is a create, not a field
            created[vendor] = created.get(vendor, 0) + values["notes"] - old["notes"]
            continue
        if diff:
            fields[vendor] = fields.get(vendor, 0) + len(diff)
            items[vendor] = items.get(vendor, 0) + 1
            changes[key] = diff
    return {"fields": fields, "items": items, "created": created, "changes": changes}


def run_measured(cmd: list[str], env: dict[str, str], timeout: float = 1800) -> dict[str, Any]:
    """Run a command to its end; its exit code, output, wall time and peak RSS (the kernel's
    ru_maxrss of that very process, from wait4: what the container's memory limit sees)."""
    import os
    import subprocess

    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out: dict[str, bytes] = {}
    readers = [
        threading.Thread(target=lambda name=name, f=f: out.__setitem__(name, f.read()))
        for name, f in (("stdout", proc.stdout), ("stderr", proc.stderr))
    ]
    for reader in readers:
        reader.start()
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    for reader in readers:
        reader.join()
    proc.stdout.close()
    proc.stderr.close()
    return {
        "returncode": proc.returncode,
        "stdout": out.get("stdout", b"").decode(errors="replace"),
        "stderr": out.get("stderr", b"").decode(errors="replace"),
        "seconds": time.monotonic() - t0,
        "peak_rss_mib": usage.ru_maxrss / 1024,
    }  # Linux: KiB


# -- a PostgreSQL state store for the runs that measure it beside SQLite ------------------------
#: The server the PostgreSQL figures are measured on (the tests' server: `make postgres`).
POSTGRES = os.environ.get("RELAIS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty database on :data:`POSTGRES` (a random name), dropped afterwards; its URL."""
    import secrets
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    name = f"relais_bench_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES, autocommit=True, connect_timeout=10) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(POSTGRES)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
