"""Scenario 6 — rate limits: the sandbox enforces the vendors' published limits.

Notion: an average of 3 requests per second per integration. PagerDuty: 960
requests per minute per key (16/s; the sandbox refills it per second, stricter
than PagerDuty's minute window). Jira Cloud: burst limits per second, not
published as numbers; the sandbox allows 10/s. relais is configured as the
example config says (Notion 3/s, Jira and PagerDuty 10/s). Its own pace must
never draw a 429; a 429 the vendor sends anyway (injected) must be waited out
for as long as its ``Retry-After`` asks, also across cycles, and also when
relais gives up on it for this cycle.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import reliability_support as rs

from sandbox import Sandbox

PUBLISHED = {"notion": (3, 3), "pagerduty": (16, 16), "jira": (10, 10)}  # requests/s, burst
EXAMPLE_PACE = {"notion": 3, "pagerduty": 10, "jira": 10}  # config/relais.example.yaml


def example_pace(cfg: dict, scale: float = 1) -> None:
    for vendor, rate in EXAMPLE_PACE.items():
        cfg["sources"][vendor]["requests_per_second"] = rate * scale


def enforce_published_limits(sb: Sandbox, scale: float = 1) -> None:
    for vendor, (rate, burst) in PUBLISHED.items():
        sb.set_rate_limit(vendor, rate * scale, burst=burst * scale)


def paced_sync(tmp_path, size: str, scale: float = 1) -> dict:
    """``scale``: every limit and relais' pace multiplied (the same ratios; a shorter run)."""
    now = datetime.now(UTC)
    with Sandbox(seed=7, size=size) as ref:
        engine = rs.engine_for(ref, rs.full_config(ref, tmp_path / "ref"), rs.pinned(now))
        try:
            rs.converge(engine)
        finally:
            engine.close()
        expected = rs.end_state(ref)
    with Sandbox(seed=7, size=size) as sb:
        enforce_published_limits(sb, scale)
        engine = rs.engine_for(
            sb, rs.full_config(sb, tmp_path / "paced", lambda cfg: example_pace(cfg, scale)), rs.pinned(now)
        )
        t0 = time.monotonic()
        try:
            reports, cycles = rs.converge(engine)
        finally:
            engine.close()
        seconds = time.monotonic() - t0
        throttled = sb.count(status=429)
        per_vendor = {v: sb.count(vendor=v) for v in PUBLISHED}
        assert throttled == 0, f"relais' own pace drew {throttled} 429s"
        assert (
            cycles <= 2
            and rs.state_diff(expected, rs.end_state(sb)) == []
            and sum(rs.duplicates(sb).values()) == 0
        )
    return {
        "requests": per_vendor,
        "throttled_by_own_pace": throttled,
        "cycles": cycles,
        "writes_applied": sum(r.writes for r in reports),
        "seconds": round(seconds, 1),
        "notion_requests_per_second": round(per_vendor["notion"] / seconds, 2),
    }


def test_a_demo_sync_at_the_example_pace_draws_no_429(tmp_path):
    # Limits and pace x3 (Notion 9/s against 9/s): the published ratios, in a third of the time.
    rs.record("ratelimits", "fast-pace", size="demo", scale=3, **paced_sync(tmp_path, "demo", scale=3))


@pytest.mark.slow
def test_a_benchmark_size_sync_at_the_example_pace_draws_no_429(tmp_path):
    rs.record("ratelimits", "long-pace", size="small", **paced_sync(tmp_path, "small"))


def test_injected_429s_are_waited_out_as_long_as_asked(tmp_path):
    """Seconds, an HTTP date, PagerDuty's ratelimit-reset, and a 503's Retry-After."""
    with Sandbox(seed=7, size="demo") as sb:
        sb.faults.add("jira", 429, count=2, method="PUT", retry_after=2)
        sb.faults.add("notion", 429, count=2, method="PATCH", retry_after="http-date:2")
        sb.faults.add("pagerduty", 429, count=1, retry_after=None)  # ratelimit-reset, no Retry-After
        sb.faults.add("notion", 503, count=1, method="GET", retry_after=2)  # "unavailable for 2 s"
        engine = rs.engine_for(sb, rs.full_config(sb, tmp_path))
        try:
            report = engine.run_cycle(apply=True)
            stats = {n: c.policy.stats for n, c in engine.connectors.items()}
        finally:
            engine.close()
        assert report.errors == {}
        assert {n: s.rate_limited for n, s in stats.items()} == {"jira": 2, "notion": 2, "pagerduty": 1}
        assert sb.count(status=429) == 5 and sb.count(status=503) == 1
        short = rs.cut_short(sb)
        assert short == []
        assert stats["jira"].waited_seconds >= 4 and stats["notion"].waited_seconds >= 2 * 1 + 2
    rs.record("ratelimits", "injected", injected=6, honoured=6 - len(short), retry_after_cut_short=len(short))


def test_a_429_relais_gives_up_on_still_holds_back_the_next_cycle(tmp_path):
    """Five 429s in a row exhaust the attempts; the last asked for 2 s: the daemon's next
    cycle, started at once, must not call that vendor before the 2 s are over."""
    with Sandbox(seed=7, size="demo") as sb:
        engine = rs.engine_for(sb, rs.full_config(sb, tmp_path))
        try:
            engine.run_cycle(apply=True)
            attempts = engine.connectors["notion"].policy.max_attempts
            sb.faults.add("notion", 429, count=attempts - 1, retry_after=1)
            sb.faults.add("notion", 429, count=1, retry_after=2)
            failed = engine.run_cycle(apply=False)
            again = engine.run_cycle(apply=False)
        finally:
            engine.close()
        assert "429" in failed.errors.get("notion", "")
        assert again.errors == {}
        assert rs.cut_short(sb) == []


def test_a_retry_after_too_long_to_sleep_through_is_still_honoured_by_later_cycles(tmp_path):
    """A Retry-After past max_wait is not slept through: the source waits for a later cycle,
    and a cycle that comes sooner than asked fails fast for that source without calling it."""
    with Sandbox(seed=7, size="demo") as sb:
        engine = rs.engine_for(sb, rs.full_config(sb, tmp_path))
        try:
            engine.run_cycle(apply=True)
            policy = engine.connectors["jira"].policy
            policy.max_wait = 1.0  # stands for the 60 s default, to keep the test short
            sb.faults.add("jira", 429, count=1, retry_after=3)
            first = engine.run_cycle(apply=False)
            calls = sb.count(vendor="jira")
            second = engine.run_cycle(apply=False)
            assert "jira" in second.errors and sb.count(vendor="jira") == calls  # not called at all
            assert second.pulled["notion"] > 0  # the other sources go on
            time.sleep(3)
            third = engine.run_cycle(apply=False)
        finally:
            engine.close()
        assert "429" in first.errors["jira"] and third.errors == {}
        assert rs.cut_short(sb) == []
