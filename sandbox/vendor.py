"""What the three fakes have in common: routing, auth hook, error shapes.

A :class:`VendorApp` turns a :class:`~sandbox.server.Request` into a
:class:`~sandbox.server.Response`. Subclasses mark their handlers with :func:`route`, check
credentials the vendor's way, and say how the vendor writes an error, a 429
and a broken list item (for the ``bad_item`` fault).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import Any, Generic, TypeVar

from .org import Org
from .server import Request, Response, Router

log = logging.getLogger(__name__)


class BadRequest(Exception):
    """Raised by handlers; rendered with the vendor's error shape."""

    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


StateT = TypeVar("StateT")
HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])
_ROUTES = "_sandbox_routes"  # the attribute holding a handler's (method, pattern) pairs


def route(method: str, pattern: str) -> Callable[[HandlerT], HandlerT]:
    """Marks an app's method as what answers ``method pattern``; ``{name}`` in the pattern matches
    one path segment, passed to the method as ``name``. One method may answer several routes."""

    def mark(handler: HandlerT) -> HandlerT:
        setattr(handler, _ROUTES, [*getattr(handler, _ROUTES, ()), (method, pattern)])
        return handler

    return mark


def _specific_first(entry: tuple[str, str, str]) -> tuple[tuple[bool, ...], str, str]:
    """A literal path segment before a ``{name}`` one: ``/users/me`` is tried before ``/users/{id}``."""
    method, pattern, _ = entry
    return tuple(s.startswith("{") for s in pattern.strip("/").split("/")), pattern, method


class VendorState:
    """What every vendor's fake state starts from: the organisation, the clock, the base URL its
    answers link to, and one lock that every method takes (the server is threaded)."""

    vendor = ""  # the subclass's: its base URL until the sandbox's server is up and sets its own

    def __init__(self, org: Org, clock: Callable[[], datetime]) -> None:
        self.org = org
        self.clock = clock
        self.base_url = f"https://{self.vendor}.sandbox.invalid"
        self.lock = threading.RLock()

    def as_before_relais(self) -> None:
        """Take away what relais' own config adds to the tool (owned fields and properties), so
        the organisation is a company's on the day it first points relais at its tools
        (``Sandbox(fresh=True)``). A vendor where relais owns nothing has nothing to remove."""


def error_json(status: int, body: Any, headers: dict[str, str], extra: dict[str, Any]) -> Response:
    """A vendor's error: its body and headers, and ``Retry-After`` when the error says when to retry."""
    if extra.get("retry_after") is not None:
        headers = {**headers, "Retry-After": str(extra["retry_after"])}
    return Response.json(status, body, headers)


class VendorApp(Generic[StateT]):
    """One vendor's API over its state (``StateT``), for the holder of ``token``."""

    name = ""
    list_keys: tuple[str, ...] = ()  # keys holding the item list of a page (for bad_item)

    def __init__(self, state: StateT, token: str) -> None:
        self.state = state
        self.token = token
        self.router = Router()
        self.routes()

    def routes(self) -> None:
        """Registers the methods marked with :func:`route` (the first pattern a path matches wins)."""
        marked = [
            (method, pattern, name)
            for name in dir(type(self))
            for method, pattern in getattr(getattr(type(self), name, None), _ROUTES, ())
        ]
        for method, pattern, name in sorted(marked, key=_specific_first):
            self.router.add(method, pattern, getattr(self, name))

    # -- hooks ------------------------------------------------------------
    def authenticate(self, request: Request) -> Response | None:
        """None when the request may proceed, else the vendor's 401/400."""
        return None

    def error(self, status: int, message: str | None = None, **extra: Any) -> Response:  # pragma: no cover
        raise NotImplementedError

    def rate_limited(
        self, wait_seconds: int, limit: float, retry_after: str | None, fault: bool = False
    ) -> Response:  # pragma: no cover
        raise NotImplementedError

    def corrupt_item(self, item: dict[str, Any]) -> None:  # pragma: no cover
        raise NotImplementedError

    # -- dispatch ---------------------------------------------------------
    def handle(self, request: Request) -> Response:
        handler, params, path_known = self.router.match(request.method, request.path)
        if handler is None:
            if path_known:
                return self.error(405, "Method Not Allowed")
            return self.not_found(request)
        denied = self.authenticate(request)
        if denied is not None:
            return denied
        try:
            return handler(request, **params)
        except BadRequest as exc:
            return self.error(exc.status, exc.message, **exc.extra)
        except Exception:  # a sandbox bug must look like a vendor 500, not kill the connection
            log.exception("%s sandbox handler failed for %s %s", self.name, request.method, request.path)
            return self.error(500)

    def not_found(self, request: Request) -> Response:
        return self.error(404, f"No route for {request.method} {request.path}")

    def body(self, request: Request) -> Any:
        try:
            return request.json()
        except (ValueError, UnicodeDecodeError):
            raise BadRequest(
                400, "The request body could not be decoded as JSON.", code="invalid_json"
            ) from None

    @staticmethod
    def phrase(status: int) -> str:
        try:
            return HTTPStatus(status).phrase
        except ValueError:
            return "Site is overloaded" if status == 529 else "Error"

    def break_one(self, data: Any, pick: Any) -> Any:
        """Return ``data`` with one list item (or the single object) broken."""
        if not isinstance(data, dict):
            return data
        for key in self.list_keys:
            items = data.get(key)
            if isinstance(items, list) and items:
                index = pick(len(items))
                if isinstance(items[index], dict):
                    self.corrupt_item(items[index])
                return data
        for key in self.list_keys:
            single = data.get(key.rstrip("s"))
            if isinstance(single, dict):
                self.corrupt_item(single)
                return data
        if data.get("object") == "page" or "fields" in data:
            self.corrupt_item(data)
        return data
