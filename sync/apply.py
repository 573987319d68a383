"""Write planned changes through the connectors, one item at a time; the vendors side by side.

Every attempt lands in the audit log. What happens on failure:

* the tool refused this one write (400, 404, a removed option): the item is
  quarantined with the reason, the cycle goes on;
* the tool is unavailable even after the policy's retries: the rest of this
  source's writes wait for the next cycle (its cursor does not move);
* credentials or permissions: the cycle stops (the operator must act).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.errors import BatchUnavailable, FatalError, RequestError, TransientError
from connectors.spec import BulkWriter
from sync.models import FieldChange, Quarantined, WorkItem
from sync.state import WRITE_REFUSED, StateStore

if TYPE_CHECKING:
    from connectors.spec import RowCreator
    from sync.scorecard import Create


@dataclass
class ApplyResult:
    applied: int = 0
    failed: int = 0
    deferred: int = 0
    applied_items: set[tuple[str, str]] = field(default_factory=set)
    failed_sources: dict[str, str] = field(default_factory=dict)
    waiting: list[str] = field(default_factory=list)  # natural keys of creates not confirmed yet
    created: int = 0

    def merge(self, other: ApplyResult) -> None:
        self.applied += other.applied
        self.failed += other.failed
        self.deferred += other.deferred
        self.created += other.created
        self.applied_items |= other.applied_items
        self.failed_sources.update(other.failed_sources)
        self.waiting += other.waiting


def side_by_side(job: Callable[[str], object], names: Iterable[str], prefix: str) -> list:
    """``job(name)`` for every name, each in its own thread (inline for one); the results in
    order. Every job runs to its end; then the first exception, if any, is raised."""
    names = list(names)
    if len(names) <= 1:
        return [job(name) for name in names]
    with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix=prefix) as pool:
        futures = [pool.submit(job, name) for name in names]
    return [f.result() for f in futures]


def apply_by_vendor(
    work: list[tuple[WorkItem, list[FieldChange]]],
    creates: list,
    connectors: dict,
    store: StateStore,
    cycle: int | None,
    on_write: Callable[[str, int], None] | None = None,
    on_create: Callable[[str], None] | None = None,
) -> ApplyResult:
    """Each vendor's writes, then its creates, in a thread of its own: the vendors' rate limits
    are separate, so the writes of a cycle take as long as the busiest vendor's, not the sum.
    One vendor's writes keep the plan's order. ``on_write(source, changes)`` after each write
    request (one item's, or one bulk edit's); ``on_create(source)`` after each row created."""
    sources = sorted({item.source for item, _ in work} | {c.source for c in creates})

    def one(source: str) -> ApplyResult:
        result = apply_changes([w for w in work if w[0].source == source], connectors, store, cycle, on_write)
        result.created = apply_creates(
            [c for c in creates if c.source == source], connectors, store, cycle, result, on_create
        )
        return result

    merged = ApplyResult()
    for result in side_by_side(one, sources, "relais-apply"):
        merged.merge(result)
    return merged


def _settling(record: dict, connector: object) -> bool:
    """True while a create that ended without a usable answer may still land.

    A request relais gave up on (a timeout, a reset, a 5xx, a cut answer) may still be
    in the server's hands: a miss is trusted only one request timeout after relais gave
    up. A create cut short by a crash is looked for at once (its key says 'creating')."""
    timeout = getattr(getattr(connector, "source", None), "timeout_seconds", 30)
    return record["state"] == "unanswered" and datetime.now(UTC) - record["at"] < timedelta(seconds=timeout)


def apply_creates(
    creates: list,
    connectors: dict,
    store: StateStore,
    cycle: int | None,
    result: ApplyResult,
    on_create: Callable[[str], None] | None = None,
) -> int:
    """Create rows under their natural keys, exactly once.

    The keys are looked up in the tool first, whatever the store says (a new, lost or
    second store never duplicates a row): one query per batch of keys. A key found is
    recorded and its row stored. Before a create the key is recorded as 'creating'; if
    an earlier attempt ended without an answer (a crash, a timeout) and the tool does
    not show the row yet, it may still land: a miss means "wait", not "create", until
    one request timeout has passed.
    """
    created = 0
    by_database: dict[tuple[str, str], list] = {}
    for create in creates:
        by_database.setdefault((create.source, create.database), []).append(create)
    for (source, database), group in by_database.items():
        if source in result.failed_sources:
            continue
        connector = connectors[source]
        try:
            found = connector.find_by_keys(database, [c.natural_key for c in group])
        except FatalError:
            raise
        except (RequestError, TransientError) as e:
            result.failed += len(group)
            result.failed_sources.setdefault(source, str(e))
            continue
        for create in group:
            if source in result.failed_sources:
                break
            made = _create_one(create, found.get(create.natural_key), connector, store, cycle, result)
            created += made
            if made and on_create:
                on_create(source)
    return created


def _create_one(
    create: Create,
    found: tuple[WorkItem, dict[str, Any]] | None,
    connector: RowCreator,
    store: StateStore,
    cycle: int | None,
    result: ApplyResult,
) -> int:
    """1 if the row was created now; 0 if it was there already, must wait, or failed."""
    sent = False
    made = 0
    try:
        if found is None:
            record = store.key_record(create.natural_key)
            if record is not None and _settling(record, connector):
                result.waiting.append(create.natural_key)
                return 0
            store.set_key(create.natural_key, create.source, "creating")
            sent = True
            found = connector.create(create.database, create.natural_key, create.values)
            made = 1
        item, raw = found
        store.store_page([item], {item.id: raw}, (), cycle)
        store.set_key(create.natural_key, create.source, "created", item.id)
    except FatalError:
        raise
    except RequestError as e:
        result.failed += 1
        result.failed_sources.setdefault(create.source, str(e))
    except TransientError as e:
        result.failed += 1
        result.failed_sources[create.source] = str(e)
        if sent:  # no usable answer: the row may exist, or may still be made
            store.set_key(create.natural_key, create.source, "unanswered")
    return made


def apply_changes(
    work: list[tuple[WorkItem, list[FieldChange]]],
    connectors: dict,
    store: StateStore,
    cycle: int | None,
    on_write: Callable[[str, int], None] | None = None,
) -> ApplyResult:
    result = ApplyResult()
    work = _apply_bulk(work, connectors, store, cycle, result, on_write)
    for item, changes in work:
        if item.source in result.failed_sources:
            result.deferred += len(changes)
            continue
        connector = connectors[item.source]
        intents = store.record_intent(changes, cycle)
        try:
            connector.write(item, changes)
        except FatalError:
            store.record_write(item, changes, cycle, "failed", "stopped: the tool refused relais", intents)
            raise
        except RequestError as e:
            result.failed += len(changes)
            store.record_write(item, changes, cycle, "failed", str(e), intents)
            store.store_page([], {}, [Quarantined(item.source, item.id, f"{WRITE_REFUSED}: {e}")], cycle)
            continue
        except TransientError as e:
            result.failed += len(changes)
            result.failed_sources[item.source] = str(e)
            # no usable answer: it may have landed, so its rows stay 'sent' (a value the tool then
            # shows is relais', not a person's); the detail says why
            store.record_write(item, changes, cycle, "sent", str(e), intents)
            continue
        store.record_write(item, changes, cycle, "applied", intents=intents)
        result.applied += len(changes)
        result.applied_items.add((item.source, item.id))
        if on_write:
            on_write(item.source, len(changes))
    return result


Work = list[tuple[WorkItem, list[FieldChange]]]


Groups = dict[tuple[str, object], list[tuple[int, FieldChange]]]


def bulk_groups(work: Work, connectors: dict) -> tuple[Groups, list[list[FieldChange]]]:
    """The bulk edits ``work`` goes in — (source, bulk key) → its (item index, change), at least
    the connector's ``bulk_min`` of them — and what each item has left to write alone."""
    left: list[list[FieldChange]] = [list(changes) for _, changes in work]  # what each item still needs
    groups: Groups = {}
    for n, (item, changes) in enumerate(work):
        connector = connectors[item.source]
        for change in changes if isinstance(connector, BulkWriter) else ():
            key = connector.bulk_key(item, change)
            if key is not None:
                groups.setdefault((item.source, key), []).append((n, change))
    groups = {k: members for k, members in groups.items() if len(members) >= connectors[k[0]].bulk_min}
    for members in groups.values():
        for n, change in members:
            left[n].remove(change)
    return groups, left


def write_requests(work: Work, creates: list, connectors: dict) -> dict[str, int]:
    """The write requests applying ``work`` and ``creates`` sends, per vendor, as
    :func:`apply_by_vendor` groups them: one per bulk edit of up to ``bulk_max`` items, one per
    item for what it has left, one per row created. (The reads around them — a bulk edit's
    progress polls, the look-up of the rows' keys — are not counted.)"""
    groups, left = bulk_groups(work, connectors)
    out: dict[str, int] = {}
    for (source, _), members in groups.items():
        out[source] = out.get(source, 0) + -(-len(members) // connectors[source].bulk_max)
    for n, (item, _) in enumerate(work):
        if left[n]:
            out[item.source] = out.get(item.source, 0) + 1
    for create in creates:
        out[create.source] = out.get(create.source, 0) + 1
    return out


def _apply_bulk(
    work: Work,
    connectors: dict,
    store: StateStore,
    cycle: int | None,
    result: ApplyResult,
    on_write: Callable[[str, int], None] | None,
) -> Work:
    """Write in bulk what a connector can (many items, one field, one value); return the rest.

    Changes are grouped field by field: an issue getting a new Work type and a new Team
    rides in two bulk edits (one per field and value), and what is left of it (a field no
    bulk edit takes, a value too few issues get) goes in one request of its own. An item
    the tool refused is quarantined, as after a refused single write; one it skipped waits
    for the next cycle's plan; a bulk edit refused outright (no permission) leaves its
    changes to be written item by item."""
    groups, left = bulk_groups(work, connectors)
    unavailable: set[str] = set()  # sources that refused a batch: the rest goes item by item
    for (source, key), members in groups.items():
        connector = connectors[source]
        for start in range(0, len(members), connector.bulk_max):
            chunk = members[start : start + connector.bulk_max]
            if source in unavailable:
                for n, change in chunk:
                    left[n].append(change)
                continue
            if source in result.failed_sources:
                result.deferred += len(chunk)
                continue
            intents = store.record_intent([change for _, change in chunk], cycle)
            try:
                outcome = connector.write_bulk([work[n][0] for n, _ in chunk], key)
            except FatalError:
                raise
            except TransientError as e:
                result.failed += len(chunk)
                result.failed_sources[source] = str(e)
                for (n, change), seq in zip(chunk, intents):  # it may have landed: see apply_changes
                    store.record_write(work[n][0], [change], cycle, "sent", str(e), [seq])
                continue
            except BatchUnavailable:  # e.g. no permission for Jira's bulk edit: item by item
                unavailable.add(source)
                for (n, change), seq in zip(chunk, intents):
                    left[n].append(change)
                    store.record_write(
                        work[n][0], [change], cycle, "failed", "bulk edit refused: sent alone", [seq]
                    )
                continue
            for (n, change), seq in zip(chunk, intents):
                item = work[n][0]
                if item.id in outcome.done:
                    store.record_write(item, [change], cycle, "applied", intents=[seq])
                    result.applied += 1
                    result.applied_items.add((item.source, item.id))
                elif item.id in outcome.refused:
                    reason = outcome.refused[item.id]
                    result.failed += 1
                    store.record_write(item, [change], cycle, "failed", reason, [seq])
                    store.store_page(
                        [], {}, [Quarantined(item.source, item.id, f"{WRITE_REFUSED}: {reason}")], cycle
                    )
                else:
                    result.failed += 1
                    store.record_write(
                        item, [change], cycle, "failed", outcome.skipped.get(item.id, "not edited"), [seq]
                    )
            if on_write:
                on_write(source, len(chunk))
    # an item's changes in the plan's order, whatever came back from a refused batch
    return [(item, [c for c in changes if c in left[n]]) for n, (item, changes) in enumerate(work) if left[n]]
