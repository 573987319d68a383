"""Conditions of classify (and later route) rules, as pure predicates.

A rule's ``when`` is a set of conditions that must all hold. String
comparisons are case- and accent-insensitive ("Facturé" matches "facture"),
because rules are written by people and work items are typed by people.

Each evaluation returns which condition failed, so ``relais explain`` can say
why a rule did not match, not only that it didn't.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

import re2

from sync.models import WorkItem

#: The rule conditions, the one vocabulary: name -> how it is checked, in the order they are
#: checked (``relais explain`` names the first that fails). ``scalar``: one attribute of the
#: item is any of the values; ``team``: so is the item's team; ``set``: labels or components
#: hold any / all / none of the values; ``text``: the title (or title and body) contains or
#: matches. The settings' ``When`` model has one field per name, and refuses to load if not.
CONDITIONS: dict[str, str] = {
    **dict.fromkeys(
        (
            "source",
            "kind",
            "project",
            "issuetype",
            "status",
            "priority",
            "urgency",
            "service",
            "origin",
            "tier",
            "area",
            "customer",
        ),
        "scalar",
    ),
    "team": "team",
    "labels": "set",
    "components": "set",
    "title": "text",
    "text": "text",
}


def fold(text: str) -> str:
    """Lower-case and strip accents: 'FACTURÉ' -> 'facture'. ASCII text (most of it, and every
    text rule runs over every item's title and body) has no accent to strip and folds to its
    lower case: no normalisation, no cache entry."""
    return text.lower() if text.isascii() else _fold(text)


@lru_cache(maxsize=65536)
def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def re2_options() -> Any:
    """Case-insensitive, and silent: RE2 would print its parse errors on stderr (a JSON log line
    broken, a CLI's output polluted); relais says them itself, with the rule's file:line."""
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    return options


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> Any:
    """A rule's ``matches``, on RE2: its time is linear in the text, whatever the pattern — a
    backtracking engine spent minutes on ``^(\\w+\\s?)+:`` over an ordinary title, holding the
    interpreter, the health endpoint and the signals with it."""
    return re2.compile(pattern, re2_options())


Check = Callable[[WorkItem, "str | None"], bool]
T = TypeVar("T")


@lru_cache(maxsize=65536)
def _folded_set(values: tuple[str, ...]) -> frozenset[str]:
    """Labels and components repeat across items: fold each combination once."""
    return frozenset(fold(v) for v in values)


def _scalar(name: str, values: list[str]) -> Check:
    wanted = frozenset(fold(v) for v in values)
    if name == "team":
        return lambda item, team: team is not None and fold(team) in wanted
    return lambda item, team: (actual := getattr(item, name)) is not None and fold(actual) in wanted


def _set(name: str, match: Any) -> Check:
    any_ = frozenset(fold(v) for v in match.any) if match.any is not None else None
    all_ = frozenset(fold(v) for v in match.all) if match.all is not None else None
    none = frozenset(fold(v) for v in match.none) if match.none is not None else None

    def check(item: WorkItem, team: str | None) -> bool:
        have = _folded_set(getattr(item, name))
        return (
            (any_ is None or bool(have & any_))
            and (all_ is None or all_ <= have)
            and (none is None or not have & none)
        )

    return check


def _text(name: str, match: Any) -> Check:
    any_ = [fold(w) for w in match.contains_any] if match.contains_any is not None else None
    all_ = [fold(w) for w in match.contains_all] if match.contains_all is not None else None
    regex = _regex(match.matches) if match.matches is not None else None

    def check(item: WorkItem, team: str | None) -> bool:
        actual = item.title if name == "title" else f"{item.title}\n{item.text}"
        folded = fold(actual)
        if any_ is not None and not any(w in folded for w in any_):
            return False
        if all_ is not None and not all(w in folded for w in all_):
            return False
        return regex is None or bool(regex.search(actual) or regex.search(folded))

    return check


def built_once(holder: Any, key: str, build: Callable[[], T]) -> T:
    """``build()`` made once for ``holder``, a part of the settings, and held by it (its
    ``built``: sync.settings' models have one): settings are immutable, and the rules run over
    every stored item each cycle."""
    built = holder.built
    if key not in built:
        built[key] = build()
    return built[key]


def _compile(when: Any) -> tuple[tuple[str, Check], ...]:
    return built_once(when, "checks", lambda: _checks(when))


def _checks(when: Any) -> tuple[tuple[str, Check], ...]:
    build = {"scalar": _scalar, "team": _scalar, "set": _set, "text": _text}
    return tuple(
        (name, build[kind](name, value))
        for name, kind in CONDITIONS.items()
        if (value := getattr(when, name)) is not None
    )


def first_failure(when: Any, item: WorkItem, team: str | None) -> str | None:
    """The name of the first condition of ``when`` that ``item`` fails, or None if all hold."""
    checks = when.built.get("checks")  # _compile's lookup, inline: this runs for every rule and item
    for name, check in checks if checks is not None else _compile(when):
        if not check(item, team):
            return name
    return None


def condition_names(when: Any) -> tuple[str, ...]:
    """The item attributes (and ``team``) the conditions of ``when`` read: title and text for
    text conditions, the attribute itself for the others."""
    names = [name for name, _ in _compile(when)]
    return tuple(
        dict.fromkeys(n for name in names for n in (("title", "text") if name == "text" else (name,)))
    )


#: Results remembered per memo (by the attributes the conditions read); cleared when full.
MEMO_MAX = 65_536


def memo_names(*whens: Any) -> tuple[str, ...] | None:
    """The item attributes the conditions of ``whens`` read (``team`` aside), by which their
    results may be remembered — or None when one reads the title or text, every item's own."""
    names = tuple(dict.fromkeys(n for when in whens for n in condition_names(when) if n != "team"))
    return None if {"title", "text"} & set(names) else names


class Memo:
    """What some conditions decided for an item, remembered by the attributes they read and
    the team: items sharing source, type, labels… share the answer. Nothing is remembered
    when a condition reads the title or text (``key`` is then None)."""

    def __init__(self, *whens: Any) -> None:
        self.names = memo_names(*whens)
        self.results: dict[tuple, Any] = {}

    def key(self, item: WorkItem, team: str | None) -> tuple | None:
        return None if self.names is None else (team, *[getattr(item, name) for name in self.names])

    def get(self, key: tuple | None) -> Any:
        return None if key is None else self.results.get(key)

    def remember(self, key: tuple | None, value: Any) -> Any:
        if key is not None:
            if len(self.results) >= MEMO_MAX:
                self.results.clear()
            self.results[key] = value
        return value


class Matcher:
    """``matches(when, item, team)`` for a condition run over every stored item each cycle,
    remembered through a :class:`Memo`."""

    def __init__(self, when: Any) -> None:
        self.when = when
        self.memo = Memo(when)

    def __call__(self, item: WorkItem, team: str | None) -> bool:
        key = self.memo.key(item, team)
        hit = self.memo.get(key)
        if hit is None:
            hit = self.memo.remember(key, first_failure(self.when, item, team) is None)
        return hit


def matches(when: Any, item: WorkItem, team: str | None) -> bool:
    return first_failure(when, item, team) is None
