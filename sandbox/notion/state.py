"""The Notion workspace's state: two databases, their pages, cursor-paged queries.

Thread-safe (one lock). ``sb.notion`` is a :class:`NotionState`; tests use
``edit_page``/``trash_page``/``create_page`` to act like a person in Notion and
``query_cap`` (default 10,000, like Notion) to exercise the point where a
query stops with ``request_status: incomplete`` without generating 10,000 rows.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..org import Org, uuid_from
from ..vendor import VendorState
from . import data as nd
from .query import compile_filter, sort_records
from .schema import ValidationError, empty_value, parse_value
from .schema_update import update_schema

if TYPE_CHECKING:  # the seed is built from this package's generators: only its type here
    from ..seed import Seed


class NotionNotFound(KeyError):
    def __init__(self, kind: str, object_id: str):
        super().__init__(object_id)
        self.kind, self.object_id = kind, object_id


class NotionState(VendorState):
    vendor = "notion"

    def __init__(self, org: Org, clock: Callable[[], datetime], seed: Seed) -> None:
        """``seed``: the org's seeded records (:mod:`sandbox.seed`); the state takes its pages over."""
        super().__init__(org, clock)
        self.query_cap = 10_000
        self.schemas = nd.build_schemas(org)
        self.database_ids = {key: org.notion[f"{key}_database"] for key in nd.DATABASES}
        self.data_source_ids = {key: org.notion[f"{key}_data_source"] for key in nd.DATABASES}
        self._rng = org.rng("notion-runtime")
        self._pages: dict[str, dict[str, Any]] = {}
        self._schema_edited = dict.fromkeys(nd.DATABASES, org.start)
        self._snapshots: OrderedDict[tuple[str, str], list[str]] = OrderedDict()
        self.titles = dict(nd.DATABASES)  # data source -> its title (a data source update renames it)
        self.trashed: set[str] = set()  # data sources moved to the trash by an update
        self.unshared: set[str] = set()  # database keys the integration cannot see (404, as Notion)
        for rec in seed.pages:
            schema = self.schemas[rec["source"]]
            for name, value in list(rec["values"].items()):
                prop = schema[name]
                if prop.type in ("select", "status") and value is not None:
                    rec["values"][name] = prop.option(name=value)["id"]  # type: ignore[index]
                elif prop.type == "multi_select":
                    rec["values"][name] = [prop.option(name=v)["id"] for v in value]  # type: ignore[index]
            self._pages[rec["id"]] = rec

    # ------------------------------------------------------------------ helpers
    def renderer(self) -> nd.Renderer:
        return nd.Renderer(self.org, self.base_url, self.schemas, self.titles, self.trashed)

    def source_of(self, data_source_id: str) -> str:
        for key, dsid in self.data_source_ids.items():
            if dsid == _dashed(data_source_id) and key not in self.unshared:
                return key
        raise NotionNotFound("data source", data_source_id)

    def database_source(self, database_id: str) -> str:
        for key, dbid in self.database_ids.items():
            if dbid == _dashed(database_id) and key not in self.unshared:
                return key
        raise NotionNotFound("database", database_id)

    def find(self, page_id: str) -> dict[str, Any]:
        rec = self._pages.get(_dashed(page_id))
        if rec is None or rec["source"] in self.unshared:
            raise NotionNotFound("page", page_id)
        return rec

    def _in_source(self, data_source_id: str, page_id: str) -> bool:
        rec = self._pages.get(_dashed(page_id))
        return rec is not None and self.data_source_ids.get(rec["source"]) == data_source_id

    def _write(self, rec: dict[str, Any], properties: Any, editor: str) -> None:
        if not isinstance(properties, dict):
            raise ValidationError("body failed validation: body.properties should be an object.")
        schema = self.schemas[rec["source"]]
        users = {p.notion_user_id for p in self.org.people}
        staged: dict[str, Any] = {}
        before = {k: [dict(o) for o in p.options] for k, p in schema.items()}
        try:
            for key, raw in properties.items():
                prop = schema.get(key) or next((p for p in schema.values() if p.id == key), None)
                if prop is None:
                    raise ValidationError(f"{key} is not a property that exists.")
                staged[prop.name] = parse_value(prop, raw, self._rng, users, self._in_source)
        except ValidationError:
            for name, options in before.items():  # a refused write adds no select option
                schema[name].options = options
            raise
        if any(len(schema[k].options) != len(v) for k, v in before.items()):
            self._schema_edited[rec["source"]] = self.clock()
        rec["values"].update(staged)
        rec["edited"] = self.clock()
        rec["edited_by"] = editor

    def _person(self, user_id: str | None) -> str:
        return user_id or self.org.people[0].notion_user_id

    # ------------------------------------------------------------------ test API
    def unshare(self, database_id: str, shared: bool = False) -> None:
        """Take the database away from the integration (as a person can in Notion): its database,
        data source and pages answer 404 ``object_not_found``. ``shared=True`` gives it back."""
        with self.lock:
            key = next(k for k, v in self.database_ids.items() if v == _dashed(database_id))
            (self.unshared.discard if shared else self.unshared.add)(key)

    def as_before_relais(self) -> None:
        """The workspace as a company has it before relais (``Sandbox(fresh=True)``): the
        briefings' status properties and 'Team mode', feedback's 'Routed by' are not there yet,
        the scorecard's Level select has no 'survival' option, and the scorecard's percentages
        are formatted Percent, as a person who made that database would have them."""
        with self.lock:
            gone = {
                "briefings": [*nd.BRIEFING_STATUS_PROPERTIES, "Team mode"],
                "feedback": ["Routed by"],
            }
            for source, names in gone.items():
                self._apply_schema(source, dict.fromkeys(names))
            level = self.schemas["scorecard"]["Level"]
            kept = [{"id": o["id"]} for o in level.options if o["name"] != "survival"]
            percent = {"number": {"format": "percent"}}
            self._apply_schema(
                "scorecard",
                {"Level": {"select": {"options": kept}}, **dict.fromkeys(nd.SCORECARD_SHARES, percent)},
            )

    def _apply_schema(self, source: str, properties: Any) -> None:
        """A data source update's ``properties`` applied to the schema and to every page's values."""
        change = update_schema(self.schemas[source], properties, self._rng, self._visible_sources())
        for rec in self._pages.values():
            if rec["source"] != source:
                continue
            values = rec["values"]
            for name in change.cleared:
                values.pop(name, None)
            for name, ids in change.options.items():
                value = values.get(name)
                if isinstance(value, list):
                    values[name] = [v for v in value if v in ids]
                elif value is not None and value not in ids:
                    values[name] = None
            for old, new in change.renamed.items():
                if old in values:
                    values[new] = values.pop(old)
            for name, prop in change.schema.items():
                values.setdefault(name, empty_value(prop))
        self.schemas[source] = change.schema
        self._schema_edited[source] = self.clock()

    def _visible_sources(self) -> dict[str, str]:
        return {
            dsid: self.database_ids[key]
            for key, dsid in self.data_source_ids.items()
            if key not in self.unshared
        }

    def get_page(self, page_id: str) -> dict[str, Any]:
        """The page as ``GET /v1/pages/{id}`` returns it (a fresh copy)."""
        with self.lock:
            return self.renderer().page(self.find(page_id))

    def page_ids(self, source: str, include_trashed: bool = False) -> list[str]:
        with self.lock:
            return [
                p["id"]
                for p in self._pages.values()
                if p["source"] == source and (include_trashed or not p["in_trash"])
            ]

    def edit_page(self, page_id: str, properties: dict[str, Any], editor_user_id: str | None = None) -> None:
        """Change properties (request shape) like a person in Notion; bumps last_edited_time."""
        with self.lock:
            self._write(self.find(page_id), properties, self._person(editor_user_id))

    def trash_page(self, page_id: str, in_trash: bool = True) -> None:
        with self.lock:
            rec = self.find(page_id)
            rec["in_trash"] = in_trash
            rec["edited"] = self.clock()

    def create_page(self, source: str, properties: dict[str, Any], creator_user_id: str | None = None) -> str:
        with self.lock:
            return self.create(
                self.data_source_ids.get(source, source), properties, self._person(creator_user_id)
            )["id"]

    # ------------------------------------------------------------------ API operations
    def create(self, data_source_id: str, properties: Any, creator: str) -> dict[str, Any]:
        source = self.source_of(data_source_id)
        now = self.clock()
        schema = self.schemas[source]
        rec: dict[str, Any] = {
            "id": uuid_from(self._rng),
            "source": source,
            "created": now,
            "edited": now,
            "created_by": creator,
            "edited_by": creator,
            "in_trash": False,
            "values": {name: empty_value(p) for name, p in schema.items()},
        }  # a checkbox is False, not None
        self._write(rec, properties or {}, creator)
        self._pages[rec["id"]] = rec
        return rec

    def update(self, page_id: str, body: dict[str, Any], editor: str) -> dict[str, Any]:
        rec = self.find(page_id)
        trash = body.get("in_trash", body.get("archived"))
        if rec["in_trash"] and trash is not False:
            raise ValidationError(
                "Can't edit block that is archived. You must unarchive the block before editing."
            )
        if "properties" in body:
            self._write(rec, body["properties"], editor)
        if trash is not None:
            if not isinstance(trash, bool):
                raise ValidationError("body failed validation: body.in_trash should be a boolean.")
            rec["in_trash"] = trash
        rec["edited"] = self.clock()
        rec["edited_by"] = editor
        return rec

    def update_data_source(self, data_source_id: str, body: dict[str, Any]) -> str:
        """``PATCH /v1/data_sources/{id}``: its title, its properties' schema, the trash. Checked
        in full before anything changes."""
        source = self.source_of(data_source_id)
        title = body.get("title")
        if title is not None and (
            not isinstance(title, list)
            or not all(
                isinstance(t, dict) and isinstance((t.get("text") or {}).get("content"), str) for t in title
            )
        ):
            raise ValidationError(
                f"body failed validation: body.title should be an array of rich text, instead was `{title!r}`."
            )
        trash = body.get("in_trash", body.get("archived"))
        if trash is not None and not isinstance(trash, bool):
            raise ValidationError(
                f"body failed validation: body.in_trash should be a boolean, instead was `{trash!r}`."
            )
        if body.get("properties") is not None:
            self._apply_schema(source, body["properties"])
        if title is not None:
            self.titles[source] = "".join(t["text"]["content"] for t in title)
        if trash is not None:
            (self.trashed.add if trash else self.trashed.discard)(source)
        self._schema_edited[source] = self.clock()
        return source

    def query(
        self, data_source_id: str, body: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], str | None, bool]:
        """One page of results: (records, next_cursor, incomplete)."""
        source = self.source_of(data_source_id)
        schema = self.schemas[source]
        size = body.get("page_size", 100)
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 100:
            raise ValidationError(
                f"body failed validation: body.page_size should be a number between 1 and 100, "
                f"instead was `{size!r}`."
            )
        shape = {k: v for k, v in body.items() if k not in ("start_cursor", "page_size")}
        digest = hashlib.sha1(
            json.dumps([data_source_id, shape], sort_keys=True, default=str).encode()
        ).hexdigest()
        cursor = body.get("start_cursor")
        ids = self._snapshots.get((digest, cursor)) if cursor else None
        if ids is None:
            ids = self._run(source, schema, shape)
        start = 0
        if cursor:
            try:
                start = ids.index(_dashed(str(cursor)))
            except ValueError:
                raise ValidationError(f"The start_cursor provided is invalid: {cursor}") from None
        # Notion stops a query at 10,000 results, without has_more (query-large-data-sources guide).
        end = min(start + size, self.query_cap, len(ids))
        page = [self._pages[i] for i in ids[start:end] if i in self._pages]
        incomplete = end >= self.query_cap and len(ids) > self.query_cap
        next_cursor = ids[end] if end < len(ids) and not incomplete else None
        if next_cursor:
            self._snapshots[(digest, next_cursor)] = ids
            while len(self._snapshots) > 256:
                self._snapshots.popitem(last=False)
        return page, next_cursor, incomplete

    def _run(self, source: str, schema: dict[str, Any], shape: dict[str, Any]) -> list[str]:
        predicate = compile_filter(shape["filter"], schema) if shape.get("filter") is not None else None
        want_trash = bool(shape.get("in_trash", shape.get("archived", False)))
        rows = [
            r
            for r in self._pages.values()
            if r["source"] == source and r["in_trash"] == want_trash and (predicate is None or predicate(r))
        ]
        return [r["id"] for r in sort_records(rows, shape.get("sorts"), schema)]

    def schema_edited(self, source: str) -> datetime:
        return self._schema_edited[source]

    def snapshot_pages(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._pages)


def _dashed(object_id: str) -> str:
    """Notion accepts ids with or without dashes; store and compare the dashed form."""
    raw = object_id.replace("-", "").lower()
    if len(raw) == 32:
        return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
    return object_id
