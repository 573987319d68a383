"""The state store on its two engines: SQLite (the default) and PostgreSQL, on a real server.

Every store-level test here runs on both (``state_at``): the same calls, the same answers.
Then what only PostgreSQL has: its URL from the environment, its password never shown, the
writer lock as an advisory lock, `relais state copy`, and a full sync through the CLI.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ROOT, relais_env, run_relais, write_config

from connectors.errors import redact
from sync.dialect import dialect_of
from sync.lock import WriterLock, WriterLockedError
from sync.models import FieldChange, Quarantined, WorkItem
from sync.settings import SecretError, load_settings, state_location
from sync.state import MIGRATIONS, TABLES, StateStore

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def item(ident: str, key: str, title: str = "Checkout is slow", source: str = "jira") -> WorkItem:
    return WorkItem(
        source=source,
        id=ident,
        key=key,
        kind="issue",
        title=title,
        updated=T0,
        created=T0,
        owned={"work_type": None},
    )


def change(it: WorkItem, new: str, old: str | None = None) -> FieldChange:
    return FieldChange(it.source, it.id, it.key, "work_type", old, new, "relais.yaml:12")


def test_every_method_of_the_store_answers_the_same_on_both_engines(state_at):
    store = StateStore(state_at)
    try:
        a, b = item("10001", "PAY-1"), item("10002", "PAY-2")
        assert store.store_page(
            [a, b], {"10001": {"raw": "é ✓"}}, [Quarantined("jira", "10009", "bad date")], 1
        ) == {
            "new": 2,
            "changed": 0,
            "unchanged": 0,
        }
        assert store.store_page([a, item("10002", "PAY-2", "Checkout is fast")], {}) == {
            "new": 0,
            "changed": 1,
            "unchanged": 1,
        }
        assert store.count_items() == {"jira": 2}
        got, raw = store.get_item("jira", "PAY-1")
        assert got.id == "10001" and raw == {"raw": "é ✓"}
        assert store.get_item("jira", "10002")[0].title == "Checkout is fast"
        assert store.get_item("jira", "PAY-404") is None
        assert store.quarantined_ids() == {("jira", "10009")}
        # a quarantine is replaced, not added to
        store.store_page([], {}, [Quarantined("jira", "10009", "bad date again")], 2)
        assert [q["reason"] for q in store.quarantined()] == ["bad date again"]

        cycle = store.start_cycle("sync")
        assert store.start_cycle("plan") == cycle + 1
        assert store.last_finished() is None
        store.finish_cycle(cycle, {"writes": 1})
        assert store.last_finished() is not None

        intents = store.record_intent([change(a, "RUN")], cycle)
        assert len(intents) == 1 and store.count_writes("sent") == 1
        store.record_write(a, [change(a, "RUN")], cycle, "applied", intents=intents)
        assert store.count_writes() == 1 and store.count_writes("sent") == 0
        assert store.get_item("jira", "10001")[0].owned["work_type"] == "RUN"
        store.record_write(b, [change(b, "BUILD")], cycle, "failed", "HTTP 400")
        store.record_audit([change(b, "IMPROVE")], cycle, "applied")
        rows = store.audit()
        assert [(r["item_id"], r["new"], r["outcome"]) for r in rows] == [
            ("10002", '"IMPROVE"', "applied"),
            ("10002", '"BUILD"', "failed"),
            ("10001", '"RUN"', "applied"),
        ]
        assert [r["outcome"] for r in store.audit("jira", "10002", limit=1)] == ["applied"]
        written = store.last_applied(("work_type",))
        assert written[("jira", "10001")]["work_type"].last == '"RUN"'

        # someone put another value in its place, relais wrote its own back: one overwrite
        store.record_write(a, [change(a, "BUILD", "RUN")], cycle, "applied")
        store.record_write(a, [change(a, "RUN", "IMPROVE")], cycle, "applied")
        one = store.overwrites()
        assert one.get(("jira", "10001", "work_type")) == (1, '"RUN"')
        many = store.overwrites()
        many.prefetch([("jira", "10001", "work_type"), ("jira", "10002", "work_type"), ("jira", "1", "x")])
        assert many.get(("jira", "10001", "work_type")) == (1, '"RUN"')
        assert many.get(("jira", "1", "x")) == (0, None)
        store.record_intent([change(b, "RUN")], cycle)
        assert store.overwrites().written(("jira", "10002", "work_type")).sent == frozenset({'"RUN"'})

        store.set_key("scorecard:payments:2026-W47", "notion", "creating")
        store.set_key("scorecard:payments:2026-W47", "notion", "created", "page-1")
        store.set_key("scorecard:payments:2026-W47", "notion", "confirmed")  # the id is kept
        store.set_key("followup:Q1", "jira", "created", "PAY-9")
        assert store.key_state("scorecard:payments:2026-W47") == ("confirmed", "page-1")
        assert store.key_record("followup:Q1")["target_id"] == "PAY-9"
        assert store.key_states("scorecard:") == {"scorecard:payments:2026-W47": "confirmed"}
        assert store.key_state("nothing") is None

        store.save_cursor("jira", {"watermark": "a"})
        store.save_cursor("jira", {"watermark": "b"})
        assert store.cursor("jira") == {"watermark": "b"} and store.cursor("notion") is None

        assert store.forget_missing("jira", {"10001"}, T0 + timedelta(days=1)) == ["10002"]
        assert store.forget("jira", ["10001", "nope"]) == ["10001"]
        assert store.count_items() == {}

        assert store.first_delivery("jira", "d1", "issue_updated")
        assert not store.first_delivery("jira", "d1")
        assert store.prune_deliveries((datetime.now(UTC) + timedelta(seconds=1)).isoformat()) == 1
        assert store.journal_mode() in ("wal", "postgresql")
    finally:
        store.close()


def test_items_are_read_in_one_order_in_batches_whatever_the_collation(state_at):
    """Stored items are read in batches after the last (source, id): the same order as SQLite's on
    a database with a linguistic collation, or a batch boundary would skip or repeat items."""
    ids = ["a", "B", "b", "A1", "a-1", "Z", "é", "e", "10", "9", "_x", "ä"]
    store = StateStore(state_at)
    try:
        store.store_page([item(i, f"K-{i}") for i in ids], {})
        read = [it.id for it in store.iter_items("jira", batch=2)]
        store.set_key("followup:é", "jira", "created")
        store.set_key("followup:e", "jira", "created")
        store.set_key("followupz", "jira", "created")
        assert store.key_states("followup:") == {"followup:é": "created", "followup:e": "created"}
    finally:
        store.close()
    assert read == sorted(ids)  # code point order, each once


def test_a_version_1_postgresql_store_is_upgraded_in_place(postgres_url):
    dialect = dialect_of(postgres_url)
    db = dialect.connect()
    db.execute("BEGIN")
    for statement in dialect.ddl(MIGRATIONS[0]):
        db.execute(statement)
    db.execute("INSERT INTO cursors VALUES ('jira', '{\"watermark\": \"w\"}', 'x')")
    dialect.set_schema_version(db, 1)
    db.execute("COMMIT")
    db.close()
    store = StateStore(postgres_url)
    try:
        assert store.schema_version == len(MIGRATIONS) == 2
        assert store.cursor("jira") == {"watermark": "w"}
        assert store.first_delivery("jira", "a1b2c3")
    finally:
        store.close()


# -- the URL and its password -------------------------------------------------------------------
def _config(tmp_path: Path, state: dict) -> Path:
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "relais.yaml"
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "timezone": "UTC",
                "state": state,
                "sources": {
                    "pagerduty": {
                        "url": "https://127.0.0.1:9",
                        "services": ["P1"],
                        "from_email": "a@b.example",
                    }
                },
                "classify": [{"default": "BUILD"}],
            }
        )
    )
    return path


def test_a_password_written_in_the_config_is_refused_and_never_repeated(tmp_path: Path):
    config = _config(tmp_path, {"url": "postgresql://relais:Sup3rSecretPw@db:5432/relais"})
    assert (
        run_relais(
            ["validate", "-c", str(_config(tmp_path / "ok", {"url": "postgresql://relais@db/relais"}))],
            {**os.environ, "PAGERDUTY_TOKEN": "u+abcdefghijklmnopqrst"},
        ).returncode
        == 0
    )
    result = run_relais(
        ["validate", "-c", str(config)], {**os.environ, "PAGERDUTY_TOKEN": "u+abcdefghijklmnopqrst"}
    )
    assert result.returncode == 2
    assert "state.url" in result.stderr and "RELAIS_STATE_URL" in result.stderr
    assert "Sup3rSecretPw" not in result.stderr + result.stdout


def test_the_url_comes_from_the_environment_or_its_file_and_wins(tmp_path: Path):
    settings = load_settings(_config(tmp_path, {"url": "postgresql://relais@db/relais"}))
    assert state_location(settings, {}) == "postgresql://relais@db/relais"
    url = "postgresql://relais:An0therSecret@db/relais"
    assert state_location(settings, {"RELAIS_STATE_URL": url}) == url
    (tmp_path / "url").write_text(url + "\n")
    assert state_location(settings, {"RELAIS_STATE_URL_FILE": str(tmp_path / "url")}) == url
    assert "An0therSecret" not in redact(f"cannot connect to {url}")  # registered as a secret
    with pytest.raises(SecretError, match="RELAIS_STATE_URL is not a PostgreSQL URL"):
        state_location(settings, {"RELAIS_STATE_URL": "mysql://x@y/z"})
    plain = load_settings(_config(tmp_path, {}))
    assert state_location(plain, {}) == tmp_path / "relais.db"


def test_an_unreachable_postgresql_store_is_one_line_without_its_password(tmp_path: Path):
    config = _config(tmp_path, {})
    env = {**os.environ, "RELAIS_STATE_URL": "postgresql://relais:Y3tAnotherPw@127.0.0.1:9/relais"}
    result = run_relais(["report", "-c", str(config)], env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "PostgreSQL state store cannot be used" in lines[0], result.stderr
    assert "postgresql://relais:****@127.0.0.1:9/relais" in lines[0]
    assert "Y3tAnotherPw" not in result.stderr + result.stdout


# -- one writer ---------------------------------------------------------------------------------
HOLD = "import sys, time; from sync.lock import WriterLock; WriterLock.acquire(sys.argv[1], 'relais run'); print('held', flush=True); time.sleep(120)"


def test_a_second_writer_on_one_postgresql_store_is_refused_until_the_first_dies(postgres_url):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, postgres_url], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WriterLockedError) as refused:
            WriterLock.acquire(postgres_url)
        assert f"pid {holder.pid} on " in str(refused.value) and "(relais run)" in str(refused.value)
        assert "One writer per store" in str(refused.value)
        reader = StateStore(postgres_url)  # readers never lock
        reader.close()
        os.kill(holder.pid, signal.SIGKILL)  # however it ends, the server releases the lock
        holder.wait(10)
        deadline = time.monotonic() + 10
        while True:
            try:
                lock = WriterLock.acquire(postgres_url)
                break
            except WriterLockedError:
                assert time.monotonic() < deadline, "the lock outlived its holder"
                time.sleep(0.1)
        lock.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        holder.stdout.close()


# -- through the CLI -----------------------------------------------------------------------------
def _on(url: str):
    return lambda d: d.update(state={"url": url})


def _json(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_sync_plan_and_a_second_cycle_on_postgresql(sandbox, tmp_path: Path, postgres_url):
    config = write_config(sandbox, tmp_path, _on(postgres_url))
    env = relais_env(sandbox)
    first = _json(run_relais(["sync", "--once", "--json", "-c", str(config)], env))
    assert len(first["changes"]) > 20
    assert not (tmp_path / "relais.db").exists()  # nothing on disk: the store is the database
    lock = WriterLock.acquire(postgres_url, "relais run")  # a daemon writes meanwhile
    try:
        refused = run_relais(["sync", "--once", "-c", str(config)], env)
        assert refused.returncode == 1
        assert "another relais is writing with the state store postgresql://" in refused.stderr
        plan = _json(run_relais(["plan", "--json", "-c", str(config)], env))  # a reader: never locks
        assert plan["summary"]["writes"] == 0 and plan["creates"] == []
    finally:
        lock.release()
    second = _json(run_relais(["sync", "--once", "--json", "-c", str(config)], env))
    assert second["changes"] == [] and second["creates"] == []
    assert run_relais(["health", "-c", str(config)], env).returncode == 0
    explained = run_relais(
        ["explain", f"jira:{first['changes'][0]['target'].split(':', 1)[1]}", "-c", str(config)], env
    )
    assert explained.returncode == 0, explained.stderr


@pytest.mark.parametrize("postgres_url", ["SQL_ASCII"], indirect=True)
def test_a_database_in_sql_ascii_reads_text_as_text(sandbox, tmp_path: Path, postgres_url):
    """initdb without a locale (a bare container) makes SQL_ASCII databases, whose text psycopg
    hands back as bytes unless the connection says its encoding: relais says UTF8."""
    store = StateStore(postgres_url)
    try:
        store.store_page([item("10001", "PAY-1", "Caisse bloquée ✓")], {})
        assert [(i.key, i.title) for i in store.iter_items("jira")] == [("PAY-1", "Caisse bloquée ✓")]
    finally:
        store.close()
    config = write_config(sandbox, tmp_path, _on(postgres_url))
    env = relais_env(sandbox)
    first = _json(run_relais(["sync", "--once", "--json", "-c", str(config)], env))
    assert len(first["changes"]) > 20 and not first.get("errors"), first.get("errors")
    second = _json(run_relais(["sync", "--once", "--json", "-c", str(config)], env))
    assert second["changes"] == [] and second["creates"] == []


def test_state_copy_moves_a_synced_store_and_the_copy_plans_nothing_new(
    sandbox, tmp_path: Path, postgres_url
):
    config = write_config(sandbox, tmp_path)
    env = relais_env(sandbox)
    assert run_relais(["sync", "--once", "-c", str(config)], env).returncode == 0
    source = StateStore(tmp_path / "relais.db")
    try:
        expected = {t: source.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
        last_cycle = source.db.execute("SELECT MAX(id) FROM cycles").fetchone()[0]
    finally:
        source.close()

    copied = run_relais(["state", "copy", "--to", postgres_url, "-c", str(config)], env)
    assert copied.returncode == 0, copied.stderr
    shown = {
        line.split()[0]: int(line.split()[1].replace(",", "")) for line in copied.stdout.splitlines()[1:]
    }
    assert shown == expected and expected["items"] > 100 and expected["audit"] > 20
    again = run_relais(["state", "copy", "--to", postgres_url, "-c", str(config)], env)
    assert again.returncode == 1 and "holds a state store already" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1

    on_postgres = {**env, "RELAIS_STATE_URL": postgres_url}
    plan = _json(run_relais(["plan", "--json", "-c", str(config)], on_postgres))
    assert plan["summary"]["writes"] == 0 and plan["creates"] == [] and plan["errors"] == {}
    second = _json(run_relais(["sync", "--once", "--json", "-c", str(config)], on_postgres))
    assert second["changes"] == [] and second["creates"] == []
    assert second["cycle"] > last_cycle  # the copy's ids go on where SQLite's stopped
