"""The HTTP plumbing shared by the three fakes: TLS server, request, response, router.

One :class:`VendorServer` per vendor listens on 127.0.0.1 (or every interface
for another host; ephemeral port by default), speaks HTTP/1.1 with keep-alive (the clients pool connections), and
hands every request to a ``dispatch(Request) -> Response`` callable. The TLS
handshake runs in the connection's own thread so one slow client never blocks
the accept loop. ``stop()`` closes the listening socket, shuts down every open
connection so idle keep-alive threads wake up, and joins them: no socket is
left for the garbage collector (tests run with ``-W error``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import re
import socket
import ssl
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)


@dataclass
class Request:
    method: str
    path: str  # raw path, without the query string
    query: dict[str, list[str]]
    headers: Message
    body: bytes = b""
    vendor: str = ""

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        """All values of ``name`` and ``name[]`` (PagerDuty style arrays)."""
        return list(self.query.get(name, [])) + list(self.query.get(name + "[]", []))

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    def json(self) -> Any:
        """The decoded JSON body; ``None`` for an empty body; ValueError if invalid."""
        if not self.body.strip():
            return None
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False  # close the TCP connection without answering
    data: Any = None  # the JSON document the body was made from (for fault post-processing)

    @classmethod
    def json(cls, status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
        try:
            body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        except (
            UnicodeEncodeError
        ):  # a lone surrogate (half an emoji): served escaped, "\ud83d", as the APIs do
            body = json.dumps(data, separators=(",", ":")).encode("ascii")
        merged = {"Content-Type": "application/json;charset=UTF-8"}
        merged.update(headers or {})
        return cls(status=status, body=body, headers=merged, data=data)

    @classmethod
    def empty(cls, status: int = 204, headers: dict[str, str] | None = None) -> Response:
        return cls(status=status, headers=dict(headers or {}))

    def rebuild(self, data: Any) -> Response:
        """A copy of this response with a new JSON document as body."""
        fresh = Response.json(self.status, data)
        fresh.headers = dict(self.headers)
        return fresh


Handler = Callable[..., Response]


class Router:
    """Method + path-pattern routing; ``{name}`` matches one path segment."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern.rstrip("/") or "/")
        self._routes.append((method.upper(), re.compile(f"^{regex}/?$"), handler))

    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
        """Return (handler, params, path_known)."""
        path_known = False
        for route_method, regex, handler in self._routes:
            m = regex.match(path)
            if not m:
                continue
            path_known = True
            if route_method == method.upper():
                return handler, {k: unquote(v) for k, v in m.groupdict().items()}, True
        return None, {}, path_known


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "relais-sandbox"
    sys_version = ""
    timeout = 30  # idle keep-alive connections are dropped after this many seconds
    server: _Server

    def setup(self) -> None:
        self.request.settimeout(10)
        self.request.do_handshake()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.server.vendor, format % args)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path or "/",
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            vendor=self.server.vendor,
        )
        response = self.server.dispatch(request)
        if response.reset:
            # SO_LINGER 0 turns the close into a TCP RST: the client sees
            # "connection reset by peer", no HTTP response and no TLS close_notify.
            with contextlib.suppress(OSError):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        # The vendor's clock (the sandbox's, which a test may pin) in the Date header, as real
        # servers send theirs: relais reads the vendor's time from it.
        self.send_response_only(response.status)
        self.send_header("Server", self.version_string())
        if "Date" not in response.headers:
            self.send_header("Date", self.date_time_string())
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        # one write for headers and body (http.server's own buffer, which typeshed does not list)
        self._headers_buffer.append(b"\r\n" + response.body)  # type: ignore[attr-defined]
        self.flush_headers()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        port: int,
        vendor: str,
        ssl_context: ssl.SSLContext,
        dispatch: Callable[[Request], Response],
        bind: str = "127.0.0.1",
    ):
        self.vendor = vendor
        self.dispatch = dispatch
        self._ssl_context = ssl_context
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._conn_threads: set[threading.Thread] = set()
        super().__init__((bind, port), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        # Headers and body leave in separate writes: without TCP_NODELAY, Nagle plus the
        # client's delayed ACK add ~40 ms to every response.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        wrapped = self._ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return wrapped, address

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._run_connection,
            args=(request, client_address),
            name=f"sandbox-{self.vendor}-conn",
            daemon=True,
        )
        with self._lock:
            self._connections.add(request)
            self._conn_threads.add(thread)
        thread.start()

    def _run_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._connections.discard(request)
                self._conn_threads.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("%s: connection from %s ended with an error", self.vendor, client_address, exc_info=True)

    def close_connections(self, join_timeout: float = 5.0) -> None:
        with self._lock:
            connections = list(self._connections)
            threads = list(self._conn_threads)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(join_timeout)


def _bind_address(host: str) -> str:
    """A loopback address itself; another (a container network's gateway): every interface."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        return host if ipaddress.ip_address(host).is_loopback else "0.0.0.0"
    except ValueError:  # a name
        return "0.0.0.0"


class VendorServer:
    """One HTTPS listener for one vendor, served from a daemon thread."""

    def __init__(
        self,
        vendor: str,
        dispatch: Callable[[Request], Response],
        cert: str,
        key: str,
        port: int = 0,
        host: str = "127.0.0.1",
    ):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        self.vendor = vendor
        self.host = host
        self._server = _Server(port, vendor, context, dispatch, _bind_address(host))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{vendor}",
            daemon=True,
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(5)
