"""The progress model (sync/progress.py) on plain data: the time left from the counts and the
rates, the pace seen, the writes at the vendors' rates, and the words it is shown in."""

from __future__ import annotations

from connectors.spec import ReadEstimate
from sync.progress import Progress, duration, line, write_seconds


class Ticks:
    """A clock the test moves: monotonic seconds."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_before_the_first_page_the_time_left_is_the_announced_pages_at_the_rate():
    clock = Ticks()
    p = Progress(clock)
    # 10,000 issues announced, 100 a page: 100 requests at 10/s
    p.read_started("jira", 10.0, ReadEstimate(10_000, 100, "approximate-count"))
    snap = p.snapshot()
    assert snap["phase"] == "reading"
    assert snap["sources"]["jira"] == {
        "read": 0,
        "estimate": 10_000,
        "estimate_from": "approximate-count",
        "done": False,
        "eta_seconds": 10.0,
    }
    assert snap["eta_seconds"] == 10.0 and snap["eta_includes_writes"] is False


def test_the_requests_per_item_seen_so_far_count_the_reads_no_count_announces():
    clock = Ticks()
    p = Progress(clock)
    p.read_started("jira", 10.0, ReadEstimate(10_000, 100, "approximate-count"))
    clock.now += 2.0
    # 1,000 issues read in 30 requests: 10 pages and 20 worklog reads; 9,000 left at 0.03 a piece
    p.page_read("jira", 1_000, 30)
    assert p.snapshot()["sources"]["jira"]["eta_seconds"] == 27.0


def test_when_relais_is_slower_than_the_rate_the_pace_seen_wins():
    clock = Ticks()
    p = Progress(clock)
    p.read_started("notion", 3.0, ReadEstimate(2_500, 25, "previous read"))
    clock.now += 50.0
    p.page_read("notion", 500, 5)  # 10 items/s seen; the rate alone would say 20 requests = 6.7 s
    assert p.snapshot()["sources"]["notion"]["eta_seconds"] == 200.0


def test_a_read_of_unknown_size_has_no_time_left_and_is_named_beside_the_whole():
    clock = Ticks()
    p = Progress(clock)
    p.read_started("notion", 3.0)
    p.page_read("notion", 100, 1)
    snap = p.snapshot()
    assert snap["sources"]["notion"]["estimate"] is None
    assert snap["sources"]["notion"]["eta_seconds"] is None
    assert snap["eta_seconds"] is None and snap["eta_unknown"] == ["notion"]
    assert line(snap) == "notion 100/unknown (ETA unknown); time left unknown"
    p.read_started("jira", 10.0, ReadEstimate(200, 2, "approximate-count"))
    snap = p.snapshot()
    assert snap["eta_seconds"] == 0.2 and snap["eta_unknown"] == ["notion"]
    assert line(snap).endswith(
        "about 0 s left to read (size of notion unknown; the writes are counted once planned)"
    )


def test_a_previous_read_stands_in_for_a_count():
    p = Progress(Ticks())
    p.read_started("notion", 2.0, ReadEstimate(None, 1, "unknown"), previous=450)
    s = p.snapshot()["sources"]["notion"]
    assert (s["estimate"], s["estimate_from"], s["eta_seconds"]) == (450, "previous read", 2.5)


def test_more_items_than_announced_raise_the_estimate_and_a_finished_read_takes_its_real_size():
    p = Progress(Ticks())
    p.read_started("pagerduty", 10.0, ReadEstimate(100, 2, "total"))
    p.page_read("pagerduty", 130, 3)
    assert p.snapshot()["sources"]["pagerduty"]["estimate"] == 130
    p.read_finished("pagerduty")
    s = p.snapshot()
    assert s["sources"]["pagerduty"] == {
        "read": 130,
        "estimate": 130,
        "estimate_from": "total",
        "done": True,
        "eta_seconds": 0.0,
    }
    assert s["phase"] == "planning"


def test_the_writes_take_the_busiest_vendor_at_its_rate_and_count_down():
    assert (
        write_seconds({"jira": 20, "notion": 300, "pagerduty": 4}, {"jira": 10, "notion": 3, "pagerduty": 10})
        == 100
    )
    assert write_seconds({"jira": 0}, {"jira": 10}) == 0.0
    clock = Ticks()
    p = Progress(clock)
    p.read_started("jira", 10.0, ReadEstimate(10, 1, "approximate-count"))
    p.read_finished("jira")
    p.writes_planned({"jira": 20, "notion": 300}, {"jira": 10.0, "notion": 3.0})
    for _ in range(150):
        p.written("notion")
    snap = p.snapshot()
    assert snap["phase"] == "writing"
    assert snap["writes"] == {
        "done": 150,
        "planned": 320,
        "requests": {"jira": 20, "notion": 300},
        "eta_seconds": 50.0,
    }
    assert snap["eta_seconds"] == 50.0 and snap["eta_includes_writes"] is True
    p.finished()
    assert not p.busy() and p.snapshot()["phase"] == "done"


def test_a_cycle_that_ends_while_another_source_reads_leaves_the_daemon_busy():
    p = Progress(Ticks())
    p.read_started("jira", 10.0)
    p.read_started("notion", 3.0)
    p.read_finished("jira")
    p.finished()  # jira's cycle ended; notion still reads
    assert p.busy()


def test_the_listener_hears_every_event():
    heard: list[str] = []
    p = Progress(Ticks(), listener=lambda t: heard.append(t.phase))
    p.read_started("jira", 10.0)
    p.page_read("jira", 5, 1)
    p.read_finished("jira")
    p.writes_planned({"jira": 1}, {"jira": 10.0})
    p.written("jira")
    p.finished()
    assert heard == ["reading", "reading", "planning", "writing", "writing", "done"]


def test_durations_read_as_people_say_them():
    assert [duration(s) for s in (None, 0.4, 12, 60, 185, 3600 + 4 * 60 + 10)] == [
        "unknown",
        "0 s",
        "12 s",
        "1 min",
        "3 min 5 s",
        "1 h 4 min",
    ]


def test_the_log_line_names_each_source_the_writes_and_the_time_left():
    clock = Ticks()
    p = Progress(clock)
    p.read_started("jira", 10.0, ReadEstimate(10_000, 100, "approximate-count"))
    p.read_started("pagerduty", 10.0, ReadEstimate(2_000, 21, "total"))
    p.read_finished("pagerduty")
    assert line(p.snapshot()) == (
        "jira 0/10,000 (ETA 10 s); pagerduty 0/0 (done); "
        "about 10 s left to read (the writes are counted once planned)"
    )
