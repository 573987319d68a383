"""One cycle: pull → store → derive → plan → apply → checkpoint.

* Every source is connected (credentials checked, names resolved) before the
  state store is touched, so a wrong token changes nothing locally.
* Pulled pages are stored one transaction each; the overlap window's
  re-reads are recognised there by their content hash.
* derive and plan run over every stored item, streamed from the store: a
  rule change is replayed over all history without re-reading the tools.
* A source's cursor is saved only after the cycle's writes succeeded. A crash
  anywhere means the next cycle re-reads and re-plans — and since plan
  compares with what the tools hold, a write that landed before the crash is
  not repeated.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from connectors.base import Connector
from connectors.errors import (
    AuthError,
    ConfigMismatchError,
    ConnectorError,
    FatalError,
    TransientError,
    redact,
    register_secret,
)
from connectors.registry import VENDORS, spec
from connectors.spec import ReadCounter
from sync import owned
from sync.apply import apply_by_vendor, side_by_side, write_requests
from sync.dialect import FencedError
from sync.followups import apply_followups, ticket_key
from sync.lock import WriterLock
from sync.models import FieldChange, WorkItem
from sync.plan import writeback_fingerprint
from sync.planner import outlook
from sync.progress import Progress, write_seconds
from sync.readiness import Readiness
from sync.settings._secrets import mask, state_location
from sync.state import StateStore

if TYPE_CHECKING:
    from sync.settings import Secrets, Settings


class SourceAuthError(FatalError):
    """A 401 at connect time, told in terms of the environment variable to fix."""


@dataclass
class CycleReport:
    #: The counts every summary of a cycle shows (the daemon's log line, the benchmarks).
    COUNTS: ClassVar[tuple[str, ...]] = ("pulled", "changed", "writes", "failed_writes", "created")

    cycle: int
    mode: str
    started: str
    pulled: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    planned: list[FieldChange] = field(default_factory=list)
    planned_creates: list[Any] = field(default_factory=list)
    planned_followups: list[Any] = field(default_factory=list)  # sync.followups.FollowUp
    briefings: Any = None  # sync.briefings.BriefingPlan
    duplicates: list[str] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    routing: Any = None  # sync.route.RoutingPlan
    writes: int = 0
    failed_writes: int = 0
    created: int = 0  # everything created: scorecard rows, follow-up tickets and notes
    rows_created: int = 0
    followups_created: int = 0
    notes_created: int = 0
    followups_waiting: list[str] = field(default_factory=list)
    creates_waiting: list[str] = field(default_factory=list)  # rows whose unanswered create may still land
    conflicts: list[dict[str, Any]] = field(
        default_factory=list
    )  # measurements people keep changing: left alone
    kept: list[dict[str, Any]] = field(default_factory=list)  # decisions people made: kept
    held: list[Any] = field(default_factory=list)  # sync.planner.Held: writes waiting for complete data
    streams: dict[str, Any] = field(default_factory=dict)  # Readiness.as_dict(): what may be computed from
    briefings_updated: int = 0
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    decided: Counter = field(default_factory=Counter)  # classify rule -> items it decided
    rule_warnings: list[dict[str, Any]] = field(default_factory=list)  # `relais plan`: rules deciding nothing
    apply_estimate: dict[str, Any] = field(default_factory=dict)  # write requests per vendor, seconds
    errors: dict[str, str] = field(default_factory=dict)
    classified: Counter = field(default_factory=Counter)
    by_team: dict[str, Counter] = field(default_factory=dict)
    api_calls: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "cycle": self.cycle,
            "mode": self.mode,
            "started": self.started,
            "pulled": self.pulled,
            "changed": self.changed,
            "planned": len(self.planned),
            "planned_creates": len(self.planned_creates),
            "writes": self.writes,
            "failed_writes": self.failed_writes,
            "created": self.created,
            "rows_created": self.rows_created,
            "quarantined": len(self.quarantined),
            "planned_followups": len(self.planned_followups),
            "followups_created": self.followups_created,
            "notes_created": self.notes_created,
            "followups_waiting": self.followups_waiting,
            "creates_waiting": self.creates_waiting,
            "conflicts": self.conflicts,
            "kept": self.kept,
            "held": [h.as_dict() for h in self.held],
            "streams": self.streams,
            "briefings_updated": self.briefings_updated,
            "errors": self.errors,
            "classified": dict(self.classified),
            "by_team": {t: dict(c) for t, c in self.by_team.items()},
            "api_calls": self.api_calls,
            "seconds": round(self.seconds, 3),
            "alerts": self.alerts,
            "duplicate_rows": self.duplicates,
        }


@dataclass
class Cycle:
    """The working state of one cycle between its phases."""

    report: CycleReport
    now: datetime
    t0: float
    fingerprint: str
    reread: set[str]  # sources read in full: the owned fields changed since they were last read
    calls_before: dict[str, int]
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    creates: list[Any] = field(default_factory=list)
    followups: list[Any] = field(default_factory=list)
    only: str | None = None  # the daemon pulls one source per cycle; None: all of them
    seen: dict[str, set[str]] | None = None  # ids each source returned (the reconciliation sweep)
    readiness: Readiness | None = None  # what each source's reads allow this cycle to compute from


def current_alerts(balance: Any, settings: Settings) -> list[dict[str, Any]]:
    """Active alerts of each team's last complete week."""
    out = []
    for team in settings.teams:
        weeks = balance.team_weeks(team)
        if len(weeks) >= 2:
            tw = weeks[-2]
            out += [
                {"team": team, "week": tw.label, "alert": a.name, "level": a.level, "message": a.message}
                for a in tw.alerts
            ]
    return out


def build_connectors(settings: Settings, secrets: Secrets) -> dict[str, Connector]:
    """A connector for each configured source, built by its vendor's spec (:mod:`connectors.registry`)."""
    return {
        v.name: v.build(settings, secrets) for v in VENDORS if getattr(settings.sources, v.name) is not None
    }


def _briefing_ids(report: CycleReport) -> set[tuple[str, str]]:
    """The briefings whose delivery status this cycle planned to change."""

    return {
        (c.source, c.item_id)
        for c in report.planned
        if c.source == "notion"
        and (e := owned.lookup("notion", "briefing", c.field)) is not None
        and e.derived_from == "status"
        and c.field != "last_synced"
    }


class Engine:
    def __init__(
        self,
        settings: Settings,
        secrets: Secrets,
        *,
        progress: Progress | None = None,
        clock: Callable[[], datetime] | None = None,
        writer: bool = True,
    ) -> None:
        self.settings = settings
        self.writer = writer  # False: `relais plan` and the like, which never write and never lock
        self.lock: WriterLock | None = None
        #: `relais run` on PostgreSQL: the replicas' lease (sync.lock.Lease), which the daemon
        #: waits for and keeps; the engine then takes no writer lock of its own.
        self.lease: Any = None
        self.state = state_location(settings)  # the SQLite file, or the PostgreSQL URL
        self.clock = clock or (lambda: datetime.now(UTC))
        self.secrets = secrets
        self.progress = progress or Progress()  # what the terminal, the daemon's log and /readyz show
        for _, value in secrets.items():
            register_secret(value)
        self.connectors = build_connectors(settings, secrets)
        self.identities: dict[str, str] = {}
        self.unconnected: dict[str, str] = {}  # source -> why it could not connect (a tool that is down)
        self.store: StateStore | None = None
        self.on_write: Callable[[int], None] | None = (
            None  # after each write; the daemon stops between writes
        )

    def connect(self) -> dict[str, str]:
        """Connect every source. Credentials refused stop everything (the operator must act); a
        tool that is down is left unconnected — the others sync, and it is tried again each cycle.
        A writer first takes the state store's lock (:mod:`sync.lock`): a second writer stops here."""
        if self.writer and self.lock is None and self.lease is None:
            self.lock = WriterLock.acquire(self.state)
        lacking: list[ConfigMismatchError] = []
        for name, connector in self.connectors.items():
            try:
                self._connect(name, connector)
            except ConfigMismatchError as e:  # a tool failing the check: ask the others too
                lacking.append(e)
        if lacking:  # every tool's problems in one run, not one tool per run
            first, *rest = lacking
            text = str(first).removeprefix(f"{first.vendor}: ")
            raise ConfigMismatchError(first.vendor, text + "".join(f"\n{e}" for e in rest))
        self.store = StateStore(self.state)
        self.store.fence = self.lease or (self.lock.lease if self.lock is not None else None)
        return self.identities

    def _connect(self, name: str, connector: Any) -> bool:
        try:
            self.identities[name] = connector.connect()
        except AuthError:
            credentials = spec(name).credentials
            var = credentials[-1].variable
            token = getattr(self.secrets, credentials[-1].attribute, None)
            names = " and ".join(c.variable for c in credentials)
            raise SourceAuthError(
                name,
                f"the API refused the credentials (401 Unauthorized): check {names}; "
                f"the token in {var} is {mask(token)}",
                status=401,
            ) from None
        except TransientError as e:
            self.unconnected[name] = str(e)
            return False
        self.unconnected.pop(name, None)
        return True

    def close(self) -> None:
        for c in self.connectors.values():
            c.close()
        if self.store is not None:
            self.store.close()
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    # -- the cycle ---------------------------------------------------------------
    def run_cycle(self, *, apply: bool) -> CycleReport:
        cycle = self.begin("sync" if apply else "plan")
        self.pull(cycle)
        work = self.plan(cycle)
        if apply:
            self.apply(cycle, work)
        return self.finish(cycle)

    def begin(self, mode: str, only: str | None = None, full: bool = False) -> Cycle:
        """Open a cycle of every source, or of ``only`` one; ``full`` re-reads from no cursor."""
        if self.store is None:
            self.connect()
        assert self.store is not None
        now = self.clock()
        report = CycleReport(cycle=self.store.start_cycle(mode), mode=mode, started=now.isoformat())
        fingerprint = writeback_fingerprint(self.settings)
        names = [n for n in self.connectors if only is None or n == only]
        reread = {n for n in names if full or self._read_with(n) != fingerprint}
        return Cycle(
            report=report,
            now=now,
            t0=time.monotonic(),
            fingerprint=fingerprint,
            reread=reread,
            calls_before={n: c.policy.stats.total for n, c in self.connectors.items()},
            only=only,
            readiness=Readiness.from_store(self.store, self.settings),
        )

    def _read_with(self, name: str) -> str | None:
        """The owned-fields fingerprint the source's stored items were read with."""
        assert self.store is not None
        mark = self.store.cursor(f"_writeback:{name}") or self.store.cursor("_writeback") or {}
        return mark.get("fingerprint")

    def pull(self, cycle: Cycle) -> None:
        """Read what changed in every source of the cycle; store it page by page.

        Sources are read side by side, one thread each: every vendor has its own rate limit,
        so a cycle waits for the slowest vendor, not for the sum of them (the store's lock
        keeps each page's transaction whole)."""
        names = [n for n in self.connectors if cycle.only is None or n == cycle.only]
        side_by_side(lambda name: self._pull_source(cycle, name), names, "relais-pull")

    def _pull_source(self, cycle: Cycle, name: str) -> None:
        store, report, connector = self.store, cycle.report, self.connectors[name]
        assert store is not None
        if name in self.unconnected and not self._connect(name, connector):
            report.errors[name] = f"cannot connect: {self.unconnected[name]}"
            report.pulled.setdefault(name, 0)
            self._record_read(cycle, name, report.errors[name])
            return
        cursor = None if name in cycle.reread else store.cursor(name)
        calls = connector.policy.stats.total
        try:
            self._announce(cycle, name, connector, cursor)
            pulled = changed = 0
            for page in connector.iter_pages(cursor, cycle.now):
                counts = store.store_page(page.items, page.raw, page.quarantined, report.cycle)
                if cycle.seen is not None:
                    cycle.seen.setdefault(name, set()).update(
                        [i.id for i in page.items] + [q.id for q in page.quarantined]
                    )
                pulled += len(page.items)
                changed += counts["new"] + counts["changed"]
                self.progress.page_read(name, pulled, connector.policy.stats.total - calls)
            report.pulled[name] = pulled
            report.changed[name] = changed
            if connector.pending_cursor is not None:
                cycle.pending[name] = connector.pending_cursor
        except (FatalError, FencedError):  # fenced: another replica leads, this cycle stops here
            raise
        except ConnectorError as e:
            # This source waits for the next cycle; the others go on.
            report.errors[name] = str(e)
            report.pulled.setdefault(name, 0)
        except Exception as e:  # a client-side surprise (endless paging, an odd body): same treatment
            report.errors[name] = redact(f"{name}: unexpected {type(e).__name__}: {e}")
            report.pulled.setdefault(name, 0)
        finally:
            self.progress.read_finished(name)
        self._record_read(cycle, name, report.errors.get(name))

    def _announce(self, cycle: Cycle, name: str, connector: Any, cursor: dict[str, Any] | None) -> None:
        """Tell the progress a read starts: a full read asks its tool how many items it will
        return (:class:`connectors.spec.ReadCounter`, one cheap request), or counts those the
        store holds from an earlier read; an incremental read's size is unknown."""
        assert self.store is not None
        estimate = previous = None
        if cursor is None:
            if isinstance(connector, ReadCounter):
                try:
                    estimate = connector.estimate_read(cycle.now)
                except AuthError:
                    raise  # the credentials refused: the read would be too
                except ConnectorError:
                    # no count (even a 403 on that one path): the read goes on without one
                    estimate = None
            if estimate is None or estimate.items is None:
                previous = self.store.count_items().get(name)
        self.progress.read_started(name, connector.policy.bucket.rate, estimate, previous)

    def reread(self, cycle: Cycle, name: str, ids: list[str]) -> int:
        """Read again the items a webhook named, store them as a pull stores its pages (the
        connector quarantines what it cannot map, on this path as on a pull's), and forget
        those the tool says are gone. Returns how many were forgotten."""
        store, report = self.store, cycle.report
        assert store is not None
        try:
            page, gone = self.connectors[name].read_items(ids)
            counts = store.store_page(page.items, page.raw, page.quarantined, report.cycle)
            report.pulled[name] = len(page.items)
            report.changed[name] = counts["new"] + counts["changed"]
            return len(store.forget(name, gone))
        except FencedError:
            raise
        except Exception as e:
            report.errors[name] = redact(str(e))
            return 0

    def sweep(self, cycle: Cycle, name: str, grace: timedelta) -> int:
        """After a full read of ``name`` (a cycle begun with ``full``), forget the stored items
        it did not return and that have not changed for ``grace`` (a lagging search index is
        not a deletion). Only for a vendor whose full read lists everything it has
        (:attr:`connectors.spec.VendorSpec.lists_all`), and only when the read succeeded.
        Returns how many were forgotten."""
        store = self.store
        assert store is not None and cycle.seen is not None
        if name in cycle.report.errors or not spec(name).lists_all:
            return 0
        return len(store.forget_missing(name, cycle.seen.get(name, set()), cycle.now - grace))

    def _record_read(self, cycle: Cycle, name: str, error: str | None) -> None:
        """Keep what this pull did in the store: every stream of the source read (complete from
        now on), or its latest read failing — what writes derived from it wait for."""
        assert self.store is not None and cycle.readiness is not None
        cycle.readiness.record(self.store, name, error)

    def plan(self, cycle: Cycle) -> list[tuple[WorkItem, list[FieldChange]]]:
        """Derive every stored item and list the writes needed (:func:`sync.planner.outlook`, the one
        entry point report, explain and the status page share). No I/O but the store. A source
        failing or not connected this cycle is failing for the plan: nothing computed from it, and
        nothing into it, is written."""
        store, report = self.store, cycle.report
        assert store is not None
        # Read again now, not at the cycle's start: in the daemon, another source's pull may have
        # ended meanwhile (plans run one at a time, in whatever order the pulls end).
        ready = Readiness.from_store(store, self.settings)
        for name, error in report.errors.items():
            ready.fail(name, error)
        for name, why in self.unconnected.items():
            ready.fail(name, f"cannot connect: {why}")
        view = outlook(self.settings, store, cycle.now, ready)
        result = view.plan
        report.conflicts = [c.as_dict() for c in result.conflicts]
        report.kept = [k.as_dict() for k in result.kept]
        report.held = view.held
        report.streams = ready.as_dict()
        report.routing = result.routing
        report.briefings = result.briefings
        report.planned_followups = list(view.followups)
        cycle.followups = list(view.followups)
        for team, counts in result.classified.items():
            report.by_team.setdefault(team, Counter()).update(counts)
            report.classified.update(counts)
        work = [(item, changes) for item, changes in view.work if item.source in self.connectors]
        report.planned = [c for _, changes in work for c in changes]
        cycle.creates = [c for c in view.creates if c.source in self.connectors]
        report.planned_creates = list(cycle.creates)
        report.duplicates = result.duplicates
        report.decided = result.decided
        if result.balance is not None:
            report.alerts = current_alerts(result.balance, self.settings)
        report.apply_estimate = self._apply_estimate(work, cycle)
        return work

    def _apply_estimate(self, work: list[tuple[WorkItem, list[FieldChange]]], cycle: Cycle) -> dict[str, Any]:
        """The write requests applying this plan sends per vendor (bulk edits one each, creates,
        a follow-up's ticket and note), and how long they take at the sources' rates."""
        assert self.store is not None
        requests = write_requests(work, cycle.creates, self.connectors)
        store = self.store
        todo = [
            f
            for f in cycle.followups
            if (store.key_record(ticket_key(f.incident.id)) or {}).get("state") != "created"
        ]
        for vendor in ("jira", "pagerduty"):
            if todo and vendor in self.connectors:
                requests[vendor] = requests.get(vendor, 0) + len(todo)
        rates = {n: c.policy.bucket.rate for n, c in self.connectors.items()}
        return {
            "requests": dict(sorted(requests.items())),
            "seconds": round(write_seconds(requests, rates), 1),
            "rates": rates,
        }

    def apply(self, cycle: Cycle, work: list[tuple[WorkItem, list[FieldChange]]]) -> None:
        """Write, then checkpoint the sources whose pull and writes all went through."""
        store, report = self.store, cycle.report
        assert store is not None
        if not self.writer:
            raise RuntimeError("this engine was opened to read (relais plan): it does not write")
        estimate = report.apply_estimate or self._apply_estimate(work, cycle)
        self.progress.writes_planned(estimate["requests"], estimate["rates"])
        result = apply_by_vendor(
            work,
            cycle.creates,
            self.connectors,
            store,
            report.cycle,
            self._written,
            lambda source: self.progress.written(source),
        )
        report.rows_created = result.created
        report.creates_waiting = result.waiting
        if cycle.followups and not {"jira", "pagerduty"} & (set(result.failed_sources) | set(report.errors)):
            assert self.settings.followups is not None  # follow-ups are planned only when configured
            settle = timedelta(seconds=self.settings.followups.confirm_after_seconds)
            done = apply_followups(cycle.followups, self.connectors, store, settle, report.cycle)
            report.followups_created, report.notes_created = done.created, done.notes
            report.followups_waiting = done.waiting
            for name, message in done.failed_sources.items():
                result.failed_sources.setdefault(name, message)
        report.created = report.rows_created + report.followups_created + report.notes_created
        report.briefings_updated = len(result.applied_items & _briefing_ids(report))
        report.writes = result.applied
        report.failed_writes = result.failed
        for name, message in result.failed_sources.items():
            report.errors.setdefault(name, message)
        for name, cursor in cycle.pending.items():
            if name not in report.errors:
                store.save_cursor(name, cursor)
                store.save_cursor(f"_writeback:{name}", {"fingerprint": cycle.fingerprint})

    def _written(self, source: str, changes: int) -> None:
        """After each write request: the progress counts it; the daemon may stop here."""
        self.progress.written(source)
        if self.on_write:
            self.on_write(changes)

    def finish(self, cycle: Cycle) -> CycleReport:
        store, report = self.store, cycle.report
        assert store is not None
        report.quarantined = store.quarantined()
        report.api_calls = {
            n: c.policy.stats.total - cycle.calls_before[n] for n, c in self.connectors.items()
        }
        report.seconds = time.monotonic() - cycle.t0
        self.progress.finished()
        store.finish_cycle(report.cycle, report.as_dict())
        return report
