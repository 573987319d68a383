"""Two replicas, one writer: the lease on a PostgreSQL store and its fencing token.

The lease is one row (holder, term, expiry by the database's clock); every write transaction
checks, in the same transaction, that the term is still its own. Here on a real server: a
holder whose lease another took over writes nothing more, whatever it tries.
"""

from __future__ import annotations

import pytest

from sync.dialect import FencedError
from sync.lock import Lease, WriterLock, WriterLockedError
from sync.state import StateStore


def test_a_holder_whose_lease_was_taken_over_writes_nothing_more(postgres_url):
    first, second = Lease(postgres_url, "relais run"), Lease(postgres_url, "relais run")
    second.holder += "-b"  # two replicas (one process here)
    old, new = StateStore(postgres_url), StateStore(postgres_url)
    try:
        assert first.try_acquire() and first.term == 1
        assert not second.try_acquire()  # held and live: the other waits
        assert first.try_acquire() and first.term == 1  # a renewal keeps the term
        old.fence = first
        old.save_cursor("jira", {"at": 1})
        # the holder paused past its lease (by the database's clock); the other takes over
        old.db.execute("UPDATE relais_leader SET expires = now() - interval '1 second'")
        assert second.try_acquire() and second.term == 2
        new.fence = second
        assert first.valid()  # its own clock has not noticed: the database's check stops it
        with pytest.raises(FencedError, match="another replica leads now"):
            old.save_cursor("jira", {"at": 2})
        with pytest.raises(FencedError):
            old.start_cycle("poll")
        assert old.cursor("jira") == {"at": 1}  # reading is fine; nothing of the write landed
        assert new.db.execute("SELECT COUNT(*) FROM cycles").fetchone()[0] == 0
        new.save_cursor("jira", {"at": 3})
        assert not first.try_acquire() and not first.valid()  # it knows, at its next renewal
        second.close()  # handed back: free at once, under a new term
        assert first.try_acquire() and first.term == 3
    finally:
        first.close()
        second.close()
        old.close()
        new.close()


def test_a_writer_beside_a_live_lease_is_refused_naming_the_holder(postgres_url):
    lease = Lease(postgres_url, "relais run")
    try:
        assert lease.try_acquire()
        with pytest.raises(WriterLockedError, match=r"pid \d+ on \S+ since \S+ \(relais run\)"):
            WriterLock.acquire(postgres_url, "relais sync")
    finally:
        lease.close()
    lock = WriterLock.acquire(postgres_url, "relais sync")
    try:
        assert lock.lease is not None and lock.lease.term == 2
    finally:
        lock.release()


def test_replicas_opening_a_new_store_at_once_both_get_it(postgres_url):
    """Replicas started together migrate a fresh database side by side: one creates the tables,
    the other sees them (the server's catalog cache once hid them: DuplicateTable)."""
    import threading

    barrier = threading.Barrier(4)
    opened: list[StateStore] = []
    failed: list[BaseException] = []

    def open_store() -> None:
        barrier.wait()
        try:
            opened.append(StateStore(postgres_url))
        except BaseException as e:
            failed.append(e)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert failed == [] and len(opened) == 4
        assert {s.schema_version for s in opened} == {2}
    finally:
        for s in opened:
            s.close()


def test_a_queued_delivery_stays_until_re_read_and_no_leader_loses_it(postgres_url):
    """The webhook queue: a delivery leaves it only when its re-read ended (finish_queued). One this
    leader took and has not finished is taken again after a while (its re-read failed); one a
    former leader took is taken again at once by the next; a finished one never comes back, and
    a replay of it is refused."""
    first, second = Lease(postgres_url, "relais run"), Lease(postgres_url, "relais run")
    second.holder += "-b"
    old, new = StateStore(postgres_url), StateStore(postgres_url)
    try:
        assert first.try_acquire()
        old.fence = first
        assert old.queue_delivery("jira", "d1", "jira:issue_created", ["10001"])
        assert not old.queue_delivery("jira", "d1", "jira:issue_created", ["10001"])  # a retry
        assert old.take_queued() == [("jira", "d1", ["10001"])]
        assert old.take_queued() == []  # taken by this term: not twice while its re-read runs
        assert old.take_queued(retake_after=0) == [("jira", "d1", ["10001"])]  # the re-read failed
        # the leader dies before its re-read ends: the next takes the delivery at once
        old.db.execute("UPDATE relais_leader SET expires = now() - interval '1 second'")
        assert second.try_acquire()
        new.fence = second
        assert new.take_queued() == [("jira", "d1", ["10001"])]
        new.finish_queued([("jira", "d1")])
        assert new.take_queued(retake_after=0) == []
        assert not new.queue_delivery("jira", "d1", "jira:issue_created", ["10001"])  # a replay
    finally:
        first.close()
        second.close()
        old.close()
        new.close()
