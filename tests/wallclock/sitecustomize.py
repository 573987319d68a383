"""A wall clock that a test can step, for a `relais run` subprocess (on its PYTHONPATH).

The offset, in seconds, is read from the file ``$RELAIS_TEST_WALLCLOCK`` at every
reading: ``-3600`` steps the process's wall clock back an hour, as an NTP
correction or a daylight-saving change in its zone would. Every Python reading
of the wall clock follows it (``time.time``, ``time.time_ns``,
``datetime.now/utcnow/today``); ``time.monotonic`` and the C library do not, so
TLS still checks certificates against the real time. libfaketime would do the
same from below, but with its monotonic clock left alone it breaks
``time.sleep`` (EINVAL from ``clock_nanosleep``), and faking both moves the
monotonic clock too.
"""

from __future__ import annotations

import datetime as _datetime
import os
import time as _time_module

_FILE = os.environ.get("RELAIS_TEST_WALLCLOCK", "")
_real_time = _time_module.time
_real_time_ns = _time_module.time_ns


def _offset() -> float:
    try:
        with open(_FILE, encoding="utf-8") as f:
            return float(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0.0


def _time() -> float:
    return _real_time() + _offset()


def _time_ns() -> int:
    return _real_time_ns() + int(_offset() * 1e9)


class _SteppedDatetime(_datetime.datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return _datetime.datetime.fromtimestamp(_time(), tz)

    @classmethod
    def utcnow(cls):  # type: ignore[override]
        return _datetime.datetime.fromtimestamp(_time(), _datetime.UTC).replace(tzinfo=None)

    @classmethod
    def today(cls):  # type: ignore[override]
        return _datetime.datetime.fromtimestamp(_time())


if _FILE:
    _time_module.time = _time  # type: ignore[assignment]
    _time_module.time_ns = _time_ns  # type: ignore[assignment]
    _datetime.datetime = _SteppedDatetime  # type: ignore[misc]
