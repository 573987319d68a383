"""What a vendor's webhook delivery is to relais, and the checks every vendor shares.

Each connector module has a ``receive_webhook(body, headers, secret)`` (its spec's
``receive``): it verifies the signature — in constant time, before it parses
anything — and returns the :class:`Event`, or raises :class:`Rejected` (an answer
for the sender) or :class:`Handshake` (an unsigned verification request, which
:mod:`sync.webhooks` decides whether to take). The events carry ids only: what
relais stores always comes from the tool's API, never from the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class Rejected(Exception):
    """A delivery refused: the HTTP status, the outcome counted in the metrics, the reason."""

    def __init__(self, status: int, outcome: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.outcome = outcome


class Handshake(Exception):
    """An unsigned verification request (Notion's): its body carries the token to verify with."""


@dataclass
class Event:
    vendor: str
    delivery_id: str
    kind: str  # the vendor's event type
    ids: list[str]  # items to re-read (empty: an event relais has no use for)


def hex_hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_sha256_header(body: bytes, header: str | None, secret: str | None) -> bool:
    """``sha256=<hex>`` (Jira's X-Hub-Signature, Notion's X-Notion-Signature)."""
    if not header or not secret or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(header[7:].strip().encode(), hex_hmac(secret, body).encode())


def json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Rejected(400, "malformed", "the body is not JSON (or nested too deep)") from None
    if not isinstance(data, dict):
        raise Rejected(400, "malformed", "the body is not a JSON object")
    return data


def object_of(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one: a delivery's parts may be anything."""
    return value if isinstance(value, dict) else {}


def header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    return value.strip() if value else None


def refused() -> Rejected:
    return Rejected(401, "invalid_signature", "signature does not match")
