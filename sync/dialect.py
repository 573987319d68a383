"""The two engines the state store runs on: SQLite (the default, one file) and PostgreSQL.

sync.state writes its SQL once, in what both engines understand (``?`` placeholders,
``INSERT … ON CONFLICT``, ``RETURNING``, row values). What differs lives here, and only here:
how to connect, how a write transaction begins, where the schema's version is kept, the
column types of the migrations, which errors mean the store cannot be used, and how a
location is shown in a message (a URL's password never is).

A location is a :class:`~pathlib.Path` (SQLite) or a ``postgresql://`` URL (PostgreSQL).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from connectors.errors import register_secret

POSTGRES_SCHEMES = ("postgresql", "postgres")

#: The advisory lock every write transaction on PostgreSQL takes (what SQLite's BEGIN IMMEDIATE
#: does): two processes' writes never interleave, so an upsert never races another's insert.
WRITE_TRANSACTION_KEY = 0x72656C61  # "rela"

Location = Path | str

#: How long a lease lasts past its last renewal, by the database's clock; renewed every
#: LEASE_RENEW_SECONDS. A standby tries every LEASE_RENEW_SECONDS too, so it takes over at most
#: LEASE_SECONDS + LEASE_RENEW_SECONDS after the leader's last renewal (docs/decisions.md).
LEASE_SECONDS = 10
LEASE_RENEW_SECONDS = 2

#: The lease of the one writer among `relais run` replicas on PostgreSQL (sync.lock.Lease): one row,
#: its ``term`` the fencing token every write transaction checks (sync.state). Not a migration: a
#: SQLite store has no such table, and its schema version stays what it was.
LEADER_TABLE = (
    "CREATE TABLE IF NOT EXISTS relais_leader (id INTEGER PRIMARY KEY CHECK (id = 1), "
    'holder TEXT COLLATE "C" NOT NULL, term BIGINT NOT NULL, acquired TIMESTAMPTZ NOT NULL, '
    "expires TIMESTAMPTZ NOT NULL, backend INTEGER NOT NULL)"
)

#: Verified webhook deliveries, kept until the leader has re-read their items (sync.daemon);
#: PostgreSQL only. ``taken_term`` is the term of the leader that took one, ``taken`` when.
QUEUE_TABLE = (
    'CREATE TABLE IF NOT EXISTS relais_webhook_queue (vendor TEXT COLLATE "C" NOT NULL, '
    'delivery_id TEXT COLLATE "C" NOT NULL, summary TEXT, ids TEXT NOT NULL, '
    "received TIMESTAMPTZ NOT NULL DEFAULT now(), taken TIMESTAMPTZ, taken_term BIGINT, "
    "PRIMARY KEY (vendor, delivery_id))"
)
#: A queue made before deliveries were kept until re-read gets the two columns.
QUEUE_TABLE_TAKEN = (
    "ALTER TABLE relais_webhook_queue ADD COLUMN IF NOT EXISTS taken TIMESTAMPTZ, "
    "ADD COLUMN IF NOT EXISTS taken_term BIGINT"
)
#: A delivery this leader took this long ago and has not re-read (the re-read failed: the tool
#: or the store was away) is taken again; one a former leader took is taken again at once.
QUEUE_RETAKE_SECONDS = 30


class FencedError(RuntimeError):
    """A write by a process that no longer holds the lease (another replica leads): nothing of it
    was written."""


def is_url(location: object) -> bool:
    return isinstance(location, str) and urlsplit(location).scheme in POSTGRES_SCHEMES


def url_password(url: str) -> str | None:
    """The password a URL carries, in its user part or as ``password=`` in its query."""
    parts = urlsplit(url)
    if parts.password:
        return parts.password
    found = re.search(r"(?:^|&)password=([^&]*)", parts.query)
    return found.group(1) if found and found.group(1) else None


def shown(location: Location) -> str:
    """How a location appears in a message: a path as it is, a URL without its password."""
    if not is_url(location):
        return str(location)
    parts = urlsplit(str(location))
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:****@{host}"
    query = re.sub(r"(^|&)password=[^&]*", r"\1password=****", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def connect_postgres(url: str, application_name: str = "relais") -> Any:
    """An autocommit psycopg connection (relais says BEGIN itself, as it does on SQLite). Its
    client encoding is UTF8 whatever the database's: in a SQL_ASCII database (initdb without a
    locale, as in a bare container) psycopg would otherwise hand text back as bytes."""
    import psycopg  # only a PostgreSQL store pays for the import

    register_secret(url_password(url))
    return psycopg.connect(
        url,
        autocommit=True,
        application_name=application_name,
        connect_timeout=10,
        client_encoding="UTF8",
    )


def one_line(error: BaseException) -> str:
    """A driver's message on one line (libpq's span several)."""
    return "; ".join(line.strip() for line in str(error).splitlines() if line.strip()) or type(error).__name__


class Dialect:
    """What one engine needs said its own way; see the module docstring."""

    name = ""
    title = ""
    begin_write = "BEGIN IMMEDIATE"
    unlimited = "-1"  # LIMIT … for no limit

    def __init__(self, location: Location) -> None:
        self.location = location

    def connect(self) -> Any:
        raise NotImplementedError

    def begin(self, db: Any) -> None:
        db.execute(self.begin_write)

    def ddl(self, script: str) -> list[str]:
        return [s for s in script.split(";") if s.strip()]

    def schema_version(self, db: Any) -> int:
        raise NotImplementedError

    def set_schema_version(self, db: Any, number: int) -> None:
        raise NotImplementedError

    def errors(self) -> tuple[type[BaseException], ...]:
        raise NotImplementedError

    def unusable(self, error: BaseException) -> bool:
        """The store cannot be used (damaged, unreachable), as opposed to a bug in a statement."""
        raise NotImplementedError

    def broken(self, db: Any) -> bool:
        """The connection was lost (a server restarted): the store connects again."""
        return False

    def after_copy(self, db: Any) -> None:
        """After rows were copied in with their ids: what the engine needs to go on numbering."""


class SQLite(Dialect):
    name = "sqlite"
    title = "SQLite"

    def connect(self) -> sqlite3.Connection:
        path = Path(self.location)
        db = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=30000")
        return db

    def schema_version(self, db: Any) -> int:
        return db.execute("PRAGMA user_version").fetchone()[0]

    def set_schema_version(self, db: Any, number: int) -> None:
        db.execute(f"PRAGMA user_version = {int(number)}")

    def errors(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.DatabaseError,)

    def unusable(self, error: BaseException) -> bool:
        text = str(error).lower()
        return type(error) is sqlite3.DatabaseError or "malformed" in text or "not a database" in text


class PostgreSQL(Dialect):
    name = "postgresql"
    title = "PostgreSQL"
    begin_write = "BEGIN"
    unlimited = "ALL"

    def connect(self) -> PgConnection:
        conn = connect_postgres(str(self.location))
        # A process paused inside a transaction (SIGSTOP, a frozen node) would hold its locks, the
        # lease row's among them, for ever: the server ends such a session after one lease.
        conn.execute(f"SET idle_in_transaction_session_timeout = '{LEASE_SECONDS}s'")
        return PgConnection(conn)

    def begin(self, db: Any) -> None:
        db.execute("BEGIN")
        db.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_TRANSACTION_KEY,))

    def ddl(self, script: str) -> list[str]:
        # Identity columns for SQLite's AUTOINCREMENT (BY DEFAULT: a copy keeps its ids); text
        # compared byte by byte as SQLite does, whatever the database's collation (prefix ranges,
        # the order items are read in).
        script = script.replace(
            "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
        )
        return super().ddl(re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', script))

    def schema_version(self, db: Any) -> int:
        if db.execute("SELECT to_regclass('relais_schema')").fetchone()[0] is None:
            return 0
        row = db.execute("SELECT MAX(version) FROM relais_schema").fetchone()
        return int(row[0] or 0)

    def set_schema_version(self, db: Any, number: int) -> None:
        db.execute("CREATE TABLE IF NOT EXISTS relais_schema (version INTEGER NOT NULL)")
        db.execute("DELETE FROM relais_schema")
        db.execute("INSERT INTO relais_schema VALUES (?)", (number,))

    def errors(self) -> tuple[type[BaseException], ...]:
        import psycopg

        return (psycopg.Error,)

    def unusable(self, error: BaseException) -> bool:
        import psycopg

        return isinstance(error, psycopg.OperationalError | psycopg.errors.InsufficientPrivilege)

    def broken(self, db: Any) -> bool:
        return bool(db.conn.broken or db.conn.closed)

    def after_copy(self, db: Any) -> None:
        for table, column in (("audit", "seq"), ("cycles", "id")):
            db.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"COALESCE(MAX({column}), 0) + 1, false) FROM {table}"
            )


def dialect_of(location: Location) -> Dialect:
    return PostgreSQL(location) if is_url(location) else SQLite(location)


@lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


class PgConnection:
    """A psycopg connection that takes the store's SQL as written for SQLite (``?`` placeholders)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if not params:
            return self.conn.execute(sql)
        return self.conn.execute(_pg_sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        cur = self.conn.cursor()
        cur.executemany(_pg_sql(sql), rows)
        return cur

    def close(self) -> None:
        self.conn.close()
