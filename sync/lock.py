"""One writer per state store: an exclusive lock beside it, held for the life of the process.

Two relais writing with one state store (two `relais run`, a `sync --once`
beside the daemon) race each other: seen, 7 duplicate scorecard rows in 30 s
and "Routed by" rewritten back and forth forever. So a process that writes —
`run` and `sync` — takes an exclusive ``flock`` on ``<state file>.lock`` before
it reads anything, and a second one stops at once with a line naming the
holder. ``plan``, ``report``, ``explain`` and ``validate`` never take it: they
work beside a running daemon.

The kernel releases the lock when the process ends, however it ends (SIGKILL
included): a lock is never left behind. The file keeps the holder's pid, host
and start time, for the message. Within one process the lock is shared (the
daemon's engine before and after a config reload hold the same lock).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class WriterLockedError(RuntimeError):
    """Another process writes with this state store."""


_held: dict[str, tuple[Any, int]] = {}  # lock path -> (open file, holders in this process)
_guard = threading.Lock()


def lock_path(state_path: str | Path) -> Path:
    path = Path(state_path)
    return path.with_name(path.name + ".lock")


class WriterLock:
    """``WriterLock.acquire(state_path)``; ``release()`` when the engine closes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.released = False

    @classmethod
    def acquire(cls, state_path: str | Path, command: str | None = None) -> WriterLock:
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

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        key = _key(self.path)
        with _guard:
            handle, count = _held.get(key, (None, 0))
            if handle is None:
                return
            if count > 1:
                _held[key] = (handle, count - 1)
                return
            del _held[key]
            handle.close()  # closing the last descriptor releases the flock


def _key(path: Path) -> str:
    return str(path.parent.resolve() / path.name)


def holder(state_path: str | Path) -> dict[str, Any] | None:
    """Who holds the writer lock of this store now, if anyone (for the status of a CLI)."""
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
