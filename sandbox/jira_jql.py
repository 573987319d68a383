"""A JQL subset with a real parser, compiled to a predicate over issue records.

Grammar (keywords case-insensitive)::

    query   := [expr] [ORDER BY sort ("," sort)*]
    expr    := term (OR term)*          term := factor (AND factor)*
    factor  := NOT factor | "(" expr ")" | field op operand
    op      := = != > >= < <= ~ !~ | IN | NOT IN | IS | IS NOT
    operand := value | "(" value ("," value)* ")" | EMPTY | NULL | currentUser() | now()

Date literals follow Jira: ``"yyyy/MM/dd HH:mm"``, ``"yyyy-MM-dd HH:mm"``,
``yyyy/MM/dd``, ``yyyy-MM-dd`` or a period (``-5d``, ``"-4w 2d"``, ``-10m``)
— minute precision, read in the *API user's* time zone (``/myself``), which
is the classic incremental-sync pitfall this sandbox exists to exercise.
Error texts mimic Jira Cloud's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from .jira_data import FIELDS, ISSUE_TYPES, PRIORITY_RANK, STATUSES, STORY_POINTS, WORK_TYPE, WORK_TYPE_OPTIONS

Predicate = Callable[[dict[str, Any]], bool]
DATE_HELP = ("Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
             "or a period format e.g. '-5d', '4w 2d'.")


class JQLError(ValueError):
    """Jira answers these with 400 and the message in ``errorMessages``."""


@dataclass
class Context:
    now: datetime
    tz: Any
    user_account_id: str
    projects: dict[str, tuple[str, str, str]]  # lower(key|name|id) -> (key, name, id)
    keys: set[str]
    ids: set[str]


@dataclass
class Query:
    predicate: Predicate
    order: list[tuple[str, bool]]  # (field id, descending)
    bounded: bool


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|!~|=|>|<|~)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z0-9_\-./:+@\[\]*]+)
    )""",
    re.VERBOSE,
)
_CLAUSES = {name.lower(): f["id"] for f in FIELDS for name in f["clauseNames"]}
_CLAUSES["statuscategory"] = "statusCategory"
_DATES = {"created", "updated", "resolutiondate"}
_ORDERABLE = {"created", "updated", "resolutiondate", "issuekey", "id", "priority", "project", "issuetype",
              "status", "summary", STORY_POINTS}


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise JQLError(f"Error in the JQL Query: The character '{text[pos:].lstrip()[0]}' is a reserved JQL "
                           f"character. You must enclose it in a string or use the escape '\\u0022' instead. "
                           f"(line 1, character {pos + 1})")
        kind = m.lastgroup or "word"
        value = m.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value, m.start(kind) + 1))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str, ctx: Context):
        self.tokens = _tokenize(text)
        self.i = 0
        self.ctx = ctx
        self.clauses = 0

    def peek(self, offset: int = 0) -> tuple[str, str, int] | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def keyword(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "word" and tok[1].lower() in words

    def take(self) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise JQLError("Error in the JQL Query: Expecting either a value, list or function but got end of query.")
        self.i += 1
        return tok

    def fail(self, expecting: str) -> JQLError:
        tok = self.peek()
        if tok is None:
            return JQLError(f"Error in the JQL Query: Expecting {expecting} but got end of query.")
        return JQLError(f"Error in the JQL Query: Expecting {expecting} but got '{tok[1]}'. "
                        f"(line 1, character {tok[2]})")

    def parse(self) -> Query:
        predicate: Predicate = lambda rec: True  # noqa: E731
        if self.peek() is not None and not self.keyword("order"):
            predicate = self.expr()
        order: list[tuple[str, bool]] = []
        if self.keyword("order"):
            self.take()
            if not self.keyword("by"):
                raise self.fail("'by'")
            self.take()
            order.append(self.sort())
            while self.peek() and self.peek()[1] == ",":
                self.take()
                order.append(self.sort())
            if len(order) > 7:
                raise JQLError("Error in the JQL Query: The ORDER BY clause can contain at most 7 fields.")
        if self.peek() is not None:
            raise self.fail("either 'OR' or 'AND'")
        return Query(predicate, order, self.clauses > 0)

    def sort(self) -> tuple[str, bool]:
        kind, name, _ = self.take()
        field = "id" if name.lower() == "id" else _CLAUSES.get(name.lower())
        if field is None:
            raise JQLError(f"Error in the JQL Query: Field '{name}' does not exist or you do not have permission to "
                           f"view it.")
        if field not in _ORDERABLE:
            raise JQLError(f"Field '{name}' does not support sorting.")
        descending = field in _DATES
        if self.keyword("asc", "desc"):
            descending = self.take()[1].lower() == "desc"
        return field, descending

    def expr(self) -> Predicate:
        parts = [self.term()]
        while self.keyword("or"):
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else (lambda rec: any(p(rec) for p in parts))

    def term(self) -> Predicate:
        parts = [self.factor()]
        while self.keyword("and"):
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else (lambda rec: all(p(rec) for p in parts))

    def factor(self) -> Predicate:
        if self.keyword("not"):
            self.take()
            inner = self.factor()
            return lambda rec: not inner(rec)
        tok = self.peek()
        if tok is not None and tok[1] == "(" and tok[0] == "punct":
            self.take()
            inner = self.expr()
            closing = self.peek()
            if closing is None or closing[1] != ")":
                raise self.fail("')'")
            self.take()
            return inner
        return self.clause()

    def clause(self) -> Predicate:
        if self.peek() is None:
            raise self.fail("a field name")
        kind, name, _ = self.take()
        if kind not in ("word", "string"):
            raise JQLError(f"Error in the JQL Query: Expecting a field name but got '{name}'.")
        field = _CLAUSES.get(name.lower())
        if field is None:
            raise JQLError(f"Field '{name}' does not exist or you do not have permission to view it.")
        op = self.operator()
        self.clauses += 1
        if op in ("is", "is not"):
            if not self.keyword("empty", "null"):
                raise self.fail("'EMPTY' or 'NULL'")
            self.take()
            empty = _empty_test(field)
            return empty if op == "is" else (lambda rec: not empty(rec))
        if op in ("in", "not in"):
            values = self.value_list()
        else:
            values = [self.value()]
        return _compile(field, name, op, values, self.ctx)

    def operator(self) -> str:
        tok = self.take()
        if tok[0] == "op":
            return tok[1]
        word = tok[1].lower()
        if word in ("in", "is"):
            if word == "is" and self.keyword("not"):
                self.take()
                return "is not"
            return word
        if word == "not" and self.keyword("in"):
            self.take()
            return "not in"
        self.i -= 1
        raise self.fail("operator")

    def value_list(self) -> list[str | None]:
        tok = self.take()
        if tok[1] != "(":
            self.i -= 1
            raise self.fail("'('")
        values = [self.value()]
        while self.peek() and self.peek()[1] == ",":
            self.take()
            values.append(self.value())
        closing = self.take()
        if closing[1] != ")":
            self.i -= 1
            raise self.fail("')'")
        return values

    def value(self) -> str | None:
        kind, text, _ = self.take()
        if kind == "punct" or kind == "op":
            self.i -= 1
            raise self.fail("either a value, list or function")
        if kind == "word" and text.lower() in ("empty", "null"):
            return None
        nxt = self.peek()
        if kind == "word" and nxt is not None and nxt[1] == "(":
            self.take()
            closing = self.take()
            if closing[1] != ")":
                raise JQLError(f"Error in the JQL Query: function '{text}' takes no arguments here.")
            function = text.lower()
            if function == "currentuser":
                return self.ctx.user_account_id
            if function == "now":
                return "@now"
            raise JQLError(f"Unable to find JQL function '{text}()'.")
        return text


def _empty_test(field: str) -> Predicate:
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
            total += {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1),
                      "m": timedelta(minutes=1)}[unit] * int(amount)
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
    out: list[Any] = []
    for raw in values:
        if raw is None:
            out.append(None)
            continue
        v = raw.strip()
        low = v.lower()
        if field == "project":
            hit = ctx.projects.get(low)
            if hit is None:
                raise JQLError(f"The value '{v}' does not exist for the field '{name}'.")
            out.append(hit[0])
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
            hit = next((p for p, pid in ((p, str(r)) for p, r in PRIORITY_RANK.items()) if low in (p.lower(), pid)),
                       None)
            if hit is None:
                raise JQLError(f"The value '{v}' does not exist for the field '{name}'.")
            out.append(hit)
        elif field == WORK_TYPE:
            hit = next((oid for oid, label in WORK_TYPE_OPTIONS.items() if low in (label.lower(), oid)), None)
            if hit is None:
                raise JQLError(f"The option '{v}' for field '{name}' does not exist.")
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


def _compile(field: str, name: str, op: str, raw: list[str | None], ctx: Context) -> Predicate:
    if field in _DATES:
        if op not in ("=", "!=", ">", ">=", "<", "<=", "in", "not in"):
            raise JQLError(f"The operator '{op}' is not supported by the '{name}' field.")
        values: list[Any] = [parse_date(v, name, ctx) for v in raw]
    elif field in ("summary", "description"):
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
    if field in _DATES or field == STORY_POINTS:
        return _ordered(get, op, values[0])
    raise JQLError(f"The operator '{op}' is not supported by the '{name}' field.")


def _ordered(get: Callable[[dict[str, Any]], Any], op: str, bound: Any) -> Predicate:
    def check(rec: dict[str, Any]) -> bool:
        value = get(rec)
        if value is None:
            return False
        return {">": value > bound, ">=": value >= bound, "<": value < bound, "<=": value <= bound,
                "=": value == bound, "!=": value != bound}[op]
    return check


def parse(text: str, ctx: Context) -> Query:
    return _Parser(text or "", ctx).parse()


def sort_key(field: str) -> Callable[[dict[str, Any]], Any]:
    if field == "id":
        return lambda rec: int(rec["id"])
    if field == "issuekey":
        return lambda rec: (rec["project"], int(rec["key"].rsplit("-", 1)[1]))
    if field == "priority":
        return lambda rec: -PRIORITY_RANK[rec["priority"]]
    if field in _DATES or field == STORY_POINTS:
        # Empty values sort after every value in ascending order.
        return lambda rec: (rec.get(field) is None, rec.get(field) or 0)
    return lambda rec: rec.get(field) or ""
