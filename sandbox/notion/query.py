"""Data source query filters and sorts, compiled to Python functions.

Timestamp filters compare against what the API shows: ``last_edited_time``
and ``created_time`` rounded down to the minute — so ``on_or_after 10:05:30``
does not match a page edited at 10:05:45 (shown as 10:05:00), which is why
relais must overlap its watermark.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ..timeutil import UTC, floor_minute, parse_iso
from .schema import Property, ValidationError, plain

Predicate = Callable[[dict[str, Any]], bool]
DATE_OPS = ("equals", "before", "after", "on_or_before", "on_or_after", "is_empty", "is_not_empty")


def _stamp(rec: dict[str, Any], which: str) -> datetime:
    return floor_minute(rec["created"] if which == "created_time" else rec["edited"])


def _parse_when(value: Any, where: str) -> tuple[datetime, bool]:
    if not isinstance(value, str):
        raise ValidationError(
            f"body failed validation: {where} should be a valid ISO 8601 date string, "
            f"instead was `{value!r}`."
        )
    try:
        return parse_iso(value, UTC), len(value.strip()) == 10
    except ValueError:
        raise ValidationError(
            f"body failed validation: {where} should be a valid ISO 8601 date string, "
            f"instead was `{value!r}`."
        ) from None


def _date_predicate(
    get: Callable[[dict[str, Any]], datetime | None], condition: Any, where: str
) -> Predicate:
    if not isinstance(condition, dict) or len(condition) != 1:
        raise ValidationError(f"body failed validation: {where} should have exactly one condition.")
    op, value = next(iter(condition.items()))
    if op not in DATE_OPS:
        raise ValidationError(f"body failed validation: {where}.{op} is not a supported date condition.")
    if op == "is_empty":
        return lambda rec: get(rec) is None
    if op == "is_not_empty":
        return lambda rec: get(rec) is not None
    when, date_only = _parse_when(value, f"{where}.{op}")
    day_end = when + timedelta(days=1)

    def check(rec: dict[str, Any]) -> bool:
        v = get(rec)
        if v is None:
            return False
        if op == "equals":
            return when <= v < day_end if date_only else v == when
        if op == "before":
            return v < when
        if op == "after":
            return v >= day_end if date_only else v > when
        if op == "on_or_before":
            return v < day_end if date_only else v <= when
        return v >= when  # on_or_after

    return check


def _property_predicate(prop: Property, condition: Any, where: str) -> Predicate:
    if not isinstance(condition, dict) or len(condition) != 1:
        raise ValidationError(f"body failed validation: {where} should have exactly one condition.")
    op, value = next(iter(condition.items()))
    t = prop.type
    name = prop.name

    def get(rec: dict[str, Any]) -> Any:
        return plain(prop, rec["values"].get(name))

    if op == "is_empty":
        return lambda rec: get(rec) in (None, "", [])
    if op == "is_not_empty":
        return lambda rec: get(rec) not in (None, "", [])
    if t in ("title", "rich_text"):
        needle = str(value).lower()
        ops: dict[str, Callable[[str], bool]] = {
            "equals": lambda s: s.lower() == needle,
            "does_not_equal": lambda s: s.lower() != needle,
            "contains": lambda s: needle in s.lower(),
            "does_not_contain": lambda s: needle not in s.lower(),
            "starts_with": lambda s: s.lower().startswith(needle),
            "ends_with": lambda s: s.lower().endswith(needle),
        }
        if op in ops:
            test = ops[op]
            return lambda rec: test(get(rec) or "")
    elif t in ("select", "status"):
        if op == "equals":
            return lambda rec: get(rec) == value
        if op == "does_not_equal":
            return lambda rec: get(rec) != value
    elif t in ("multi_select", "people", "relation"):
        if op == "contains":
            return lambda rec: value in (get(rec) or [])
        if op == "does_not_contain":
            return lambda rec: value not in (get(rec) or [])
    elif t == "number":
        compare = {
            "equals": lambda a: a == value,
            "does_not_equal": lambda a: a != value,
            "greater_than": lambda a: a > value,
            "less_than": lambda a: a < value,
            "greater_than_or_equal_to": lambda a: a >= value,
            "less_than_or_equal_to": lambda a: a <= value,
        }
        if op in compare:
            test = compare[op]
            return lambda rec: get(rec) is not None and test(get(rec))
    elif t == "checkbox":
        if op in ("equals", "does_not_equal"):
            return lambda rec: (bool(get(rec)) == value) == (op == "equals")
    elif t == "date":

        def start(rec: dict[str, Any]) -> datetime | None:
            v = get(rec)
            return parse_iso(v["start"], UTC) if v else None

        return _date_predicate(start, condition, where)
    raise ValidationError(f"body failed validation: {where}.{op} is not a supported {t} filter condition.")


def compile_filter(
    spec: Any, schema: dict[str, Property], where: str = "body.filter", depth: int = 0
) -> Predicate:
    if not isinstance(spec, dict):
        raise ValidationError(f"body failed validation: {where} should be an object, instead was `{spec!r}`.")
    for combinator in ("and", "or"):
        if combinator in spec:
            parts = spec[combinator]
            if depth >= 2:
                raise ValidationError(
                    f"body failed validation: {where} nests compound filters deeper than 2."
                )
            if not isinstance(parts, list):
                raise ValidationError(f"body failed validation: {where}.{combinator} should be an array.")
            preds = [
                compile_filter(p, schema, f"{where}.{combinator}[{i}]", depth + 1)
                for i, p in enumerate(parts)
            ]
            if combinator == "and":
                return lambda rec: all(p(rec) for p in preds)
            return lambda rec: any(p(rec) for p in preds)
    if "timestamp" in spec:
        which = spec["timestamp"]
        if which not in ("created_time", "last_edited_time") or which not in spec:
            raise ValidationError(
                f"body failed validation: {where}.timestamp should be `created_time` or "
                f"`last_edited_time` with a matching condition object."
            )
        return _date_predicate(lambda rec: _stamp(rec, which), spec[which], f"{where}.{which}")
    key = spec.get("property")
    if not isinstance(key, str):
        raise ValidationError(f"body failed validation: {where} should define `property` or `timestamp`.")
    prop = schema.get(key) or next((p for p in schema.values() if p.id == key), None)
    if prop is None:
        raise ValidationError(f"Could not find property with name or id: {key}")
    kinds = [k for k in spec if k not in ("property", "type")]
    if kinds != [prop.type] and not (
        prop.type in ("title", "rich_text") and kinds in (["rich_text"], ["title"])
    ):
        raise ValidationError(
            f"database property {prop.type} does not match filter {kinds[0] if kinds else None}"
        )
    return _property_predicate(prop, spec[kinds[0]], f"{where}.{kinds[0]}")


def sort_records(
    records: list[dict[str, Any]], sorts: Any, schema: dict[str, Property]
) -> list[dict[str, Any]]:
    if sorts is None:
        sorts = [{"timestamp": "created_time", "direction": "descending"}]
    if not isinstance(sorts, list):
        raise ValidationError("body failed validation: body.sorts should be an array.")
    ordered = sorted(records, key=lambda r: r["id"])
    for i, spec in reversed(list(enumerate(sorts))):
        if not isinstance(spec, dict) or spec.get("direction") not in ("ascending", "descending"):
            raise ValidationError(
                f"body failed validation: body.sorts[{i}].direction should be `ascending` or `descending`."
            )
        reverse = spec["direction"] == "descending"
        if "timestamp" in spec:
            which = spec["timestamp"]
            if which not in ("created_time", "last_edited_time"):
                raise ValidationError(f"body failed validation: body.sorts[{i}].timestamp is invalid.")
            field = "created" if which == "created_time" else "edited"
            ordered.sort(key=lambda r: r[field], reverse=reverse)
            continue
        prop = schema.get(spec.get("property") or "") or next(
            (p for p in schema.values() if p.id == spec.get("property")), None
        )
        if prop is None:
            raise ValidationError(f"Could not find sort property with name or id: {spec.get('property')}")
        order = {o["name"]: n for n, o in enumerate(prop.options)}

        def key(rec: dict[str, Any], prop: Property = prop, order: dict[str, int] = order) -> Any:
            value = plain(prop, rec["values"].get(prop.name))
            if prop.type in ("select", "status"):
                value = order.get(value) if value is not None else None
            elif isinstance(value, list):
                value = len(value)
            elif isinstance(value, dict):
                value = value.get("start")
            elif isinstance(value, str):
                value = value.lower()
            return (value is None or value == "", value if value not in (None, "") else 0)

        ordered.sort(key=key, reverse=reverse)
    return ordered
