"""The daemon's one HTTP port, served by waitress (a production WSGI server).

  GET  /healthz   200 while the process and its workers are alive (liveness)
  GET  /readyz    200 once every source has run a first cycle, with each
                  source's state and the config's errors; "degraded" when the
                  config file has errors or a source keeps failing or is
                  stale; 503 while starting (readiness); while a cycle
                  runs, its progress (sync.progress)
  GET  /metrics   Prometheus text exposition
  GET  /          the status page (``daemon.http.status_page``)
  POST <path>     the webhooks configured under ``daemon.webhooks``

The port may face a network, so it is served as one: waitress reads each
request in its own event loop (a slow client holds a socket, never a worker)
and hands complete requests to ``THREADS`` workers; at most
``CONNECTIONS`` sockets are open at once, an idle one is closed after
``TIMEOUT`` seconds, headers are capped at ``MAX_HEADER_BYTES`` and bodies at
``daemon.http.max_body_bytes`` (413). Malformed requests (a Content-Length
that is not a number, a body that is not JSON, nesting too deep) get a 4xx
and a JSON answer, never a traceback. A webhook must say
``Content-Type: application/json``: what a browser page may send across
origins without asking (text/plain, forms) is refused (415). The ``Host``
header must be one of ``daemon.http.allowed_hosts`` (by default, when relais
listens on a loopback address, the loopback names): a page whose name a
DNS-rebinding attack points at 127.0.0.1 gets a 421, not the status page.
Requests are not logged (a probe every few seconds is noise).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from waitress.server import create_server

from sync.log import get_logger
from sync.metrics import CONTENT_TYPE
from sync.settings._daemon import split_listen
from sync.status_page import render
from sync.webhooks import WebhookReceiver

TIMEOUT = 10
THREADS = 4
CONNECTIONS = 64
MAX_HEADER_BYTES = 16_384
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_LENGTH = re.compile(r"[0-9]{1,12}")  # ASCII digits: str.isdigit() takes "²", int() then fails


class ListenError(Exception):
    """The port is taken, or not this process's to bind."""


def allowed_hosts(relais: Any) -> frozenset[str] | None:
    """The Host names the port answers to (lower case, no port); None: any."""
    http = relais.settings.daemon.http
    configured = getattr(http, "allowed_hosts", None)
    if configured:
        return frozenset(h.lower() for h in configured)
    host, _ = split_listen(http.listen)
    return frozenset(LOOPBACK_NAMES) if host in LOOPBACK_NAMES else None


def host_name(header: str) -> str:
    """``example.com:8765`` → ``example.com``; ``[::1]:8765`` → ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


Answer = tuple[int, bytes, str, dict[str, str]]


class App:
    """The WSGI application: routes, the Host check, and no traceback ever leaves it."""

    def __init__(self, relais: Any) -> None:
        self.relais = relais
        self.receiver = WebhookReceiver(relais)
        self.hosts = allowed_hosts(relais)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        try:
            status, body, content_type, headers = self.answer(environ)
        except Exception as e:  # a bug: one JSON line in the log, a plain 500 to the client
            self.relais.log.error("http handler error", extra={"error": f"{type(e).__name__}: {e}"})
            status, body, content_type, headers = _json(500, {"error": "internal error"})
        reason = _REASONS.get(status, "")
        start_response(
            f"{status} {reason}",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
                *headers.items(),
            ],
        )
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    def answer(self, environ: dict[str, Any]) -> Answer:
        if self.hosts is not None and host_name(environ.get("HTTP_HOST") or "") not in self.hosts:
            return _json(
                421, {"error": "this server does not answer to that host name (daemon.http.allowed_hosts)"}
            )
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO") or "/"
        relais = self.relais
        webhooks = {p: vendor for vendor, p in relais.settings.daemon.webhooks.enabled().items()}
        if method in ("GET", "HEAD"):
            if path == "/healthz":
                alive = relais.workers_alive()
                return _json(200 if alive else 500, {"status": "alive" if alive else "a worker thread died"})
            if path == "/readyz":
                ready, details = relais.readiness()
                return _json(200 if ready else 503, details)
            if path == "/metrics":
                return 200, relais.metrics.exposition(), CONTENT_TYPE, {}
            if path == "/" and relais.settings.daemon.http.status_page and relais.engine is not None:
                return (
                    200,
                    render(relais).encode(),
                    "text/html; charset=utf-8",
                    {
                        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
                    },
                )
            if path in webhooks:
                return _json(405, {"error": "POST only"})
            return _json(404, {"error": "not found"})
        if method == "POST" and path in webhooks:
            return self.webhook(webhooks[path], environ)
        if path in webhooks or path in ("/healthz", "/readyz", "/metrics", "/"):
            return _json(405, {"error": "method not allowed"})
        return _json(404, {"error": "not found"})

    def webhook(self, vendor: str, environ: dict[str, Any]) -> Answer:
        content_type = (environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            # what a page may send across origins without asking (text/plain, a form) is not a webhook
            return _json(415, {"error": "Content-Type must be application/json"})
        length = environ.get("CONTENT_LENGTH") or ""
        if not _LENGTH.fullmatch(length):
            return _json(411 if not length else 400, {"error": "a Content-Length in digits is required"})
        if int(length) > self.relais.settings.daemon.http.max_body_bytes:
            self.relais.metrics.webhooks.labels(vendor, "too_large").inc()
            return _json(413, {"error": "body too large"})
        body = environ["wsgi.input"].read(int(length))
        headers = _Headers(environ)
        status, answer = self.receiver.handle(vendor, headers, body)
        return _json(status, answer)


class _Headers(dict):
    """A request's headers by their HTTP names, case-insensitively (the receiver's ``.get``)."""

    def __init__(self, environ: dict[str, Any]) -> None:
        super().__init__()
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                self[key[5:].replace("_", "-").lower()] = value
        if environ.get("CONTENT_TYPE"):
            self["content-type"] = environ["CONTENT_TYPE"]

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)


_REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    411: "Length Required",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    421: "Misdirected Request",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _json(status: int, data: Any) -> Answer:
    return status, json.dumps(data, indent=1).encode() + b"\n", "application/json", {}


def _quiet_waitress() -> None:
    """waitress logs through the standard library: into relais' own (JSON) handler, not stderr raw."""
    log = logging.getLogger("waitress")
    log.handlers = list(get_logger().handlers)
    log.propagate = False
    log.setLevel(logging.WARNING)


class WebServer:
    """Serves in a thread of its own; ``address`` is what it really bound (port 0 picks one)."""

    def __init__(self, relais: Any) -> None:
        listen = relais.settings.daemon.http.listen
        host, port = split_listen(listen)
        _quiet_waitress()
        # waitress turns Content-Length into an int; past Python's 4,300 digits that raises inside its
        # parser and the connection is dropped without an answer. A header is at most
        # MAX_HEADER_BYTES: converting that many digits is cheap, and the request gets its 413.
        if sys.get_int_max_str_digits() and sys.get_int_max_str_digits() < MAX_HEADER_BYTES:
            sys.set_int_max_str_digits(MAX_HEADER_BYTES)
        try:
            self.server = create_server(
                App(relais),
                host=host,
                port=port,
                threads=THREADS,
                connection_limit=CONNECTIONS,
                channel_timeout=TIMEOUT,
                cleanup_interval=2,
                max_request_header_size=MAX_HEADER_BYTES,
                max_request_body_size=relais.settings.daemon.http.max_body_bytes + 1,
                expose_tracebacks=False,
                clear_untrusted_proxy_headers=True,
                ident="relais",
                asyncore_use_poll=True,
            )
        except OSError as e:
            raise ListenError(f"cannot listen on {listen} (daemon.http.listen): {e.strerror or e}") from None
        bound_host, bound_port = self.server.effective_host, self.server.effective_port
        self.address = (
            f"[{bound_host}]:{bound_port}" if ":" in str(bound_host) else f"{bound_host}:{bound_port}"
        )
        self._thread = threading.Thread(target=self.server.run, name="relais-http", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        for channel in list(self.server._map.values()):  # the listener and every open connection
            channel.close()
        self._thread.join(5)
