"""Work items the golden tests build by hand (tests/test_*_golden.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sync.models import WorkItem


def pagerduty_incident(
    n: int,
    service: str,
    urgency: str,
    start: datetime,
    end: datetime | None = None,
    title: str = "incident",
    **more: Any,
) -> WorkItem:
    """PagerDuty's incident ``#n`` on ``service``, triggered at ``start``, resolved at ``end`` (None: open)."""
    return WorkItem(
        source="pagerduty",
        id=f"Q{n:06d}",
        key=f"#{n}",
        kind="incident",
        title=f"{title} {n}",
        updated=end or start,
        created=start,
        resolved=end,
        urgency=urgency,
        service=service,
        status="resolved" if end else "triggered",
        **more,
    )
