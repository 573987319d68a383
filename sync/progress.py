"""How far a cycle is, and how long the rest will take: one model the terminal, the daemon's
log line, ``/readyz`` and the status page all read.

The engine reports events (:class:`Progress`): a source's read started, with the size its
tool announced (:class:`connectors.spec.ReadEstimate`) or the count the store kept from the
previous read; a page read (items, requests so far); the writes planned, in requests per
vendor; each write request sent. The figures:

* **a read's remaining time** is the larger of two: the requests left at the source's rate
  (``requests_per_second``: what the vendor's limit allows), and the items left at the pace
  seen so far (what relais' own work, storing and mapping, allows). The requests left are
  the estimate's pages until the first page is read, then the items left times the requests
  per item seen so far — which counts the per-item reads no count announces (Jira's
  worklogs past the 20 a search embeds). A read whose total is unknown (Notion has no count,
  and a first read has no previous one) has no remaining time; its items read are shown.
* **the writes' remaining time** is, per vendor, the write requests left at its rate; the
  vendors write side by side, so the largest.

No I/O and no clock of its own: ``clock`` is handed in (monotonic seconds), so every figure
is a plain function of the events (``tests/test_progress.py``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.spec import ReadEstimate


@dataclass
class SourceRead:
    """One source's read: what was announced, what was read, at what pace."""

    name: str
    rate: float  # the source's requests per second
    started: float
    total: int | None = None  # items announced; None: unknown
    how: str = "unknown"  # where the total came from
    planned_requests: int | None = None  # the requests the estimate said the listing takes
    done: int = 0  # items read
    requests: int = 0  # requests this read has made
    finished: float | None = None

    def requests_left(self) -> float | None:
        if self.total is None:
            return None
        if self.done and self.requests:
            return max(0, self.total - self.done) * self.requests / self.done
        return float(max(0, (self.planned_requests or 0) - self.requests))

    def eta(self, now: float) -> float | None:
        """Seconds until this read ends (0 once it has); None while the total is unknown."""
        if self.finished is not None:
            return 0.0
        left = self.requests_left()
        if left is None or self.total is None:
            return None
        by_rate = left / self.rate if self.rate > 0 else 0.0
        by_pace = (now - self.started) / self.done * max(0, self.total - self.done) if self.done else 0.0
        return max(by_rate, by_pace)

    def as_dict(self, now: float) -> dict[str, Any]:
        eta = self.eta(now)
        return {
            "read": self.done,
            "estimate": self.total,
            "estimate_from": self.how,
            "done": self.finished is not None,
            "eta_seconds": None if eta is None else round(eta, 1),
        }


def write_seconds(requests: Mapping[str, int], rates: Mapping[str, float]) -> float:
    """Seconds ``requests`` (per vendor) take at the vendors' ``rates``, vendors side by side."""
    return max((n / rates[v] for v, n in requests.items() if n and rates.get(v)), default=0.0)


@dataclass
class Writes:
    planned: dict[str, int]  # write requests per vendor
    rates: dict[str, float]
    done: dict[str, int] = field(default_factory=dict)

    def left(self) -> dict[str, int]:
        return {v: max(0, n - self.done.get(v, 0)) for v, n in self.planned.items()}

    def eta(self) -> float:
        return write_seconds(self.left(), self.rates)

    def as_dict(self) -> dict[str, Any]:
        return {
            "done": sum(min(n, self.planned.get(v, 0)) for v, n in self.done.items()),
            "planned": sum(self.planned.values()),
            "requests": dict(self.planned),
            "eta_seconds": round(self.eta(), 1),
        }


class Progress:
    """The events of one cycle (or, in the daemon, of the reads running side by side), and
    the figures drawn from them. Thread-safe: sources are read in threads of their own.
    ``listener`` is called after every event (the terminal redraws)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        listener: Callable[[Progress], None] | None = None,
    ) -> None:
        self.clock = clock
        self.listener = listener
        self.reads: dict[str, SourceRead] = {}
        self.writes: Writes | None = None
        self.started: float | None = None
        self.phase = "idle"  # reading, planning, writing, done
        self._lock = threading.Lock()

    def _changed(self) -> None:
        if self.listener is not None:
            self.listener(self)

    # -- the events ----------------------------------------------------------------------
    def read_started(
        self, source: str, rate: float, estimate: ReadEstimate | None = None, previous: int | None = None
    ) -> None:
        """A source's read began: ``estimate`` from its tool, else ``previous`` (the items the
        store holds from an earlier read), else unknown."""
        now = self.clock()
        with self._lock:
            if self.started is None or self.phase in ("idle", "done"):
                self.started = now
                self.writes = None
            self.phase = "reading"
            read = SourceRead(source, rate, now)
            if estimate is not None and estimate.items is not None:
                read.total, read.how, read.planned_requests = estimate.items, estimate.how, estimate.requests
            elif previous:
                per_page = 100
                read.total, read.how = previous, "previous read"
                read.planned_requests = max(1, math.ceil(previous / per_page))
            self.reads[source] = read
        self._changed()

    def page_read(self, source: str, items: int, requests: int) -> None:
        """``items`` read so far by the source's read, in ``requests`` requests so far."""
        with self._lock:
            read = self.reads.get(source)
            if read is None:
                return
            read.done, read.requests = items, requests
            if read.total is not None and items > read.total:
                read.total = items  # a count is approximate: never show more read than expected
        self._changed()

    def read_finished(self, source: str) -> None:
        with self._lock:
            read = self.reads.get(source)
            if read is not None:
                read.finished = self.clock()
                read.total = read.done  # what it really was
            if all(r.finished is not None for r in self.reads.values()):
                self.phase = "planning"
        self._changed()

    def writes_planned(self, requests: Mapping[str, int], rates: Mapping[str, float]) -> None:
        with self._lock:
            self.writes = Writes(dict(requests), dict(rates))
            self.phase = "writing"
        self._changed()

    def written(self, vendor: str, requests: int = 1) -> None:
        with self._lock:
            if self.writes is not None:
                self.writes.done[vendor] = self.writes.done.get(vendor, 0) + requests
        self._changed()

    def finished(self) -> None:
        """A cycle ended (in the daemon, one source's: the others may still be reading)."""
        with self._lock:
            reading = any(r.finished is None for r in self.reads.values())
            self.phase = "reading" if reading else "done"
        self._changed()

    # -- the figures -----------------------------------------------------------------------
    def busy(self) -> bool:
        return self.phase in ("reading", "planning", "writing")

    def snapshot(self) -> dict[str, Any]:
        """Everything shown, as JSON: per source read/estimate and its remaining seconds, the
        writes done/planned and theirs, and the whole remaining time when it is known
        (``eta_seconds``: the slowest read of a known size, plus the writes once they are
        planned; the reads of unknown size are named in ``eta_unknown``)."""
        now = self.clock()
        with self._lock:
            sources = {name: r.as_dict(now) for name, r in sorted(self.reads.items())}
            writes = self.writes.as_dict() if self.writes is not None else None
            etas = [r.eta(now) for r in self.reads.values()]
            phase, started = self.phase, self.started
            unknown = sorted(name for name, r in self.reads.items() if r.eta(now) is None)
        known = [e for e in etas if e is not None]
        read_eta = max(known) if known else None if unknown else 0.0
        eta = None if read_eta is None else read_eta + (writes["eta_seconds"] if writes else 0.0)
        return {
            "phase": phase,
            "elapsed_seconds": None if started is None else round(now - started, 1),
            "sources": sources,
            "writes": writes,
            "eta_seconds": None if eta is None else round(eta, 1),
            "eta_includes_writes": writes is not None,
            "eta_unknown": unknown,  # sources whose size is unknown: not in eta_seconds
        }


def duration(seconds: float | None) -> str:
    """``seconds`` as people say it: "12 s", "3 min 5 s", "1 h 4 min"; "unknown" for None."""
    if seconds is None:
        return "unknown"
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s" if s % 60 else f"{s // 60} min"
    return f"{s // 3600} h {(s % 3600) // 60} min"


def line(snapshot: Mapping[str, Any]) -> str:
    """One line of a :meth:`Progress.snapshot` (the daemon's log, the status page):
    ``jira 2,300/10,000 (ETA 6 min 10 s); notion 400/unknown; writes 0/0; about 6 min 10 s left``."""
    parts = []
    for name, s in snapshot["sources"].items():
        total = "unknown" if s["estimate"] is None else f"{s['estimate']:,}"
        state = "done" if s["done"] else f"ETA {duration(s['eta_seconds'])}"
        parts.append(f"{name} {s['read']:,}/{total} ({state})")
    w = snapshot.get("writes")
    if w is not None:
        parts.append(f"writes {w['done']:,}/{w['planned']:,} (ETA {duration(w['eta_seconds'])})")
    left = snapshot.get("eta_seconds")
    tail = "time left unknown" if left is None else f"about {duration(left)} left"
    if left is not None:
        notes = (
            [f"size of {', '.join(snapshot['eta_unknown'])} unknown"] if snapshot.get("eta_unknown") else []
        )
        if not snapshot.get("eta_includes_writes"):
            notes.append("the writes are counted once planned")
            tail += " to read"
        tail += f" ({'; '.join(notes)})" if notes else ""
    return "; ".join(parts + [tail])
