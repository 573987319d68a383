"""Timestamp formats of the three vendors, and parsing of what clients send.

Each API has its own way of writing the same instant; the sandbox must write
exactly what the vendor writes, because connectors parse these strings:

- Jira: ``2026-11-20T11:15:30.123+0100`` — milliseconds, an offset without a
  colon, rendered in the *API user's* profile time zone (Jira Cloud does this;
  the spec examples happen to use ``+0000``).
- Notion pages and data sources: ``2026-11-20T10:15:00.000Z`` — rounded DOWN
  to the minute (developers.notion.com changelog "last edited time is now
  rounded to the nearest minute"); database objects keep milliseconds and
  ``+00:00`` (seen in the recorded cassettes).
- PagerDuty: ``2026-11-20T10:15:30Z``.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import format_datetime
from zoneinfo import ZoneInfo

UTC = UTC


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r}: the sandbox only handles aware datetimes")
    return dt.astimezone(UTC)


def floor_minute(dt: datetime) -> datetime:
    return dt.replace(second=0, microsecond=0)


def floor_day(dt: datetime) -> datetime:
    return as_utc(dt).replace(hour=0, minute=0, second=0, microsecond=0)


def floor_ms(dt: datetime) -> datetime:
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def jira_format(dt: datetime, tz: ZoneInfo | timezone = UTC) -> str:
    local = dt.astimezone(tz)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")


def notion_format(dt: datetime) -> str:
    """Page / data source / block timestamps: minute precision, ``Z``."""
    return floor_minute(as_utc(dt)).strftime("%Y-%m-%dT%H:%M:00.000Z")


def notion_database_format(dt: datetime) -> str:
    """Database objects: milliseconds and ``+00:00`` (as recorded)."""
    u = as_utc(dt)
    return u.strftime("%Y-%m-%dT%H:%M:%S.") + f"{u.microsecond // 1000:03d}+00:00"


def pd_format(dt: datetime) -> str:
    return as_utc(dt).strftime("%Y-%m-%dT%H:%M:%SZ")


def http_date(dt: datetime) -> str:
    return format_datetime(as_utc(dt), usegmt=True)


def parse_iso(value: str, default_tz: ZoneInfo | timezone = UTC) -> datetime:
    """Parse an ISO 8601 date or date-time; naive values are read in ``default_tz``.

    Accepts ``Z``, ``+00:00`` and ``+0000`` offsets and bare dates (midnight).
    Raises ValueError on anything else.
    """
    text = value.strip()
    if not text:
        raise ValueError("empty date")
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if len(text) == 10:
        d = date.fromisoformat(text)
        return datetime(d.year, d.month, d.day, tzinfo=default_tz)
    dt = datetime.fromisoformat(text.replace(" ", "T", 1))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=default_tz)
    return dt


def ceil_seconds(delta: timedelta | float) -> int:
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
    return max(1, math.ceil(seconds))
