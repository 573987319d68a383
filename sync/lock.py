"""One writer per state store: an exclusive lock beside it, held for the life of the process.

Two relais writing with one state store (two `relais run`, a `sync --once`
beside the daemon) race each other: seen, 7 duplicate scorecard rows in 30 s
and "Routed by" rewritten back and forth forever. So a process that writes —
`run` and `sync` — takes an exclusive ``flock`` on ``<state file>.lock`` before
it reads anything, and a second one stops at once with a line naming the
holder. ``plan``, ``report``, ``explain`` and ``validate`` never take it: they
work beside a running daemon.

On PostgreSQL (``state.url``) the lock is a lease (:class:`Lease`): one row of
``relais_leader`` naming its holder (``relais sync 4242@host``), a term that only
grows, and an expiry by the database's clock, renewed every 2 s by a thread of the
holder; the term is the fencing token each write transaction checks (sync.state),
so a holder paused past its lease writes nothing more. The lease is free once it
expired, or at once when the holder's connection is gone (a process killed, its
connection closed by the kernel). `relais run` replicas wait for it as standbys
(sync.daemon); `sync` and `state copy` take it or stop, as on SQLite.

The kernel releases the lock when the process ends, however it ends (SIGKILL
included): a lock is never left behind. The file keeps the holder's pid, host
and start time, for the message. Within one process the lock is shared (the
daemon's engine before and after a config reload hold the same lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sync.dialect import (
    LEADER_TABLE,
    LEASE_RENEW_SECONDS,
    LEASE_SECONDS,
    QUEUE_TABLE,
    QUEUE_TABLE_TAKEN,
    connect_postgres,
    is_url,
    one_line,
    shown,
)

#: What this process' clock keeps off the lease's end: it stops writing a little before the
#: database's clock lets another take over (clocks tick at slightly different rates).
LEASE_MARGIN_SECONDS = 1.0

#: Acquire the lease when free, expired, or its holder's connection is gone; renew it while held
#: (same holder, same term). The term is the fencing token: it grows with each new holder.
_TAKE = f"""
INSERT INTO relais_leader AS l (id, holder, term, acquired, expires, backend)
VALUES (1, %(holder)s, 1, now(), now() + make_interval(secs => {LEASE_SECONDS}), pg_backend_pid())
ON CONFLICT (id) DO UPDATE SET
    term = CASE WHEN l.holder = excluded.holder AND l.term = %(term)s THEN l.term ELSE l.term + 1 END,
    acquired = CASE WHEN l.holder = excluded.holder AND l.term = %(term)s THEN l.acquired ELSE now() END,
    holder = excluded.holder, expires = excluded.expires, backend = excluded.backend
WHERE (l.holder = excluded.holder AND l.term = %(term)s)
    OR l.expires < now()
    OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.backend)
RETURNING term
"""


class WriterLockedError(RuntimeError):
    """Another process writes with this state store."""


_held: dict[str, tuple[Any, int]] = {}  # lock path -> (open file, holders in this process)
_guard = threading.Lock()


def lock_path(state_path: str | Path) -> Path:
    path = Path(state_path)
    return path.with_name(path.name + ".lock")


class WriterLock:
    """``WriterLock.acquire(state_path)``; ``release()`` when the engine closes."""

    def __init__(self, path: Path, key: str | None = None, lease: Lease | None = None) -> None:
        self.path = path
        self.key = key or _key(path)
        self.released = False
        self.lease = lease  # PostgreSQL: the lease the store's writes are fenced by

    @classmethod
    def acquire(cls, state_path: str | Path, command: str | None = None) -> WriterLock:
        if is_url(state_path):
            return cls._acquire_postgres(str(state_path), command)
        path = lock_path(state_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        key = _key(path)
        with _guard:
            if key in _held:
                handle, count = _held[key]
                _held[key] = (handle, count + 1)
                return cls(path)
            handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                raise WriterLockedError(_message(state_path, _holder_once_written(path))) from None
            handle.seek(0)
            handle.truncate()
            handle.write(
                json.dumps(
                    {
                        "pid": os.getpid(),
                        "host": socket.gethostname(),
                        "since": datetime.now(UTC).isoformat(timespec="seconds"),
                        "command": command or " ".join(["relais", *sys.argv[1:2]]),
                    }
                )
                + "\n"
            )
            handle.flush()
            _held[key] = (handle, 1)
        return cls(path)

    @classmethod
    def _acquire_postgres(cls, url: str, command: str | None) -> WriterLock:
        with _guard:
            if url in _held:
                handle, count = _held[url]
                _held[url] = (handle, count + 1)
                return cls(Path(url), key=url, lease=handle)
            lease = Lease(url, command or " ".join(["relais", *sys.argv[1:2]]))
            if not lease.try_acquire():
                who = lease.leader()
                lease.close()
                if lease.error:
                    raise WriterLockedError(
                        f"{shown(url)}: cannot take the writer lock of the PostgreSQL state store ({lease.error})"
                    )
                raise WriterLockedError(_message(shown(url), who))
            lease.keep()
            _held[url] = (lease, 1)
        return cls(Path(url), key=url, lease=lease)

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        key = self.key
        with _guard:
            handle, count = _held.get(key, (None, 0))
            if handle is None:
                return
            if count > 1:
                _held[key] = (handle, count - 1)
                return
            del _held[key]
            handle.close()  # closing the last descriptor (or handing the lease back) releases the lock


def _key(path: Path) -> str:
    return str(path.parent.resolve() / path.name)


def holder(state_path: str | Path) -> dict[str, Any] | None:
    """Who holds the writer lock of this store now, if anyone (for the status of a CLI)."""
    if is_url(state_path):
        lease = Lease(str(state_path), "relais")
        try:
            return lease.leader(live=True)
        finally:
            lease.close()
    path = lock_path(state_path)
    if not path.exists():
        return None
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return _read_holder(path) or {}
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return None


def _holder_once_written(path: Path, wait_seconds: float = 1.0) -> dict[str, Any] | None:
    """The holder's line, waiting a moment for it: a process that has just taken the lock
    writes it right after (two started together: the loser reads between the two)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        holder = _read_holder(path)
        if (holder and "pid" in holder) or time.monotonic() >= deadline:
            return holder
        time.sleep(0.02)


def _read_holder(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _message(state_path: str | Path, who: dict[str, Any] | None) -> str:
    if who:
        by = f"pid {who.get('pid', '?')} on {who.get('host', '?')} since {who.get('since', '?')}"
        if who.get("command"):
            by += f" ({who['command']})"
    else:
        by = "another process"
    return (
        f"another relais is writing with the state store {state_path}: {by}. One writer per store: stop "
        "it first (`relais plan`, `report` and `explain` work beside it)"
    )


class Lease:
    """The lease of the one writer on a PostgreSQL store (see the module docstring).

    :meth:`try_acquire` acquires or renews it in one statement; :meth:`keep` does so every
    ``LEASE_RENEW_SECONDS`` in a thread (a standby keeps trying, a holder keeps renewing);
    :meth:`valid` says whether this process may write, by its own monotonic clock, so that a
    process paused past its lease knows it before it asks the database. ``term`` is the
    fencing token the store checks in each write transaction (``StateStore.fence``)."""

    def __init__(self, url: str, command: str) -> None:
        self.url = url
        self.holder = f"{command} {os.getpid()}@{socket.gethostname()}"
        self.term = 0
        self.error: str | None = None  # the last failure to reach the database, if any
        self._until = 0.0  # monotonic: this process writes until then
        self._conn: Any = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def valid(self) -> bool:
        return self.term > 0 and time.monotonic() < self._until

    def _connection(self) -> Any:
        if self._conn is None or self._conn.broken or self._conn.closed:
            import psycopg

            conn = connect_postgres(self.url, application_name=self.holder[:63])
            conn.execute("SET lock_timeout = '2s'")  # a write transaction holds the row: try again later
            for table in (LEADER_TABLE, QUEUE_TABLE, QUEUE_TABLE_TAKEN):
                with contextlib.suppress(psycopg.errors.UniqueViolation):  # another replica made it meanwhile
                    conn.execute(table)
            self._conn = conn
        return self._conn

    def try_acquire(self) -> bool:
        """Acquire the lease if it is free or expired, or renew it if held; True while held."""
        import psycopg

        with self._lock:
            asked = time.monotonic()
            try:
                row = self._connection().execute(_TAKE, {"holder": self.holder, "term": self.term}).fetchone()
            except psycopg.Error as e:  # the server away: the lease lasts until its end, no longer
                self.error = one_line(e)
                if self._conn is not None and self._conn.broken:
                    self._conn = None
                return self.valid()
            self.error = None
            if row is None:  # another holds it
                self.term, self._until = 0, 0.0
                return False
            self.term = int(row[0])
            self._until = asked + LEASE_SECONDS - LEASE_MARGIN_SECONDS
            return True

    def keep(self, on_change: Callable[[bool], None] | None = None) -> None:
        """Renew (or, a standby, try to acquire) every ``LEASE_RENEW_SECONDS`` in a thread, until
        :meth:`close`; ``on_change(held)`` when this process wins or loses the lease."""

        def loop() -> None:
            held = self.valid()
            while not self._stop.wait(LEASE_RENEW_SECONDS):
                now = self.try_acquire()
                if now != held and on_change is not None:
                    on_change(now)
                held = now

        self._thread = threading.Thread(target=loop, name="relais-lease", daemon=True)
        self._thread.start()

    def leader(self, live: bool = False) -> dict[str, Any] | None:
        """The lease's holder (command, pid, host, since, term, expires); ``live``: None when the
        lease is free to take."""
        import psycopg

        try:
            with self._lock:
                row = (
                    self._connection()
                    .execute(
                        "SELECT holder, acquired, term, expires, expires >= now() AND EXISTS "
                        "(SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.backend) FROM relais_leader l"
                    )
                    .fetchone()
                )
        except psycopg.Error as e:
            self.error = one_line(e)
            return None
        if row is None or (live and not row[4]):
            return None
        found = re.fullmatch(r"(.*) (\d+)@(\S*)", row[0])
        who: dict[str, Any] = {
            "since": row[1].astimezone(UTC).isoformat(timespec="seconds"),
            "term": row[2],
            "expires": row[3].astimezone(UTC).isoformat(timespec="seconds"),
        }
        if found:
            who.update(command=found.group(1), pid=int(found.group(2)), host=found.group(3))
        return who

    def close(self) -> None:
        """Stop renewing and hand the lease back (a standby takes over at once)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(10)
        with self._lock:
            if self._conn is not None and not self._conn.closed:
                if self.term:
                    with contextlib.suppress(Exception):
                        self._conn.execute(
                            "UPDATE relais_leader SET expires = now() - interval '1 second' "
                            "WHERE holder = %s AND term = %s",
                            (self.holder, self.term),
                        )
                self._conn.close()
            self._conn = None
            self.term, self._until = 0, 0.0
