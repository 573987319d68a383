"""The state store's upgrade path (docs/upgrading.md) and the webhook deliveries it keeps."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sync.state import MIGRATIONS, StateStore


def _version_1_store(path: Path) -> None:
    """A store as relais 0.1 left it: schema 1, one item, one cursor."""
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0])
        db.execute(
            "INSERT INTO items VALUES ('jira','10001','PAY-1','issue','2026-11-20T10:00:00+00:00','h',"
            "'{}','{}','2026-11-20T10:00:00+00:00','2026-11-20T10:00:00+00:00')"
        )
        db.execute("INSERT INTO cursors VALUES ('jira','{\"watermark\": \"2026-11-20T10:00:00Z\"}','x')")
        db.execute("PRAGMA user_version = 1")


def test_a_version_1_store_is_upgraded_in_place_and_keeps_its_data(tmp_path: Path):
    path = tmp_path / "relais.db"
    _version_1_store(path)
    store = StateStore(path)
    try:
        assert store.schema_version == len(MIGRATIONS) == 2
        assert store.count_items() == {"jira": 1}
        assert store.cursor("jira") == {"watermark": "2026-11-20T10:00:00Z"}
        assert store.first_delivery("jira", "a1b2c3")
    finally:
        store.close()


def test_deliveries_are_remembered_across_reopening_and_pruned_after_they_age(state_at):
    path = state_at  # a SQLite file, then a PostgreSQL database
    store = StateStore(path)
    assert store.first_delivery("pagerduty", "f2fd2aa0", "incident.triggered")
    assert not store.first_delivery("pagerduty", "f2fd2aa0")
    assert store.first_delivery("jira", "f2fd2aa0")  # ids are per vendor
    store.close()
    store = StateStore(path)
    try:
        assert not store.first_delivery("pagerduty", "f2fd2aa0")
        assert store.prune_deliveries((datetime.now(UTC) - timedelta(days=7)).isoformat()) == 0
        assert store.prune_deliveries((datetime.now(UTC) + timedelta(seconds=1)).isoformat()) == 2
        assert store.first_delivery("pagerduty", "f2fd2aa0")
    finally:
        store.close()


def test_a_store_opened_while_another_process_is_migrating_it_waits_and_does_not_migrate_twice(
    tmp_path: Path,
):
    """`relais status` opened beside a starting daemon: both read schema 0, one migrates, the other must not."""
    import threading
    import time

    path = tmp_path / "relais.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("BEGIN IMMEDIATE")  # the other process holds the write lock, nothing applied yet
    outcome: dict[str, object] = {}

    def open_store() -> None:
        try:
            store = StateStore(path)
            outcome["version"] = store.schema_version
            store.close()
        except Exception as exc:  # the assertion below shows it
            outcome["error"] = exc

    opener = threading.Thread(target=open_store)
    opener.start()
    time.sleep(0.5)  # the opener has read schema 0 and waits for the lock
    for number, script in enumerate(MIGRATIONS, start=1):
        for statement in script.split(";"):
            if statement.strip():
                other.execute(statement)
        other.execute(f"PRAGMA user_version = {number}")
    other.execute("COMMIT")
    opener.join(timeout=30)
    other.close()
    assert outcome == {"version": len(MIGRATIONS)}
