"""Install a :class:`~connectors.policy.VendorPolicy` under each official client.

The three clients sit on three HTTP stacks — ``jira`` on requests,
``notion-client`` on httpx, ``pagerduty`` 7 on httpx2 — so the policy is
plugged in where each stack lets one replace the transport:

* requests: an ``HTTPAdapter`` mounted on the client's session;
* httpx / httpx2: a ``BaseTransport`` wrapping the stack's ``HTTPTransport``.

Every request the client makes, including the ones it makes on its own
(Jira's ``serverInfo`` and ``field``, pagination inside ``iter_all``), goes
through the policy.

Trusting a private CA (the sandbox, a corporate proxy): when a source names a
``ca_bundle``, that file — and only that file — is used to verify the server,
whatever ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``/``SSL_CERT_FILE`` say.
Without one, each stack's normal verification applies. Verification is never
switched off.
"""

from __future__ import annotations

import ssl
from types import ModuleType
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from connectors.errors import NetworkError
from connectors.policy import Reply, VendorPolicy


def ssl_context(ca_bundle: str | None) -> ssl.SSLContext | bool:
    if not ca_bundle:
        return True
    return ssl.create_default_context(cafile=str(ca_bundle))


class PolicyAdapter(HTTPAdapter):
    """requests transport adapter running every send through the policy."""

    def __init__(self, policy: VendorPolicy, ca_bundle: str | None = None) -> None:
        super().__init__(max_retries=0)
        self.policy = policy
        self.ca_bundle = str(ca_bundle) if ca_bundle else None

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self.ca_bundle:
            # A session-level verify path can be overridden by REQUESTS_CA_BUNDLE;
            # the adapter is the last word, so pin the configured CA here.
            kwargs["verify"] = self.ca_bundle
        path = requests.utils.urlparse(request.url or "").path

        def attempt() -> Reply:
            try:
                resp = HTTPAdapter.send(self, request, **kwargs)
            except requests.exceptions.ConnectionError as e:
                raise _network_error(self.policy.vendor, e, sent=not _is_connect_failure(e)) from None
            except requests.exceptions.Timeout as e:
                raise _network_error(self.policy.vendor, e, sent=True) from None
            return Reply(resp.status_code, resp.headers, lambda: resp.content, resp)

        return self.policy.send(request.method or "GET", path, attempt).native


def _is_connect_failure(e: Exception) -> bool:
    text = repr(e)
    return "NewConnectionError" in text or "Connection refused" in text


def _network_error(vendor: str, e: Exception, *, sent: bool) -> NetworkError:
    kind = type(e).__name__
    err = NetworkError(vendor, f"network error ({kind}); the server did not answer")
    err.sent = sent  # type: ignore[attr-defined]
    return err


def httpx_transport(module: ModuleType, policy: VendorPolicy, ca_bundle: str | None) -> Any:
    """A transport for ``httpx`` or ``httpx2`` (same API): pass the module."""

    class PolicyTransport(module.BaseTransport):  # type: ignore[name-defined]
        def __init__(self) -> None:
            self.inner = module.HTTPTransport(verify=ssl_context(ca_bundle), trust_env=False)

        def handle_request(self, request: Any) -> Any:
            def attempt() -> Reply:
                try:
                    resp = self.inner.handle_request(request)
                except module.ConnectError as e:
                    raise _network_error(policy.vendor, e, sent=False) from None
                except module.TransportError as e:
                    raise _network_error(policy.vendor, e, sent=True) from None
                try:
                    raw = b"".join(resp.iter_raw())
                except module.TransportError as e:
                    raise _network_error(policy.vendor, e, sent=True) from None
                finally:
                    resp.close()

                def fresh() -> Any:
                    # A new, unread response over the raw bytes: the client reads it
                    # itself (setting `.elapsed`, decoding Content-Encoding) as if it
                    # came straight off the socket.
                    return module.Response(
                        resp.status_code,
                        headers=resp.headers,
                        stream=module.ByteStream(raw),
                        extensions=resp.extensions,
                        request=request,
                    )

                decoded: list[bytes] = []

                def body() -> bytes:
                    if not decoded:
                        decoded.append(fresh().read())
                    return decoded[0]

                return Reply(resp.status_code, resp.headers, body, fresh)

            reply = policy.send(request.method, request.url.path, attempt)
            return reply.native()

        def close(self) -> None:
            self.inner.close()

    return PolicyTransport()


def httpx_client(module: ModuleType, policy: VendorPolicy, ca_bundle: str | None, timeout: float) -> Any:
    return module.Client(
        transport=httpx_transport(module, policy, ca_bundle), timeout=timeout, trust_env=False
    )
