"""Notion data source schemas and property values: read shape out, write shape in.

Page property values are stored compactly (text segments, option ids, user
ids, page ids) and rendered in the 2025-09-03 response shapes of
``notion-api-endpoints/api-endpoints/common.ts``. Writes arrive in the request
shapes of ``pages.ts`` (``{"select": {"name": …}}`` …) and are validated the way
Notion does: unknown select names add an option, unknown status names are a
``validation_error``, limits from developers.notion.com/reference/request-limits.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from ..timeutil import parse_iso

COLORS = ["default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red"]
TEXT_LIMIT = 2000
ARRAY_LIMIT = 100
PAGINATED = {"title", "rich_text", "relation", "people"}
REFERENCE_LIMIT = 25  # relation/people entries shown on a page object


class ValidationError(ValueError):
    """400 ``validation_error`` with Notion's message."""


@dataclass
class Property:
    name: str
    id: str
    type: str
    options: list[dict[str, Any]] = field(default_factory=list)  # select / multi_select / status
    groups: list[dict[str, Any]] = field(default_factory=list)  # status
    relation: dict[str, str] = field(default_factory=dict)  # database_id / data_source_id
    number_format: str = "number"  # number: how Notion shows it ("percent": 0.494 shows as 49.4 %)

    def option(self, *, name: str | None = None, oid: str | None = None) -> dict[str, Any] | None:
        return next(
            (
                o
                for o in self.options
                if (oid is not None and o["id"] == oid) or (name is not None and o["name"] == name)
            ),
            None,
        )

    def config(self) -> dict[str, Any]:
        if self.type in ("select", "multi_select"):
            body: dict[str, Any] = {"options": [dict(o) for o in self.options]}
        elif self.type == "status":
            body = {"options": [dict(o) for o in self.options], "groups": [dict(g) for g in self.groups]}
        elif self.type == "relation":
            body = {
                "database_id": self.relation["database_id"],
                "data_source_id": self.relation["data_source_id"],
                "type": "single_property",
                "single_property": {},
            }
        elif self.type == "number":
            body = {"format": self.number_format}
        else:
            body = {}
        return {"id": self.id, "name": self.name, "description": None, "type": self.type, self.type: body}


def short_id(rng: random.Random) -> str:
    return "".join(
        rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(4)
    )


def make_options(rng: random.Random, names: list[str]) -> list[dict[str, Any]]:
    return [
        {"id": short_id(rng), "name": n, "color": COLORS[(i + 3) % len(COLORS)], "description": None}
        for i, n in enumerate(names)
    ]


def rich_text(segments: list[str], *, title: bool = False) -> list[dict[str, Any]]:
    return [
        {
            "type": "text",
            "text": {"content": s, "link": None},
            "annotations": {
                "bold": False,
                "italic": False,
                "strikethrough": False,
                "underline": False,
                "code": False,
                "color": "default",
            },
            "plain_text": s,
            "href": None,
        }
        for s in segments
    ]


def split_text(text: str) -> list[str]:
    """Store long text the way a client must send it: ≤2000 characters per item."""
    return [text[i : i + TEXT_LIMIT] for i in range(0, len(text), TEXT_LIMIT)] or []


def empty_value(prop: Property) -> Any:
    return (
        []
        if prop.type in ("title", "rich_text", "multi_select", "people", "relation")
        else (False if prop.type == "checkbox" else None)
    )


def render_value(prop: Property, value: Any, users: dict[str, dict[str, Any]]) -> dict[str, Any]:
    t = prop.type
    out: dict[str, Any] = {"id": prop.id, "type": t}
    if t in ("title", "rich_text"):
        out[t] = rich_text(value or [])
    elif t in ("select", "status"):
        opt = prop.option(oid=value) if value else None
        out[t] = {"id": opt["id"], "name": opt["name"], "color": opt["color"]} if opt else None
    elif t == "multi_select":
        out[t] = [
            {"id": o["id"], "name": o["name"], "color": o["color"]}
            for o in (prop.option(oid=v) for v in value or [])
            if o
        ]
    elif t == "people":
        out[t] = [users.get(u, {"object": "user", "id": u}) for u in (value or [])[:REFERENCE_LIMIT]]
    elif t == "relation":
        out[t] = [{"id": pid} for pid in (value or [])[:REFERENCE_LIMIT]]
        out["has_more"] = len(value or []) > REFERENCE_LIMIT
    else:
        out[t] = value
    return out


def plain(prop: Property, value: Any) -> Any:
    """A comparable plain value (for filters and sorts)."""
    if prop.type in ("title", "rich_text"):
        return "".join(value or [])
    if prop.type in ("select", "status"):
        opt = prop.option(oid=value) if value else None
        return opt["name"] if opt else None
    if prop.type == "multi_select":
        return [o["name"] for o in (prop.option(oid=v) for v in value or []) if o]
    return value


def _bounded_list(prop: Property, items: Any) -> list[Any]:
    """A list value as Notion takes it: a list, of at most ARRAY_LIMIT items."""
    if not isinstance(items, list):
        raise ValidationError(f"{prop.name} is expected to be {prop.type}.")
    if len(items) > ARRAY_LIMIT:
        raise ValidationError(
            f"body failed validation: body.properties.{prop.name}.{prop.type}.length should be "
            f"≤ `{ARRAY_LIMIT}`, instead was `{len(items)}`."
        )
    return items


def _text(prop: Property, items: Any) -> list[str]:
    out = []
    for i, item in enumerate(_bounded_list(prop, items)):
        if not isinstance(item, dict):
            raise ValidationError(
                f"body failed validation: body.properties.{prop.name}.{prop.type}[{i}] should be "
                f"an object, instead was `{item!r}`."
            )
        kind = item.get("type", "text")
        if kind == "text":
            content = (item.get("text") or {}).get("content")
        elif kind in ("mention", "equation"):
            content = item.get("plain_text") or (item.get("equation") or {}).get("expression", "")
        else:
            content = None
        if not isinstance(content, str):
            raise ValidationError(
                f"body failed validation: body.properties.{prop.name}.{prop.type}[{i}].text."
                "content should be defined, instead was `undefined`."
            )
        if len(content) > TEXT_LIMIT:
            raise ValidationError(
                f"body failed validation: body.properties.{prop.name}.{prop.type}[{i}].text."
                f"content.length should be ≤ `{TEXT_LIMIT}`, instead was `{len(content)}`."
            )
        out.append(content)
    return out


def _pick_option(prop: Property, value: Any, rng: random.Random, *, may_create: bool) -> str:
    if not isinstance(value, dict) or not ("name" in value or "id" in value):
        raise ValidationError(
            f"body failed validation: body.properties.{prop.name}.{prop.type} should be an "
            f"object or `null`, instead was `{value!r}`."
        )
    if value.get("id") is not None:
        opt = prop.option(oid=str(value["id"]))
        if opt is None:
            raise ValidationError(
                f'Invalid {prop.type} option id "{value["id"]}" for property "{prop.name}".'
            )
        return opt["id"]
    name = str(value["name"]).strip()
    opt = prop.option(name=name)
    if opt is not None:
        return opt["id"]
    if not may_create:
        raise ValidationError(f'Invalid status option. Status option "{name}" does not exist.')
    if "," in name:
        raise ValidationError(f"Invalid {prop.type} option, commas not allowed: {name}")
    if len(name) > 100:
        raise ValidationError(f"{prop.type} option names must be at most 100 characters.")
    opt = {"id": short_id(rng), "name": name, "color": rng.choice(COLORS), "description": None}
    prop.options.append(opt)  # like Notion: writing an unknown select name adds the option
    return opt["id"]


def _iso_date(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    try:
        parse_iso(text)
    except ValueError:
        return False
    return True


def parse_value(prop: Property, raw: Any, rng: random.Random, users: set[str], pages_in: Any) -> Any:
    """Validate one property write (request shape) and return the compact value.

    ``pages_in(data_source_id, page_id) -> bool`` checks relation targets.
    """
    if not isinstance(raw, dict):
        raise ValidationError(f"{prop.name} is expected to be {prop.type}.")
    declared = raw.get("type")
    if declared is not None and declared != prop.type:
        raise ValidationError(f"{prop.name} is expected to be {prop.type}.")
    if prop.type not in raw:
        raise ValidationError(f"{prop.name} is expected to be {prop.type}.")
    value = raw[prop.type]
    t = prop.type
    if t in ("title", "rich_text"):
        return _text(prop, value)
    if t in ("select", "status"):
        return None if value is None else _pick_option(prop, value, rng, may_create=(t == "select"))
    if t == "multi_select":
        return list(
            dict.fromkeys(_pick_option(prop, v, rng, may_create=True) for v in _bounded_list(prop, value))
        )
    if t in ("people", "relation"):
        if not isinstance(value, list) or not all(isinstance(v, dict) and v.get("id") for v in value):
            raise ValidationError(f"{prop.name} is expected to be {t}.")
        if len(value) > ARRAY_LIMIT:
            raise ValidationError(
                f"body failed validation: body.properties.{prop.name}.{t}.length should be "
                f"≤ `{ARRAY_LIMIT}`, instead was `{len(value)}`."
            )
        ids = list(dict.fromkeys(str(v["id"]) for v in value))
        for i in ids:
            if t == "people" and i not in users:
                raise ValidationError(f"Could not find user with ID: {i}.")
            if t == "relation" and not pages_in(prop.relation["data_source_id"], i):
                raise ValidationError(
                    f"Relation {prop.name}: could not find page with ID {i} in the related data source."
                )
        return ids
    if t == "number":
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
        ):
            raise ValidationError(f"{prop.name} is expected to be number.")
        return value
    if t == "checkbox":
        if not isinstance(value, bool):
            raise ValidationError(f"{prop.name} is expected to be checkbox.")
        return value
    if t == "url":
        if value is not None and (not isinstance(value, str) or len(value) > 2000):
            raise ValidationError(f"{prop.name} is expected to be url.")
        return value
    if t == "date":
        if value is not None and (not isinstance(value, dict) or not isinstance(value.get("start"), str)):
            raise ValidationError(f"{prop.name} is expected to be date.")
        if value is None:
            return None
        for key in ("start", "end"):
            if value.get(key) is not None and not _iso_date(value[key]):
                raise ValidationError(
                    f"body failed validation: body.properties.{prop.name}.date.{key} should be a "
                    f"valid ISO 8601 date string, instead was `{value[key]!r}`."
                )
        return {"start": value["start"], "end": value.get("end"), "time_zone": value.get("time_zone")}
    raise ValidationError(f"{prop.name} is a {t} property, which cannot be written.")
