"""One writer per state store: an exclusive lock beside it, held for the life of the process.

Two relais writing with one state store (two `relais run`, a `sync --once`
beside the daemon) race each other: seen, 7 duplicate scorecard rows in 30 s
and "Routed by" rewritten back and forth forever. So a process that writes —
`run` and `sync` — takes an exclusive ``flock`` on ``<state file>.lock`` before
it reads anything, and a second one stops at once with a line naming the
holder. ``plan``, ``report``, ``explain`` and ``validate`` never take it: they
work beside a running daemon.

On PostgreSQL (``state.url``) the lock is a session advisory lock
(``pg_try_advisory_lock``) on a connection of its own, held as long as the
connection: the server releases it when the process ends or its connection
drops. The holder is found in ``pg_stat_activity`` by the connection's
application name (``relais sync 4242@host``), for the same message.

The kernel releases the lock when the process ends, however it ends (SIGKILL
included): a lock is never left behind. The file keeps the holder's pid, host
and start time, for the message. Within one process the lock is shared (the
daemon's engine before and after a config reload hold the same lock).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import socket
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sync.dialect import WRITER_KEY, connect_postgres, is_url, one_line, shown


class WriterLockedError(RuntimeError):
    """Another process writes with this state store."""


_held: dict[str, tuple[Any, int]] = {}  # lock path -> (open file, holders in this process)
_guard = threading.Lock()


def lock_path(state_path: str | Path) -> Path:
    path = Path(state_path)
    return path.with_name(path.name + ".lock")


class WriterLock:
    """``WriterLock.acquire(state_path)``; ``release()`` when the engine closes."""

    def __init__(self, path: Path, key: str | None = None) -> None:
        self.path = path
        self.key = key or _key(path)
        self.released = False

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
                holder = _read_holder(path)
                handle.close()
                raise WriterLockedError(_message(state_path, holder)) from None
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
        import psycopg  # only a PostgreSQL store pays for the import

        with _guard:
            if url in _held:
                handle, count = _held[url]
                _held[url] = (handle, count + 1)
                return cls(Path(url), key=url)
            name = f"{command or ' '.join(['relais', *sys.argv[1:2]])} {os.getpid()}@{socket.gethostname()}"
            try:
                conn = connect_postgres(url, application_name=name[:63])
                got = conn.execute("SELECT pg_try_advisory_lock(%s)", (WRITER_KEY,)).fetchone()[0]
                who = None if got else _postgres_holder(conn)
            except psycopg.Error as e:
                raise WriterLockedError(
                    f"{shown(url)}: cannot take the writer lock of the PostgreSQL state store ({one_line(e)})"
                ) from None
            if not got:
                conn.close()
                raise WriterLockedError(_message(shown(url), who))
            _held[url] = (conn, 1)
        return cls(Path(url), key=url)

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
            handle.close()  # closing the last descriptor (or the connection) releases the lock


def _key(path: Path) -> str:
    return str(path.parent.resolve() / path.name)


def holder(state_path: str | Path) -> dict[str, Any] | None:
    """Who holds the writer lock of this store now, if anyone (for the status of a CLI)."""
    if is_url(state_path):
        conn = connect_postgres(str(state_path))
        try:
            return _postgres_holder(conn)
        finally:
            conn.close()
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


def _postgres_holder(conn: Any) -> dict[str, Any] | None:
    """pid, host, since and command of the session holding the writer lock, from its application
    name; None if the server does not show it (another role's session, without pg_read_all_stats)."""
    row = conn.execute(
        "SELECT a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = %s AND l.classid = 0 AND l.objsubid = 1 "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        (WRITER_KEY,),
    ).fetchone()
    found = re.fullmatch(r"(.*) (\d+)@(\S*)", row[0] or "") if row else None
    if row is None or found is None:
        return None
    since = row[1].astimezone(UTC).isoformat(timespec="seconds") if row[1] else "?"
    return {"command": found.group(1), "pid": int(found.group(2)), "host": found.group(3), "since": since}


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
