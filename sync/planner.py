"""What a sync would do now, from the state store: the one entry point for sync, plan, report,
explain and the status page, so that they can never show something other than what sync writes.

:func:`outlook` derives every stored item (:func:`sync.plan.plan_cycle`), then sorts what the
plan would write into what may be written now and what is *held*: a value computed from a
stream that has not been read in full yet, or from a source whose latest read failed
(:mod:`sync.readiness`), waits, with its reason. Quarantined items are left out.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sync import owned
from sync.models import FieldChange, WorkItem
from sync.plan import CyclePlan, plan_cycle
from sync.readiness import Readiness, needs_of_change
from sync.route import ROUTED_FIELDS

if TYPE_CHECKING:
    from sync.settings import Settings


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Plan makes a few million small objects that hold no reference cycles (decoded items,
    their dicts and tuples); the cyclic collector would walk the growing heap again and again
    — a fifth of plan's time over 100,000 items. Reference counting frees them as usual; a
    cycle made meanwhile (by any thread) is collected once the collector is back."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


T = TypeVar("T")


@dataclass(frozen=True)
class Held:
    """A write or create that waits, and why."""

    source: str
    target: str
    field: str
    new: Any
    reason: str
    item: str | None = None  # source:id of the item written, None for a create

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": "held",
            "target": self.target,
            "item": self.item,
            "field": self.field,
            "new": self.new,
            "reason": self.reason,
        }


@dataclass
class Outlook:
    """Everything the plan derived, and what of it may be written now."""

    plan: CyclePlan
    work: list[tuple[WorkItem, list[FieldChange]]]  # ready to write, in the plan's order
    creates: list  # sync.scorecard.Create, ready
    followups: list  # sync.followups.FollowUp, ready
    held: list[Held] = field(default_factory=list)
    readiness: Readiness | None = None

    @property
    def changes(self) -> list[FieldChange]:
        return [c for _, changes in self.work for c in changes]

    def creates_as_dicts(self) -> list[dict[str, Any]]:
        """Every create this sync would make: scorecard rows, follow-up tickets, notes."""
        out = [c.as_dict() for c in self.creates]
        for f in self.followups:
            out += f.creates_as_dicts()
        return out


def outlook(settings: Settings, store: Any, now: datetime, readiness: Readiness | None = None) -> Outlook:
    """Plan over every stored item; ``readiness`` defaults to what the store says of each source."""

    ready = readiness if readiness is not None else Readiness.from_store(store, settings)
    quarantined = store.quarantined_ids()
    wrote = store.last_applied(ROUTED_FIELDS) if settings.route is not None else {}
    states = store.key_states("followup") if settings.followups is not None else {}
    with gc_paused():
        result = plan_cycle(store.iter_items(), settings, now, wrote, states, store.overwrites())
    configured = ready.configured
    out = Outlook(result, [], [], [], readiness=ready)
    reasons: dict[tuple[str, str, str | None, str], str | None] = {}  # a few kinds of field, many changes

    def why_wait(source: str, kind: str, database: str | None, field: str) -> str | None:
        key = (source, kind, database, field)
        if key not in reasons:
            reasons[key] = ready.missing(needs_of_change(source, kind, database, field, settings, configured))
        return reasons[key]

    for (source, item_id), (item, changes) in result.work.items():
        if (source, item_id) in quarantined:
            continue
        go = []
        for change in changes:
            reason = why_wait(source, item.kind, item.database, change.field)
            if reason is None:
                go.append(change)
            else:
                out.held.append(
                    Held(
                        source,
                        f"{source}:{change.target}",
                        change.field,
                        change.new,
                        reason,
                        f"{source}:{item_id}",
                    )
                )
        if go and not all(c.field == "last_synced" for c in go):  # never written alone
            out.work.append((item, go))
    out.creates = _unless_held(
        out,
        ready.missing(owned.needs("scorecard", None, settings, configured)),
        result.creates,
        lambda c, why: Held(c.source, f"{c.source}:{c.database}/{c.natural_key}", "row", c.values, why),
    )
    out.followups = _unless_held(
        out,
        ready.missing(owned.needs("followups", None, settings, configured)),
        result.followups,
        lambda f, why: Held("jira", f"followup:{f.incident.key}", f.what, f.summary, why),
    )
    return out


def _unless_held(
    out: Outlook, reason: str | None, planned: list[T], held: Callable[[T, str], Held]
) -> list[T]:
    """What was planned, when nothing it is computed from is missing (``reason`` None); else
    nothing, and each is reported held, with the reason."""
    if reason is None:
        return list(planned)
    out.held += [held(p, reason) for p in planned]
    return []
