"""Which streams relais may compute from: read in full once, and their source's latest read good.

relais' store is a cache of the tools. On a fresh store, or while a tool fails,
it holds part of the truth, and a value derived from part of the truth is
wrong: PagerDuty read before Jira made every team RUN 100 % / BUILD 0 %. So
every value relais writes names the streams it is computed from
(:func:`sync.owned.needs`), and is written only when each of them

* has finished a first full read into this store (a pull with no cursor that
  ran to its end: every item of the stream is in the store), and
* belongs to a source whose latest read succeeded.

Anything else is *held*, with the reason, and lands at the first cycle where
it holds. What each source last did is kept in the store (``_read:<source>`` in
the cursors table), so a daemon cycle of one source, a CLI beside the daemon
and ``relais report`` judge alike; a new or deleted store starts with nothing
read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connectors import registry
from sync import owned

if TYPE_CHECKING:
    from sync.settings import Settings

MARK = "_read:"


def streams(settings: Settings) -> list[str]:
    """The streams the configured sources read, ``source:stream`` (each vendor's spec says its
    own): each is read in full once, then incrementally, and each can be complete or not."""
    return [
        stream
        for v in registry.VENDORS
        if (source := getattr(settings.sources, v.name)) is not None
        for stream in v.streams(source)
    ]


def stream_of(source: str, item_kind: str, database: str | None = None) -> str:
    """The stream an item was read from."""
    return registry.spec(source).stream_of(item_kind, database)


def needs_of_change(
    vendor: str, item_kind: str, database: str | None, field: str, settings: Settings, configured: list[str]
) -> frozenset[str]:
    """The streams the value of an owned field of such an item is computed from."""
    entry = owned.lookup(vendor, item_kind, field)
    derived = entry.derived_from if entry is not None else "status"
    return owned.needs(derived, stream_of(vendor, item_kind, database), settings, configured)


@dataclass
class Readiness:
    configured: list[str]  # the config's streams, source:stream
    complete: set[str] = field(default_factory=set)  # streams read in full once into this store
    failing: dict[str, str] = field(default_factory=dict)  # source -> why its latest read failed
    at: dict[str, str] = field(default_factory=dict)  # source -> when its latest read ended (ISO)

    @classmethod
    def from_store(cls, store: Any, settings: Settings) -> Readiness:
        ready = cls(streams(settings))
        for source in {s.split(":", 1)[0] for s in ready.configured}:
            mark = store.cursor(MARK + source) or {}
            ready.complete |= set(mark.get("streams") or ()) & set(ready.configured)
            if mark and not mark.get("ok", True):
                ready.failing[source] = str(mark.get("error") or "its last read failed")
            if mark.get("at"):
                ready.at[source] = mark["at"]
        return ready

    def record(self, store: Any, source: str, error: str | None) -> None:
        """What a pull of ``source`` did: all its streams read (``error`` None), or failed."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        if error is None:
            self.complete |= {s for s in self.configured if s.startswith(source + ":")}
            self.failing.pop(source, None)
        else:
            self.failing[source] = error
        self.at[source] = now
        streams = sorted(s for s in self.complete if s.startswith(source + ":"))
        store.save_cursor(MARK + source, {"streams": streams, "ok": error is None, "error": error, "at": now})

    def fail(self, source: str, error: str) -> None:
        """A source this cycle cannot use (it did not connect), without saying so in the store:
        the store's mark is for reads."""
        self.failing[source] = error

    def missing(self, needs: Iterable[str]) -> str | None:
        """Why a value computed from ``needs`` must wait, or None when it may be written."""
        reasons = []
        for source in sorted({s.split(":", 1)[0] for s in needs if s.split(":", 1)[0] in self.failing}):
            reasons.append(f"{source} is failing ({_short(self.failing[source])})")
        unread = sorted(s for s in needs if s not in self.complete and s.split(":", 1)[0] not in self.failing)
        if unread:
            reasons.append("waiting for the first full read of " + ", ".join(unread))
        return "; ".join(reasons) or None

    def incomplete(self) -> list[str]:
        """The configured streams not read in full yet."""
        return [s for s in self.configured if s not in self.complete]

    def as_dict(self) -> dict[str, Any]:
        return {
            "complete": sorted(self.complete),
            "incomplete": self.incomplete(),
            "failing": dict(self.failing),
        }


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
