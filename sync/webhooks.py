"""Webhook receivers: verify the signature, drop replays, ask for a targeted re-read.

Each vendor's delivery is verified and parsed by its connector module (its spec's
``receive``, :mod:`connectors.webhook`): the signature is checked in constant time
before anything is parsed, and the event carries ids only — what relais stores
always comes from the tool's API, never from the body.

A valid event's item ids go to the source's worker, which re-reads them and
plans/applies what depends on them; the answer (202) does not wait for that.
A replay is recognised by what the signature covers — a digest of the signed
body — never by the delivery-id header, which anyone holding a captured
delivery can change: a digest is recorded in the state store when accepted, so
a replay, even after a restart, answers 200 and does nothing; the table keeps
7 days and at most ``DELIVERIES_KEPT_MAX`` rows.

A verification handshake (Notion's: the subscription first POSTs
``{"verification_token": "…"}`` unsigned) is unsigned by nature, so it is trusted
as little as possible: it is taken only while no token is configured (the
webhook's variable unset), never over a token already waiting in the file beside
the state store, at most once a minute, for a short body holding a token of token
characters; the token is neither logged nor added to the list of secrets to
redact (request data must not decide what the log hides). The operator pastes it
into the tool and into the webhook's variable.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Mapping
from typing import Any

from connectors import registry
from connectors.spec import VendorSpec
from connectors.webhook import Handshake, Rejected, json_object
from sync.codec import clean_text
from sync.state import StateStoreError

HANDSHAKE_MAX_BYTES = 1_024
HANDSHAKE_EVERY = 60.0  # seconds between two verification requests taken
TOKEN = re.compile(r"[A-Za-z0-9_.~-]{8,512}")


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
        except StateStoreError:  # the delivery cannot be kept: the vendor retries a 503
            status, outcome = 503, "store_unavailable"
            answer = {"error": "the state store is unavailable; the delivery was not kept, retry it"}
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
        spec = registry.spec(vendor)
        try:
            event = spec.receive(body, headers, getattr(self.daemon.secrets, spec.webhook.attribute))
        except Handshake:
            return self._handshake(spec, body)
        if not event.delivery_id:
            raise Rejected(400, "malformed", "no delivery id")
        engine = self.daemon.engine
        if engine is None or engine.store is None:
            raise Rejected(503, "not_ready", "starting")
        # A replay is the same signed body: its digest, not the delivery-id header the signature
        # does not cover (a captured delivery re-sent with a fresh id is still a replay).
        digest = hashlib.sha256(body).hexdigest()
        if self.daemon.lease is not None:  # replicas: kept in the store until the leader re-read it
            leading = self.daemon.leading()
            if not event.ids:
                return 202, {"outcome": "ignored", "items": 0}
            if leading and vendor not in engine.connectors:
                return 202, {"outcome": "ignored", "reason": f"the {vendor} source is not configured"}
            if not engine.store.queue_delivery(vendor, digest, clean_text(event.kind)[:100], event.ids):
                return 200, {"outcome": "duplicate"}
            self.daemon.queued()
            return 202, {"outcome": "accepted" if leading else "queued", "items": len(event.ids)}
        if not engine.store.first_delivery(vendor, digest, clean_text(event.kind)[:100]):
            return 200, {"outcome": "duplicate"}
        if event.ids and not self.daemon.enqueue(vendor, event.ids):
            return 202, {"outcome": "ignored", "reason": f"the {vendor} source is not configured"}
        return 202, {"outcome": "accepted" if event.ids else "ignored", "items": len(event.ids)}

    def _handshake(self, spec: VendorSpec, body: bytes) -> tuple[int, dict[str, Any]]:
        variable = spec.webhook.variable
        if len(body) > HANDSHAKE_MAX_BYTES:
            raise Rejected(401, "invalid_signature", "no signature")
        data = json_object(body)
        token = data.get("verification_token")
        if set(data) != {"verification_token"} or not isinstance(token, str) or not TOKEN.fullmatch(token):
            raise Rejected(401, "invalid_signature", "no signature")
        if getattr(self.daemon.secrets, spec.webhook.attribute):
            raise Rejected(
                409,
                "handshake_refused",
                f"a verification token is configured ({variable}); "
                "relais takes no other: unset it to verify a new subscription",
            )
        now = time.monotonic()
        if self._last_handshake is not None and now - self._last_handshake < HANDSHAKE_EVERY:
            raise Rejected(429, "rate_limited", "one verification request a minute")
        self._last_handshake = now
        path = self.daemon.settings.state.path.parent / f"{spec.name}-webhook-verification-token"
        try:
            fd = os.open(
                path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
            )  # never over a token waiting there
        except FileExistsError:
            self.daemon.log.warning(
                f"a {spec.title} verification request came while a token is waiting in the file: "
                "kept the one in the file (delete it to take a new one)",
                extra={"file": str(path)},
            )
            raise Rejected(
                409, "handshake_refused", "a verification token is already waiting for the operator"
            ) from None
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        self.daemon.log.warning(
            f"{spec.title} sent its webhook verification token: paste it in the integration's "
            f"webhook settings to verify the subscription, and set {variable} "
            "to it",
            extra={"file": str(path)},
        )
        return 200, {"outcome": "verification"}
