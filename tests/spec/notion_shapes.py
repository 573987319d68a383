"""Notion response shapes learned from REAL recorded responses.

Ground truth: ``shared/fixtures/notion-recorded/*.yaml`` — vcrpy cassettes recorded
against api.notion.com with ``Notion-Version: 2025-09-03`` (see SOURCE.md there).

Three layers of checking, combined by :func:`check_notion_response`:

1. **Recorded shapes** (:func:`check_shape`): for each object kind (page, database,
   data_source, user, error, block, comment, property_item, list) the keys that EVERY
   recorded real object of that kind carries, their JSON types, and — for strings whose
   recorded values all share one notable format (UUID ids, timestamps) — that format.
   Objects discriminated by ``type`` (parents, users, list envelopes, property items)
   are compared per variant when that variant was recorded; otherwise only against the
   keys common to all recorded variants.  Observed real formats encoded here:

   * pages / data sources / blocks / comments: ``created_time``/``last_edited_time``
     like ``2026-07-04T09:08:00.000Z`` — rounded to the minute (``:00.000Z``);
   * databases: ``2026-07-04T09:08:57.778+00:00`` — millisecond precision, ``+00:00``;
   * every top-level body carries ``request_id`` (a UUID); nested objects do not.

2. **Notion's generated TypeScript types** (:mod:`.ts_types`), using the FULL object
   types (``PageObjectResponse``, not the ``Partial… | …`` response unions, which
   would accept ``{"object": "page", "id": …}``).  This covers property values
   (select/status/people/relation/date…) that the cassettes do not contain.

3. **The partial OpenAPI document** (``notion-openapi-mcp-server.json``) via
   :mod:`.openapi` where it documents the path+status.  Its 200 schemas are mostly
   just ``{"type": "object"}`` and it documents errors only as 400, so it is the
   weakest layer; errors are checked with :func:`openapi.validate_error_body`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml

from . import fixtures_dir
from .openapi import SpecLookupError, load_spec, validate_error_body, validate_response
from .ts_types import notion_types

# --------------------------------------------------------------------------- cassettes


@dataclass(frozen=True)
class Recorded:
    cassette: str
    method: str
    uri: str
    status: int
    body: Any = field(compare=False, repr=False)


def cassette_dir():
    d = fixtures_dir() / "notion-recorded"
    if not d.is_dir():
        raise RuntimeError(f"recorded Notion cassettes missing: {d}")
    return d


@cache
def recorded_interactions() -> tuple[Recorded, ...]:
    """Every cassette interaction whose response body is JSON."""
    out: list[Recorded] = []
    for path in sorted(cassette_dir().glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for it in data.get("interactions", ()):
            req, resp = it.get("request", {}), it.get("response", {})
            raw = (resp.get("body") or {}).get("string")
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8")
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                continue  # e.g. the text/plain "400 Bad Request" from mock.httpstatus.io
            if not isinstance(body, dict):
                continue
            out.append(
                Recorded(
                    path.name,
                    req.get("method", ""),
                    req.get("uri", ""),
                    int(resp.get("status", {}).get("code", 0)),
                    body,
                )
            )
    if not out:
        raise RuntimeError(f"no JSON responses found in {cassette_dir()}")
    return tuple(out)


def _kind_of(obj: dict) -> str | None:
    kind = obj.get("object")
    return kind if isinstance(kind, str) else None


@cache
def recorded_objects() -> dict[str, tuple[dict, ...]]:
    """Real objects by kind.  Top-level bodies plus the elements of list ``results``
    (with the top-level-only ``request_id`` removed so kinds compare equal)."""
    by_kind: dict[str, list[dict]] = {}
    for rec in recorded_interactions():
        body = rec.body
        kind = _kind_of(body)
        if kind is None:
            continue
        by_kind.setdefault(kind, []).append(_strip_request_id(body))
        if kind == "list":
            for item in body.get("results") or ():
                if isinstance(item, dict) and _kind_of(item):
                    by_kind.setdefault(_kind_of(item), []).append(item)
    return {k: tuple(v) for k, v in by_kind.items()}


def recorded(kind: str) -> tuple[dict, ...]:
    objs = recorded_objects().get(kind)
    if not objs:
        raise KeyError(
            f"no recorded real Notion object of kind {kind!r} (have: {', '.join(sorted(recorded_objects()))})"
        )
    return objs


def _strip_request_id(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k != "request_id"}


# --------------------------------------------------------------------------- string classes

_STRING_CLASSES = (
    ("uuid", re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")),
    ("time:minute-Z", re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\.000Z$")),
    ("time:ms-Z", re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")),
    ("time:ms-+00:00", re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$")),
)
# formats worth enforcing when every recorded sample has them; "time:minute-Z" values
# are also "time:ms-Z" — the narrower class wins when all samples are in it.
_CLASS_DESCRIPTIONS = {
    "uuid": "a dashed lowercase UUID like 393abc1e-edcd-81f5-ae94-ec2d55fe98ed",
    "time:minute-Z": "a timestamp rounded to the minute like 2026-07-04T09:08:00.000Z",
    "time:ms-Z": "a timestamp like 2026-07-04T09:08:57.778Z",
    "time:ms-+00:00": "a timestamp like 2026-07-04T09:08:57.778+00:00",
}


def string_classes(value: str) -> frozenset[str]:
    return frozenset(name for name, rx in _STRING_CLASSES if rx.match(value)) or frozenset({"other"})


# --------------------------------------------------------------------------- shapes


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class Shape:
    """Merged structural signature of one or more sample values."""

    __slots__ = ("types", "samples", "keys", "key_counts", "items", "variants", "str_classes")

    def __init__(self) -> None:
        self.types: set[str] = set()
        self.samples = 0  # number of object samples
        self.keys: dict[str, Shape] = {}
        self.key_counts: Counter[str] = Counter()
        self.items: Shape | None = None
        self.variants: dict[str, Shape] = {}  # by the object's "type" value
        self.str_classes: list[frozenset[str]] = []

    def add(self, value: Any, _variants: bool = True) -> Shape:
        t = json_type(value)
        self.types.add(t)
        if t == "object":
            self.samples += 1
            for k, v in value.items():
                self.key_counts[k] += 1
                self.keys.setdefault(k, Shape()).add(v)
            disc = value.get("type")
            if _variants and isinstance(disc, str):
                self.variants.setdefault(disc, Shape()).add(value, _variants=False)
        elif t == "array":
            for v in value:
                (self.items or self._new_items()).add(v)
        elif t == "string":
            self.str_classes.append(string_classes(value))
        return self

    def _new_items(self) -> Shape:
        self.items = Shape()
        return self.items

    @property
    def required(self) -> list[str]:
        return [k for k, c in self.key_counts.items() if c == self.samples]

    def string_format(self) -> str | None:
        """A notable format shared by every recorded string sample, if any."""
        if not self.str_classes:
            return None
        common = frozenset.intersection(*self.str_classes) - {"other"}
        if not common:
            return None
        for name, _ in _STRING_CLASSES:  # most specific first
            if name in common and name != "time:ms-Z":
                return name
        return "time:ms-Z" if "time:ms-Z" in common else None

    def signature(self) -> Any:
        """Plain-data rendering (for debugging / snapshotting)."""
        out: dict[str, Any] = {"types": sorted(self.types)}
        if self.keys:
            out["keys"] = {
                k: {**s.signature(), **({"optional": True} if self.key_counts[k] < self.samples else {})}
                for k, s in sorted(self.keys.items())
            }
        if self.items is not None:
            out["items"] = self.items.signature()
        fmt = self.string_format()
        if fmt:
            out["format"] = fmt
        return out


def shape_of(obj: Any, *more: Any) -> Shape:
    """Structural signature: keys -> value types recursively; lists by the union of
    their elements' shapes; several samples merge (keys present in all = required)."""
    s = Shape()
    for o in (obj, *more):
        s.add(o)
    return s


# Keys whose object values are keyed by user data, not by the API schema: key
# comparison stops there (values are checked by the TypeScript types instead).
_DATA_KEYED = {"properties"}


def compare_shape(
    reference: Shape, actual: Any, path: str = "", *, data_keyed: Iterable[str] = _DATA_KEYED
) -> list[str]:
    """Differences between ``actual`` and a reference shape: missing required keys,
    JSON type mismatches, string-format mismatches.  Extra keys are allowed."""
    data_keyed = frozenset(data_keyed)
    errors: list[str] = []

    def walk(ref: Shape, val: Any, p: str, key: str | None) -> None:
        t = json_type(val)
        if ref.types == {"null"}:
            return  # only ever recorded as null: its non-null shape is unknown here
        if t not in ref.types:
            errors.append(
                f"{p or '/'}: {t} where real Notion has {'/'.join(sorted(ref.types))} ({_short(val)})"
            )
            return
        if t == "string":
            fmt = ref.string_format()
            if fmt and fmt not in string_classes(val):
                errors.append(f"{p}: {val!r} is not {_CLASS_DESCRIPTIONS[fmt]} (as real Notion sends)")
        elif t == "object":
            if key in data_keyed:
                return
            disc = val.get("type")
            if isinstance(disc, str) and disc in ref.variants:
                obj_ref = ref.variants[disc]  # this variant was recorded: compare with it
            else:
                # no variants, or a variant never recorded (e.g. a data_source_id
                # parent, a select property item): only the keys every recorded sample
                # has, minus the type-named payload keys of the recorded variants
                # ({"type": "title", "title": …} does not make "title" universal)
                obj_ref = ref
            required = (
                obj_ref.required if obj_ref is not ref else [k for k in ref.required if k not in ref.variants]
            )
            for k in required:
                if k not in val:
                    errors.append(f"{p}/{k}: missing (every recorded real object has it)")
            for k, v in val.items():
                sub = obj_ref.keys.get(k)
                if sub is not None and sub.types == {"null"} and k in ref.keys:
                    sub = ref.keys[k]  # this variant only recorded null: use all variants
                if sub is not None:
                    walk(sub, v, f"{p}/{k}", k)
        elif t == "array" and ref.items is not None:
            for i, v in enumerate(val):
                walk(ref.items, v, f"{p}/{i}", None)

    walk(reference, actual, path, None)
    return errors


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@cache
def reference_shape(kind: str) -> Shape:
    return shape_of(*recorded(kind))


@cache
def _list_envelope_shape() -> Shape:
    return shape_of(*({k: v for k, v in obj.items() if k != "results"} for obj in recorded("list")))


def check_shape(kind: str, actual: Any, *, top_level: bool = False) -> list[str]:
    """Compare ``actual`` with the recorded real objects of ``kind``.

    ``top_level=True`` (a whole response body) also requires ``request_id`` (UUID),
    as every recorded real response has one.  For ``kind="list"`` the envelope is
    compared and each result is then checked against the recorded shape of its own
    ``object`` kind (when real objects of that kind were recorded).
    """
    errors: list[str] = []
    if not isinstance(actual, dict):
        return [f"/: {json_type(actual)} where real Notion sends an object"]
    if top_level:
        rid = actual.get("request_id")
        if rid is None:
            errors.append("/request_id: missing (every real Notion response body has one)")
        elif not isinstance(rid, str) or "uuid" not in string_classes(rid):
            errors.append(f"/request_id: {rid!r} is not a UUID")
    if actual.get("object") != kind:
        errors.append(f"/object: {actual.get('object')!r}, expected {kind!r}")
    body = _strip_request_id(actual)
    if kind == "list":
        results = body.get("results")
        envelope = {k: v for k, v in body.items() if k != "results"}
        errors.extend(compare_shape(_list_envelope_shape(), envelope))
        if "results" not in body:
            errors.append("/results: missing (every recorded real object has it)")
        elif not isinstance(results, list):
            errors.append(f"/results: {json_type(results)} where real Notion has array")
        else:
            for i, item in enumerate(results):
                item_kind = _kind_of(item) if isinstance(item, dict) else None
                if item_kind and item_kind in recorded_objects():
                    errors.extend(compare_shape(reference_shape(item_kind), item, f"/results/{i}"))
                elif not isinstance(item, dict):
                    errors.append(f"/results/{i}: {json_type(item)} where real Notion has object")
        return errors
    errors.extend(compare_shape(reference_shape(kind), body))
    return errors


# --------------------------------------------------------------------------- TS types + OpenAPI

# Full object types (NOT the Partial… unions of the endpoint response types).
TS_TYPES = {
    "page": "PageObjectResponse",
    "database": "DatabaseObjectResponse",
    "data_source": "DataSourceObjectResponse",
    "user": "UserObjectResponse",
    "block": "BlockObjectResponse",
    "comment": "CommentObjectResponse",
    "property_item": "PropertyItemObjectResponse",
}
TS_LIST_TYPES = {
    "page_or_data_source": "QueryDataSourceResponse",
    "property_item": "PropertyItemListResponse",
    "user": "ListUsersResponse",
    "block": "ListBlockChildrenResponse",
    "comment": "ListCommentsResponse",
}


def check_ts(actual: Any) -> list[str]:
    """Validate against Notion's generated TypeScript type for the object's kind;
    list results are each validated against their FULL object type."""
    if not isinstance(actual, dict):
        return [f"/: {json_type(actual)} is not an object"]
    kind = _kind_of(actual)
    types = notion_types()
    if kind == "error":
        return []  # no error type in the generated endpoint files; see check_shape/validate_error_body
    if kind == "list":
        name = TS_LIST_TYPES.get(actual.get("type"))
        if name is None:
            return [f"/type: list type {actual.get('type')!r} has no TypeScript list type mapped"]
        errors = types.validate(name, actual)
        for i, item in enumerate(actual.get("results") or ()):
            item_kind = _kind_of(item) if isinstance(item, dict) else None
            if item_kind in TS_TYPES:
                errors.extend(
                    f"/results/{i}{e[1:] if e.startswith('/:') else e}"
                    for e in types.validate(TS_TYPES[item_kind], item)
                )
        return list(dict.fromkeys(errors))
    if kind not in TS_TYPES:
        return [f"/object: {kind!r} has no TypeScript type mapped"]
    return types.validate(TS_TYPES[kind], actual)


def check_notion_response(
    method: str,
    path: str,
    status: int,
    body: Any,
    content_type: str | None = None,
    *,
    expect_kind: str | None = None,
) -> list[str]:
    """All Notion checks for one response body (see module docstring)."""
    errors: list[str] = []
    if content_type is not None and "json" not in content_type.lower():
        errors.append(f"/: Content-Type {content_type!r} is not JSON")
    if not isinstance(body, dict):
        return errors + [f"/: {json_type(body)} body where real Notion sends an object"]
    kind = _kind_of(body)
    if expect_kind is not None and kind != expect_kind:
        errors.append(f"/object: {kind!r}, expected {expect_kind!r}")
    if status >= 400:
        if spec_documents(method, path, status):  # the partial spec has 400 on every path
            errors.extend(validate_response("notion", method, path, status, body, content_type))
        errors.extend(validate_error_body("notion", status, body))
        errors.extend(check_shape("error", body, top_level=True))
        return list(dict.fromkeys(errors))
    # OpenAPI layer: only where the partial spec documents this path and status.
    try:
        errors.extend(validate_response("notion", method, path, status, body, content_type))
    except SpecLookupError as exc:
        errors.append(f"(spec) {exc}")
    if kind in recorded_objects():
        errors.extend(check_shape(kind, body, top_level=True))
    else:
        errors.append(f"/object: no recorded real Notion object of kind {kind!r} to compare with")
    errors.extend(check_ts(body))
    return list(dict.fromkeys(errors))


def spec_documents(method: str, path: str, status: int) -> bool:
    """Whether the partial Notion OpenAPI document has this path+status."""
    try:
        load_spec("notion").response(method, path, status)
        return True
    except SpecLookupError:
        return False
