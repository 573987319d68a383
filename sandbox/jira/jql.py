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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import JQLError
from .fields import FIELDS, STORY_POINTS
from .jql_eval import DATES, Context, Predicate, compile_clause, empty_test, sort_key

__all__ = ["Context", "Query", "parse", "sort_key"]


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
_ORDERABLE = {
    "created",
    "updated",
    "resolutiondate",
    "issuekey",
    "id",
    "priority",
    "project",
    "issuetype",
    "status",
    "summary",
    STORY_POINTS,
}


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise JQLError(
                f"Error in the JQL Query: The character '{text[pos:].lstrip()[0]}' is a reserved JQL "
                f"character. You must enclose it in a string or use the escape '\\u0022' instead. "
                f"(line 1, character {pos + 1})"
            )
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
            raise JQLError(
                "Error in the JQL Query: Expecting either a value, list or function but got end of query."
            )
        self.i += 1
        return tok

    def fail(self, expecting: str) -> JQLError:
        tok = self.peek()
        if tok is None:
            return JQLError(f"Error in the JQL Query: Expecting {expecting} but got end of query.")
        return JQLError(
            f"Error in the JQL Query: Expecting {expecting} but got '{tok[1]}'. (line 1, character {tok[2]})"
        )

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
            while (tok_ := self.peek()) and tok_[1] == ",":
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
            raise JQLError(
                f"Error in the JQL Query: Field '{name}' does not exist or you do not have permission to "
                f"view it."
            )
        if field not in _ORDERABLE:
            raise JQLError(f"Field '{name}' does not support sorting.")
        descending = field in DATES
        if self.keyword("asc", "desc"):
            descending = self.take()[1].lower() == "desc"
        return field, descending

    def expr(self) -> Predicate:
        return self.joined("or", self.term, any)

    def term(self) -> Predicate:
        return self.joined("and", self.factor, all)

    def joined(self, word: str, item: Callable[[], Predicate], combine: Callable[[Any], bool]) -> Predicate:
        """``item (word item)*``: one ``item``, or ``combine`` (any, all) of them."""
        parts = [item()]
        while self.keyword(word):
            self.take()
            parts.append(item())
        return parts[0] if len(parts) == 1 else (lambda rec: combine(p(rec) for p in parts))

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
            empty = empty_test(field)
            return empty if op == "is" else (lambda rec: not empty(rec))
        if op in ("in", "not in"):
            values = self.value_list()
        else:
            values = [self.value()]
        return compile_clause(field, name, op, values, self.ctx)

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
        while (tok_ := self.peek()) and tok_[1] == ",":
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


def parse(text: str, ctx: Context) -> Query:
    return _Parser(text or "", ctx).parse()
