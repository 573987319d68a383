"""The network policy's pure parts: Retry-After parsing and the token bucket.

The retry behaviour itself is pinned end to end against the sandbox's faults
(tests/test_connectors_faults.py); these pin the arithmetic at its edges.
"""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from connectors.errors import (
    AuthError,
    ForbiddenError,
    GoneError,
    NotFoundError,
    RateLimitedError,
    RequestError,
    ServerError,
    error_for_status,
    redact,
    register_secret,
)
from connectors.policy import TokenBucket, parse_retry_after

NOW = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)


def test_retry_after_in_seconds():
    assert parse_retry_after({"Retry-After": "7"}) == 7.0


def test_retry_after_as_http_date():
    when = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after({"retry-after": when}, now=NOW) == 30.0


def test_retry_after_in_the_past_means_now():
    when = format_datetime(NOW - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after({"Retry-After": when}, now=NOW) == 0.0


def test_pagerduty_ratelimit_reset_is_used_without_retry_after():
    assert parse_retry_after({"ratelimit-reset": "12"}) == 12.0


def test_garbage_retry_after_is_ignored():
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None


class FakeTime:
    def __init__(self):
        self.t = 0.0

    def clock(self):
        return self.t

    def sleep(self, s):
        self.t += s


def test_bucket_allows_a_burst_then_paces_at_the_rate():
    ft = FakeTime()
    bucket = TokenBucket(rate=5, clock=ft.clock, sleep=ft.sleep)
    for _ in range(5):
        bucket.take()
    assert ft.t == 0.0  # the burst
    for _ in range(10):
        bucket.take()
    assert ft.t == pytest.approx(2.0)  # 10 more at 5/s


def test_bucket_pause_holds_every_caller():
    ft = FakeTime()
    bucket = TokenBucket(rate=100, clock=ft.clock, sleep=ft.sleep)
    bucket.pause_for(3.0)
    bucket.take()
    assert ft.t == pytest.approx(3.0)


@pytest.mark.parametrize(
    "status,cls",
    [
        (401, AuthError),
        (403, ForbiddenError),
        (404, NotFoundError),
        (410, GoneError),
        (429, RateLimitedError),
        (500, ServerError),
        (503, ServerError),
        (529, ServerError),
        (409, ServerError),
        (400, RequestError),
        (422, RequestError),
    ],
)
def test_status_table(status, cls):
    assert error_for_status(status) is cls


def test_redact_hides_registered_secrets_but_keeps_last_four():
    register_secret("tok-abcdefghijklmnop-wxyz")
    text = redact("failed with tok-abcdefghijklmnop-wxyz in header")
    assert "abcdefghijklmnop" not in text
    assert text.endswith("***wxyz in header") or "***wxyz" in text


def test_redact_scrubs_unregistered_authorization_headers():
    assert "s3cr3tvalue99" not in redact("Authorization: Bearer s3cr3tvalue99")
