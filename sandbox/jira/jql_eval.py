"""What each JQL clause means: value lookup, date literals, predicates, sort keys.

The parser (:mod:`sandbox.jira.jql`) hands every ``field op value`` clause to
:func:`compile_clause`; values that do not exist in the tenant (a project, a
status, an issue key) are errors, worded like Jira Cloud's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime, timedelta
from typing import Any

from .errors import JQLError
from .families import BY_FIELD
from .fields import (
    CUSTOMER,
    ISSUE_TYPES,
    PRIORITY_RANK,
    STATUSES,
    STORY_POINTS,
    WORK_TYPE,
    WORK_TYPE_OPTIONS,
)

DATES = {"created", "updated", "resolutiondate"}

Predicate = Callable[[dict[str, Any]], bool]
DATE_HELP = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
    "or a period format e.g. '-5d', '4w 2d'."
)


@dataclass
class Context:
    now: datetime
    tz: Any
    user_account_id: str
    projects: dict[str, tuple[str, str, str]]  # lower(key|name|id) -> (key, name, id)
    keys: Collection[str]  # issue keys (a view of the state's, not a copy)
    ids: Collection[str]  # issue ids
    org: Any = None  # for the Team options
    users: set[str] = dc_field(default_factory=set)  # account ids (Product Manager values)
    by_key: Any = None  # key -> issue id (parent values)


def empty_test(field: str) -> Predicate:
    if field in ("labels", "components"):
        return lambda rec: not rec[field]
    if field in ("issuekey", "project", "issuetype", "status", "statusCategory", "created", "updated"):
        return lambda rec: False
    key = "status" if field == "resolution" else field
    if field == "resolution":
        return lambda rec: rec[key] != "Done"
    return lambda rec: rec.get(key) is None


def parse_date(value: str | None, field: str, ctx: Context) -> datetime:
    if value is None:
        raise JQLError(f"Date value 'EMPTY' for field '{field}' is invalid. {DATE_HELP}")
    if value == "@now":
        return ctx.now
    text = value.strip()
    period = re.fullmatch(r"([+-]?)\s*((?:\d+\s*[wdhm]\s*)+)", text)
    if period:
        total = timedelta()
        for amount, unit in re.findall(r"(\d+)\s*([wdhm])", period.group(2)):
            total += {
                "w": timedelta(weeks=1),
                "d": timedelta(days=1),
                "h": timedelta(hours=1),
                "m": timedelta(minutes=1),
            }[unit] * int(amount)
        return ctx.now - total if period.group(1) == "-" else ctx.now + total
    for fmt in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
        try:
            naive = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return naive.replace(tzinfo=ctx.tz)
    raise JQLError(f"Date value '{value}' for field '{field}' is invalid. {DATE_HELP}")


def _lookup(field: str, name: str, values: list[str | None], ctx: Context) -> list[Any]:
    """Normalise clause values to what records store; unknown values are errors like in Jira."""
    family = BY_FIELD.get(field)
    if family is not None:
        return family.jql_values(ctx, field, name, values)
    out: list[Any] = []
    for raw in values:
        if raw is None:
            out.append(None)
            continue
        v = raw.strip()
        low = v.lower()
        if field == "project":
            project = ctx.projects.get(low)
            if project is None:
                raise JQLError(f"The value '{v}' does not exist for the field '{name}'.")
            out.append(project[0])
        elif field == "issuetype":
            hit = next((t for t, (tid, _, _) in ISSUE_TYPES.items() if low in (t.lower(), tid)), None)
            if hit is None:
                raise JQLError(f"The value '{v}' does not exist for the field '{name}'.")
            out.append(hit)
        elif field == "status":
            hit = next((s for s, (sid, *_rest) in STATUSES.items() if low in (s.lower(), sid)), None)
            if hit is None:
                raise JQLError(f"The value '{v}' does not exist for the field '{name}'.")
            out.append(hit)
        elif field == "statusCategory":
            cats = {c[2] for c in STATUSES.values()}
            hit = next((c[2] for c in STATUSES.values() if low in (c[2], c[4].lower(), str(c[1]))), None)
            if hit is None or hit not in cats:
                raise JQLError(f"The value '{v}' does not exist for the field '{name}'.")
            out.append(hit)
        elif field == "priority":
            hit = next(
                (p for p, pid in ((p, str(r)) for p, r in PRIORITY_RANK.items()) if low in (p.lower(), pid)),
                None,
            )
            if hit is None:
                raise JQLError(f"The value '{v}' does not exist for the field '{name}'.")
            out.append(hit)
        elif field == WORK_TYPE:
            hit = next((oid for oid, label in WORK_TYPE_OPTIONS.items() if low in (label.lower(), oid)), None)
            if hit is None:
                raise JQLError(f"The option '{v}' for field '{name}' does not exist.")
            out.append(hit)
        elif field == "parent":  # a key or an id; stored as the parent's id
            hit = v if v in ctx.ids else (ctx.by_key or {}).get(v.upper())
            if hit is None:
                raise JQLError(f"An issue with key '{v.upper()}' does not exist for field '{name}'.")
            out.append(hit)
        elif field == "issuekey":
            if re.fullmatch(r"\d+", v):
                if v not in ctx.ids:
                    raise JQLError(f"An issue with key '{v}' does not exist for field '{name}'.")
                out.append(("id", v))
            elif re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*-\d+", v):
                if v.upper() not in ctx.keys:
                    raise JQLError(f"An issue with key '{v.upper()}' does not exist for field '{name}'.")
                out.append(("key", v.upper()))
            else:
                raise JQLError(f"The issue key '{v}' for field '{name}' is invalid.")
        elif field == STORY_POINTS:
            try:
                out.append(float(v))
            except ValueError:
                raise JQLError(f"Value '{v}' is invalid for the '{name}' field.") from None
        else:
            out.append(v)
    return out


def _getter(field: str) -> Callable[[dict[str, Any]], Any]:
    if field == "statusCategory":
        return lambda rec: STATUSES[rec["status"]][2]
    if field == "resolution":
        return lambda rec: "Done" if rec["status"] == "Done" else None
    return lambda rec: rec.get(field)


def compile_clause(field: str, name: str, op: str, raw: list[str | None], ctx: Context) -> Predicate:
    if field in DATES:
        if op not in ("=", "!=", ">", ">=", "<", "<=", "in", "not in"):
            raise JQLError(f"The operator '{op}' is not supported by the '{name}' field.")
        values: list[Any] = [parse_date(v, name, ctx) for v in raw]
    elif field in ("summary", "description", CUSTOMER):  # text fields: contains, never equals
        if op not in ("~", "!~"):
            raise JQLError(f"The operator '{op}' is not supported by the '{name}' field.")
        needle = (raw[0] or "").lower()
        contains: Predicate = lambda rec: needle in (rec.get(field) or "").lower()  # noqa: E731
        return contains if op == "~" else (lambda rec: not contains(rec))
    else:
        if op in ("~", "!~"):
            raise JQLError(f"The operator '{op}' is not supported by the '{name}' field.")
        values = _lookup(field, name, raw, ctx)
    if field == "issuekey":

        def key_of(rec: dict[str, Any], v: tuple[str, str]) -> bool:
            return rec[v[0]] == v[1]

        if op in ("=", "in"):
            return lambda rec: any(key_of(rec, v) for v in values)
        if op in ("!=", "not in"):
            return lambda rec: not any(key_of(rec, v) for v in values)
        bound = int(values[0][1]) if values[0][0] == "id" else None
        if bound is None:
            raise JQLError(f"The operator '{op}' is only supported with issue ids here.")
        return _ordered(lambda rec: int(rec["id"]), op, bound)
    get = _getter(field)
    if field in ("labels", "components"):
        wanted = set(values)
        if op in ("=", "in"):
            return lambda rec: bool(wanted & set(rec[field]))
        if op in ("!=", "not in"):
            return lambda rec: not (wanted & set(rec[field]))
        raise JQLError(f"The operator '{op}' is not supported by the '{name}' field.")
    if op in ("=", "in"):
        return lambda rec: get(rec) in values
    if op in ("!=", "not in"):
        return lambda rec: get(rec) is not None and get(rec) not in values
    if field == "priority":
        rank = PRIORITY_RANK[values[0]]  # Highest has the smallest id but compares greatest
        return _ordered(lambda rec: -PRIORITY_RANK[rec["priority"]], op, -rank)
    if field in DATES or field == STORY_POINTS:
        return _ordered(get, op, values[0])
    raise JQLError(f"The operator '{op}' is not supported by the '{name}' field.")


def _ordered(get: Callable[[dict[str, Any]], Any], op: str, bound: Any) -> Predicate:
    def check(rec: dict[str, Any]) -> bool:
        value = get(rec)
        if value is None:
            return False
        return {
            ">": value > bound,
            ">=": value >= bound,
            "<": value < bound,
            "<=": value <= bound,
            "=": value == bound,
            "!=": value != bound,
        }[op]

    return check


def sort_key(field: str) -> Callable[[dict[str, Any]], Any]:
    if field == "id":
        return lambda rec: int(rec["id"])
    if field == "issuekey":
        return lambda rec: (rec["project"], int(rec["key"].rsplit("-", 1)[1]))
    if field == "priority":
        return lambda rec: -PRIORITY_RANK[rec["priority"]]
    if field in DATES or field == STORY_POINTS:
        # Empty values sort after every value in ascending order.
        return lambda rec: (rec.get(field) is None, rec.get(field) or 0)
    return lambda rec: rec.get(field) or ""
