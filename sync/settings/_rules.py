"""`classify:` — ordered rules, first match wins, explicit default (Sentry ownership style).

The YAML entries are ``Rule`` (name/when/then) and ``DefaultRule`` (default).
``Settings`` turns the rules into ``ClassifyRule`` values that also carry where
they were written (``relais.yaml:42``) for ``relais explain``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import re2
from pydantic import AfterValidator, BaseModel, BeforeValidator, Discriminator, Field, Tag, model_validator

from connectors import registry
from sync.rules import CONDITIONS, re2_options

from ._sources import Model
from ._types import OneOrMany, Text, WorkClassField, quoted, relais_error, suggest

KINDS = ("issue", "epic", "incident", "briefing", "feedback")


def _among(what: str, allowed: tuple[str, ...]) -> AfterValidator:
    def check(values: list[str]) -> list[str]:
        normalised = []
        for value in values:
            folded = value.strip().lower()
            if folded not in allowed:
                raise relais_error(
                    f"unknown {what} {quoted(value)}{suggest(folded, allowed)}; use {', '.join(allowed)}"
                )
            normalised.append(folded)
        return normalised

    return AfterValidator(check)


class _Match(Model):
    """A condition's ways to match (its fields, all optional), at least one of which it must use."""

    @model_validator(mode="after")
    def _not_empty(self) -> _Match:
        names = type(self).model_fields
        if all(getattr(self, name) is None for name in names):
            raise relais_error(f"expected at least one of {', '.join(names)}")
        return self


class SetMatch(_Match):
    """Labels or components: any of / all of / none of the listed values."""

    any: OneOrMany | None = None
    all: OneOrMany | None = None
    none: OneOrMany | None = None


def _set_shorthand(value: Any) -> Any:
    # `labels: [a, b]` (or `labels: a`) means `labels: {any: [a, b]}`.
    if isinstance(value, (str, list)):
        return {"any": value}
    return value


def _compiles(pattern: str | None) -> str | None:
    """A pattern RE2 takes: relais matches rules with RE2, whose time is linear in the text, so no
    rule can hang a cycle; RE2 has no back-references and no look-around, which are what make a
    backtracking engine's time explode."""
    if pattern is not None:
        try:
            re.compile(pattern, re.IGNORECASE)  # compiling takes linear time; only matching may explode
        except re.error as exc:
            where = f" at position {exc.pos}" if exc.pos is not None else ""
            raise relais_error(f"invalid regular expression: {exc.msg}{where}") from None
        try:
            re2.compile(pattern, re2_options())
        except re2.error as exc:
            reason = (
                exc.args[0].decode("utf-8", "replace")
                if exc.args and isinstance(exc.args[0], bytes)
                else str(exc)
            )
            raise relais_error(
                f"a regular expression relais cannot run: {reason} (relais runs "
                "rules with RE2, in linear time: no back-references, no look-around)"
            ) from None
    return pattern


class TextMatch(_Match):
    """Title or text: contains any / all of the phrases, or matches a regular expression."""

    contains_any: OneOrMany | None = None
    contains_all: OneOrMany | None = None
    matches: Annotated[Text | None, AfterValidator(_compiles)] = Field(
        None,
        description="A regular expression in RE2's syntax (Python's, without back-references or "
        "look-around), matched case-insensitively, in linear time.",
    )


def _text_shorthand(value: Any) -> Any:
    # `title: outage` means `title: {contains_any: [outage]}`.
    if isinstance(value, (str, list)):
        return {"contains_any": value}
    return value


SetCondition = Annotated[
    SetMatch | None,
    BeforeValidator(_set_shorthand, json_schema_input_type=str | list[str] | SetMatch | None),
]
TextCondition = Annotated[
    TextMatch | None,
    BeforeValidator(_text_shorthand, json_schema_input_type=str | list[str] | TextMatch | None),
]


class When(Model):
    """All conditions must hold. Strings compare case- and accent-insensitively."""

    source: Annotated[OneOrMany, _among("source", registry.NAMES)] | None = None
    kind: Annotated[OneOrMany, _among("kind", KINDS)] | None = None
    project: OneOrMany | None = None
    issuetype: OneOrMany | None = None
    status: OneOrMany | None = None
    priority: OneOrMany | None = None
    urgency: OneOrMany | None = None
    service: OneOrMany | None = None
    team: OneOrMany | None = Field(None, description="Keys of `teams`.")
    origin: OneOrMany | None = Field(None, description="Feedback: where it came from (Sales, Support…).")
    tier: OneOrMany | None = Field(None, description="Feedback: the customer's tier (Enterprise…).")
    area: OneOrMany | None = Field(None, description="Feedback: the product area it concerns.")
    customer: OneOrMany | None = Field(None, description="Feedback: the customer's name.")
    labels: SetCondition = None
    components: SetCondition = None
    title: TextCondition = None
    text: TextCondition = None

    @model_validator(mode="after")
    def _not_empty(self) -> When:
        if not self.conditions():
            raise relais_error(f"a rule needs at least one condition ({', '.join(When.model_fields)})")
        return self

    def conditions(self) -> dict[str, Any]:
        """The conditions that are set, as plain data (for `relais explain`)."""
        return self.model_dump(mode="json", exclude_none=True)


def check_vocabulary(model: type[BaseModel]) -> None:
    """Refuse a ``When`` whose fields are not the conditions sync.rules checks: a condition in
    one and not the other would be ignored, and its rule would match everything."""
    if set(model.model_fields) != set(CONDITIONS):
        odd = sorted(set(model.model_fields) ^ set(CONDITIONS))
        raise RuntimeError(f"{model.__name__}'s fields and sync.rules.CONDITIONS disagree: {odd}")


check_vocabulary(When)


class Rule(Model):
    """One classify rule as written in the file."""

    name: Text
    when: When
    then: WorkClassField


class DefaultRule(Model):
    """The last entry of `classify`: what work is when no rule matches."""

    default: WorkClassField


class ClassifyRule(Rule):
    """A rule plus where it was written, ``relais.yaml:42``."""

    where: str


def _entry_kind(value: Any) -> str:
    return "default" if isinstance(value, dict) and "default" in value else "rule"


ClassifyEntry = Annotated[
    Annotated[Rule, Tag("rule")] | Annotated[DefaultRule, Tag("default")],
    Discriminator(_entry_kind),
]


def default_problems(entries: list[Any]) -> list[tuple[int | None, str, int | None]]:
    """Where the `default` entry is wrong: (index or None for the list, message, related index).

    Shared by the loader (which reports with lines) and ``Settings`` (which must
    not be constructible without a sound default either).
    """
    missing = "the last entry must be `- default: RUN|BUILD|IMPROVE` (used when no rule matches)"
    return last_entry_problems(entries, "default", missing)


def last_entry_problems(
    entries: list[Any], key: str, missing: str
) -> list[tuple[int | None, str, int | None]]:
    """The same for any list whose last entry is ``- <key>: …`` (classify's default, route's fallback)."""
    finals = [i for i, e in enumerate(entries) if _is_final(e, key)]
    if not finals:
        return [(None, missing, None)]
    found: list[tuple[int | None, str, int | None]] = []
    for index in finals[1:]:
        found.append((index, f"`{key}` appears more than once", finals[0]))
    first = finals[0]
    if first != len(entries) - 1 and len(finals) == 1:
        found.append((first, f"`{key}` must be the last entry; the rules after it would never be used", None))
    return found


def _is_final(entry: Any, key: str) -> bool:
    if isinstance(entry, dict):
        return key in entry
    return isinstance(entry, Model) and key in type(entry).model_fields
