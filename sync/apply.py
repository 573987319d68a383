"""Write planned changes through the connectors, one item at a time.

Every attempt lands in the audit log. What happens on failure:

* the tool refused this one write (400, 404, a removed option): the item is
  quarantined with the reason, the cycle goes on;
* the tool is unavailable even after the policy's retries: the rest of this
  source's writes wait for the next cycle (its cursor does not move);
* credentials or permissions: the cycle stops (the operator must act).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from connectors.errors import FatalError, RequestError, TransientError
from sync.models import FieldChange, Quarantined, WorkItem
from sync.state import StateStore


@dataclass
class ApplyResult:
    applied: int = 0
    failed: int = 0
    deferred: int = 0
    failed_sources: dict[str, str] = field(default_factory=dict)


def apply_changes(work: list[tuple[WorkItem, list[FieldChange]]], connectors: dict, store: StateStore,
                  cycle: int | None, on_write: Callable[[int], None] | None = None) -> ApplyResult:
    result = ApplyResult()
    for item, changes in work:
        if item.source in result.failed_sources:
            result.deferred += len(changes)
            continue
        connector = connectors[item.source]
        try:
            connector.write(item, changes)
        except FatalError:
            raise
        except RequestError as e:
            result.failed += len(changes)
            store.record_write(item, changes, cycle, "failed", str(e))
            store.store_page([], {}, [Quarantined(item.source, item.id, f"write refused: {e}")], cycle)
            continue
        except TransientError as e:
            result.failed += len(changes)
            result.failed_sources[item.source] = str(e)
            store.record_write(item, changes, cycle, "failed", str(e))
            continue
        store.record_write(item, changes, cycle, "applied")
        result.applied += len(changes)
        if on_write:
            on_write(len(changes))
    return result
