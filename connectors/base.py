"""What every connector provides, and the helpers they share.

A connector is small and dumb: it talks to one API through the official
client (with :mod:`connectors.policy` underneath), maps vendor JSON to
:class:`~sync.models.WorkItem` in one function, and maps owned-field changes
back to the vendor's write shape in one function.

Pull contract: :meth:`Connector.iter_pages` yields :class:`Page` s of items
changed since ``cursor`` (minus the source's overlap window); once the
iterator is exhausted, :attr:`Connector.pending_cursor` holds the cursor to
save — and the engine saves it only after the cycle's writes succeeded.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from connectors.policy import VendorPolicy
from sync.codec import clean_text
from sync.models import FieldChange, Quarantined, WorkItem

#: Hard ceiling on pages one pull may read, whatever the server says; a
#: paginator that never ends is a bug somewhere, and must not hang the daemon.
MAX_PAGES = 100_000


@dataclass
class Page:
    items: list[WorkItem] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # item id -> vendor payload
    quarantined: list[Quarantined] = field(default_factory=list)


class SourceSettings(Protocol):
    """What every connector reads of its ``sources.<vendor>`` slice of the settings. Each
    connector module extends it with its own; the settings' classes meet them (mypy checks it
    in sync/settings/_sources.py), and a connector never imports the settings."""

    @property
    def url(self) -> str: ...
    @property
    def overlap_minutes(self) -> int: ...
    @property
    def requests_per_second(self) -> float: ...
    @property
    def ca_bundle(self) -> Path | None: ...
    @property
    def timeout_seconds(self) -> float: ...


def did_you_mean(name: str, candidates: Iterable[str], taken: Iterable[str] = ()) -> str:
    """`` (did you mean 'X'?)`` for a name the tool lacks: the nearest of ``candidates`` that
    relais does not already write something else to (``taken``), or nothing when none is near.
    Suggesting the property of another figure ("RUN hours" for "RUN share") misleads."""
    unavailable = set(taken)
    near = difflib.get_close_matches(name, sorted({c for c in candidates if c not in unavailable}), n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


def source_policy(
    vendor: str, source: SourceSettings, describe: Any, safe_post: tuple[str, ...] = ()
) -> VendorPolicy:
    """The policy every request of ``vendor`` goes through, at the source's own pace."""
    return VendorPolicy(
        vendor, requests_per_second=source.requests_per_second, describe=describe, safe_post=safe_post
    )


def ca_bundle(source: SourceSettings) -> str | None:
    """The CA bundle the source's TLS is checked against, or None for the system's."""
    return str(source.ca_bundle) if source.ca_bundle else None


class Connector(Protocol):
    vendor: str
    pending_cursor: dict[str, Any] | None
    policy: VendorPolicy  # its stats count the calls a cycle made

    def connect(self) -> str:
        """Check credentials and resolve names to ids; returns who we are connected as."""

    def iter_pages(self, cursor: dict[str, Any] | None, now: datetime) -> Iterator[Page]: ...

    def read_items(self, ids: Iterable[str]) -> tuple[Page, list[str]]:
        """Re-read the named items now (a webhook said they changed), mapped like a pull;
        also the ids the tool says are gone (deleted, trashed, out of the configured scope)."""

    def write(self, item: WorkItem, changes: list[FieldChange]) -> None:
        """Write the owned-field changes of one item, and only those fields."""

    def close(self) -> None: ...


class RepeatedTokenError(RuntimeError):
    """A server sent the same page token twice: stop instead of looping forever."""


class PageGuard:
    """Stops a pagination loop on a repeated token or past :data:`MAX_PAGES`."""

    def __init__(self, what: str, max_pages: int = MAX_PAGES) -> None:
        self.what = what
        self.max_pages = max_pages
        self.pages = 0
        self._seen: set[str] = set()

    def next(self, token: str | None) -> None:
        self.pages += 1
        if self.pages > self.max_pages:
            raise RepeatedTokenError(f"{self.what}: more than {self.max_pages} pages; stopping")
        if token is not None:
            if token in self._seen:
                raise RepeatedTokenError(f"{self.what}: the server repeated page token {token[:16]}…")
            self._seen.add(token)


def parse_time(value: str | None) -> datetime | None:
    """Parse the vendors' ISO-8601 variants into an aware UTC datetime.

    Jira: ``2026-11-20T10:15:30.123+0000``; Notion pages ``…:00.000Z``,
    Notion databases ``…:45.607+00:00``; PagerDuty ``2026-11-20T10:15:30Z``.
    """
    if not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":":  # +0000 -> +00:00
        text = text[:-2] + ":" + text[-2:]
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def watermark_after(seen: datetime | None, read_at: datetime | None) -> datetime | None:
    """A stream's next watermark: the later of the last change seen (``seen``) and the vendor's
    own clock when the read began (``read_at``, from its Date header). Everything changed
    before ``read_at`` was in the answer but for the index's lag, which the overlap window
    covers; so a quiet tenant stops re-reading the window of the last change (relais' own
    writes among them) once the overlap has passed. The vendor's clock, not relais': a
    skew between the two machines cannot make a change fall between two reads."""
    if read_at is None:
        return seen
    return read_at if seen is None else max(seen, read_at)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


_TEXT = ("id", "key", "kind", "title", "text")
_OPTIONAL_TEXT = (
    "url",
    "status",
    "project",
    "issuetype",
    "priority",
    "urgency",
    "service",
    "team",
    "database",
    "origin",
    "tier",
    "area",
    "customer",
    "natural_key",
    "parent",
)


def invalid(item: Any, name: str, expected: str) -> ValueError:
    """The error that quarantines ``item``: which field, what was expected, what came (cut short)."""
    value = repr(getattr(item, name))
    return ValueError(f"{name}: expected {expected}, got {value[:60]}{'…' if len(value) > 60 else ''}")


def check_status_category(item: Any, allowed: frozenset[str]) -> None:
    """The vendor's status categories relais decides on (None: the vendor has none for it)."""
    if item.status_category is not None and item.status_category not in allowed:
        raise invalid(item, "status_category", " or ".join(sorted(allowed)))


def checked(item: Any, vendor_check: Callable[[Any], None] | None = None) -> Any:
    """``item`` (a WorkItem) if every field has the type the core relies on, else ValueError
    naming the field: a payload with a null, a wrong type or an unknown enum value where relais
    decides something is quarantined by the connector, not left to fail later in store or plan
    (where it would stop the whole source, or the cycle). ``vendor_check``: what the vendor's
    own values must be (its mapping module's ``check``)."""

    def bad(name: str, expected: str) -> ValueError:
        return invalid(item, name, expected)

    for name in _TEXT:
        if not isinstance(getattr(item, name), str):
            raise bad(name, "text")
    if not item.id:
        raise bad("id", "an id")
    for name in _OPTIONAL_TEXT:
        if getattr(item, name) is not None and not isinstance(getattr(item, name), str):
            raise bad(name, "text or nothing")
    for name in ("updated", "created"):
        if not isinstance(getattr(item, name), datetime) or getattr(item, name).tzinfo is None:
            raise bad(name, "a timestamp")
    if item.resolved is not None and (
        not isinstance(item.resolved, datetime) or item.resolved.tzinfo is None
    ):
        raise bad("resolved", "a timestamp or nothing")
    for name in ("labels", "components"):
        value = getattr(item, name)
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            raise bad(name, "a list of text")
    if item.points is not None and (
        isinstance(item.points, bool)
        or not isinstance(item.points, (int, float))
        or item.points != item.points
        or abs(item.points) == float("inf")
    ):
        raise bad("points", "a finite number")
    if vendor_check is not None:
        vendor_check(item)
    return _clean_item(item)


def _clean_item(item: Any) -> Any:
    fixed = {}
    for f in dataclass_fields(item):
        value = getattr(item, f.name)
        if isinstance(value, (str, tuple, dict)):
            clean = clean_text(value)
            if clean != value:
                fixed[f.name] = clean
    return replace(item, **fixed) if fixed else item
