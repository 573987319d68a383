"""Scenario 13 — a lost, emptied or swapped state store duplicates nothing.

The store is a cache of the tools: a lost volume, a move from a laptop to a container,
`sync --once` with another `state.path`, a backup restored. Between cycles the store is
deleted, emptied (a zero-byte file), or swapped with an older one — while new incidents
keep calling for follow-up tickets and notes, and the weeks for scorecard rows. What
relais creates carries its key into the tool (a row's Key, a ticket's label, a note
naming the ticket) and is looked up there before every create: 0 duplicates. The kills
with a lost store are in tests/test_reliability_crash.py.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from reliability_support import FOLLOWUP_PREFIX, converge, converged, duplicates, engine_for, record

from sandbox import Sandbox


def files(db: Path) -> list[Path]:
    return [db.with_name(db.name + suffix) for suffix in ("", "-wal", "-shm")]


def lose(db: Path, how: str, stash: Path) -> None:
    if how == "deleted":
        for f in files(db):
            f.unlink(missing_ok=True)
    elif how == "emptied":
        for f in files(db)[1:]:
            f.unlink(missing_ok=True)
        db.write_bytes(b"")
    elif how == "swapped":  # the store of another time: the two alternate, each missing the other's creates
        stash.mkdir(exist_ok=True)
        held = sorted(stash.iterdir())
        aside = stash.with_name("aside")
        aside.mkdir(exist_ok=True)
        for f in files(db):
            if f.exists():
                shutil.move(str(f), aside / f.name)
        for f in held:
            shutil.move(str(f), db.with_name(f.name))
        for f in sorted(aside.iterdir()):
            shutil.move(str(f), stash / f.name)
    else:
        raise AssertionError(how)


def followups_in_the_tools(sb: Sandbox) -> tuple[Counter, int]:
    """Tickets per follow-up label, and notes naming a follow-up ticket (all incidents)."""
    tickets: Counter = Counter()
    notes = 0
    for key in sb.jira:
        for label in sb.jira.get_issue(key)["fields"]["labels"]:
            if label.startswith(FOLLOWUP_PREFIX):
                tickets[label] += 1
                incident = sb.pagerduty.find(label.removeprefix(FOLLOWUP_PREFIX))
                notes += sum(key in n["content"] for n in incident["notes"])
    return tickets, notes


@pytest.mark.parametrize("how", ["deleted", "emptied", "swapped"])
def test_a_lost_emptied_or_swapped_store_between_cycles_duplicates_nothing(tmp_path: Path, how: str):
    with Sandbox(seed=7, size="demo") as sb:
        config = converged(sb, tmp_path)
        db = tmp_path / "relais.db"
        service = sb.org.services[0].id
        created = Counter()
        for n in range(4):
            # new work calling for creates: a high-urgency incident, resolved (a ticket and a note)
            incident = sb.pagerduty.trigger_incident(service, f"Checkout down, round {n}", urgency="high")
            sb.pagerduty.resolve(incident["id"])
            lose(db, how, tmp_path / "stash")
            engine = engine_for(sb, config)
            try:
                reports, cycles = converge(engine)
            finally:
                engine.close()
            assert cycles <= 3, [r.errors for r in reports]
            for r in reports:
                created.update(rows=r.rows_created, tickets=r.followups_created, notes=r.notes_created)
        tickets, notes = followups_in_the_tools(sb)
        dups = duplicates(sb)
    assert sum(dups.values()) == 0, dups
    assert all(n == 1 for n in tickets.values()) and notes == len(tickets), (tickets, notes)
    assert created["tickets"] == 4 and created["notes"] == 4 and created["rows"] == 0  # the 4 new ones only
    record(
        "store",
        how,
        rounds=4,
        created_after_losing_it=dict(created),
        followups=len(tickets),
        duplicates=sum(dups.values()),
    )


def test_a_followup_ticket_a_person_deleted_is_not_filed_again_with_a_new_store(tmp_path: Path):
    """The note on the incident names the ticket: the follow-up was filed, even if the ticket is gone."""
    with Sandbox(seed=7, size="demo") as sb:
        config = converged(sb, tmp_path)
        tickets, _ = followups_in_the_tools(sb)
        label = sorted(tickets)[0]
        deleted = next(k for k in sb.jira if label in sb.jira.get_issue(k)["fields"]["labels"])
        sb.jira.delete_issue(deleted)  # a person decided this follow-up was not needed
        lose(tmp_path / "relais.db", "deleted", tmp_path / "stash")
        engine = engine_for(sb, config)
        try:
            reports, _ = converge(engine)
        finally:
            engine.close()
        after, _ = followups_in_the_tools(sb)
    assert label not in after and sum(r.followups_created for r in reports) == 0
    assert sum(r.notes_created for r in reports) == 0
