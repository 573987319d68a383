"""Webhook receivers: verify the signature, drop replays, ask for a targeted re-read.

Each vendor signs the raw body with HMAC-SHA256; relais compares in constant
time (``hmac.compare_digest``) before it parses anything:

* PagerDuty v3 — ``X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]``, one
  signature per active secret (several during a rotation); a delivery is
  authentic if any ``v1`` matches any secret relais knows. Delivery id:
  ``X-Webhook-Id`` (the same on every retry). PagerDuty expects a 2xx within
  5 s and caps bodies near 256 KB.
  PagerDuty developer docs, "Verifying Signatures" and "Behavior" (their
  source: github.com/PagerDuty/developer-docs, docs/webhooks/04-Signatures.md
  and 02-Behavior.md)
* Jira Cloud admin webhooks saved with a secret — ``X-Hub-Signature:
  sha256=<hex>`` (WebSub's ``method=signature``; not ``X-Hub-Signature-256``).
  Delivery id: ``X-Atlassian-Webhook-Identifier`` (kept across retries).
  https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks
* Notion — the subscription first POSTs ``{"verification_token": "…"}``
  unsigned; relais answers 200 and keeps the token in a file beside the state
  store for the operator to paste into Notion and into NOTION_WEBHOOK_TOKEN.
  Events carry ``X-Notion-Signature: sha256=<hex>`` keyed by that token;
  delivery id: the event's ``id``.
  https://developers.notion.com/reference/webhooks (the event shape:
  ../shared/specs/notion-api-endpoints/api-endpoints/webhooks.ts)

A valid event's item ids go to the source's worker, which re-reads them and
plans/applies what depends on them; the answer (202) does not wait for that.
A replay is recognised by what the signature covers — a digest of the signed
body — never by the delivery-id header, which anyone holding a captured
delivery can change: a digest is recorded in the state store when accepted, so
a replay, even after a restart, answers 200 and does nothing; the table keeps
7 days and at most ``DELIVERIES_KEPT_MAX`` rows. The events carry ids only:
what relais stores always comes from the tool's API, never from the body.

The Notion handshake is unsigned by nature, so it is trusted as little as
possible: it is taken only while no token is configured (NOTION_WEBHOOK_TOKEN
unset), never over a token already waiting in the file, at most once a
minute, for a short body holding a token of token characters; the token is
neither logged nor added to the list of secrets to redact (request data must
not decide what the log hides).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.errors import register_secret
from sync.codec import clean_text

HANDSHAKE_MAX_BYTES = 1_024
HANDSHAKE_EVERY = 60.0  # seconds between two Notion verification requests taken
TOKEN = re.compile(r"[A-Za-z0-9_.~-]{8,512}")


class Rejected(Exception):
    def __init__(self, status: int, outcome: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.outcome = outcome


@dataclass
class Event:
    vendor: str
    delivery_id: str
    kind: str  # the vendor's event type
    ids: list[str]  # items to re-read (empty: an event relais has no use for)


def _hex_hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_pagerduty(body: bytes, header: str | None, secrets: list[str]) -> bool:
    if not header or not secrets:
        return False
    given = [part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")]
    expected = [_hex_hmac(s, body) for s in secrets]
    # Every pair is compared, so the time taken does not tell which one matched.
    matches = [hmac.compare_digest(g.encode(), e.encode()) for g in given for e in expected]
    return any(matches)


def verify_sha256_header(body: bytes, header: str | None, secret: str | None) -> bool:
    """``sha256=<hex>`` (Jira's X-Hub-Signature, Notion's X-Notion-Signature)."""
    if not header or not secret or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(header[7:].strip().encode(), _hex_hmac(secret, body).encode())


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Rejected(400, "malformed", "the body is not JSON (or nested too deep)") from None
    if not isinstance(data, dict):
        raise Rejected(400, "malformed", "the body is not a JSON object")
    return data


def _object(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one: a delivery's parts may be anything."""
    return value if isinstance(value, dict) else {}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    return value.strip() if value else None


def parse_pagerduty(body: bytes, headers: Mapping[str, str]) -> Event:
    event = _json(body).get("event")
    if not isinstance(event, dict):
        raise Rejected(400, "malformed", "no event object")
    delivery = _header(headers, "X-Webhook-Id") or str(event.get("id") or "")
    data = _object(event.get("data"))
    kind = str(event.get("event_type") or "")
    ids = []
    if event.get("resource_type") == "incident" and data.get("id"):
        ids = [str(data["id"])]
    elif _object(data.get("incident")).get("id"):  # e.g. incident.annotated
        ids = [str(data["incident"]["id"])]
    return Event("pagerduty", delivery, kind, ids)


def parse_jira(body: bytes, headers: Mapping[str, str]) -> Event:
    data = _json(body)
    delivery = _header(headers, "X-Atlassian-Webhook-Identifier") or ""
    issue = _object(data.get("issue"))
    ident = str(issue.get("id") or "")
    return Event(
        "jira",
        delivery,
        str(data.get("webhookEvent") or ""),
        [ident] if ident.isascii() and ident.isdigit() else [],
    )


def parse_notion(data: dict[str, Any]) -> Event:
    entity = _object(data.get("entity"))
    ids = [str(entity["id"])] if entity.get("type") == "page" and entity.get("id") else []
    return Event("notion", str(data.get("id") or ""), str(data.get("type") or ""), ids)


class WebhookReceiver:
    """The HTTP server hands each POST here; ``handle`` returns (status, JSON answer)."""

    def __init__(self, daemon: Any) -> None:
        self.daemon = daemon
        self._last_handshake: float | None = None

    def handle(self, vendor: str, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            status, answer = self._handle(vendor, headers, body)
            outcome = answer.get("outcome", "accepted")
        except Rejected as r:
            status, answer, outcome = r.status, {"error": str(r)}, r.outcome
        except (ValueError, TypeError, AttributeError, KeyError, RecursionError, UnicodeError) as e:
            # a signed body of an odd shape: refused with a 4xx, never a traceback
            status, answer, outcome = 400, {"error": f"unreadable delivery ({type(e).__name__})"}, "malformed"
        self.daemon.metrics.webhooks.labels(vendor, outcome).inc()
        if status >= 400:
            self.daemon.log.warning(
                "webhook refused", extra={"vendor": vendor, "status": status, "reason": outcome}
            )
        return status, answer

    def _handle(self, vendor: str, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        secrets = self.daemon.secrets
        if vendor == "pagerduty":
            keys = [s for s in (secrets.pagerduty_webhook_secret or "").split(",") if s]
            for key in keys:
                register_secret(key)
            if not verify_pagerduty(body, headers.get("X-PagerDuty-Signature"), keys):
                raise Rejected(401, "invalid_signature", "signature does not match")
            event = parse_pagerduty(body, headers)
        elif vendor == "jira":
            if not verify_sha256_header(body, headers.get("X-Hub-Signature"), secrets.jira_webhook_secret):
                raise Rejected(401, "invalid_signature", "signature does not match")
            event = parse_jira(body, headers)
        else:
            token = secrets.notion_webhook_token
            signature = headers.get("X-Notion-Signature")
            if signature is None:
                return self._notion_handshake(body)
            if not verify_sha256_header(body, signature, token):
                raise Rejected(
                    401,
                    "invalid_signature",
                    "signature does not match" + ("" if token else "; NOTION_WEBHOOK_TOKEN is not set"),
                )
            event = parse_notion(_json(body))
        if not event.delivery_id:
            raise Rejected(400, "malformed", "no delivery id")
        engine = self.daemon.engine
        if engine is None or engine.store is None:
            raise Rejected(503, "not_ready", "starting")
        # A replay is the same signed body: its digest, not the delivery-id header the signature
        # does not cover (a captured delivery re-sent with a fresh id is still a replay).
        digest = hashlib.sha256(body).hexdigest()
        if not engine.store.first_delivery(vendor, digest, clean_text(event.kind)[:100]):
            return 200, {"outcome": "duplicate"}
        if event.ids and not self.daemon.enqueue(vendor, event.ids):
            return 202, {"outcome": "ignored", "reason": f"the {vendor} source is not configured"}
        return 202, {"outcome": "accepted" if event.ids else "ignored", "items": len(event.ids)}

    def _notion_handshake(self, body: bytes) -> tuple[int, dict[str, Any]]:
        if len(body) > HANDSHAKE_MAX_BYTES:
            raise Rejected(401, "invalid_signature", "no X-Notion-Signature")
        data = _json(body)
        token = data.get("verification_token")
        if set(data) != {"verification_token"} or not isinstance(token, str) or not TOKEN.fullmatch(token):
            raise Rejected(401, "invalid_signature", "no X-Notion-Signature")
        if self.daemon.secrets.notion_webhook_token:
            raise Rejected(
                409,
                "handshake_refused",
                "a verification token is configured (NOTION_WEBHOOK_TOKEN); "
                "relais takes no other: unset it to verify a new subscription",
            )
        now = time.monotonic()
        if self._last_handshake is not None and now - self._last_handshake < HANDSHAKE_EVERY:
            raise Rejected(429, "rate_limited", "one verification request a minute")
        self._last_handshake = now
        path = self.daemon.settings.state.path.parent / "notion-webhook-verification-token"
        try:
            fd = os.open(
                path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
            )  # never over a token waiting there
        except FileExistsError:
            self.daemon.log.warning(
                "a Notion verification request came while a token is waiting in the file: "
                "kept the one in the file (delete it to take a new one)",
                extra={"file": str(path)},
            )
            raise Rejected(
                409, "handshake_refused", "a verification token is already waiting for the operator"
            ) from None
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        self.daemon.log.warning(
            "Notion sent its webhook verification token: paste it in the integration's "
            "webhook settings to verify the subscription, and set NOTION_WEBHOOK_TOKEN "
            "to it",
            extra={"file": str(path)},
        )
        return 200, {"outcome": "verification"}
