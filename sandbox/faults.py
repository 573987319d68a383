"""Switchable faults and per-vendor rate limits.

A fault rule says *which* requests go wrong (vendor, optional method, optional
path regex), *how often* (``count``: the first N matching requests;
``rate``: each matching request with this probability, drawn from a seeded
RNG so runs repeat; neither: every matching request) and *how*:

================  ==========================================================
kind              effect
================  ==========================================================
``500`` … (int)   the vendor's own error body for that status. ``retry_after``:
                  None (the vendor's usual headers: Jira and Notion 429s say
                  ``Retry-After: 1``, PagerDuty sends ``ratelimit-*``), int
                  seconds, ``"http-date"`` / ``"http-date:N"`` (an HTTP date N
                  seconds ahead, default 2), or ``"omit"`` (no rate-limit
                  header at all, as PagerDuty sometimes does)
``"timeout"``     the answer is held back ``delay`` seconds, then served. The
                  request is handled *after* the wait, so a client that gave
                  up changed nothing; ``after=True`` handles it first and
                  then holds the answer back: a write is applied although the
                  client timed out (it cannot know whether it was)
``"reset"``       the TCP connection is closed with a RST, no response, nothing
                  handled
``"lost"``        the request is handled (a POST creates, a PUT writes), then
                  the connection is closed with a RST instead of the answer:
                  the write happened and the client saw only a network error —
                  what relais' idempotent creation must survive
``"malformed"``   200 with the real body cut in half (invalid JSON)
``"bad_item"``    200, but one item of the list page has a broken shape
                  (Jira issue without ``fields``, Notion page without
                  ``properties``, PagerDuty incident without ``service``…)
================  ==========================================================

The first matching rule that fires wins. CLI form: ``vendor:kind[:k=v,...]``,
e.g. ``jira:500:rate=0.1``, ``notion:429:count=3,retry_after=2``,
``pagerduty:timeout:delay=5,path=/incidents``, ``jira:lost:method=POST,path=/issue$,count=1``,
``jira:timeout:after=1,delay=5``.
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Union

VENDORS = ("jira", "notion", "pagerduty")
KINDS = ("timeout", "reset", "lost", "malformed", "bad_item")
FaultKind = Union[int, str]  # noqa: UP007 - a runtime alias, kept readable


@dataclass
class FaultRule:
    vendor: str
    kind: FaultKind
    rate: float | None = None
    count: int | None = None
    method: str | None = None
    path: str | None = None
    retry_after: int | str | None = None
    delay: float = 10.0
    after: bool = False  # "timeout" only: handle the request first, then hold the answer back
    fired: int = 0
    _path_re: re.Pattern[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.vendor not in VENDORS:
            raise ValueError(f"unknown vendor {self.vendor!r}; expected one of {', '.join(VENDORS)}")
        if isinstance(self.kind, str) and self.kind.isdigit():
            self.kind = int(self.kind)
        if isinstance(self.kind, int):
            if not 400 <= self.kind <= 599:
                raise ValueError(f"fault status {self.kind} is not an HTTP error status")
        elif self.kind not in KINDS:
            raise ValueError(
                f"unknown fault kind {self.kind!r}; expected an HTTP status or one of {', '.join(KINDS)}"
            )
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, got {self.rate}")
        if self.count is not None and self.count < 0:
            raise ValueError(f"count must be >= 0, got {self.count}")
        if self.retry_after is not None and not isinstance(self.retry_after, int):
            if not str(self.retry_after).startswith("http-date") and self.retry_after != "omit":
                raise ValueError(
                    f"retry_after must be None, seconds, 'http-date[:N]' or 'omit', got {self.retry_after!r}"
                )
        if self.after and self.kind != "timeout":
            raise ValueError(f"after=True only applies to the 'timeout' kind, not {self.kind!r}")
        self.method = self.method.upper() if self.method else None
        self._path_re = re.compile(self.path) if self.path else None

    def matches(self, vendor: str, method: str, path: str) -> bool:
        if vendor != self.vendor:
            return False
        if self.method and method.upper() != self.method:
            return False
        if self._path_re and not self._path_re.search(path):
            return False
        return self.count is None or self.fired < self.count

    def retry_after_seconds(self) -> int | None:
        if self.retry_after is None or self.retry_after == "omit":
            return None
        if isinstance(self.retry_after, int):
            return self.retry_after
        _, _, seconds = str(self.retry_after).partition(":")
        return int(seconds) if seconds else 2


class Faults:
    """The fault switches of one sandbox (``sb.faults``). Thread-safe."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(f"faults:{seed}")
        self._rules: list[FaultRule] = []

    def add(
        self,
        vendor: str,
        kind: FaultKind,
        *,
        rate: float | None = None,
        count: int | None = None,
        method: str | None = None,
        path: str | None = None,
        retry_after: int | str | None = None,
        delay: float = 10.0,
        after: bool = False,
    ) -> FaultRule:
        rule = FaultRule(vendor, kind, rate, count, method, path, retry_after, delay, after)
        with self._lock:
            self._rules.append(rule)
        return rule

    def add_spec(self, spec: str) -> FaultRule:
        """Add a rule from its CLI form ``vendor:kind[:k=v,...]``."""
        parts = spec.split(":", 2)
        if len(parts) < 2:
            raise ValueError(f"fault {spec!r}: expected vendor:kind[:key=value,...]")
        vendor, kind = parts[0].strip(), parts[1].strip()
        options: dict[str, object] = {}
        if len(parts) == 3 and parts[2].strip():
            for item in parts[2].split(","):
                key, sep, value = item.partition("=")
                key = key.strip()
                if not sep:
                    raise ValueError(f"fault {spec!r}: option {item!r} is not key=value")
                if key == "rate" or key == "delay":
                    options[key] = float(value)
                elif key == "count":
                    options[key] = int(value)
                elif key == "retry_after":
                    options[key] = int(value) if value.strip().isdigit() else value.strip()
                elif key in ("method", "path"):
                    options[key] = value
                elif key == "after":
                    if value.strip().lower() not in ("1", "true", "0", "false"):
                        raise ValueError(f"fault {spec!r}: after must be true or false, got {value!r}")
                    options[key] = value.strip().lower() in ("1", "true")
                else:
                    raise ValueError(f"fault {spec!r}: unknown option {key!r}")
        return self.add(vendor, kind, **options)  # type: ignore[arg-type]

    def clear(self, vendor: str | None = None) -> None:
        with self._lock:
            self._rules = [r for r in self._rules if vendor is not None and r.vendor != vendor]

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def pick(self, vendor: str, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request, if any (and count it)."""
        with self._lock:
            for rule in self._rules:
                if not rule.matches(vendor, method, path):
                    continue
                if rule.rate is not None and self._rng.random() >= rule.rate:
                    continue
                rule.fired += 1
                return rule
        return None

    def choose_index(self, n: int) -> int:
        with self._lock:
            return self._rng.randrange(n)


class TokenBucket:
    """Requests per second with a burst; ``take()`` says yes or how long to wait."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self._lock = threading.Lock()
        self.configure(rate, burst)

    def configure(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        with self._lock:
            self.rate = float(rate)
            self.burst = float(burst if burst is not None else max(1.0, rate))
            self._tokens = self.burst
            self._stamp = time.monotonic()

    def take(self) -> float:
        """0.0 if the request may pass, else the seconds until a token is free."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self.rate

    @property
    def remaining(self) -> int:
        with self._lock:
            return int(self._tokens)
