"""The state store's upgrade path (docs/upgrading.md) and the webhook deliveries it keeps."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sync.state import MIGRATIONS, StateStore


def _version_1_store(path: Path) -> None:
    """A store as relais 0.1 left it: schema 1, one item, one cursor."""
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0])
        db.execute("INSERT INTO items VALUES ('jira','10001','PAY-1','issue','2026-11-20T10:00:00+00:00','h',"
                   "'{}','{}','2026-11-20T10:00:00+00:00','2026-11-20T10:00:00+00:00')")
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


def test_deliveries_are_remembered_across_reopening_and_pruned_after_they_age(tmp_path: Path):
    path = tmp_path / "relais.db"
    store = StateStore(path)
    assert store.first_delivery("pagerduty", "f2fd2aa0", "incident.triggered")
    assert not store.first_delivery("pagerduty", "f2fd2aa0")
    assert store.first_delivery("jira", "f2fd2aa0")  # ids are per vendor
    store.close()
    store = StateStore(path)
    try:
        assert not store.first_delivery("pagerduty", "f2fd2aa0")
        assert store.prune_deliveries((datetime.now(timezone.utc) - timedelta(days=7)).isoformat()) == 0
        assert store.prune_deliveries((datetime.now(timezone.utc) + timedelta(seconds=1)).isoformat()) == 2
        assert store.first_delivery("pagerduty", "f2fd2aa0")
    finally:
        store.close()
