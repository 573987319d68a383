"""Pydantic validation errors → ConfigProblems an operator can act on.

Each error's ``loc`` is mapped back onto the YAML document (dropping union tags
such as ``rule``), pointed at the line of the nearest node that exists, and
phrased "expected …, found …" with the found value's YAML type. Unknown keys
get a did-you-mean against the keys valid at that level.
"""

from __future__ import annotations

import datetime as dt
import types
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ._errors import ConfigProblem, format_path
from ._route import RouteFallback, RouteRule
from ._rules import DefaultRule, Rule, When
from ._secretlike import looks_like_secret
from ._types import closest, quoted, suggest
from ._yaml import Document

_TYPE_EXPECTED = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "path_type": "a file path",
    "enum": "one of {expected}",
    "literal_error": "one of {expected}",
}
_MAPPING_NOUN = {
    "When": "a mapping of conditions, such as {source: pagerduty}",
    "SetMatch": "a list, or a mapping with any/all/none",
    "TextMatch": "a string, or a mapping with contains_any/contains_all/matches",
}
_RANGE_TYPES = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def problems_from_errors(errors: list[Any], doc: Document, model: type[BaseModel]) -> list[ConfigProblem]:
    """One problem per pydantic error (``ValidationError.errors()``)."""
    problems = []
    errors = _without_echoes(errors, model)
    for detail in errors:
        try:
            problems.append(_problem(detail, doc, model))
        except Exception:  # a message we cannot phrase is still a problem at a place
            path = tuple(p for p in detail.get("loc", ()) if isinstance(p, (str, int)))
            problems.append(ConfigProblem(doc.file, doc.line_of(path), format_path(path), "invalid value"))
    return problems


def _problem(detail: dict[str, Any], doc: Document, model: type[BaseModel]) -> ConfigProblem:
    kind = detail["type"]
    loc = tuple(detail["loc"])
    ctx = detail.get("ctx") or {}
    if kind == "extra_forbidden":
        parent_path, parent, _ = _walk(model, loc[:-1])
        path = parent_path + (loc[-1],)
        message = _unknown_key(str(loc[-1]), parent)
    else:
        path, _, field = _walk(model, loc)
        message = _message(kind, detail, ctx, path, doc, field)
    return ConfigProblem(doc.file, doc.line_of(path), format_path(path), message)


def _without_echoes(errors: list[Any], model: type[BaseModel]) -> list[Any]:
    """Drop "missing 'classify'" when a sibling "unknown key 'clasify'" already points at it."""
    suggested = set()
    misspelt_defaults = set()  # `- defaul: BUILD` is not a rule missing name/when/then (nor `- fallbak:`)
    for detail in errors:
        if detail["type"] == "extra_forbidden":
            parent_path, parent, _ = _walk(model, tuple(detail["loc"])[:-1])
            if isinstance(parent, type) and issubclass(parent, BaseModel):
                match = closest(str(detail["loc"][-1]), _valid_keys(parent))
                if match in ("default", "fallback"):
                    misspelt_defaults.add(parent_path)
                elif match:
                    suggested.add(parent_path + (match,))
    kept = []
    for detail in errors:
        if detail["type"] == "missing":
            path = _walk(model, tuple(detail["loc"]))[0]
            if path in suggested or path[:-1] in misspelt_defaults:
                continue
        kept.append(detail)
    return kept


def _valid_keys(model: type[BaseModel]) -> list[str]:
    if model in (Rule, DefaultRule):  # a classify entry is either kind
        return ["name", "when", "then", "default"]
    if model in (RouteRule, RouteFallback):  # so is a route entry
        return [*RouteRule.model_fields, "fallback"]
    return [f.alias or name for name, f in model.model_fields.items()]


def _message(kind: str, detail: dict, ctx: dict, path: tuple, doc: Document, field: FieldInfo | None) -> str:
    value = detail.get("input")
    found = describe(value, doc.spelling.get(path))
    if kind == "missing":
        return f"missing required key '{path[-1]}'" if path else "missing required key"
    if kind == "relais":
        return str(ctx.get("message", detail["msg"]))
    if kind == "expected":
        hint = f"; {ctx['hint']}" if ctx.get("hint") else ""
        return f"expected {ctx.get('what', 'another value')}, found {found}{hint}"
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    if kind in _TYPE_EXPECTED:
        what = _TYPE_EXPECTED[kind].format(expected=ctx.get("expected", "the listed values"))
        if kind == "model_type" and ctx.get("class_name") in _MAPPING_NOUN:
            what = _MAPPING_NOUN[ctx["class_name"]]
        message = f"expected {what}, found {found}"
        if kind == "string_type" and isinstance(value, bool | int | float) and path in doc.spelling:
            message += f'; quote it ("{doc.spelling[path]}") if you meant the text'
        return message
    if kind in _RANGE_TYPES:
        return f"expected {_range(field, ctx)}, found {found}"
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        return "must not be empty" if least == 1 else f"expected at least {least} items, found {found}"
    if kind == "string_too_short":
        return "must not be empty"
    text = str(detail.get("msg", "invalid value"))
    return f"{text[:1].lower()}{text[1:]}, found {found}"


def describe(value: Any, spelling: str | None = None) -> str:
    """The found value as a YAML user sees it: ``an integer (3)``, ``a string ('five')``."""
    if looks_like_secret(value):
        return "a value that looks like a secret (not shown)"
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"a boolean ({spelling or str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({spelling or value})"
    if isinstance(value, str):
        return f"a string ({quoted(value)})" if value else "an empty string"
    if isinstance(value, dt.datetime | dt.date):
        return f"a date ({spelling or value.isoformat()})"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    return f"a {type(value).__name__}"


def _unknown_key(key: str, parent: Any) -> str:
    shown = "(a name that looks like a secret)" if looks_like_secret(key) else f"'{key}'"
    if not (isinstance(parent, type) and issubclass(parent, BaseModel)):
        return f"unknown key {shown}"
    valid = _valid_keys(parent)
    own = [f.alias or name for name, f in parent.model_fields.items()]
    if key in valid and key not in own:  # a key of the other kind of entry: `- {default: BUILD, name: x}`
        return f"unknown key {shown}; expected one of: {', '.join(own)}"
    noun = "condition" if parent is When else "key"
    hint = suggest(key, valid) if shown.startswith("'") else ""
    if hint:
        return f"unknown {noun} {shown}{hint}"
    return f"unknown {noun} {shown}; expected one of: {', '.join(valid)}"


def _range(field: FieldInfo | None, ctx: dict) -> str:
    low: Any = None
    high: Any = None
    low_open = high_open = False
    for bound in field.metadata if field else ():
        if isinstance(bound, annotated_types.Ge):
            low = bound.ge
        elif isinstance(bound, annotated_types.Gt):
            low, low_open = bound.gt, True
        elif isinstance(bound, annotated_types.Le):
            high = bound.le
        elif isinstance(bound, annotated_types.Lt):
            high, high_open = bound.lt, True
    for key in ("ge", "gt", "le", "lt"):  # the bound that failed, if metadata did not say
        if key in ctx and low is None and key[0] == "g":
            low, low_open = ctx[key], key == "gt"
        if key in ctx and high is None and key[0] == "l":
            high, high_open = ctx[key], key == "lt"
    if low is not None and high is not None and not low_open and not high_open:
        return f"a value from {low} to {high}"
    parts = []
    if low is not None:
        parts.append(f"{'above' if low_open else 'at least'} {low}")
    if high is not None:
        parts.append(f"{'below' if high_open else 'at most'} {high}")
    return "a value " + " and ".join(parts)


# --------------------------------------------------- loc → document path ---


def _walk(model: type[BaseModel], loc: tuple) -> tuple[tuple, Any, FieldInfo | None]:
    """Follow ``loc`` through the model's types.

    Returns the document path (union tags dropped), the type reached, and the
    last field passed (for its constraints).
    """
    current: Any = model
    path: list[Any] = []
    field: FieldInfo | None = None
    for part in loc:
        current = _unwrap(current)
        if get_origin(current) in (Union, types.UnionType):
            member = _tagged_member(current, part)
            if member is not None:  # a tag (`rule`, `default`) is not part of the document
                current = member
                continue
        path.append(part)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = _field(current, part)
            current = field.annotation if field else None
        elif get_origin(current) is list:
            current = get_args(current)[0]
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            current = None
    return tuple(path), _unwrap(current), field


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def _tagged_member(union: Any, tag: Any) -> Any:
    for member in get_args(union):
        for meta in getattr(member, "__metadata__", ()):
            if getattr(meta, "tag", None) == tag:
                return get_args(member)[0]
    return None


def _field(model: type[BaseModel], key: Any) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if (info.alias or name) == key:
            return info
    return None
