"""PagerDuty connector (``pagerduty`` 7.x, the maintained successor of ``pdpyras``).

Endpoints used:
  GET /abilities                      credentials check (works with account keys)
  GET /incidents?since&until          NEW incidents: since/until filter on
                                      *creation* time (max 6 months)
  GET /log_entries?since&until        CHANGED older incidents: any log entry
                                      (ack, resolve, note…) since the cursor
  GET /incidents?statuses[]=…         OPEN incidents, re-read every cycle, first:
                                      its Date is the clock the windows use
  GET /incidents/{id}                 incidents named by log entries, and by
                                      webhooks (``read_items``)
  GET/POST /incidents/{id}/notes      the follow-up note (sync.followups)

Cursor: ``{"since": <start of the last successful pull on PagerDuty's clock
(the Date of the open-incidents listing, read first), UTC ISO>}``; the next
pull reads from ``since − overlap``.
The time-window reads go through ``iter_history``, which bisects a window until each part holds fewer than
10,000 records (classic pagination stops at offset + limit = 10,000).
The API is asked for UTC explicitly: without an offset, since/until are
read in the account's time zone.

Known limits: incidents are never deleted (merges show up as resolved); the
open-incident listing uses plain offset paging and so reads at most 10,000
open incidents.

Reads: what :mod:`connectors.pagerduty_map` maps from an incident (status,
urgency, priority, service, first team, timestamps).

Writes: a note on a resolved incident naming its follow-up ticket
(``POST /incidents/{id}/notes``, read back with ``GET`` after an ambiguous
failure); incidents themselves are never changed: :data:`sync.owned.FIELDS`
holds no PagerDuty field.
"""

from __future__ import annotations

import difflib
import hmac
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from connectors import pagerduty_map, webhook
from connectors.base import Page, SourceSettings, ca_bundle, checked, iso, parse_time, source_policy
from connectors.errors import NotFoundError, register_secret
from connectors.pagerduty_map import CREDENTIALS, describe_error
from connectors.policy import VendorPolicy
from connectors.spec import Problem, ReadEstimate, Secret, VendorSpec
from connectors.transport import httpx_transport
from sync.models import FieldChange, Quarantined, WorkItem

PAGE = 100
BATCH = 100  # items per Page yielded to the engine


class PagerDutySourceSettings(SourceSettings, Protocol):
    """What the PagerDuty connector reads of ``sources.pagerduty``."""

    @property
    def services(self) -> Sequence[str]: ...
    @property
    def from_email(self) -> str: ...
    @property
    def first_sync_days(self) -> int: ...


class PagerDutyConnector:
    vendor = "pagerduty"

    def __init__(
        self,
        source: PagerDutySourceSettings,
        token: str,
        *,
        team_services: Mapping[str, Sequence[str]] | None = None,
        writes_notes: bool = False,
        policy: VendorPolicy | None = None,
    ) -> None:
        self.source = source
        # (the setting naming it, service id): what `relais check` looks for in the account
        self.named_services = list(
            dict.fromkeys(
                [("sources.pagerduty.services", s) for s in source.services]
                + [
                    (f"teams.{team}.pagerduty.services", s)
                    for team, ids in (team_services or {}).items()
                    for s in ids
                ]
            )
        )
        self.writes_notes = writes_notes  # follow-up notes on incidents (sync.followups)
        self.policy = policy or source_policy("pagerduty", source, describe_error)
        ca = ca_bundle(source)
        import httpx2  # here, not at import: the settings read the registry without the client
        import pagerduty

        self.client = pagerduty.RestApiV2Client(
            token,
            default_from=source.from_email,
            base_url=source.url.rstrip("/"),
            transport=httpx_transport(httpx2, self.policy, ca),
            trust_env=False,
        )
        # pagerduty annotates it int; it hands it to httpx2, which takes seconds as a float
        self.client.timeout = source.timeout_seconds  # type: ignore[assignment]
        # The policy under the client retries; the client's own loops must not.
        self.client.retry = {}
        self.client.max_network_attempts = 0
        self.services = set(source.services)
        self.pending_cursor: dict[str, Any] | None = None
        self._surveyed = ""  # the account, once surveyed

    def connect(self) -> str:
        self.client.rget("abilities")
        return f"REST API key on {self.source.url} (services {', '.join(sorted(self.services))})"

    def surveyed(self) -> str:
        return self._surveyed

    def survey(self) -> list[Problem]:
        """What ``relais check`` lists (:class:`connectors.spec.Surveyor`): every service the
        config names exists (``GET /services``), and ``from_email`` is a user of the account
        (``GET /users``) when relais writes notes. Nothing here is fixable through the API."""
        self._surveyed = self.connect()
        problems: list[Problem] = []
        services = {
            str(s["id"]): str(s.get("summary") or s.get("name") or "")
            for s in self.client.iter_all("services")
        }
        by_name = {name: sid for sid, name in services.items() if name}
        for setting, sid in self.named_services:
            if sid in services:
                continue
            near = difflib.get_close_matches(sid, [*services, *by_name], n=1)
            hint = ""
            if near:
                found = by_name.get(near[0], near[0])
                hint = f" (did you mean {found!r}, the service {services[found]!r}?)"
            problems.append(
                Problem(
                    "pagerduty",
                    setting,
                    f"no service with id {sid!r}{hint}: name a service id of the account "
                    "(the last part of the service's URL, e.g. PABC123)",
                    "pagerduty",
                )
            )
        if self.writes_notes:
            wanted = self.source.from_email.lower()
            emails = {str(u.get("email") or "").lower() for u in self.client.iter_all("users")}
            if wanted not in emails:
                problems.append(
                    Problem(
                        "pagerduty",
                        "sources.pagerduty.from_email",
                        f"{self.source.from_email!r} is not a user of the account: PagerDuty refuses a "
                        "note from anyone else; name the email of a user relais may write notes as",
                        "pagerduty",
                    )
                )
        return problems

    # -- pull ------------------------------------------------------------------
    def iter_pages(self, cursor: dict[str, Any] | None, now: datetime) -> Iterator[Page]:
        params = {"service_ids[]": sorted(self.services), "time_zone": "UTC"}
        seen: set[str] = set()
        # Open incidents first: their listing needs no window, and its answer carries PagerDuty's
        # clock (Date), on which the windows below are asked. On relais' clock, a wall clock
        # stepped back an hour made `until` fall before the saved `since`: every pull failed with
        # "Since must be before until" until the clock caught up.
        open_now = iter(
            self.client.iter_all(
                "incidents",
                params={**params, "statuses[]": ["triggered", "acknowledged"], "date_range": "all"},
            )
        )
        first = next(open_now, None)
        now = self.policy.server_time() or now
        since_cursor = parse_time((cursor or {}).get("since"))
        if since_cursor is None:
            since = now - timedelta(days=self.source.first_sync_days)
        else:
            # never after `until` (a cursor saved by a clock that ran ahead)
            since = min(since_cursor, now) - timedelta(minutes=self.source.overlap_minutes)
        # The client sends since/until with whole seconds; round `until` up so that
        # what happened in the current second is inside this window, not only the next one.
        until = now.replace(microsecond=0) + timedelta(seconds=1)
        yield from self._batches(itertools.chain([first] if first is not None else [], open_now), seen)
        created = self.client.iter_history("incidents", since, until, params=dict(params))
        yield from self._batches(created, seen)
        if since_cursor is not None:
            yield from self._batches(self._changed_incidents(since, until, seen), seen)
        self.pending_cursor = {"since": iso(now)}

    def estimate_read(self, now: datetime) -> ReadEstimate:
        """How many incidents a first read returns: ``GET /incidents?total=true&limit=1`` over the
        window it reads (``first_sync_days``, the configured services), one request; the open
        incidents listed first are mostly in that window too. Pages of 100."""
        import pagerduty  # the client's own error for an answer without a total

        params = {
            "service_ids[]": sorted(self.services),
            "time_zone": "UTC",
            "since": iso(now - timedelta(days=self.source.first_sync_days)),
            "until": iso(now),
        }
        try:
            total = self.client.get_total("incidents", params=params)  # total=true&limit=1
        except (TypeError, ValueError, pagerduty.ServerHttpError):  # an answer without a total
            return ReadEstimate(None, 1, "unknown")
        return ReadEstimate(total, 1 + max(1, -(-total // PAGE)), "total")

    def _changed_incidents(
        self, since: datetime, until: datetime, seen: set[str]
    ) -> Iterator[dict[str, Any]]:
        wanted: list[str] = []
        for entry in self.client.iter_history(
            "log_entries", since, until, params={"time_zone": "UTC", "is_overview": True}
        ):
            inc = entry.get("incident") or {}
            service = (entry.get("service") or {}).get("id")
            iid = inc.get("id")
            if (
                iid
                and iid not in seen
                and iid not in wanted
                and (service is None or service in self.services)
            ):
                wanted.append(iid)
        for iid in wanted:
            yield self.client.rget(f"incidents/{iid}")

    def _batches(self, incidents: Iterable[dict[str, Any]], seen: set[str]) -> Iterator[Page]:
        page = Page()
        for raw in incidents:
            rid = str(raw.get("id", "?")) if isinstance(raw, dict) else "?"
            if rid in seen:
                continue
            seen.add(rid)
            try:
                item = checked(pagerduty_map.to_item(raw), pagerduty_map.check)
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                page.quarantined.append(
                    Quarantined("pagerduty", rid, f"unreadable incident payload ({type(e).__name__}: {e})")
                )
                continue
            if item.service not in self.services:
                continue
            page.items.append(item)
            page.raw[item.id] = raw
            if len(page.items) >= BATCH:
                yield page
                page = Page()
        if page.items or page.quarantined:
            yield page

    # -- mapping (connectors.pagerduty_map) ------------------------------------------
    def to_item(self, raw: dict[str, Any]) -> WorkItem:
        return pagerduty_map.to_item(raw)

    def read_items(self, ids: Iterable[str]) -> tuple[Page, list[str]]:
        """Re-read the named incidents now (a webhook said they changed); also the ids that no longer exist."""
        found, gone = [], []
        for iid in ids:
            try:
                found.append(self.client.rget(f"incidents/{iid}"))
            except NotFoundError:
                gone.append(iid)
        return next(self._batches(found, set()), Page()), gone

    def write(self, item: WorkItem, changes: list[FieldChange]) -> None:
        raise NotImplementedError("relais owns no PagerDuty field")

    # -- follow-up notes (sync.followups) ------------------------------------------
    def notes(self, incident_id: str) -> list[str]:
        """The contents of an incident's notes (a short list: PagerDuty does not page it)."""
        return [str(n.get("content", "")) for n in self.client.rget(f"incidents/{incident_id}/notes")]

    def add_note(self, incident_id: str, content: str) -> None:
        """POST a note (as ``from_email``); never re-sent by the policy after an ambiguous failure."""
        self.client.rpost(f"incidents/{incident_id}/notes", json={"note": {"content": content}})

    def close(self) -> None:
        self.client.close()


def from_settings(settings: Any, secrets: Any) -> PagerDutyConnector:
    """The PagerDuty connector of these settings."""
    src = settings.sources.pagerduty
    assert src is not None and secrets.pagerduty_token  # resolve_secrets checked
    return PagerDutyConnector(
        src,
        secrets.pagerduty_token,
        team_services={k: t.pagerduty.services for k, t in settings.teams.items()},
        writes_notes=getattr(settings, "followups", None) is not None,
    )


def receive_webhook(body: bytes, headers: Mapping[str, str], secret: str | None) -> webhook.Event:
    """A PagerDuty v3 delivery. ``X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`` carries one
    signature per active secret (several during a rotation: ``secret`` is then "new,old"); a
    delivery is authentic if any ``v1`` matches any secret. Delivery id: ``X-Webhook-Id`` (the
    same on every retry). PagerDuty expects a 2xx within 5 s and caps bodies near 256 KB.
    PagerDuty developer docs, "Verifying Signatures" and "Behavior" (their source:
    github.com/PagerDuty/developer-docs, docs/webhooks/04-Signatures.md and 02-Behavior.md)."""
    keys = [s for s in (secret or "").split(",") if s]
    for key in keys:
        register_secret(key)
    given = webhook.header(headers, "X-PagerDuty-Signature") or ""
    signatures = [part.strip()[3:] for part in given.split(",") if part.strip().startswith("v1=")]
    expected = [webhook.hex_hmac(k, body) for k in keys]
    # Every pair is compared, so the time taken does not tell which one matched.
    if not any([hmac.compare_digest(g.encode(), e.encode()) for g in signatures for e in expected]):  # noqa: C419
        raise webhook.refused()
    event = webhook.json_object(body).get("event")
    if not isinstance(event, dict):
        raise webhook.Rejected(400, "malformed", "no event object")
    delivery = webhook.header(headers, "X-Webhook-Id") or str(event.get("id") or "")
    data = webhook.object_of(event.get("data"))
    ids = []
    if event.get("resource_type") == "incident" and data.get("id"):
        ids = [str(data["id"])]
    elif webhook.object_of(data.get("incident")).get("id"):  # e.g. incident.annotated
        ids = [str(data["incident"]["id"])]
    return webhook.Event("pagerduty", delivery, str(event.get("event_type") or ""), ids)


SPEC = VendorSpec(
    name="pagerduty",
    title="PagerDuty",
    credentials=CREDENTIALS,
    webhook=Secret("pagerduty_webhook_secret", "PAGERDUTY_WEBHOOK_SECRET", "no signing secret", listed=True),
    token_shapes=(r"(?:^|\s)u\+[A-Za-z0-9_+-]{16,}", r"\bToken token=\S{8,}"),  # user API tokens
    lists_all=False,
    streams=lambda source: ["pagerduty:incidents"],
    stream_of=lambda kind, database: "pagerduty:incidents",
    build=from_settings,
    receive=receive_webhook,
)
