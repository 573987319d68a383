"""`daemon:` — how `relais run` schedules, listens and receives webhooks.

Everything has a default, so a config without this section runs the daemon
with each source on its own interval, the endpoints on 127.0.0.1:8765, the
status page on, and no webhook. Webhook secrets are never written here: they
come from PAGERDUTY_WEBHOOK_SECRET, JIRA_WEBHOOK_SECRET and
NOTION_WEBHOOK_TOKEN (or their _FILE variants).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from ._sources import Model
from ._types import expected, none_is_empty, quoted, relais_error

Seconds = Annotated[float, Field(ge=1, le=86_400)]

_LISTEN = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]+)):(?P<port>\d{1,5})")


def split_listen(value: str) -> tuple[str, int]:
    """``'127.0.0.1:8765'`` → ``('127.0.0.1', 8765)``; ``'[::1]:8765'`` → ``('::1', 8765)``."""
    match = _LISTEN.fullmatch(value.strip())
    if not match:
        raise ValueError(value)
    return match["v6"] or match["host"], int(match["port"])


def _listen(value: Any) -> Any:
    if not isinstance(value, str):
        raise expected("host:port, such as 127.0.0.1:8765 or 0.0.0.0:8765 in a container")
    try:
        host, port = split_listen(value)
    except ValueError:
        raise expected("host:port, such as 127.0.0.1:8765 or 0.0.0.0:8765 in a container") from None
    if port > 65535:
        raise relais_error(f"port {port} is out of range (0 to 65535)")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise relais_error(f"{quoted(host)} is not an IPv6 address") from None
    return value.strip()


Listen = Annotated[str, AfterValidator(_listen)]


def _webhook_path(value: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"/[A-Za-z0-9._~/-]*", value):
        raise relais_error(f"expected a URL path such as /webhooks/jira, found {quoted(value)}")
    if value in ("/", "/healthz", "/readyz", "/metrics"):
        raise relais_error(f"{value} is one of relais' own endpoints; choose another path")
    return value


WebhookPath = Annotated[str, AfterValidator(_webhook_path)]


def _host_name(value: Any) -> Any:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9.-]+|\[?[0-9A-Fa-f:.]+\]?", value.strip()):
        raise expected("a host name or an IP address, without a port")
    return value.strip().strip("[]").lower()


HostName = Annotated[str, BeforeValidator(_host_name)]


class Intervals(Model):
    """Seconds between two pulls of each source (each source has its own timer)."""

    jira: Seconds = 60
    notion: Seconds = Field(120, description="Notion allows about 3 requests per second: poll it less often.")
    pagerduty: Seconds = 60


class Http(Model):
    """The one port of the health, metrics, status page and webhook endpoints."""

    enabled: bool = Field(True, description="false: no HTTP server at all (no probes, no webhooks).")
    listen: Listen = Field(
        "127.0.0.1:8765",
        description="host:port. The default answers this machine only; in a container use 0.0.0.0:8765.",
    )
    status_page: bool = Field(True, description="Serve the read-only status page on `/` (no login).")
    max_body_bytes: int = Field(
        262_144, ge=1_024, le=10_485_760, description="Larger webhook bodies are refused (413) unread."
    )
    allowed_hosts: Annotated[list[HostName], BeforeValidator(lambda v: [] if v is None else v)] = Field(
        default_factory=list,
        description="Host names requests may be addressed to (the Host header, without its port); others get "
        "421. Empty: the loopback names when `listen` is a loopback address, any name otherwise. Set it when "
        "the port is exposed, e.g. [relais.internal.example.com, 10.0.0.12].",
    )


class PagerDutyWebhook(Model):
    """A PagerDuty v3 webhook subscription; its signing secret in PAGERDUTY_WEBHOOK_SECRET (comma-separated
    during a rotation)."""

    path: WebhookPath = Field("/webhooks/pagerduty", description="Where PagerDuty posts its events.")


class JiraWebhook(Model):
    """A Jira admin webhook saved with a secret; the secret in JIRA_WEBHOOK_SECRET."""

    path: WebhookPath = Field("/webhooks/jira", description="Where Jira posts its events.")


class NotionWebhook(Model):
    """A Notion integration webhook; its verification token in NOTION_WEBHOOK_TOKEN (until it is set, relais
    answers the verification request and refuses events)."""

    path: WebhookPath = Field("/webhooks/notion", description="Where Notion posts its events.")


class Webhooks(Model):
    """Each one is off unless listed here; polling stays on as the safety net."""

    pagerduty: Annotated[PagerDutyWebhook | None, BeforeValidator(none_is_empty)] = None
    jira: Annotated[JiraWebhook | None, BeforeValidator(none_is_empty)] = None
    notion: Annotated[NotionWebhook | None, BeforeValidator(none_is_empty)] = None

    @model_validator(mode="after")
    def _distinct_paths(self) -> Webhooks:
        seen: dict[str, str] = {}
        for name in type(self).model_fields:  # one field per vendor (a test holds them to the registry)
            hook = getattr(self, name)
            if hook is None:
                continue
            if hook.path in seen:
                raise relais_error(f"{seen[hook.path]} and {name} both use the path {hook.path}")
            seen[hook.path] = name
        return self

    def enabled(self) -> dict[str, str]:
        """Vendor → path, for the webhooks that are on."""
        return {n: getattr(self, n).path for n in type(self).model_fields if getattr(self, n) is not None}


class Daemon(Model):
    """`relais run`: per-source timers, the reconciliation sweep, the HTTP endpoints and webhooks."""

    intervals: Annotated[Intervals, BeforeValidator(none_is_empty)] = Field(default_factory=Intervals)
    jitter_seconds: float = Field(
        5, ge=0, le=300, description="Each wait is shortened or lengthened by up to this much, at random."
    )
    reconcile_every: float = Field(
        21_600,
        ge=5,
        le=604_800,
        description="Seconds between full re-reads of each source, which find deleted items and drift.",
    )
    failing_after: int = Field(
        3,
        ge=1,
        le=1_000,
        description="A source that failed this many cycles in a row makes /readyz degraded.",
    )
    stop_seconds: float = Field(
        20, ge=1, le=600, description="On SIGTERM, wait this long for the current writes, then exit anyway."
    )
    watch_config: bool = Field(
        True, description="Reload the config file when it changes (checked every 2 s)."
    )
    http: Annotated[Http, BeforeValidator(none_is_empty)] = Field(default_factory=Http)
    webhooks: Annotated[Webhooks, BeforeValidator(none_is_empty)] = Field(default_factory=Webhooks)


def check_daemon(doc: Any) -> None:
    """A webhook needs its source: its events ask for a re-read through that source."""
    data: dict[str, Any] = doc.data if isinstance(doc.data, dict) else {}
    daemon: dict[str, Any] = data["daemon"] if isinstance(data.get("daemon"), dict) else {}
    hooks: dict[str, Any] = daemon["webhooks"] if isinstance(daemon.get("webhooks"), dict) else {}
    sources: dict[str, Any] = data["sources"] if isinstance(data.get("sources"), dict) else {}
    for vendor in Webhooks.model_fields:
        if vendor in hooks and sources.get(vendor) is None:
            doc.problem(
                ("daemon", "webhooks", vendor),
                f"the {vendor} webhook needs sources.{vendor}: its events are re-read through it",
            )
