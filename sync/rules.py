"""Conditions of classify (and later route) rules, as pure predicates.

A rule's ``when`` is a set of conditions that must all hold. String
comparisons are case- and accent-insensitive ("Facturé" matches "facture"),
because rules are written by people and work items are typed by people.

Each evaluation returns which condition failed, so ``relais explain`` can say
why a rule did not match, not only that it didn't.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from sync.models import WorkItem

#: Conditions over one scalar attribute of the item: any of the listed values.
SCALAR = ("source", "kind", "project", "issuetype", "status", "priority", "urgency", "service",
          "origin", "tier", "area", "customer")
SETS = ("labels", "components")
TEXTS = ("title", "text")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case and strip accents: 'FACTURÉ' -> 'facture'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _scalar(values: list[str], actual: str | None) -> bool:
    return actual is not None and fold(actual) in {fold(v) for v in values}


def _set(match: Any, actual: tuple[str, ...]) -> bool:
    have = {fold(a) for a in actual}
    if match.any is not None and not have & {fold(v) for v in match.any}:
        return False
    if match.all is not None and not {fold(v) for v in match.all} <= have:
        return False
    if match.none is not None and have & {fold(v) for v in match.none}:
        return False
    return True


def _text(match: Any, actual: str) -> bool:
    folded = fold(actual)
    if match.contains_any is not None and not any(fold(w) in folded for w in match.contains_any):
        return False
    if match.contains_all is not None and not all(fold(w) in folded for w in match.contains_all):
        return False
    if match.matches is not None and not (_regex(match.matches).search(actual) or _regex(match.matches).search(folded)):
        return False
    return True


def first_failure(when: Any, item: WorkItem, team: str | None) -> str | None:
    """The name of the first condition of ``when`` that ``item`` fails, or None if all hold."""
    for name in SCALAR:
        values = getattr(when, name, None)
        if values is not None and not _scalar(values, getattr(item, name)):
            return name
    values = getattr(when, "team", None)
    if values is not None and not _scalar(values, team):
        return "team"
    for name in SETS:
        match = getattr(when, name, None)
        if match is not None and not _set(match, getattr(item, name)):
            return name
    for name in TEXTS:
        match = getattr(when, name, None)
        if match is None:
            continue
        actual = item.title if name == "title" else f"{item.title}\n{item.text}"
        if not _text(match, actual):
            return name
    return None


def matches(when: Any, item: WorkItem, team: str | None) -> bool:
    return first_failure(when, item, team) is None
