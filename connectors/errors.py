"""Errors raised by connectors, and the one table from HTTP status to error.

::

    ConnectorError                  anything a vendor call can end with
    ├── FatalError                  the operator must act; retrying won't help
    │   ├── AuthError               401: token missing, wrong or revoked
    │   ├── ForbiddenError          403: the token lacks a permission
    │   └── ConfigMismatchError     the tool does not have what the config names
    ├── RequestError                this one call is wrong (400/404/409/410/422):
    │   ├── NotFoundError           404, the item is gone → quarantine the item
    │   └── GoneError               410, an endpoint removed by the vendor
    └── TransientError              wait and retry (next attempt, or next cycle)
        ├── RateLimitedError        429, carries retry_after (seconds)
        ├── ServerError             5xx and Notion's 529
        ├── NetworkError            timeout, reset, refused, TLS
        └── MalformedResponseError  2xx whose body is not what the API documents
                                    (a cut answer: a write may have landed)

Every message says which tool, which call (method + path, never the query
string, which may hold identifiers we don't want in logs), the status, and the
vendor's own message and request id when it sent one. Secrets never appear:
:func:`redact` scrubs every registered secret from any text.
"""

from __future__ import annotations

import re
import threading
from typing import Any

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret so that :func:`redact` removes it from any text."""
    if value and len(value) >= 4:
        with _SECRETS_LOCK:
            _SECRETS.add(value)


def redact(text: str) -> str:
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for s in secrets:
        text = text.replace(s, "***" + s[-4:] if len(s) > 12 else "***")
    # Authorization-looking fragments that were not registered (defence in depth).
    return re.sub(r"(?i)(bearer|token token=|basic)\s+[A-Za-z0-9+/=._-]{8,}", r"\1 ***", text)


class ConnectorError(Exception):
    """Base of every error a connector raises."""

    retryable = False

    def __init__(
        self,
        vendor: str,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        call: str | None = None,
    ) -> None:
        self.vendor = vendor
        self.status = status
        self.request_id = request_id
        self.call = call
        text = f"{vendor}: "
        if call:
            text += f"{call}" + (f" → {status}" if status is not None else "") + ": "
        text += message
        if request_id:
            text += f" (request id {request_id})"
        self.message = redact(text)
        super().__init__(self.message)


class FatalError(ConnectorError):
    pass


class AuthError(FatalError):
    pass


class ForbiddenError(FatalError):
    pass


class ConfigMismatchError(FatalError):
    pass


class RequestError(ConnectorError):
    pass


class NotFoundError(RequestError):
    pass


class GoneError(RequestError):
    pass


class TransientError(ConnectorError):
    retryable = True


class RateLimitedError(TransientError):
    def __init__(self, vendor: str, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(vendor, message, **kw)


class ServerError(TransientError):
    def __init__(self, vendor: str, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after  # a 503's Retry-After, when it sent one
        super().__init__(vendor, message, **kw)


class NetworkError(TransientError):
    pass


class BatchUnavailable(Exception):
    """Not a failure: the tool will not take this batch of writes here (Jira's bulk edit without
    its permission). The writes go one by one instead."""


class MalformedResponseError(TransientError):
    """Retried like a 5xx: a read or an idempotent write is sent again; a POST that creates is
    not (it may have landed), and waits for the next cycle, which checks its natural key."""


def error_for_status(status: int) -> type[ConnectorError]:
    """The one table from an HTTP status to the error type relais raises."""
    if status == 401:
        return AuthError
    if status == 403:
        return ForbiddenError
    if status == 404:
        return NotFoundError
    if status == 410:
        return GoneError
    if status == 429:
        return RateLimitedError
    if status >= 500:  # includes Notion's 529 service_overload
        return ServerError
    if status == 409:  # Notion conflict_error: a concurrent edit; retrying is safe
        return ServerError
    return RequestError
