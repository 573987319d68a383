"""`relais run`: each source on its own timer, webhooks, hot reload, a clean stop.

Threads and locks:

* one worker per source runs that source's jobs one at a time — a poll on its
  interval (with jitter), a full reconciliation sweep every
  ``reconcile_every`` seconds, and the targeted re-reads webhooks ask for — so
  two cycles of one source never overlap, while a slow source never delays
  another;
* pulls of different sources run side by side; plan and apply run under one
  lock, so writes never interleave and every plan sees a consistent store;
* a config reload swaps the engine between jobs (the "gate"), never inside one;
* SIGTERM sets ``stop``: a job stops before its writes or between two writes
  (cursors move only after a cycle's writes, so nothing is skipped), the
  workers are joined for at most ``daemon.stop_seconds``, the store is closed.

A source that starts failing is logged once, and once when it recovers.

On PostgreSQL any number of replicas run on one store; one leads (sync.lock.Lease, a
thread renewing it every 2 s). A standby pulls and writes nothing: its workers skip
their jobs; it serves /healthz, /readyz ("standby"), /metrics and the status page
from the shared store, and keeps trying for the lease. Winning it, it polls every
source at once (what the former leader left unfinished is in the store: its intents,
its keys). Losing it, it stops before its next write transaction (the store checks
the lease's term in each: a write already under way when the lease goes is refused).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.errors import redact
from sync.dialect import FencedError, is_url
from sync.engine import CycleReport, Engine
from sync.lock import Lease
from sync.log import get_logger
from sync.metrics import Metrics
from sync.progress import Progress, line
from sync.reload import ConfigWatcher
from sync.timers import Timers
from sync.web import WebServer

if TYPE_CHECKING:
    from sync.settings import Settings

#: A sweep forgets only items unchanged for this long: a lagging search index is not a deletion.
SWEEP_GRACE = timedelta(minutes=15)
#: Webhook delivery ids are kept this long; vendors stop retrying within hours (PagerDuty ~20 min,
#: Jira ~30 min, Notion 8 attempts).
DELIVERIES_KEPT = timedelta(days=7)


class Stopping(Exception):
    """Raised between two writes once SIGTERM has been received."""


@dataclass
class Job:
    kind: str  # "poll", "reconcile" or "webhook"
    ids: list[str] = field(default_factory=list)
    #: The queued deliveries (vendor, delivery id) this job re-reads: out of the store's queue once
    #: it ends without an error (PostgreSQL replicas; sync.state.StateStore.take_queued).
    deliveries: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class SourceState:
    """What /readyz and the status page say about one source."""

    name: str
    cycles: int = 0
    failures: int = 0  # consecutive
    last_kind: str | None = None
    last_started: float | None = None
    last_finished: float | None = None
    last_started_monotonic: float | None = None
    last_finished_monotonic: float | None = None  # how long ago, whatever the wall clock did
    last_success: float | None = None
    last_error: str | None = None
    last_summary: dict[str, Any] = field(default_factory=dict)


class Daemon:
    #: Seconds between two progress lines in the log while a long cycle runs (a first sync).
    PROGRESS_EVERY = 15.0

    def __init__(
        self,
        config_path: str | Path,
        settings: Settings,
        secrets: Any,
        *,
        interval_override: float | None = None,
        environ: Any = None,
        clock: Callable[[], datetime] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.config_path = Path(config_path)
        self.first_progress = progress  # the first engine's (a terminal draws the first cycle)
        self.clock = clock  # the engines' clock (None: the system's); benchmarks move it
        self.settings = settings
        self.secrets = secrets
        self.environ = environ
        self.interval_override = interval_override
        self.log = get_logger()
        self.engine: Engine | None = None
        self.metrics = Metrics(lambda: self.engine.connectors if self.engine else {})
        self.stop = threading.Event()
        self._queue_nudged = threading.Event()
        self._queue_lock = threading.Lock()
        self._in_flight: set[tuple[str, str]] = set()  # queued deliveries a job of this process re-reads
        self.apply_lock = threading.Lock()
        self.started = time.time()
        self.sources: dict[str, SourceState] = {}
        self.config_errors: list[str] = []  # problems of the file on disk, when it is not the one running
        self.last_alerts: list[dict[str, Any]] = []
        self.last_held: list[dict[str, Any]] = []  # writes the last cycle held back, and why
        self.streams: dict[str, Any] = {}  # Readiness.as_dict() of the last cycle
        self.finished_cycles = 0
        self._queues: dict[str, queue.Queue[Job]] = {}
        self._workers: dict[str, threading.Thread] = {}
        self._gate = threading.Condition()
        self._active = 0
        self._swapping = False
        self._services: list[Any] = []  # the HTTP server and the config watcher: .start(), .close()
        self._reporter: threading.Thread | None = None
        self.lease: Lease | None = None  # PostgreSQL: the replicas' lease; None (SQLite): always leads

    # -- lifecycle --------------------------------------------------------------
    def start(self) -> None:
        """Connect (a wrong token fails here, before anything runs), then start serving and working."""
        engine = self._new_engine(self.settings, self.secrets)
        if is_url(engine.state):
            self.lease = engine.lease = Lease(str(engine.state), "relais run")
        engine.connect()
        self.engine = engine
        if self.lease is not None:
            self._lease_changed(self.lease.try_acquire(), first=True)
            self.lease.keep(self._lease_changed)
            threading.Thread(target=self._take_queued, name="relais-queue", daemon=True).start()

        if self.settings.daemon.http.enabled:
            self._services.append(WebServer(self))
        if self.settings.daemon.watch_config:
            self._services.append(ConfigWatcher(self))
        for service in self._services:
            service.start()
        self._spawn_workers()
        self._reporter = threading.Thread(target=self._report_progress, name="relais-progress", daemon=True)
        self._reporter.start()
        self.log.info(
            "started",
            extra={
                "sources": sorted(engine.connectors),
                "identities": engine.identities,
                "listen": self.listen_address(),
            },
        )

    def run(self) -> None:
        """Start (unless :meth:`start` was called already), then block until :meth:`request_stop`;
        then stop cleanly."""
        if self.engine is None:
            self.start()
        try:
            while not self.stop.wait(0.5):
                pass
        finally:
            self.shutdown()

    def request_stop(self, *_: Any) -> None:
        self.stop.set()

    def shutdown(self) -> None:
        self.stop.set()
        deadline = time.monotonic() + self.settings.daemon.stop_seconds
        for name, worker in self._workers.items():
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                self.log.warning(
                    "stop: abandoning a job still running; its cycle will be redone at the next start",
                    extra={"source": name},
                )
        for service in self._services:
            service.close()
        if self.engine is not None and not any(w.is_alive() for w in self._workers.values()):
            self.engine.close()
        if self.lease is not None:
            self.lease.close()  # handed back: a standby takes over at its next try
        self.log.info("stopped")

    def listen_address(self) -> str | None:
        for service in self._services:
            if hasattr(service, "address"):
                return service.address
        return None

    def _new_engine(self, settings: Settings, secrets: Any) -> Engine:
        engine = Engine(settings, secrets, clock=self.clock, progress=self.first_progress)
        engine.lease = self.lease
        self.first_progress = None
        engine.on_write = self._between_writes
        return engine

    # -- leading or standing by (PostgreSQL) ---------------------------------------
    def leading(self) -> bool:
        """Whether this replica may pull and write: always on SQLite; on PostgreSQL, while it holds
        the lease by its own clock (sync.lock.Lease.valid)."""
        return self.lease is None or self.lease.valid()

    def _lease_changed(self, held: bool, first: bool = False) -> None:
        assert self.lease is not None
        self.metrics.leader.set(1 if held else 0)
        if held:
            self.log.info("leading: this replica holds the lease", extra={"term": self.lease.term})
            for q in self._queues.values():  # a takeover: every source at once, not at its next timer
                q.put(Job("poll"))
        elif first:
            self.log.info("standby: another replica leads", extra={"leader": self.lease.leader()})
        else:
            self.log.warning("standby: the lease was lost", extra={"error": self.lease.error})

    #: Seconds between two looks at the queued webhook deliveries (one at this replica wakes it).
    QUEUE_EVERY = 1.0

    def queued(self) -> None:
        """A delivery was queued here (sync.webhooks): the leader takes it now, not at its next look."""
        self._queue_nudged.set()

    def _take_queued(self) -> None:
        """The leader re-reads the items of the queued deliveries, whichever replica took them."""
        while not self.stop.is_set():
            self._queue_nudged.wait(self.QUEUE_EVERY)
            self._queue_nudged.clear()
            engine = self.engine
            if self.stop.is_set() or not self.leading() or engine is None or engine.store is None:
                continue
            try:
                for vendor, delivery_id, ids in engine.store.take_queued():
                    key = (vendor, delivery_id)
                    with self._queue_lock:
                        if key in self._in_flight:  # still being re-read here: not twice at once
                            continue
                        self._in_flight.add(key)
                    if not self.enqueue(vendor, ids, [key]):  # the source is off
                        self._done_with([key])
                        engine.store.finish_queued([key])
            except Exception as e:  # fenced meanwhile, the store away: the next look tries again
                self.log.warning("queued webhooks: not taken", extra={"error": redact(str(e))})

    def _done_with(self, deliveries: list[tuple[str, str]]) -> None:
        """These deliveries' job ended, well or not: taken again later if still queued."""
        with self._queue_lock:
            self._in_flight.difference_update(deliveries)

    def _between_writes(self, _: int) -> None:
        if self.stop.is_set():
            raise Stopping()

    def progress(self) -> dict[str, Any] | None:
        """The running cycles' progress (:mod:`sync.progress`), or None when none runs."""
        engine = self.engine
        if engine is None or not engine.progress.busy():
            return None
        return engine.progress.snapshot()

    def _report_progress(self) -> None:
        """A progress line every :attr:`PROGRESS_EVERY` seconds while a cycle has run that long:
        per source items read of those announced and the time left, the writes, the whole."""
        while not self.stop.wait(self.PROGRESS_EVERY):
            snapshot = self.progress()
            if snapshot is None or (snapshot["elapsed_seconds"] or 0) < self.PROGRESS_EVERY:
                continue
            self.log.info("progress: " + line(snapshot), extra={"progress": snapshot})

    # -- the workers ------------------------------------------------------------
    def _spawn_workers(self) -> None:
        assert self.engine is not None
        for name in self.engine.connectors:
            if name in self._workers:
                continue
            self.sources.setdefault(name, SourceState(name))
            self._queues[name] = queue.Queue()
            worker = threading.Thread(target=self._work, args=(name,), name=f"relais-{name}", daemon=True)
            self._workers[name] = worker
            worker.start()

    def workers_alive(self) -> bool:
        return all(w.is_alive() for w in self._workers.values()) or self.stop.is_set()

    def interval(self, name: str) -> float:
        return self.interval_override or getattr(self.settings.daemon.intervals, name)

    def timers(self, name: str) -> Timers:
        """The source's timers, on the monotonic clock (:mod:`sync.timers`): a poll every interval
        ± jitter, counted from the end of the last poll, and the reconciliation sweep."""
        daemon = self.settings.daemon
        base = self.interval(name)
        jitter = min(daemon.jitter_seconds, base / 2)
        timers = Timers()
        timers.every(
            max(1.0, base - jitter), max(1.0, base + jitter), lambda: self._run_guarded(name, "poll")
        )
        reconcile = max(1.0, daemon.reconcile_every)
        timers.every(reconcile, reconcile, lambda: self._run_guarded(name, "reconcile"))
        return timers

    def enqueue(self, name: str, ids: list[str], deliveries: list[tuple[str, str]] | None = None) -> bool:
        """Ask the source's worker to re-read these items (a webhook). False if the source is off."""
        q = self._queues.get(name)
        if q is None or self.engine is None or name not in self.engine.connectors:
            return False
        q.put(Job("webhook", list(ids), list(deliveries or [])))
        return True

    def _work(self, name: str) -> None:
        q = self._queues[name]
        self._run_guarded(name, "poll")  # the first poll at once; the timers count from its end
        settings, timers = self.settings, self.timers(name)
        while not self.stop.is_set():
            if self.settings is not settings:  # a reload may have changed the intervals
                settings, timers = self.settings, self.timers(name)
            wait = timers.idle_seconds
            try:
                job: Job | None = q.get(timeout=min(0.5, max(0.0, wait if wait is not None else 0.5)))
            except queue.Empty:
                job = None
            if self.stop.is_set():
                return
            if job is None:
                timers.run_pending()
                continue
            while not q.empty():  # webhooks first; gather those already waiting into one re-read
                waiting = q.get_nowait()
                job.ids += waiting.ids
                job.deliveries += waiting.deliveries
                if waiting.kind == "poll":  # a takeover's poll covers the re-reads
                    job.kind = "poll"
            job.ids = list(dict.fromkeys(job.ids))
            self._run_guarded(name, job)

    def _run_guarded(self, name: str, job: Job | str) -> None:
        job = Job(job) if isinstance(job, str) else job
        try:
            self._run(name, job)
        except Exception as e:  # a bug in the bookkeeping must not kill the source's worker
            self.log.error(
                "worker error", extra={"source": name, "error": redact(f"{type(e).__name__}: {e}")}
            )
        finally:
            if job.deliveries:
                self._done_with(job.deliveries)

    @contextlib.contextmanager
    def _running(self) -> Iterator[Engine]:
        """Hold the engine for one job; a reload waits until no job holds it."""
        with self._gate:
            while self._swapping:
                self._gate.wait()
            self._active += 1
            engine = self.engine
        try:
            assert engine is not None
            yield engine
        finally:
            with self._gate:
                self._active -= 1
                self._gate.notify_all()

    def swap_engine(self, new: Engine) -> Engine:
        """Put ``new`` in service between jobs; returns the old engine (closed by the caller)."""
        with self._gate:
            self._swapping = True
            while self._active:
                self._gate.wait()
            old, self.engine = self.engine, new
            self.settings = new.settings
            self.secrets = new.secrets
            self._swapping = False
            self._gate.notify_all()
        self._spawn_workers()
        assert old is not None
        return old

    # -- one job ----------------------------------------------------------------
    def _run(self, name: str, job: Job) -> None:
        state = self.sources[name]
        if not self.leading():
            return  # a standby pulls and writes nothing
        with self._running() as engine:
            if name not in engine.connectors:
                return  # a reload switched this source off
            state.last_started = time.time()
            state.last_started_monotonic = time.monotonic()
            try:
                report = self._cycle(engine, name, job)
            except Stopping:
                self.log.info(
                    "stop: writes interrupted between two writes; the cycle will be redone",
                    extra={"source": name},
                )
                return
            except FencedError as e:  # the lease went to another replica: it finishes this cycle
                self.log.warning("fenced: not writing", extra={"source": name, "error": str(e)})
                return
            except Exception as e:  # an auth error, a bug: the worker survives, the source is failing
                report = CycleReport(
                    cycle=0,
                    mode=job.kind,
                    started="",
                    errors={
                        name: redact(
                            str(e) if hasattr(e, "vendor") else f"{name}: unexpected {type(e).__name__}: {e}"
                        )
                    },
                )
            if job.deliveries and name not in report.errors:  # re-read: out of the store's queue
                self._finish_queued(engine, job.deliveries)
        self._record(name, job, report)

    def _finish_queued(self, engine: Engine, deliveries: list[tuple[str, str]]) -> None:
        assert engine.store is not None
        try:
            engine.store.finish_queued(deliveries)
        except Exception as e:  # fenced meanwhile, the store away: re-read again later, harmlessly
            self.log.warning("queued webhooks: not finished", extra={"error": redact(str(e))})

    def _cycle(self, engine: Engine, name: str, job: Job) -> CycleReport:
        store = engine.store
        assert store is not None
        cycle = engine.begin(job.kind, only=name, full=job.kind == "reconcile")
        if job.kind == "webhook":
            self.metrics.deleted.labels(name).inc(engine.reread(cycle, name, job.ids))
        else:
            if job.kind == "reconcile":
                cycle.seen = {}
                store.prune_deliveries((cycle.now - DELIVERIES_KEPT).isoformat())
            engine.pull(cycle)
            gone = engine.sweep(cycle, name, SWEEP_GRACE) if cycle.seen is not None else 0
            if gone:
                self.metrics.deleted.labels(name).inc(gone)
                self.log.info(
                    "reconcile: forgot items the tool no longer has", extra={"source": name, "count": gone}
                )
        if self.stop.is_set():
            raise Stopping()
        with self.apply_lock:
            work = engine.plan(cycle)
            engine.apply(cycle, work)
            return engine.finish(cycle)

    def _record(self, name: str, job: Job, report: CycleReport) -> None:
        state = self.sources[name]
        now = time.time()
        self.metrics.record_cycle(name, job.kind, report, now)
        state.cycles += 1
        state.last_kind = job.kind
        state.last_finished = now
        state.last_finished_monotonic = time.monotonic()
        self.last_held = [h.as_dict() for h in report.held] if report.cycle else self.last_held
        if report.streams:
            self.streams = report.streams
        summary = report.as_dict()
        state.last_summary = {
            k: summary[k] for k in (*CycleReport.COUNTS, "planned", "quarantined", "seconds")
        }
        state.last_summary["held"] = len(report.held)
        self.finished_cycles += 1
        if report.cycle:
            self.last_alerts = report.alerts
        error = report.errors.get(name)
        if error is None:
            if state.failures:
                self.log.info("source recovered", extra={"source": name, "failed_cycles": state.failures})
            state.failures, state.last_error, state.last_success = 0, None, now
        else:
            state.failures += 1
            state.last_error = error
            if state.failures == 1:
                self.log.error("source failing", extra={"source": name, "error": error})
        self.log.info(
            "cycle finished",
            extra={"source": name, "kind": job.kind, "summary": state.last_summary, "errors": report.errors},
        )

    # -- what the endpoints show -------------------------------------------------
    #: A source whose last cycle ended longer ago than this many of its intervals is "stale":
    #: its timer or worker is stuck, whatever the wall clock says.
    STALE_AFTER_INTERVALS = 3

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """(ready, details). Ready once every source has finished a first cycle, failed or not;
        degraded when the config has errors, a source keeps failing, or a source's last cycle is
        older than a few of its intervals (on the monotonic clock). While a stream has not been
        read in full yet, the writes computed from it are held: the body says which and why."""
        if not self.leading():
            assert self.lease is not None
            return True, {
                "status": "standby",
                "message": "standby: another replica leads; this one takes over if it stops renewing its lease",
                "leader": self.lease.leader(),
                "progress": None,
                "sources": {},  # the leader's; its cycles are in the shared store (the status page)
                "config": {
                    "file": str(self.config_path),
                    "ok": not self.config_errors,
                    "errors": list(self.config_errors),
                },
            }
        limit = self.settings.daemon.failing_after
        sources = {}
        running = self.engine.connectors if self.engine is not None else {}
        now = time.monotonic()
        for name, s in sorted(self.sources.items()):
            if name not in running:
                continue  # switched off by a reload
            interval = self.interval(name) + self.settings.daemon.jitter_seconds
            age = None if s.last_finished_monotonic is None else now - s.last_finished_monotonic
            busy = s.last_started_monotonic is not None and (
                s.last_finished_monotonic is None or s.last_started_monotonic > s.last_finished_monotonic
            )
            # A long cycle (a first sync of a large tenant) is running, not stale; a source whose
            # timer no longer fires is.
            stale = age is not None and not busy and age > self.STALE_AFTER_INTERVALS * interval + 30
            status = (
                "starting"
                if s.cycles == 0
                else "failing"
                if s.failures >= limit
                else "stale"
                if stale
                else "retrying"
                if s.failures
                else "ok"
            )
            sources[name] = {
                "status": status,
                "cycles": s.cycles,
                "consecutive_failures": s.failures,
                "last_cycle": _iso(s.last_finished),
                "last_success": _iso(s.last_success),
                "seconds_since_last_cycle": None if age is None else round(age, 1),
                "last_error": s.last_error,
            }
        ready = self.engine is not None and all(self.sources[n].cycles for n in sources)
        degraded = bool(self.config_errors) or any(
            v["status"] in ("failing", "stale") for v in sources.values()
        )
        status = "degraded" if ready and degraded else "ready" if ready else "starting"
        incomplete = self.streams.get("incomplete") if self.streams else None
        progress = self.progress()
        return ready, {
            "status": status,
            **({} if ready else {"message": "not ready: first sync in progress"}),
            "progress": progress,
            "config": {
                "file": str(self.config_path),
                "ok": not self.config_errors,
                "errors": list(self.config_errors),
            },
            "sources": sources,
            "first_read_incomplete": incomplete if incomplete is not None else "not known yet",
            "held_writes": len(self.last_held),
            "held": _held_summary(self.last_held),
        }


def _held_summary(held: list[dict[str, Any]]) -> dict[str, int]:
    """Held writes counted by reason."""
    out: dict[str, int] = {}
    for h in held:
        out[h["reason"]] = out.get(h["reason"], 0) + 1
    return out


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    from datetime import datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
