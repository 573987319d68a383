"""The :class:`Sandbox`: three loopback HTTPS fakes over one seeded org.

Every request goes through the same pipeline: fault rules, then the vendor's
token bucket (429 the vendor's way), then the vendor app; what was served is
appended to ``sb.log``. Start/stop are explicit or via ``with``.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import certs
from .config import build_config, render_yaml
from .faults import VENDORS, FaultRule, Faults, TokenBucket
from .jira.api import JiraApp
from .jira.state import JiraState
from .notion.api import NotionApp
from .notion.state import NotionState
from .org import BOT_EMAIL, build_org
from .pagerduty.api import PagerDutyApp
from .pagerduty.state import PagerDutyState
from .seed import generate
from .server import Request, Response, VendorServer
from .timeutil import ceil_seconds, http_date, utc_now
from .vendor import VendorApp

DEFAULT_RATE = 200.0  # requests per second per vendor: generous, tests should never hit it by accident

TOKENS = {
    "JIRA_API_TOKEN": "sandbox-jira-token",
    "NOTION_TOKEN": "sandbox-notion-token",
    "PAGERDUTY_TOKEN": "sandbox-pagerduty-token",
}


@dataclass(frozen=True)
class RequestRecord:
    vendor: str
    method: str
    path: str
    query: dict[str, list[str]]
    status: int  # 0 when the connection was reset without an answer
    at: datetime
    retry_after: str | None = None  # the Retry-After header served, if any (to check it was honoured)
    received: datetime | None = None  # when the request arrived (``at`` is when its answer left)


class Sandbox:
    """Fake Jira, Notion and PagerDuty for one seeded organisation.

    ``clock`` (a callable returning an aware UTC datetime) drives every
    timestamp the fakes write, so a test can pin time; rate limiting and
    fault delays use real time. ``tokens`` replaces the credentials the fakes
    accept (keys of ``TOKENS``), e.g. recognisable canaries
    for a test that looks for leaked secrets. ``host`` is the address clients
    use, in the URLs and the certificate; another than 127.0.0.1 (a container
    network's gateway, say) serves on every interface.
    """

    def __init__(
        self,
        seed: int = 7,
        size: str | Mapping[str, int] = "demo",
        clock: Callable[[], datetime] | None = None,
        *,
        port_base: int | None = None,
        rate_limits: Mapping[str, float] | None = None,
        tokens: Mapping[str, str] | None = None,
        fresh: bool = False,
        host: str = "127.0.0.1",
    ):
        self.seed = seed
        self.clock: Callable[[], datetime] = clock or utc_now
        self.org = build_org(seed, size, self.clock())
        # PAGERDUTY_FROM: the user email PagerDuty writes need in their From header.
        unknown = set(tokens or {}) - set(TOKENS)
        if unknown:
            raise ValueError(
                f"unknown token(s) {', '.join(sorted(unknown))}; expected one of {', '.join(TOKENS)}"
            )
        self.env = {"JIRA_EMAIL": BOT_EMAIL, **TOKENS, **(tokens or {}), "PAGERDUTY_FROM": BOT_EMAIL}
        seeded = generate(self.org)  # one pass; the Jira and Notion fakes share its initiatives
        self.jira = JiraState(self.org, self.clock, seeded)
        self.notion = NotionState(self.org, self.clock, seeded)
        self.pagerduty = PagerDutyState(self.org, self.clock, seeded)
        self.fresh = fresh  # the tools as before relais: `relais check --fix` has work to do
        if fresh:
            for state in (self.jira, self.notion, self.pagerduty):
                state.as_before_relais()
        self.faults = Faults(seed)
        self.buckets = {v: TokenBucket(DEFAULT_RATE, DEFAULT_RATE) for v in VENDORS}
        for vendor, rate in (rate_limits or {}).items():
            self.set_rate_limit(vendor, rate)
        self.log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._tampers: dict[str, Callable[[dict[str, Any]], None]] = {}
        self._port_base = port_base
        self.host = host  # the address in the URLs and the certificate: another serves every interface
        self._apps: dict[str, VendorApp] = {
            "jira": JiraApp(self.jira, self.env["JIRA_EMAIL"], self.env["JIRA_API_TOKEN"]),
            "notion": NotionApp(self.notion, self.env["NOTION_TOKEN"]),
            "pagerduty": PagerDutyApp(self.pagerduty, self.env["PAGERDUTY_TOKEN"]),
        }
        self._servers: dict[str, VendorServer] = {}
        self._tmpdir: str | None = None
        self._ca_path: str | None = None
        self._stopping = threading.Event()

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> Sandbox:
        if self._servers:
            return self
        self._stopping.clear()
        self._tmpdir = tempfile.mkdtemp(prefix="relais-sandbox-")
        paths = certs.generate(self._tmpdir, self.host)
        self._ca_path = paths.ca
        try:
            for vendor, app in self._apps.items():
                port = self._port_base + VENDORS.index(vendor) if self._port_base else 0
                server = VendorServer(
                    vendor, self._dispatcher(vendor, app), paths.cert, paths.key, port, self.host
                )
                self._servers[vendor] = server
                server.start()
                getattr(self, vendor).base_url = server.url
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes requests held back by "timeout" faults
        servers, self._servers = self._servers, {}
        stoppers = [threading.Thread(target=server.stop) for server in servers.values()]  # in parallel
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        self.jira.bulk.close()  # no bulk edit timer outlives the servers
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def initiatives(self) -> Any:
        """The seeded briefings and their epics (:class:`sandbox.initiatives.Plan`): e.g.
        ``sb.initiatives.role("blocked")`` is the briefing whose epic has a blocked child."""
        return self.jira.initiatives

    def init_env(self) -> dict[str, str]:
        """What a user exports for ``relais init`` to find these fakes instead of the vendors'
        public APIs: the three URLs and the CA bundle to trust (``serve`` prints them)."""
        urls = self.urls
        return {
            "JIRA_URL": urls["jira"],
            "NOTION_URL": urls["notion"],
            "PAGERDUTY_URL": urls["pagerduty"],
            "RELAIS_CA_BUNDLE": self.ca_path,
        }

    @property
    def urls(self) -> dict[str, str]:
        return {vendor: server.url for vendor, server in self._servers.items()}

    @property
    def ca_path(self) -> str:
        if self._ca_path is None or not self._servers:
            raise RuntimeError("the sandbox is not started")
        return self._ca_path

    def config(
        self, state_path: str, balance: bool = False, routing: bool = False, briefings: bool = False
    ) -> dict[str, Any]:
        """A relais config for this org; ``balance=True`` adds the scorecard and balance sections,
        ``routing=True`` the ``route`` section and the routing write-backs, ``briefings=True`` the
        ``briefings``/``followups`` sections and the epic and briefing status write-backs."""
        return build_config(
            self.org,
            self.urls,
            self.ca_path,
            state_path,
            balance=balance,
            routing=routing,
            briefings=briefings,
        )

    def config_yaml(
        self, state_path: str, balance: bool = False, routing: bool = False, briefings: bool = False
    ) -> str:
        return render_yaml(
            self.config(state_path, balance=balance, routing=routing, briefings=briefings),
            self.seed,
            self.org.size_name,
        )

    def tamper(self, vendor: str, fn: Callable[[dict[str, Any]], None] | None) -> None:
        """Rewrite every item ``vendor`` serves with ``fn(item)`` (it mutates the dict in place):
        each item of a list page (issues, results, incidents) and each single object (an issue,
        a page, an incident). For payloads the fakes never produce by themselves — a null where
        a value belongs, a wrong type, an unknown enum value — on the items a test picks by id.
        ``None`` stops it."""
        if fn is None:
            self._tampers.pop(vendor, None)
        else:
            self._tampers[vendor] = fn

    def set_rate_limit(self, vendor: str, requests_per_second: float, burst: float | None = None) -> None:
        self.buckets[vendor].configure(requests_per_second, burst)

    # ---------------------------------------------------------------- requests
    def count(
        self,
        vendor: str | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
        status: int | None = None,
    ) -> int:
        with self._log_lock:
            records = list(self.log)
        return sum(
            1
            for r in records
            if (vendor is None or r.vendor == vendor)
            and (method is None or r.method == method.upper())
            and (path_prefix is None or r.path.startswith(path_prefix))
            and (status is None or r.status == status)
        )

    def _dispatcher(self, vendor: str, app: VendorApp) -> Callable[[Request], Response]:
        def dispatch(request: Request) -> Response:
            received = self.clock()
            response = self._serve(vendor, app, request)
            if not response.reset:
                response.headers.setdefault("Date", http_date(self.clock()))
            record = RequestRecord(
                vendor,
                request.method,
                request.path,
                {k: list(v) for k, v in request.query.items()},
                0 if response.reset else response.status,
                self.clock(),
                response.headers.get("Retry-After"),
                received,
            )
            with self._log_lock:
                self.log.append(record)
            return response

        return dispatch

    def _serve(self, vendor: str, app: VendorApp, request: Request) -> Response:
        rule = self.faults.pick(vendor, request.method, request.path)
        if rule is not None:
            if rule.kind == "reset":
                return Response(0, reset=True)
            if rule.kind == "timeout" and not rule.after:
                self._stopping.wait(rule.delay)
            elif isinstance(rule.kind, int):
                return self._fault_status(app, rule)
        bucket = self.buckets[vendor]
        wait = bucket.take()
        if wait > 0:
            seconds = ceil_seconds(wait)
            return app.rate_limited(seconds, bucket.rate, str(seconds))
        response = app.handle(request)
        if rule is not None and rule.kind == "lost":
            return Response(0, reset=True)  # handled, the answer never leaves
        if rule is not None and rule.kind == "timeout" and rule.after:
            self._stopping.wait(rule.delay)
        if rule is not None and response.status == 200:
            if rule.kind == "malformed":
                response = Response(
                    200, response.body[: max(1, len(response.body) // 2)], dict(response.headers)
                )
            elif rule.kind == "bad_item" and response.data is not None:
                response = response.rebuild(
                    app.break_one(copy.deepcopy(response.data), self.faults.choose_index)
                )
        tamper = self._tampers.get(vendor)
        if tamper is not None and response.status == 200 and isinstance(response.data, dict):
            response = response.rebuild(_each_item(copy.deepcopy(response.data), app.list_keys, tamper))
        return response

    def _fault_status(self, app: VendorApp, rule: FaultRule) -> Response:
        """The vendor's error for a status fault. Retry-After header: None means the
        vendor's default, "" means none at all."""
        seconds = rule.retry_after_seconds()
        header: str | None = None
        if rule.retry_after == "omit":
            header = ""
        elif isinstance(rule.retry_after, str) and seconds is not None:
            header = http_date(utc_now() + timedelta(seconds=seconds))
        elif seconds is not None:
            header = str(seconds)
        if rule.kind == 429:
            return app.rate_limited(seconds or 1, self.buckets[rule.vendor].rate, header, fault=True)
        return app.error(int(rule.kind), retry_after=header or None)


def _each_item(
    data: dict[str, Any], list_keys: tuple[str, ...], fn: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """Apply ``fn`` to the items of a list page, or to the single object a response holds."""
    for key in list_keys:
        items = data.get(key)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict):
                    fn(item)
            return data
        single = data.get(key.rstrip("s"))
        if isinstance(single, dict):
            fn(single)
            return data
    if data.get("object") == "page" or "fields" in data:
        fn(data)
    return data
