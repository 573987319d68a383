"""The daemon's one HTTP port (stdlib ``ThreadingHTTPServer``).

  GET  /healthz   200 while the process and its workers are alive (liveness)
  GET  /readyz    200 once every source has run a first cycle, with each
                  source's state and the config's errors; "degraded" when the
                  config file has errors or a source keeps failing; 503 while
                  starting (readiness)
  GET  /metrics   Prometheus text exposition
  GET  /          the status page (``daemon.http.status_page``)
  POST <path>     the webhooks configured under ``daemon.webhooks``

Bodies are read only up to ``daemon.http.max_body_bytes`` (413 beyond, unread)
and only with a Content-Length (411 without); a slow client is cut off after
``TIMEOUT`` seconds. It binds 127.0.0.1 unless ``daemon.http.listen`` says
otherwise. Requests are not logged (a probe every few seconds is noise).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sync.metrics import CONTENT_TYPE
from sync.settings._daemon import split_listen
from sync.webhooks import WebhookReceiver

TIMEOUT = 10


class ListenError(Exception):
    """The port is taken, or not this process's to bind."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, relais: Any) -> None:
        if ":" in address[0]:
            import socket

            self.address_family = socket.AF_INET6
        super().__init__(address, handler)
        self.relais = relais
        self.receiver = WebhookReceiver(relais)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "relais"
    sys_version = ""
    timeout = TIMEOUT
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data, indent=1).encode() + b"\n", "application/json")

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        relais = self.server.relais
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            alive = relais.workers_alive()
            self._json(200 if alive else 500, {"status": "alive" if alive else "a worker thread died"})
        elif path == "/readyz":
            ready, details = relais.readiness()
            self._json(200 if ready else 503, details)
        elif path == "/metrics":
            self._send(200, relais.metrics.exposition(), CONTENT_TYPE)
        elif path == "/" and relais.settings.daemon.http.status_page and relais.engine is not None:
            from sync.status_page import render

            self._send(200, render(relais).encode(), "text/html; charset=utf-8",
                       {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:"})
        elif path in self._webhook_paths():
            self._json(405, {"error": "POST only"})
        else:
            self._json(404, {"error": "not found"})

    do_HEAD = do_GET

    def _webhook_paths(self) -> dict[str, str]:
        return {path: vendor for vendor, path in self.server.relais.settings.daemon.webhooks.enabled().items()}

    def do_POST(self) -> None:  # noqa: N802
        vendor = self._webhook_paths().get(self.path.split("?", 1)[0])
        if vendor is None:
            self._json(404, {"error": "not found"})
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            self._json(411, {"error": "Content-Length required"})
            return
        if int(length) > self.server.relais.settings.daemon.http.max_body_bytes:
            self.close_connection = True  # the body stays unread
            self.server.relais.metrics.webhooks.labels(vendor, "too_large").inc()
            self._json(413, {"error": "body too large"})
            return
        body = self.rfile.read(int(length))
        status, answer = self.server.receiver.handle(vendor, self.headers, body)
        self._json(status, answer)


class WebServer:
    """Serves in a thread of its own; ``address`` is what it really bound (port 0 picks one)."""

    def __init__(self, relais: Any) -> None:
        listen = relais.settings.daemon.http.listen
        host, port = split_listen(listen)
        try:
            self.httpd = _Server((host, port), _Handler, relais)
        except OSError as e:
            raise ListenError(f"cannot listen on {listen} (daemon.http.listen): {e.strerror or e}") from None
        bound = self.httpd.server_address
        self.address = f"[{bound[0]}]:{bound[1]}" if ":" in str(bound[0]) else f"{bound[0]}:{bound[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="relais-http", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
