"""Helpers for tests and benchmarks that drive the sandbox through the official clients.

Each factory returns a client of the real library, pointed at the sandbox and
trusting only its CA. Close what you open (``with`` works for all three):
tests run with ``-W error`` and an unclosed socket fails them.

Why ``trust_env = False`` for Jira: ``requests`` lets ``REQUESTS_CA_BUNDLE`` /
``CURL_CA_BUNDLE`` override a session's ``verify`` path, and CI machines set
them; without it the sandbox CA would be silently replaced by the system one.
"""

from __future__ import annotations

import os
import ssl
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .timeutil import UTC, as_utc

if TYPE_CHECKING:  # pragma: no cover
    from .core import Sandbox


class FrozenClock:
    """A settable clock for ``Sandbox(clock=...)``: time moves only when told to."""

    def __init__(self, start: datetime):
        self._now = as_utc(start)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = as_utc(when)

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


def wait_until(condition: Callable[[], Any], timeout: float, step: float = 0.02) -> Any:
    """Poll ``condition`` until it returns something true (returned) or ``timeout`` seconds pass (None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return None


def relais_env(sb: Sandbox, **overrides: str | None) -> dict[str, str]:
    """The environment of a ``relais`` process pointed at ``sb``: this one's, without any
    vendor credentials it may hold, plus the sandbox's; ``overrides`` set (None: remove) more."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "NOTION_", "PAGERDUTY_"))}
    env.update(sb.env)
    for k, v in overrides.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def ssl_context(sb: Sandbox) -> ssl.SSLContext:
    """Trusts the sandbox CA only (pass as ``verify=`` to httpx / httpx2)."""
    return ssl.create_default_context(cafile=sb.ca_path)


def jira_client(sb: Sandbox, **options: Any) -> Any:
    from jira import JIRA

    client = JIRA(
        server=sb.urls["jira"],
        basic_auth=(sb.env["JIRA_EMAIL"], sb.env["JIRA_API_TOKEN"]),
        options={"rest_api_version": "3", "verify": sb.ca_path, "check_update": False, **options},
        get_server_info=False,
        max_retries=0,
    )
    client._session.trust_env = False
    # The constructor's own serverInfo call would run before trust_env is switched off;
    # do it now, as get_server_info=True would, so the Cloud code paths are enabled.
    info = client.server_info()
    client._version = tuple(info["versionNumbers"])
    client.deploymentType = info.get("deploymentType")
    return client


def notion_client(sb: Sandbox, **options: Any) -> Any:
    import httpx
    from notion_client import Client

    http = httpx.Client(verify=ssl_context(sb))
    options.setdefault("retry", False)
    return Client(auth=sb.env["NOTION_TOKEN"], base_url=sb.urls["notion"], client=http, **options)


def pagerduty_client(sb: Sandbox, **options: Any) -> Any:
    import pagerduty

    client = pagerduty.RestApiV2Client(
        sb.env["PAGERDUTY_TOKEN"],
        default_from=sb.env["PAGERDUTY_FROM"],
        base_url=sb.urls["pagerduty"],
        verify=ssl_context(sb),
        **options,
    )
    # The client retries 429 forever by default (0 means "use that default"): bound it to one
    # quick retry so a test sees the 429 instead of hanging.
    client.retry = {429: 1}
    client.sleep_timer = 0.01
    return client


def http_client(
    sb: Sandbox,
    vendor: str,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 5,
) -> Any:
    """A plain ``httpx`` client on one fake, with its credentials (``token`` in place of the
    sandbox's own) and ``headers``: for what the official clients do not send."""
    import httpx

    env = sb.env
    auth = (env["JIRA_EMAIL"], token or env["JIRA_API_TOKEN"]) if vendor == "jira" else None
    credentials = {
        "notion": {"Authorization": f"Bearer {token or env['NOTION_TOKEN']}"},
        "pagerduty": {"Authorization": f"Token token={token or env['PAGERDUTY_TOKEN']}"},
    }.get(vendor, {})
    return httpx.Client(
        base_url=sb.urls[vendor],
        verify=ssl_context(sb),
        timeout=timeout,
        auth=auth,
        headers={**credentials, **(headers or {})},
    )


__all__ = [
    "FrozenClock",
    "UTC",
    "http_client",
    "jira_client",
    "notion_client",
    "pagerduty_client",
    "relais_env",
    "ssl_context",
    "wait_until",
]


def data_source_schema(sb: Sandbox, database: str) -> dict[str, Any]:
    """The properties of one of the org's databases (``briefings``, ``feedback``, ``scorecard``),
    as the API answers them."""
    client = notion_client(sb)
    try:
        ds = sb.notion.data_source_ids[database]
        return dict(client.data_sources.retrieve(data_source_id=ds)["properties"])
    finally:
        client.close()


def update_data_source(sb: Sandbox, database: str, properties: dict[str, Any]) -> None:
    """Change a database's schema the way a person's integration would: a data source update."""
    client = notion_client(sb)
    try:
        client.data_sources.update(data_source_id=sb.notion.data_source_ids[database], properties=properties)
    finally:
        client.close()
