"""The state store: one SQLite file (WAL) by default, or a PostgreSQL database; schema versioned
from day one.

Tables:
  items       (source, id) → the normalised item, its raw payload, a hash of
              its content (not of its timestamp), first/last seen
  cursors     per source, saved only at the end of a cycle whose writes succeeded
  audit       every write attempted: when, cycle, target, field, old, new,
              rule, outcome
  keys        natural keys of anything relais creates (used by later issues:
              recorded before the create, checked after an ambiguous failure)
  quarantine  payloads that could not be read, with the reason
  cycles      one row per cycle, with its summary
  deliveries  webhook deliveries already received, by vendor and delivery id
              (schema 2), so a replay, even after a restart, is a no-op

Secrets are never stored: items hold vendor payloads, which carry none.

One store may be shared by the daemon's threads (a pull per source, the
webhook receiver, the status page): every method that runs a statement takes
the store's lock, so one thread's transaction never swallows another's
statements.

Two engines, one store: the SQL below is written once, in what SQLite and PostgreSQL both
understand; what differs between them is in sync.dialect (connecting, BEGIN, the schema's
version, column types). The rest of relais never knows which one it has. Every write goes
through :meth:`StateStore._transaction`, one transaction each: the one place a check that must
hold in the same transaction as a write (a writer's fencing token) belongs.

Upgrading: each entry of MIGRATIONS moves the schema one version up, in one
transaction, when a newer relais opens an older file; a file newer than this
relais is refused (docs/upgrading.md).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from sync.codec import clean_text, content_hash, item_from_dict, item_to_dict
from sync.dialect import (
    QUEUE_RETAKE_SECONDS,
    FencedError,
    Location,
    PostgreSQL,
    dialect_of,
    is_url,
    one_line,
    shown,
)
from sync.models import FieldChange, Quarantined, WorkItem
from sync.overwrites import Overwrites
from sync.owned import Written

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE items (
        source TEXT NOT NULL, id TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL,
        updated TEXT NOT NULL, hash TEXT NOT NULL, item TEXT NOT NULL, raw TEXT NOT NULL,
        first_seen TEXT NOT NULL, last_changed TEXT NOT NULL,
        PRIMARY KEY (source, id));
    CREATE INDEX items_key ON items (source, key);
    CREATE TABLE cursors (source TEXT PRIMARY KEY, value TEXT NOT NULL, saved_at TEXT NOT NULL);
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, cycle INTEGER,
        source TEXT NOT NULL, item_id TEXT NOT NULL, target TEXT NOT NULL, field TEXT NOT NULL,
        old TEXT, new TEXT, rule TEXT, outcome TEXT NOT NULL, detail TEXT);
    CREATE INDEX audit_item ON audit (source, item_id);
    CREATE TABLE keys (
        natural_key TEXT PRIMARY KEY, source TEXT NOT NULL, target_id TEXT,
        state TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE quarantine (
        source TEXT NOT NULL, id TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL, cycle INTEGER,
        PRIMARY KEY (source, id));
    CREATE TABLE cycles (
        id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL, finished TEXT,
        mode TEXT NOT NULL, summary TEXT);
    """,
    # 2: webhook deliveries, for de-duplication across restarts
    """
    CREATE TABLE deliveries (
        vendor TEXT NOT NULL, delivery_id TEXT NOT NULL, received TEXT NOT NULL, summary TEXT,
        PRIMARY KEY (vendor, delivery_id));
    CREATE INDEX deliveries_received ON deliveries (received);
    """,
]

#: Every table of the store, in the order a copy fills them (schema 2).
TABLES = ("items", "cursors", "audit", "keys", "quarantine", "cycles", "deliveries")

#: Webhook deliveries remembered at the most (replays are recognised among them; 7 days otherwise).
DELIVERIES_KEPT_MAX = 10_000

#: How a quarantine for a write the tool refused begins (sync.apply); it lasts until the item changes.
WRITE_REFUSED = "write refused"


def _serialized(method: Callable) -> Callable:
    """Run the method under the store's lock (see the module docstring); a damaged store is said
    so, with the file and what to do (:class:`StateStoreError`)."""

    def locked(self: StateStore, *args: Any, **kwargs: Any) -> Any:
        with self._lock, self._unusable():
            return method(self, *args, **kwargs)

    locked.__name__ = method.__name__
    locked.__doc__ = method.__doc__
    return locked


def _item_json(d: dict[str, Any]) -> str:
    """Items are written and read with one codec, orjson (plan reads every item each cycle); their
    text has been cleaned by the connectors (connectors.base.clean_text). Raw payloads, which are
    the vendor's JSON as served, are written and read with ``json``, which takes any of it."""
    return orjson.dumps(d).decode()


def _item_from_json(blob: str) -> dict[str, Any]:
    try:
        return orjson.loads(blob)
    except orjson.JSONDecodeError:
        # written by an older relais, which wrote with ``json`` and let a lone surrogate through
        # (half an emoji): read it as it was written, and clean it as the connectors now do
        return clean_text(json.loads(blob))


class StateStoreError(RuntimeError):
    """The state store cannot be used: its message names the store (a URL without its password)
    and the remedy."""

    def __init__(self, location: Location, error: BaseException) -> None:
        if is_url(location):
            super().__init__(
                f"{shown(location)}: the PostgreSQL state store cannot be used ({one_line(error)}). Check that "
                "the server answers, the database exists and the URL's user may create tables in it "
                '(README, "The state store")'
            )
            return
        path = Path(location)
        name = path.name
        super().__init__(
            f"{path}: the state store cannot be read ({error}). It is a cache of the tools: stop relais, delete "
            f"{name} and the {name}-wal and {name}-shm files beside it, and sync again — relais reads the tools "
            'again and creates nothing twice (README, "The state store")'
        )


class NoStateStore(RuntimeError):
    """A command that reads the store (report, explain) was run before any sync made one."""

    def __init__(self, location: Location) -> None:
        super().__init__(f"no state store at {shown(location)} yet: run `relais sync --once` first")


class StoreNotEmpty(RuntimeError):
    """`relais state copy` into a database that holds a store already."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


class StateStore:
    """The store at a location: a path (SQLite) or a ``postgresql://`` URL (sync.dialect)."""

    def __init__(self, location: Location, *, migrate: bool = True) -> None:
        self.location: Location = location if is_url(location) else Path(location)
        self._dialect = dialect_of(self.location)
        if not is_url(location):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        #: The lease this process writes under (sync.lock.Lease: ``term``, ``valid()``), PostgreSQL
        #: only; None: no check (SQLite, whose file lock admits one process, and the CLI's readers).
        self.fence: Any = None
        with self._unusable():
            self.db: Any = self._dialect.connect()
        if migrate:
            try:
                self.migrate()
            except BaseException:
                self.db.close()  # refused (a newer schema) or unusable: no connection left behind
                raise

    @property
    def path(self) -> Path:
        """The SQLite file (a PostgreSQL store has none: its URL is :attr:`location`)."""
        if is_url(self.location):
            raise AttributeError("a PostgreSQL state store has no file")
        return Path(self.location)

    @property
    def engine(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._dialect.name

    def shown(self) -> str:
        """The store, as a message may show it (a URL without its password)."""
        return shown(self.location)

    @classmethod
    def existing(cls, location: Location) -> StateStore:
        """The store at ``location``, which must exist already (:class:`NoStateStore` if not)."""
        if not is_url(location):
            if not Path(location).exists():
                raise NoStateStore(location)
            return cls(location)
        store = cls(location, migrate=False)
        if store.schema_version == 0:
            store.close()
            raise NoStateStore(location)
        store.migrate()
        return store

    @contextmanager
    def _unusable(self) -> Iterator[None]:
        """A damaged or unreachable store is said so, with what to do (:class:`StateStoreError`);
        a PostgreSQL connection lost (a server restarted) is made again at the next call."""
        try:
            if getattr(self, "db", None) is not None and self._dialect.broken(self.db):
                self.db.close()
                # refused (the server still down): a StateStoreError, and the next call tries again
                self.db = self._dialect.connect()
            yield
        except self._dialect.errors() as e:
            if self._dialect.unusable(e):
                raise StateStoreError(self.location, e) from None
            raise

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction, taking the write lock at once (SQLite's BEGIN IMMEDIATE, an
        advisory lock on PostgreSQL); rolled back on any error, the commit's included."""
        self._dialect.begin(self.db)
        try:
            if self.fence is not None:
                self._check_fence()
            yield
            self.db.execute("COMMIT")
        except BaseException:
            if not self._dialect.broken(self.db):
                self.db.execute("ROLLBACK")
            raise

    def _check_fence(self) -> None:
        """In the write transaction, before its first statement: the lease is still this process'
        (its term, the fencing token, unchanged), and by this process' own clock not past its
        expiry (a process paused past its lease must not even try). The row stays locked until
        the commit, so no replica takes the lease over in the middle of this transaction."""
        fence = self.fence
        if not fence.valid():
            raise FencedError(f"{self.shown()}: the lease (term {fence.term}) may have expired: not writing")
        row = self.db.execute("SELECT term FROM relais_leader WHERE id = 1 FOR SHARE").fetchone()
        if row is None or row[0] != fence.term:
            raise FencedError(
                f"{self.shown()}: another replica leads now (term {row[0] if row else '?'}, this one "
                f"held {fence.term}): not writing"
            )

    @_serialized
    def close(self) -> None:
        self.db.close()

    @_serialized
    def journal_mode(self) -> str:
        """SQLite's journal mode (``wal``); a PostgreSQL store says ``postgresql``."""
        if isinstance(self._dialect, PostgreSQL):
            return self._dialect.name
        return self.db.execute("PRAGMA journal_mode").fetchone()[0]

    # -- schema ------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        with self._lock, self._unusable():
            return self._dialect.schema_version(self.db)

    @_serialized
    def migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise RuntimeError(
                f"{self.shown()}: state schema version {version} is newer than this relais "
                f"understands ({len(MIGRATIONS)}); upgrade relais"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self._dialect.begin(self.db)
            if self.schema_version >= number:
                # another process (a CLI beside the daemon) applied it while we waited for the lock
                self.db.execute("ROLLBACK")
                continue
            try:
                for statement in self._dialect.ddl(script):
                    self.db.execute(statement)
                self._dialect.set_schema_version(self.db, number)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                # Two replicas opening a new PostgreSQL store at once: the second may not see the
                # first's tables until its next transaction (a server's catalog cache), and fails
                # to create them again. In a new transaction it sees them: applied, not an error.
                if self.schema_version >= number:
                    continue
                raise

    # -- items -------------------------------------------------------------------
    @_serialized
    def store_page(
        self,
        items: Iterable[WorkItem],
        raw: dict[str, Any],
        quarantined: Iterable[Quarantined] = (),
        cycle: int | None = None,
    ) -> dict[str, int]:
        """Upsert one page in one transaction; returns counts of new / changed / unchanged."""
        counts = {"new": 0, "changed": 0, "unchanged": 0}
        now = _now()
        with self._transaction():
            for item in items:
                d = item_to_dict(item)
                h = content_hash(d)
                row = self.db.execute(
                    "SELECT hash FROM items WHERE source=? AND id=?", (item.source, item.id)
                ).fetchone()
                stored = (item.key, item.kind, item.updated.isoformat(), h)
                if row is None:
                    counts["new"] += 1
                    self.db.execute(
                        "INSERT INTO items VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (
                            item.source,
                            item.id,
                            *stored,
                            _item_json(d),
                            json.dumps(raw.get(item.id, {})),
                            now,
                            now,
                        ),
                    )
                elif row[0] != h:
                    counts["changed"] += 1
                    self.db.execute(
                        "UPDATE items SET key=?, kind=?, updated=?, hash=?, item=?, raw=?, last_changed=? "
                        "WHERE source=? AND id=?",
                        (*stored, _item_json(d), json.dumps(raw.get(item.id, {})), now, item.source, item.id),
                    )
                else:
                    counts["unchanged"] += 1
                    # Readable again: out of a read quarantine, even if what it says is what was
                    # stored (an edit reverted); a write the tool refused waits for a change.
                    self.db.execute(
                        "DELETE FROM quarantine WHERE source=? AND id=? AND reason NOT LIKE ?",
                        (item.source, item.id, WRITE_REFUSED + "%"),
                    )
                    continue
                # A quarantined item that changed gets another chance.
                self.db.execute("DELETE FROM quarantine WHERE source=? AND id=?", (item.source, item.id))
            for q in quarantined:
                self.db.execute(
                    "INSERT INTO quarantine VALUES (?,?,?,?,?) ON CONFLICT (source, id) DO UPDATE SET "
                    "reason=excluded.reason, at=excluded.at, cycle=excluded.cycle",
                    (q.source, q.id, q.reason, now, cycle),
                )
        return counts

    def iter_items(self, source: str | None = None, batch: int = 1000) -> Iterator[WorkItem]:
        """Stream stored items in batches, never the whole table at once."""
        last = ("", "")
        while True:
            q = "SELECT source, id, item FROM items WHERE (source, id) > (?, ?)"
            args: list[Any] = [*last]
            if source:
                q += " AND source = ?"
                args.append(source)
            with self._lock, self._unusable():
                rows = self.db.execute(q + " ORDER BY source, id LIMIT ?", (*args, batch)).fetchall()
            if not rows:
                return
            for _s, _i, blob in rows:
                yield item_from_dict(_item_from_json(blob))
            last = (rows[-1][0], rows[-1][1])

    @_serialized
    def get_item(self, source: str, ident: str) -> tuple[WorkItem, dict[str, Any]] | None:
        row = self.db.execute(
            "SELECT item, raw FROM items WHERE source=? AND (id=? OR key=?) ORDER BY id=? DESC LIMIT 1",
            (source, ident, ident, ident),
        ).fetchone()
        if row is None:
            return None
        return item_from_dict(_item_from_json(row[0])), json.loads(row[1])

    @_serialized
    def count_items(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT source, COUNT(*) FROM items GROUP BY source").fetchall())

    # -- writes ------------------------------------------------------------------
    @_serialized
    def record_intent(self, changes: list[FieldChange], cycle: int | None) -> list[int]:
        """Audit writes about to be sent, as 'sent': if relais dies before it hears back, the audit
        log still says it may have written these values (a value the tool then shows is relais',
        not a person's). Returns the rows, for :meth:`record_write`."""
        with self._lock:
            with self._transaction():
                seqs = self._audit(changes, cycle, "sent", None)
            return seqs

    @_serialized
    def record_write(
        self,
        item: WorkItem,
        changes: list[FieldChange],
        cycle: int | None,
        outcome: str,
        detail: str | None = None,
        intents: list[int] | None = None,
    ) -> None:
        """Audit one write (``intents``: the rows :meth:`record_intent` made for it, which take the
        outcome); on success also record the new owned values on the stored item, so the next plan
        sees them before the tool echoes them back."""
        with self._transaction():
            if intents:
                marks = ",".join("?" * len(intents))
                self.db.execute(
                    f"UPDATE audit SET outcome=?, detail=? WHERE seq IN ({marks})",
                    (outcome, detail, *intents),
                )
            else:
                self._audit(changes, cycle, outcome, detail)
            if outcome == "applied":
                row = self.db.execute(
                    "SELECT item FROM items WHERE source=? AND id=?", (item.source, item.id)
                ).fetchone()
                if row is not None:
                    d = orjson.loads(row[0])
                    d.setdefault("owned", {}).update({ch.field: ch.new for ch in changes})
                    self.db.execute(
                        "UPDATE items SET item=?, hash=? WHERE source=? AND id=?",
                        (_item_json(d), content_hash(d), item.source, item.id),
                    )

    def _audit(
        self, changes: Iterable[FieldChange], cycle: int | None, outcome: str, detail: str | None
    ) -> list[int]:
        now = _now()
        seqs = []
        for ch in changes:
            cur = self.db.execute(
                "INSERT INTO audit (at, cycle, source, item_id, target, field, old, new, rule, outcome, detail) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING seq",
                (
                    now,
                    cycle,
                    ch.source,
                    ch.item_id,
                    ch.target,
                    ch.field,
                    json.dumps(ch.old),
                    json.dumps(ch.new),
                    ch.rule,
                    outcome,
                    detail,
                ),
            )
            seqs.append(cur.fetchone()[0])
        return seqs

    @_serialized
    def record_audit(
        self, changes: list[FieldChange], cycle: int | None, outcome: str, detail: str | None = None
    ) -> None:
        """Audit values relais set without a write of its own (those a create carried), so that
        they count as relais' when a person's decision is told from relais' own."""
        with self._transaction():
            self._audit(changes, cycle, outcome, detail)

    @_serialized
    def audit(
        self, source: str | None = None, item_id: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        q = "SELECT at, cycle, source, item_id, target, field, old, new, rule, outcome, detail FROM audit"
        args: list[Any] = []
        if source and item_id:
            q += " WHERE source=? AND item_id=?"
            args = [source, item_id]
        rows = self.db.execute(q + " ORDER BY seq DESC LIMIT ?", (*args, limit)).fetchall()
        cols = (
            "at",
            "cycle",
            "source",
            "item_id",
            "target",
            "field",
            "old",
            "new",
            "rule",
            "outcome",
            "detail",
        )
        return [dict(zip(cols, r)) for r in rows]

    @_serialized
    def last_applied(self, fields: tuple[str, ...]) -> dict[tuple[str, str], dict[str, Written]]:
        """What relais wrote, per item and field, for these fields (:class:`sync.owned.Written`: the
        last value confirmed, and values sent since without an answer recorded)."""
        marks = ",".join("?" * len(fields))
        rows = self.db.execute(
            f"SELECT source, item_id, field, new, outcome FROM audit WHERE outcome IN ('applied', 'sent') "
            f"AND field IN ({marks}) ORDER BY seq",
            fields,
        ).fetchall()
        found: dict[tuple[str, str], dict[str, tuple[str | None, set[str]]]] = {}
        for source, item_id, name, new, outcome in rows:
            fields_of = found.setdefault((source, item_id), {})
            last, sent = fields_of.get(name, (None, set()))
            fields_of[name] = (new, set()) if outcome == "applied" else (last, sent | {new})
        return {
            key: {name: Written(last, frozenset(sent)) for name, (last, sent) in by_field.items()}
            for key, by_field in found.items()
        }

    def overwrites(self) -> Overwrites:
        """Per (source, item id, field), looked up when asked: see :class:`Overwrites`."""
        return Overwrites(self._overwrite_rows)

    @_serialized
    def _overwrite_rows(self, keys: list[tuple[str, str, str]]) -> list[tuple[str, ...]]:
        """(source, item id, field, old, new, outcome) of the applied and sent writes of these
        fields, in the order they were made: one indexed look-up for one field, a join for many."""
        if len(keys) == 1:
            return [
                (*keys[0], *row)
                for row in self.db.execute(
                    "SELECT old, new, outcome FROM audit WHERE source=? AND item_id=? AND field=? "
                    "AND outcome IN ('applied', 'sent') ORDER BY seq",
                    keys[0],
                ).fetchall()
            ]
        self.db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS wanted_overwrites (source TEXT, item_id TEXT, field TEXT)"
        )
        self.db.execute("DELETE FROM wanted_overwrites")
        self.db.executemany("INSERT INTO wanted_overwrites VALUES (?,?,?)", keys)
        rows = self.db.execute(
            "SELECT a.source, a.item_id, a.field, a.old, a.new, a.outcome FROM wanted_overwrites w JOIN audit a "
            "ON a.source = w.source AND a.item_id = w.item_id AND a.field = w.field "
            "WHERE a.outcome IN ('applied', 'sent') ORDER BY a.seq"
        ).fetchall()
        self.db.execute("DELETE FROM wanted_overwrites")
        return [tuple(r) for r in rows]

    @_serialized
    def count_writes(self, outcome: str = "applied") -> int:
        return self.db.execute("SELECT COUNT(*) FROM audit WHERE outcome=?", (outcome,)).fetchone()[0]

    # -- natural keys of what relais creates ---------------------------------------
    @_serialized
    def key_state(self, natural_key: str) -> tuple[str, str | None] | None:
        """(state, target id) recorded for a natural key: 'creating' until the tool confirmed."""
        row = self.db.execute(
            "SELECT state, target_id FROM keys WHERE natural_key=?", (natural_key,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    @_serialized
    def key_record(self, natural_key: str) -> dict[str, Any] | None:
        """state, target_id and ``at`` (when the state was last set, aware) for a natural key."""
        row = self.db.execute(
            "SELECT state, target_id, updated_at FROM keys WHERE natural_key=?", (natural_key,)
        ).fetchone()
        return {"state": row[0], "target_id": row[1], "at": datetime.fromisoformat(row[2])} if row else None

    @_serialized
    def key_states(self, prefix: str) -> dict[str, str]:
        """natural key → state, for the keys starting with ``prefix``."""
        rows = self.db.execute(
            "SELECT natural_key, state FROM keys WHERE natural_key >= ? AND natural_key < ?",
            (prefix, prefix + "\U0010ffff"),
        ).fetchall()
        return dict(rows)

    @_serialized
    def set_key(self, natural_key: str, source: str, state: str, target_id: str | None = None) -> None:
        now = _now()
        with self._transaction():
            self.db.execute(
                "INSERT INTO keys VALUES (?,?,?,?,?,?) ON CONFLICT(natural_key) DO UPDATE SET "
                "state=excluded.state, target_id=COALESCE(excluded.target_id, keys.target_id), "
                "updated_at=excluded.updated_at",
                (natural_key, source, target_id, state, now, now),
            )

    # -- cursors and cycles -----------------------------------------------------
    @_serialized
    def cursor(self, source: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT value FROM cursors WHERE source=?", (source,)).fetchone()
        return json.loads(row[0]) if row else None

    @_serialized
    def save_cursor(self, source: str, value: dict[str, Any]) -> None:
        with self._transaction():
            self.db.execute(
                "INSERT INTO cursors VALUES (?,?,?) ON CONFLICT (source) DO UPDATE SET "
                "value=excluded.value, saved_at=excluded.saved_at",
                (source, json.dumps(value), _now()),
            )

    @_serialized
    def quarantined_ids(self) -> set[tuple[str, str]]:
        return set(self.db.execute("SELECT source, id FROM quarantine").fetchall())

    @_serialized
    def quarantined(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT source, id, reason, at, cycle FROM quarantine ORDER BY at").fetchall()
        return [dict(zip(("source", "id", "reason", "at", "cycle"), r)) for r in rows]

    @_serialized
    def start_cycle(self, mode: str) -> int:
        with self._transaction():
            cur = self.db.execute(
                "INSERT INTO cycles (started, mode) VALUES (?, ?) RETURNING id", (_now(), mode)
            )
            return cur.fetchone()[0]

    @_serialized
    def finish_cycle(self, cycle: int, summary: dict[str, Any]) -> None:
        with self._transaction():
            self.db.execute(
                "UPDATE cycles SET finished=?, summary=? WHERE id=?", (_now(), json.dumps(summary), cycle)
            )

    @_serialized
    def last_finished(self) -> datetime | None:
        """When the last cycle finished (`relais health`), or None before any did."""
        row = self.db.execute("SELECT MAX(finished) FROM cycles").fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    # -- deletions (the reconciliation sweep) ---------------------------------------
    @_serialized
    def forget_missing(self, source: str, seen: set[str], updated_before: datetime) -> list[str]:
        """Delete the stored items of ``source`` that a full re-read did not return; returns their ids.

        Only items last updated before ``updated_before``: a search index that lags
        (Jira's) may leave out what changed a moment ago, which is not a deletion."""
        rows = self.db.execute(
            "SELECT id FROM items WHERE source=? AND updated < ?",
            (source, updated_before.astimezone(UTC).isoformat()),
        ).fetchall()
        return self.forget(source, [i for (i,) in rows if i not in seen])

    @_serialized
    def forget(self, source: str, ids: Iterable[str]) -> list[str]:
        """Delete these items (the tool no longer has them); returns the ids that were stored."""
        gone = [
            i
            for i in ids
            if self.db.execute("SELECT 1 FROM items WHERE source=? AND id=?", (source, i)).fetchone()
        ]
        with self._transaction():
            for ident in gone:
                self.db.execute("DELETE FROM items WHERE source=? AND id=?", (source, ident))
                self.db.execute("DELETE FROM quarantine WHERE source=? AND id=?", (source, ident))
        return gone

    # -- webhook deliveries ------------------------------------------------------
    @_serialized
    def first_delivery(self, vendor: str, delivery_id: str, summary: str | None = None) -> bool:
        """Record a webhook delivery; False if it was received before (a replay or a retry)."""
        with self._transaction():
            cur = self.db.execute(
                "INSERT INTO deliveries VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
                (vendor, delivery_id, _now(), summary),
            )
            first = cur.rowcount == 1
            if first:  # bounded, whatever arrives: the oldest go first
                self.db.execute(
                    "DELETE FROM deliveries WHERE (vendor, delivery_id) IN (SELECT vendor, delivery_id "
                    f"FROM deliveries ORDER BY received DESC LIMIT {self._dialect.unlimited} OFFSET ?)",
                    (DELIVERIES_KEPT_MAX,),
                )
        return first

    @_serialized
    def prune_deliveries(self, before: str) -> int:
        """Forget deliveries received before ``before`` (ISO time): vendors stop retrying within a day."""
        with self._transaction():
            return self.db.execute("DELETE FROM deliveries WHERE received < ?", (before,)).rowcount

    # -- webhook deliveries kept until re-read (PostgreSQL, `relais run` replicas) -------------
    @_serialized
    def queue_delivery(self, vendor: str, delivery_id: str, summary: str | None, ids: list[str]) -> bool:
        """A verified delivery, queued until the leader has re-read its items; False if it was
        received before. Unfenced (the one write outside :meth:`_transaction`): a standby queues
        too, and the leader takes from the queue in a fenced transaction (:meth:`take_queued`)."""
        seen = self.db.execute(
            "SELECT 1 FROM deliveries WHERE vendor=? AND delivery_id=?", (vendor, delivery_id)
        ).fetchone()
        if seen:
            return False
        cur = self.db.execute(
            "INSERT INTO relais_webhook_queue (vendor, delivery_id, summary, ids) VALUES (?,?,?,?) "
            "ON CONFLICT DO NOTHING",
            (vendor, delivery_id, summary, json.dumps(ids)),
        )
        return cur.rowcount == 1

    @_serialized
    def take_queued(self, retake_after: float = QUEUE_RETAKE_SECONDS) -> list[tuple[str, str, list[str]]]:
        """The queued deliveries no leader of this term has taken, or that it took more than
        ``retake_after`` seconds ago (their re-read failed, or its end could not be recorded),
        marked taken and recorded as received (a replay is then a duplicate) in one fenced
        transaction: (vendor, delivery id, item ids) of each. They stay queued until
        :meth:`finish_queued`: a leader that dies before re-reading them leaves them to the next."""
        term = self.fence.term if self.fence is not None else 0
        with self._transaction():
            rows = self.db.execute(
                "UPDATE relais_webhook_queue SET taken = now(), taken_term = ? "
                "WHERE taken IS NULL OR taken_term IS DISTINCT FROM ? "
                "OR taken < now() - make_interval(secs => ?) "
                "RETURNING vendor, delivery_id, summary, ids, received",
                (term, term, retake_after),
            ).fetchall()
            for vendor, delivery_id, summary, _, received in rows:
                self.db.execute(
                    "INSERT INTO deliveries VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
                    (vendor, delivery_id, received.astimezone(UTC).isoformat(), summary),
                )
        return [
            (vendor, delivery_id, json.loads(ids))
            for vendor, delivery_id, _, ids, _ in sorted(rows, key=lambda r: r[4])
        ]

    @_serialized
    def finish_queued(self, deliveries: Iterable[tuple[str, str]]) -> None:
        """Their items were re-read (the cycle ended without an error): out of the queue."""
        keys = list(deliveries)
        if not keys:
            return
        with self._transaction():
            self.db.executemany("DELETE FROM relais_webhook_queue WHERE vendor=? AND delivery_id=?", keys)


def copy_store(source: StateStore, target: StateStore, batch: int = 1000) -> dict[str, int]:
    """Copy every row of ``source`` into ``target`` (`relais state copy`), keeping their ids: one
    read snapshot of the source, one transaction of the target, which must hold no row yet
    (:class:`StoreNotEmpty`). Returns the rows copied, per table."""
    counts = dict.fromkeys(TABLES, 0)
    with source._lock, target._lock, source._unusable(), target._unusable():
        source.db.execute("BEGIN")  # a snapshot: what a writer adds meanwhile is not half-copied
        try:
            with target._transaction():
                held = {
                    t: n
                    for t in TABLES
                    if (n := target.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
                }
                if held:
                    rows = ", ".join(f"{t} {n:,}" for t, n in held.items())
                    raise StoreNotEmpty(
                        f"{target.shown()} holds a state store already ({rows}): copy into an empty database"
                    )
                for table in TABLES:
                    cur = source.db.execute(f"SELECT * FROM {table}")
                    columns = [d[0] for d in cur.description]
                    insert = (
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({','.join('?' * len(columns))})"
                    )
                    while rows_read := cur.fetchmany(batch):
                        target.db.executemany(insert, rows_read)
                        counts[table] += len(rows_read)
                target._dialect.after_copy(target.db)
        finally:
            source.db.execute("COMMIT")
    return counts
