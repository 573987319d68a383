"""Derive desired owned-field values and diff them with what the tools hold.

Pure: no I/O. Equal values produce nothing — that is what makes a steady
state write nothing, and what stops echo loops (our own write comes back on
the next pull with the value we wrote, and the diff is empty).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sync.classify import Decision, classify, resolve_team
from sync.models import FieldChange, WorkItem


@dataclass(frozen=True)
class Derived:
    item: WorkItem
    team: str | None
    decision: Decision


def derive(item: WorkItem, settings) -> Derived:
    team = resolve_team(item, settings)
    return Derived(item, team, classify(item, settings, team))


def owns_work_type(item: WorkItem, settings) -> bool:
    wb = settings.writeback
    if wb is None:
        return False
    if item.source == "jira":
        return wb.jira is not None and wb.jira.work_type is not None
    if item.source == "notion":
        return (wb.notion is not None and wb.notion.work_type is not None
                and item.database in wb.notion.work_type.databases)
    return False


def changes_for(d: Derived, settings) -> list[FieldChange]:
    item = d.item
    if not owns_work_type(item, settings) or "work_type" not in item.owned:
        # Not owned here, or pulled before the field was owned: the next full read fills it in.
        return []
    new = d.decision.value.value
    old = item.owned["work_type"]
    if old == new:
        return []
    return [FieldChange(item.source, item.id, item.key, "work_type", old, new, d.decision.label)]


def plan(items: Iterable[WorkItem], settings) -> Iterator[tuple[Derived, list[FieldChange]]]:
    """Every item's derivation, with the owned-field changes it needs (possibly none)."""
    for item in items:
        d = derive(item, settings)
        yield d, changes_for(d, settings)


def writeback_fingerprint(settings) -> str:
    """Changes when the set of owned fields changes; items pulled before must then be re-read."""
    wb = settings.writeback
    if wb is None:
        return ""
    return repr((wb.jira.model_dump() if wb.jira else None, wb.notion.model_dump() if wb.notion else None))
