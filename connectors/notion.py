"""Notion connector (``notion-client`` 3.x, Notion-Version 2025-09-03).

Endpoints used:
  GET   /v1/users/me                      credentials check
  GET   /v1/databases/{id}                database → its data source id
  GET   /v1/data_sources/{id}             property names, ids, types, options, formats
  PATCH /v1/data_sources/{id}             ``relais check --fix``: a missing owned property,
                                          select options, a percentage's number format
  POST  /v1/data_sources/{id}/query       rows edited on/after a time
  GET   /v1/pages/{id}                    pages named by webhooks (``read_items``)
  PATCH /v1/pages/{id}                    owned properties only
  POST  /v1/pages                         scorecard rows (``create``), owned
                                          properties only; never re-sent after
                                          an ambiguous failure

Since 2025-09-03 a database holds data sources and queries go to the data
source (``notion-client`` 3 has no ``databases.query``). relais needs each
configured database to have exactly one data source.

Cursor: ``{<database key>: <the later of the max last_edited_time seen and
Notion's clock when the query began (its Date header)>}``. Notion rounds
``last_edited_time`` down to the minute, so the next query asks
``on_or_after`` the watermark minus the overlap, and the store compares a
hash of the properties: two edits in one minute carry the same timestamp
but not the same content.

Known limits: one query stops at 10,000 rows with ``request_status:
incomplete``; relais then continues with a new query starting at the last
``last_edited_time`` it saw (rows come sorted by it), and reads a minute
holding more than the cap in ``created_time`` windows. Relation and people
values on a page show at most 25 entries; relais does not read those yet.
Trashed pages are not returned by queries (deletions need a sweep).

Reads: the properties :mod:`connectors.notion_map` lists (title, status,
tags, team, the feedback properties, rich text as the item's text, the
briefings' delivery inputs); the owned ones are read as ``owned`` only.

Writes: the Notion properties of :data:`sync.owned.FIELDS` (vendor ``notion``)
that the config names for each database (:func:`sync.owned.notion_properties`),
and nothing else (``python -m sync.owned`` prints the table), each in the
write shape of its property's type (:func:`connectors.notion_map.write_value`:
select, status, rich text, title, date, number, people, relation).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from connectors import base, notion_map, webhook
from connectors.base import Page, PageGuard, SourceSettings, checked
from connectors.errors import ConfigMismatchError, NotFoundError
from connectors.notion_map import CREDENTIALS, KINDS, describe_error
from connectors.policy import VendorPolicy
from connectors.spec import Problem, Secret, VendorSpec, refuse
from connectors.transport import httpx_client
from sync import owned
from sync.models import FieldChange, Quarantined, WorkItem

NOTION_VERSION = "2025-09-03"
SAFE_POSTS = (r"/data_sources/[^/]+/query$", r"/v1/search$")
#: Queries restarted after the 10,000-row cap, per database and pull.
MAX_RESTARTS = 1_000


@dataclass
class _Scan:
    last: datetime | None = None  # the largest sort timestamp seen
    incomplete: bool = False  # Notion stopped at its per-query cap


def _edited_filter(since: datetime | None, before: datetime | None) -> dict[str, Any] | None:
    parts = []
    if since is not None:
        parts.append({"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": base.iso(since)}})
    if before is not None:
        parts.append({"timestamp": "last_edited_time", "last_edited_time": {"before": base.iso(before)}})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"and": parts}


class NotionSourceSettings(SourceSettings, Protocol):
    """What the Notion connector reads of ``sources.notion``."""

    @property
    def databases(self) -> Any: ...  # a model: database key -> database id
    @property
    def properties(self) -> Any: ...  # a model: input role -> property name


class NotionConnector:
    vendor = "notion"

    def __init__(
        self,
        source: NotionSourceSettings,
        token: str,
        writeback: Any | None = None,
        *,
        briefings: Any | None = None,
        policy: VendorPolicy | None = None,
        team_names: Iterable[str] = (),
    ) -> None:
        self.source = source
        self.team_names = tuple(team_names)  # the teams' Notion names: a Team select's options
        self.writeback = writeback  # settings.writeback.notion or None
        self.briefings = briefings  # settings.briefings or None: the delivery inputs read on briefings
        self.policy = policy or base.source_policy("notion", source, describe_error, SAFE_POSTS)
        ca = base.ca_bundle(source)
        import httpx  # here, not at import: the settings read the registry without the client
        from notion_client import Client

        self.http = httpx_client(httpx, self.policy, ca, source.timeout_seconds)
        # Any: notion-client types its methods for the sync and async clients at once
        # (dict | Awaitable); this one is the sync client.
        self.client: Any = Client(
            client=self.http,
            auth=token,
            base_url=source.url.rstrip("/"),
            notion_version=NOTION_VERSION,
            retry=False,
            timeout_ms=int(source.timeout_seconds * 1000),
        )
        self.data_sources: dict[str, str] = {}  # database key -> data source id
        self.schemas: dict[str, dict[str, Any]] = {}  # database key -> properties
        self.pending_cursor: dict[str, Any] | None = None
        self.summary = ""  # who relais is in Notion, once surveyed
        self.titles: dict[str, str] = {}  # database key -> its title (quoted), once surveyed

    def _databases(self) -> dict[str, str]:
        dbs = self.source.databases
        return {k: getattr(dbs, k) for k in KINDS if getattr(dbs, k, None)}

    def owned_properties(self, key: str) -> dict[str, str]:
        """Logical owned field → property name, for one database (:func:`sync.owned.notion_properties`)."""
        return owned.notion_properties(self.writeback, self.briefings, key)

    def connect(self) -> str:
        """Survey the databases (:meth:`survey`) and refuse to go on while one lacks something
        the config needs: relais writes nothing into a tool that fails ``relais check``."""
        refuse("notion", self.survey())
        return self.summary

    def survey(self) -> list[Problem]:
        """Every database shared, with one data source; every property relais reads or writes
        there, with its type, options and number format — all at once (``relais check``)."""
        me = self.client.users.me()
        self.summary = f"{me.get('name') or me.get('id')} (bot) on {self.source.url}"
        self.data_sources.clear()
        self.schemas.clear()
        self.titles.clear()
        problems: list[Problem] = []
        for key, database_id in self._databases().items():
            setting = f"sources.notion.databases.{key}"
            try:
                db = self.client.databases.retrieve(database_id=database_id)
            except NotFoundError:
                step = f"share database {database_id} with the integration (its ••• menu → Connections)"
                problems.append(
                    Problem(
                        "notion",
                        setting,
                        f"the {key} database is not shared with the integration: {step}",
                        f"notion:{key}",
                        admin=f"Notion: {step}",
                    )
                )
                continue
            sources = db.get("data_sources") or []
            title = repr(notion_map.plain_text(db.get("title")))
            named = {str(s.get("name")) for s in sources if s.get("name")} - {title[1:-1]}
            self.titles[key] = title + "".join(f" (data source {n!r})" for n in sorted(named))
            if len(sources) != 1:
                names = ", ".join(s.get("name", s.get("id", "?")) for s in sources) or "none"
                problems.append(
                    Problem(
                        "notion",
                        setting,
                        f"database {database_id} has {len(sources)} data sources ({names}); relais "
                        f"needs exactly one: name a database that holds a single data source",
                        f"notion:{key}",
                    )
                )
                continue
            ds_id = sources[0]["id"]
            schema = self.client.data_sources.retrieve(data_source_id=ds_id)
            self.data_sources[key] = ds_id
            self.schemas[key] = schema.get("properties") or {}
        for key in self.schemas:
            problems += [self._problem(key, lack) for lack in self._lacks(key)]
        return problems

    def surveyed(self) -> str:
        shared = ", ".join(f"{key} {title}" for key, title in self.titles.items())
        return f"{self.summary}; databases: {shared or 'none shared'}"

    def _lacks(self, key: str) -> list[notion_map.Lack]:
        schema = self.schemas[key]
        names = self.owned_properties(key)
        inputs = self._inputs(key)
        taken = set(names.values()) | {prop for prop, _ in inputs.values()}
        kinds = (KINDS.get(key, key), "scorecard", "feedback", "briefing")
        want = {
            name: notion_map.expected(entry, self.team_names)
            for name in names
            if (entry := owned.notion_entry(name, kinds)) is not None and entry.accepts
        }
        return [
            *notion_map.owned_lacks(
                key, schema, want, names, taken=taken, briefings_source=self.data_sources.get("briefings")
            ),
            *notion_map.input_lacks(
                key, schema, {s: v for s, v in inputs.items() if v[0] not in names.values()}, taken
            ),
        ]

    def _inputs(self, key: str) -> dict[str, tuple[str, tuple[str, ...]]]:
        """The properties relais only reads on database ``key``: setting -> (name, types)."""
        out: dict[str, tuple[str, tuple[str, ...]]] = {}
        roles = self.source.properties
        for role, (databases, kinds) in notion_map.READ_TYPES.items():
            if key in databases and getattr(roles, role, None):
                out[f"sources.notion.properties.{role}"] = (getattr(roles, role), kinds)
        if key == "briefings" and self.briefings is not None:
            for setting, kinds in notion_map.BRIEFING_INPUT_TYPES.items():
                out[f"briefings.{setting}"] = (getattr(self.briefings, setting), kinds)
        return out

    def _problem(self, key: str, lack: notion_map.Lack) -> Problem:
        fix = None
        if lack.update is not None:
            ds_id, setting = self.data_sources[key], lack.setting

            def fix() -> str:
                # The schema as it is now, not as the survey saw it: Notion replaces a select's
                # whole option list (an option a person added since would be dropped, and the
                # pages holding it emptied), and a property a person created since in another
                # type would be retyped by a "create".
                schema = self.client.data_sources.retrieve(data_source_id=ds_id)
                self.schemas[key] = schema.get("properties") or {}
                now = next((x for x in self._lacks(key) if x.setting == setting), None)
                if now is None:
                    return f"{setting}: nothing left to do (someone did it meanwhile)"
                if now.update is None:
                    raise ConfigMismatchError(
                        "notion", f"not fixed, the database changed meanwhile: {now.message}"
                    )
                self.client.data_sources.update(data_source_id=ds_id, properties=now.update)
                return now.did

        admin = "" if fix is not None else f"Notion ({key} database): {lack.message.split(': ', 1)[-1]}"
        return Problem("notion", lack.setting, lack.message, f"notion:{key}", fix, admin)

    # -- pull ------------------------------------------------------------------
    def iter_pages(self, cursor: dict[str, Any] | None, now: datetime) -> Iterator[Page]:
        cursor = dict(cursor or {})
        new_cursor = dict(cursor)
        for key, ds_id in self.data_sources.items():
            watermark = base.parse_time(cursor.get(key))
            since = watermark - timedelta(minutes=self.source.overlap_minutes) if watermark else None
            read_at: list[datetime | None] = []
            for page in self._iter_edited(key, ds_id, since, read_at):
                for item in page.items:
                    if watermark is None or item.updated > watermark:
                        watermark = min(item.updated, now)
                yield page
            watermark = base.watermark_after(watermark, read_at[0] if read_at else None)
            if watermark is not None:
                new_cursor[key] = base.iso(watermark)
        self.pending_cursor = new_cursor

    def _iter_edited(
        self, key: str, ds_id: str, since: datetime | None, read_at: list[datetime | None] | None = None
    ) -> Iterator[Page]:
        """Rows edited on or after ``since``, past the 10,000-rows-per-query cap.

        Rows come sorted by last_edited_time; when a query is capped, a new one
        starts at the last timestamp seen (rows of that minute come again and
        the store de-duplicates them). If one whole capped query sits inside a
        single minute (a bulk edit), that minute is read again in created_time
        windows, then the scan goes on from the next minute.
        """
        for _ in range(MAX_RESTARTS):
            scan = _Scan()
            yield from self._scan(key, ds_id, _edited_filter(since, None), "last_edited_time", scan, read_at)
            if not scan.incomplete or scan.last is None:
                return
            if since is not None and scan.last <= since:
                yield from self._scan_one_minute(key, ds_id, scan.last)
                since = scan.last + timedelta(minutes=1)
            else:
                since = scan.last
        raise ConfigMismatchError("notion", f"{key}: more than {MAX_RESTARTS} capped queries in one pull")

    def _scan_one_minute(self, key: str, ds_id: str, minute: datetime) -> Iterator[Page]:
        created_since: datetime | None = None
        for _ in range(MAX_RESTARTS):
            scan = _Scan()
            flt = _edited_filter(minute, minute + timedelta(minutes=1))
            if created_since is not None:
                flt = {
                    "and": [
                        flt,
                        {
                            "timestamp": "created_time",
                            "created_time": {"on_or_after": base.iso(created_since)},
                        },
                    ]
                }
            yield from self._scan(key, ds_id, flt, "created_time", scan)
            if not scan.incomplete or scan.last is None:
                return
            if created_since is not None and scan.last <= created_since:
                raise ConfigMismatchError(
                    "notion",
                    f"{key}: more than 10,000 rows were created in the same minute "
                    f"and edited in the same minute ({base.iso(minute)}); Notion's query cap cannot "
                    f"be paged past",
                )
            created_since = scan.last

    def _scan(
        self,
        key: str,
        ds_id: str,
        flt: dict[str, Any] | None,
        sort: str,
        scan: _Scan,
        read_at: list[datetime | None] | None = None,
    ) -> Iterator[Page]:
        """One query, following its cursors; notes in ``scan`` whether Notion capped it, and in
        ``read_at`` (when empty) Notion's clock when it served the first page."""
        guard = PageGuard(f"notion query {key}")
        start_cursor: str | None = None
        while True:
            guard.next(start_cursor)
            kwargs: dict[str, Any] = {
                "data_source_id": ds_id,
                "page_size": 100,
                "sorts": [{"timestamp": sort, "direction": "ascending"}],
            }
            if flt is not None:
                kwargs["filter"] = flt
            if start_cursor:
                kwargs["start_cursor"] = start_cursor
            data = self.client.data_sources.query(**kwargs)
            if read_at is not None and not read_at:
                read_at.append(self.policy.server_time())
            page = Page()
            mapping = self.mapping(key)
            for raw in data.get("results") or []:
                try:
                    item = checked(notion_map.to_item(raw, mapping), notion_map.check)
                except (KeyError, TypeError, ValueError, AttributeError) as e:
                    rid = str(raw.get("id", "?")) if isinstance(raw, dict) else "?"
                    page.quarantined.append(
                        Quarantined("notion", rid, f"unreadable page payload ({type(e).__name__}: {e})")
                    )
                    continue
                page.items.append(item)
                page.raw[item.id] = raw
                stamp = item.updated if sort == "last_edited_time" else item.created
                scan.last = stamp if scan.last is None else max(scan.last, stamp)
            yield page
            if data.get("has_more") and data.get("next_cursor"):
                start_cursor = data["next_cursor"]
                continue
            scan.incomplete = (data.get("request_status") or {}).get("type") == "incomplete"
            return

    def read_items(self, ids: Iterable[str]) -> tuple[Page, list[str]]:
        """Re-read the named pages now (a webhook said they changed); also the ids that are gone
        (trashed, deleted, or moved out of the configured databases)."""
        by_source: dict[Any, str] = {ds: key for key, ds in self.data_sources.items()}
        page, gone = Page(), []
        for page_id in ids:
            try:
                raw = self.client.pages.retrieve(page_id=page_id)
            except NotFoundError:
                gone.append(page_id)
                continue
            key = by_source.get((raw.get("parent") or {}).get("data_source_id"))
            if key is None or raw.get("in_trash") or raw.get("archived"):
                gone.append(page_id)
                continue
            try:
                item = checked(
                    self.to_item(key, raw), notion_map.check
                )  # what a pull checks, a webhook's re-read checks too
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                page.quarantined.append(
                    Quarantined("notion", page_id, f"unreadable page payload ({type(e).__name__}: {e})")
                )
                continue
            page.items.append(item)
            page.raw[item.id] = raw
        return page, gone

    # -- mapping (connectors.notion_map) ---------------------------------------------
    def mapping(self, key: str) -> notion_map.NotionMapping:
        """What maps the pages of database ``key``: the settings' property names, the owned
        properties and (once connected) the properties' types."""
        names = self.source.properties
        return notion_map.NotionMapping(
            database=key,
            properties={
                role: getattr(names, role, "")
                for role in ("title", "status", "tags", "team", "origin", "tier", "area", "customer")
            },
            owned=self.owned_properties(key),
            types={name: p["type"] for name, p in self.schemas.get(key, {}).items() if "type" in p},
            formats={
                name: str((p.get("number") or {}).get("format") or "number")
                for name, p in self.schemas.get(key, {}).items()
                if p.get("type") == "number"
            },
            inputs={name: getattr(self.briefings, setting) for name, setting in notion_map.INPUTS.items()}
            if self.briefings is not None
            else {},
        )

    def to_item(self, key: str, raw: dict[str, Any]) -> WorkItem:
        return notion_map.to_item(raw, self.mapping(key))

    def _properties(self, key: str, values: dict[str, Any]) -> dict[str, Any]:
        return notion_map.write_properties(values, self.mapping(key))

    def write_body(self, item: WorkItem, changes: list[FieldChange]) -> dict[str, Any]:
        return self._properties(item.database or "", {ch.field: ch.new for ch in changes})

    def write(self, item: WorkItem, changes: list[FieldChange]) -> None:
        self.client.pages.update(page_id=item.id, properties=self.write_body(item, changes))

    def create(self, key: str, natural_key: str, values: dict[str, Any]) -> tuple[WorkItem, dict[str, Any]]:
        """Create a row (a POST: never re-sent by the policy after an ambiguous failure)."""
        page = self.client.pages.create(
            parent={"data_source_id": self.data_sources[key]}, properties=self._properties(key, values)
        )
        return self.to_item(key, page), page

    #: Keys looked up per query (an ``or`` of Key equalities).
    KEYS_PER_QUERY = 25

    def find_by_keys(self, key: str, natural_keys: list[str]) -> dict[str, tuple[WorkItem, dict[str, Any]]]:
        """The oldest row holding each natural key in its Key property, for the keys that have one:
        how relais knows, from the tool itself, the rows it made (with any store, or none)."""
        key_prop = self.owned_properties(key)["key"]
        out: dict[str, tuple[WorkItem, dict[str, Any]]] = {}
        wanted = list(dict.fromkeys(natural_keys))
        for start in range(0, len(wanted), self.KEYS_PER_QUERY):
            batch = wanted[start : start + self.KEYS_PER_QUERY]
            conditions = [{"property": key_prop, "rich_text": {"equals": k}} for k in batch]
            flt = conditions[0] if len(conditions) == 1 else {"or": conditions}
            guard = PageGuard(f"notion keys in {key}")
            cursor: str | None = None
            while True:
                guard.next(cursor)
                data = self.client.data_sources.query(
                    data_source_id=self.data_sources[key],
                    page_size=100,
                    filter=flt,
                    sorts=[{"timestamp": "created_time", "direction": "ascending"}],
                    **({"start_cursor": cursor} if cursor else {}),
                )
                for raw in data.get("results") or []:
                    try:
                        item = self.to_item(key, raw)
                    except (KeyError, TypeError, ValueError, AttributeError):
                        continue  # an unreadable row is the pull's to quarantine
                    if item.natural_key in batch and item.natural_key not in out:
                        out[item.natural_key] = (item, raw)
                if not (data.get("has_more") and data.get("next_cursor")):
                    break
                cursor = data["next_cursor"]
        return out

    def close(self) -> None:
        self.http.close()


def from_settings(settings: Any, secrets: Any) -> NotionConnector:
    """The Notion connector of these settings: its databases, the owned properties, the briefings' inputs."""
    src = settings.sources.notion
    assert src is not None and secrets.notion_token  # resolve_secrets checked
    wb = settings.writeback.notion if settings.writeback else None
    # The Notion name of each team, as relais writes it in a Team select (sync.route, sync.scorecard).
    teams = [t.notion.team if t.notion and t.notion.team else key for key, t in settings.teams.items()]
    return NotionConnector(src, secrets.notion_token, wb, briefings=settings.briefings, team_names=teams)


def receive_webhook(body: bytes, headers: Mapping[str, str], secret: str | None) -> webhook.Event:
    """A Notion webhook event: ``X-Notion-Signature: sha256=<hex>`` keyed by the subscription's
    verification token; delivery id: the event's ``id``. Without a signature it is the
    subscription's first, unsigned request (``{"verification_token": "…"}``): :class:`Handshake`.
    https://developers.notion.com/reference/webhooks (the event shape:
    ../shared/specs/notion-api-endpoints/api-endpoints/webhooks.ts)"""
    signature = headers.get("X-Notion-Signature")
    if signature is None:
        raise webhook.Handshake()
    if not webhook.verify_sha256_header(body, signature, secret):
        unset = "" if secret else f"; {SPEC.webhook.variable} is not set"
        raise webhook.Rejected(401, "invalid_signature", f"signature does not match{unset}")
    data = webhook.json_object(body)
    entity = webhook.object_of(data.get("entity"))
    ids = [str(entity["id"])] if entity.get("type") == "page" and entity.get("id") else []
    return webhook.Event("notion", str(data.get("id") or ""), str(data.get("type") or ""), ids)


SPEC = VendorSpec(
    name="notion",
    title="Notion",
    credentials=CREDENTIALS,
    # Not required: Notion sends it in the verification request, after the subscription
    # exists; until it is set, events are refused.
    webhook=Secret("notion_webhook_token", "NOTION_WEBHOOK_TOKEN", "no verification token", required=False),
    token_shapes=(r"\b(?:ntn|secret)_[A-Za-z0-9]{20,}",),  # ntn_ (secret_ before Sept. 2024)
    lists_all=True,
    streams=lambda source: [f"notion:{key}" for key in source.databases.configured()],
    stream_of=lambda kind, database: f"notion:{database}",
    build=from_settings,
    receive=receive_webhook,
)
