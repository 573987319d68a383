"""`relais run` cycles and stops cleanly; the state store is versioned and holds no secret."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, make_engine, relais_env, run_relais, write_config

from sync.dialect import dialect_of
from sync.state import MIGRATIONS, StateStore


def finished_cycles(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute("SELECT COUNT(*) FROM cycles WHERE finished IS NOT NULL").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def test_run_cycles_on_schedule_and_stops_on_sigterm(sandbox, tmp_path: Path):
    # Port 0: any free port, so that two runs on one machine do not collide on the default 8765.
    config = write_config(sandbox, tmp_path, lambda d: d.update(daemon={"http": {"listen": "127.0.0.1:0"}}))
    db = config.parent / "relais.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync.cli", "run", "--interval", "1", "-c", str(config)],
        env=relais_env(sandbox),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while finished_cycles(db) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert finished_cycles(db) >= 2
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(entry["msg"] == "cycle finished" for entry in logs)
    assert logs[-1]["msg"] == "stopped"
    health = run_relais(["health", "--max-age", "60", "-c", str(config)], relais_env(sandbox))
    assert health.returncode == 0, health.stderr


def test_schema_is_versioned_and_a_newer_store_is_refused(state_at):
    store = StateStore(state_at)
    assert store.schema_version == len(MIGRATIONS)
    store.db.execute("BEGIN")
    dialect_of(state_at).set_schema_version(store.db, len(MIGRATIONS) + 1)
    store.db.execute("COMMIT")
    store.close()
    with pytest.raises(RuntimeError, match="newer than this relais understands"):
        StateStore(state_at)


def test_reopening_a_store_keeps_its_data(sandbox, tmp_path: Path, state_at):
    config = write_config(
        sandbox, tmp_path, lambda d: d.update(state={"url": state_at}) if isinstance(state_at, str) else None
    )
    engine = make_engine(sandbox, config)
    try:
        engine.run_cycle(apply=True)
        location = engine.state
        count = engine.store.count_items()
    finally:
        engine.close()
    assert location == state_at
    again = StateStore(location)
    try:
        assert again.count_items() == count and sum(count.values()) > 100
        assert again.journal_mode() == ("wal" if again.engine == "sqlite" else "postgresql")
    finally:
        again.close()


def test_no_secret_reaches_the_store_or_the_json_output(sandbox, config: Path):
    result = run_relais(["sync", "--once", "--json", "-c", str(config)], relais_env(sandbox))
    assert result.returncode == 0, result.stderr
    blob = (config.parent / "relais.db").read_bytes()
    wal = config.parent / "relais.db-wal"
    if wal.exists():
        blob += wal.read_bytes()
    for name in ("JIRA_API_TOKEN", "NOTION_TOKEN", "PAGERDUTY_TOKEN"):
        secret = sandbox.env[name]
        assert secret.encode() not in blob, name
        assert secret not in result.stdout and secret not in result.stderr, name


def test_jira_field_catalogue_is_read_once_per_process(sandbox, engine):
    engine.run_cycle(apply=True)
    engine.run_cycle(apply=True)
    catalogue = [
        r for r in sandbox.log if r.vendor == "jira" and r.method == "GET" and r.path == "/rest/api/3/field"
    ]
    assert len(catalogue) == 1
