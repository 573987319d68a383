"""The one network policy every vendor call goes through.

Each vendor gets a :class:`VendorPolicy`: a token bucket (the vendor's rate
limit), a bounded tenacity retry that honours ``Retry-After`` (seconds or an
HTTP date) and PagerDuty's ``ratelimit-reset``, the status → error table of
:mod:`connectors.errors`, and counters for reports and benchmarks.

The policy is installed *under* the official clients, as their transport
(:mod:`connectors.transport`), and the clients' own retry loops are switched
off, so the three clients behave the same way:

* 429 is retried for every method: the vendor did not process the request.
* 5xx, 529, timeouts, resets and truncated JSON are retried only for idempotent methods and
  for POSTs that only read (Jira's ``/search/jql``, Notion's ``/query``).
  A POST that creates something is never re-sent after an ambiguous failure;
  the caller checks the natural key instead.
* A connection that was refused before anything was sent is retried for any
  method.
* A ``Retry-After`` (on a 429, or a 503's "unavailable for N s") holds every
  request of the vendor, also after relais gave up on the request that got it.
  One longer than ``max_wait`` is not slept through: the error goes up, and
  the vendor is not called again, by any later cycle, before it is over.
"""

from __future__ import annotations

import email.utils
import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import tenacity

from connectors.errors import (
    ConnectorError,
    MalformedResponseError,
    NetworkError,
    RateLimitedError,
    ServerError,
    error_for_status,
)

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})


class TokenBucket:
    """Blocking token bucket: ``rate`` tokens per second, bursts up to ``capacity``."""

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(1.0, rate)
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def pause_for(self, seconds: float) -> None:
        """After a 429, hold every request of this vendor, not just the one that hit it."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def paused_for(self) -> float:
        """Seconds left of the current pause (0 when none)."""
        with self._lock:
            return max(0.0, self._paused_until - self._clock())

    def take(self) -> float:
        """Wait for a token; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                if now < self._paused_until:
                    delay = self._paused_until - now
                else:
                    self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                    self._last = now
                    if self._tokens >= 1 - 1e-9:  # tolerance: float dust must not spin the loop
                        self._tokens = max(0.0, self._tokens - 1)
                        return waited
                    delay = max((1 - self._tokens) / self.rate, 1e-4)
            self._sleep(delay)
            waited += delay


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait, from ``Retry-After`` (seconds or HTTP date) or ``ratelimit-reset``."""
    value = _header(headers, "retry-after")
    if value is not None:
        value = value.strip()
        if re.fullmatch(r"\d+(\.\d+)?", value):
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            now = now or datetime.now(UTC)
            return max(0.0, (when - now).total_seconds())
    reset = _header(headers, "ratelimit-reset")  # PagerDuty: seconds until the window resets
    if reset is not None and re.fullmatch(r"\d+(\.\d+)?", reset.strip()):
        return float(reset.strip())
    return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name:
            return v
    return None


@dataclass
class Reply:
    """What a transport adapter hands the policy about one HTTP exchange."""

    status: int
    headers: Mapping[str, str]
    body: Callable[[], bytes]  # reads (and caches) the body
    native: Any  # the stack's own response object, returned to the client


Describe = Callable[[int, Mapping[str, str], bytes], tuple[str, str | None]]


def describe_json_error(status: int, headers: Mapping[str, str], body: bytes) -> tuple[str, str | None]:
    """Default: pull a message and request id out of a JSON error body."""
    try:
        data = json.loads(body or b"null")
    except ValueError:
        text = body[:200].decode("utf-8", "replace").strip()
        return (text or "no body"), None
    return json.dumps(data)[:300], None


@dataclass
class CallStats:
    requests: Counter = field(default_factory=Counter)  # by status
    retries: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.requests.values())


class VendorPolicy:
    def __init__(
        self,
        vendor: str,
        *,
        requests_per_second: float,
        describe: Describe = describe_json_error,
        safe_post: Iterable[str] = (),
        max_attempts: int = 5,
        max_wait: float = 60.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.vendor = vendor
        # Burst to half the vendor's allowance at most: pacing at exactly the vendor's rate *and*
        # burst, a few milliseconds of network jitter make a request arrive "early" and draw a 429
        # (the reliability suite saw it against Notion's 3/s). The steady pace is the full rate.
        self.bucket = TokenBucket(
            requests_per_second, capacity=max(1.0, requests_per_second / 2), sleep=sleep
        )
        self.describe = describe
        self.safe_post = [re.compile(p) for p in safe_post]
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep = sleep
        self.stats = CallStats()
        self._lock = threading.Lock()
        self._local = threading.local()  # per thread: the Date of the last answer this thread got

    def server_time(self) -> datetime | None:
        """The vendor's clock when it answered this thread's last successful request (its
        ``Date`` header, whole seconds, floored), or None if it sent none. The connectors'
        watermarks are read on the vendor's clock, not relais'."""
        value = getattr(self._local, "date", None)
        if not value:
            return None
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return when if when.tzinfo is not None else when.replace(tzinfo=UTC)

    # -- decisions ---------------------------------------------------------
    def _may_resend(self, method: str, path: str, exc: BaseException) -> bool:
        if not isinstance(exc, ConnectorError) or not exc.retryable:
            return False
        asked = getattr(exc, "retry_after", None)
        if asked is not None and asked > self.max_wait:
            return False  # not slept through: the next cycle tries again, once the pause is over
        if isinstance(exc, RateLimitedError):
            return True
        if isinstance(exc, NetworkError) and not getattr(exc, "sent", True):
            return True
        return self._is_read(method, path) or method in IDEMPOTENT

    def _is_read(self, method: str, path: str) -> bool:
        if method in ("GET", "HEAD", "OPTIONS"):
            return True
        return method == "POST" and any(p.search(path) for p in self.safe_post)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = getattr(exc, "retry_after", None)  # a 429's, or a 503's "unavailable for N s"
        if asked is not None:
            return asked
        backoff = min(self.backoff_max, self.backoff_base * 2 ** (state.attempt_number - 1))
        return backoff * (0.5 + random.random() / 2)

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        wait = state.next_action.sleep if state.next_action else 0.0
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitedError):
            self.bucket.pause_for(wait)
        with self._lock:
            self.stats.retries += 1
            self.stats.waited_seconds += wait

    # -- the call ------------------------------------------------------------
    def send(self, method: str, path: str, attempt: Callable[[], Reply]) -> Reply:
        """Run ``attempt`` under the rate limit and retry policy; raise a ConnectorError or return a 2xx/3xx reply."""
        method = method.upper()
        call = f"{method} {path}"
        paused = self.bucket.paused_for()
        if paused > self.max_wait:
            # A Retry-After asked for longer than relais sleeps through: the vendor is not called
            # until it is over, even by a later cycle.
            raise RateLimitedError(
                self.vendor,
                f"not called: the vendor asked to wait {paused:.0f} s more (Retry-After)",
                call=call,
                retry_after=paused,
            )
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception(lambda e: self._may_resend(method, path, e)),
            before_sleep=self._before_sleep,
            sleep=self._sleep,
            reraise=True,
        )
        for attempt_state in retrying:
            with attempt_state:
                waited = self.bucket.take()
                try:
                    reply = attempt()
                except NetworkError as e:
                    e.call = call
                    with self._lock:
                        self.stats.requests["network-error"] += 1
                        self.stats.waited_seconds += waited
                    raise
                with self._lock:
                    self.stats.requests[reply.status] += 1
                    self.stats.waited_seconds += waited
                    if reply.status == 429:
                        self.stats.rate_limited += 1
                if reply.status >= 400:
                    error = self._error(reply, call)
                    retry_after = getattr(error, "retry_after", None)
                    if retry_after is not None:
                        # Held for every later request of this vendor, also when relais gives up on
                        # this one (attempts exhausted, or a wait too long to sleep through).
                        self.bucket.pause_for(retry_after)
                    raise error
                self._check_body(reply, call)
                self._local.date = _header(reply.headers, "date")
                return reply
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, reply: Reply, call: str) -> ConnectorError:
        message, request_id = self.describe(reply.status, reply.headers, reply.body())
        cls = error_for_status(reply.status)
        if cls is RateLimitedError:
            return RateLimitedError(
                self.vendor,
                message,
                status=reply.status,
                request_id=request_id,
                call=call,
                retry_after=parse_retry_after(reply.headers),
            )
        if reply.status == 503:  # "unavailable for N s" (RFC 9110 §10.2.3): honoured like a 429's
            return ServerError(
                self.vendor,
                message,
                status=reply.status,
                request_id=request_id,
                call=call,
                retry_after=parse_retry_after(
                    {k: v for k, v in reply.headers.items() if k.lower() == "retry-after"}
                ),
            )
        return cls(self.vendor, message, status=reply.status, request_id=request_id, call=call)

    def _check_body(self, reply: Reply, call: str) -> None:
        ctype = _header(reply.headers, "content-type") or ""
        if "json" not in ctype:
            return
        body = reply.body()
        if not body.strip():
            return
        try:
            json.loads(body)
        except ValueError as e:  # also UnicodeDecodeError, which has no msg/pos
            where = f"{e.msg} at byte {e.pos}" if isinstance(e, json.JSONDecodeError) else str(e)
            raise MalformedResponseError(
                self.vendor,
                f"the response is not valid JSON ({where})",
                status=reply.status,
                call=call,
            ) from None
