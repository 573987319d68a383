"""`route:` — who gets each piece of feedback, and which team owns each maintenance ticket.

Two ordered lists, first match wins, each ending with an explicit fallback
(like `classify` ends with its default): ``route.feedback`` sends feedback to a
team (its PM) or a person, ``route.maintenance`` gives RUN tickets without an
owner a team. The YAML entries are ``RouteRule`` (name/when/to…) and
``RouteFallback`` (fallback). ``Route`` gives each rule the place it was
written (``relais.yaml:42``) for ``relais explain`` and ``relais report``.

Targets are names of `teams` or `people`; the loader checks them against
those sections (``_checks_route``), since a section cannot see its siblings.
"""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Any

from pydantic import Discriminator, Field, PrivateAttr, Tag, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from ._rules import When, last_entry_problems
from ._sources import Model
from ._types import Text, quoted, relais_error

LISTS = ("feedback", "maintenance")
# What the fallback names, and what a missing fallback would leave undone.
FALLBACK_TARGET = {"feedback": "<team or person>", "maintenance": "<team>"}
# Problems load_settings reports itself (from the plain data, with the lines of both entries);
# the model raises them too so that a Route built in code is as sound as a loaded one.
ROUTE_ERROR = "relais_route_checked"


class RouteRule(Model):
    """One routing rule: when ``when`` holds, the item goes to ``to``."""

    name: Text = Field(description="Unique within its list; decisions record it.")
    when: When
    to: Text = Field(description="A key of `teams` (→ its PM) or of `people`; maintenance: a team.")
    initiative: Text | None = Field(
        None,
        description="The briefing to link (its title, or a Notion page id), unless the item already has one.",
    )
    when_survival: Text | None = Field(
        None, description="The target instead, while the target team is in survival mode (needs `balance`)."
    )

    _where: str = PrivateAttr(default="")

    @property
    def where(self) -> str:
        """``file:line`` of the rule's ``- name:`` item."""
        return self._where


class RouteFallback(Model):
    """The last entry of a route list: where an item goes when no rule matches."""

    fallback: Text = Field(description="A key of `teams` or `people` (maintenance: a team).")


def _entry_kind(value: Any) -> str:
    return "fallback" if isinstance(value, dict) and "fallback" in value else "rule"


RouteEntry = Annotated[
    Annotated[RouteRule, Tag("rule")] | Annotated[RouteFallback, Tag("fallback")],
    Discriminator(_entry_kind),
]


def fallback_problems(section: str, entries: list[Any]) -> list[tuple[int | None, str, int | None]]:
    """Where the `fallback` of ``route.<section>`` is wrong: (index or None for the list, message, related index)."""
    missing = (
        f"the last entry must be `- fallback: {FALLBACK_TARGET[section]}`: "
        f"relais refuses rules that can leave {section} unrouted"
    )
    return last_entry_problems(entries, "fallback", missing)


def folded_name(name: str) -> str:
    """Rule names compare without case and spacing: 'Billing  FR' and 'billing fr' are the same rule."""
    return " ".join(name.casefold().split())


class Route(Model):
    """Ordered rules, first match wins; each list's last entry is ``- fallback: …``."""

    feedback: list[RouteEntry] | None = Field(
        None,
        description="Feedback → a team (its PM) or a person. The last entry must be `- fallback: <team or person>`.",
    )
    maintenance: list[RouteEntry] | None = Field(
        None,
        description="RUN tickets without an owning team → a team. The last entry must be `- fallback: <team>`.",
    )

    _fallbacks: dict[str, tuple[str, str]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _split(self, info: ValidationInfo) -> Route:
        if self.feedback is None and self.maintenance is None:
            raise relais_error("expected `feedback:`, `maintenance:` or both (or leave `route` out)")
        context = info.context or {}
        file = str(context.get("file", "relais.yaml"))
        lines: dict[tuple, int] = context.get("lines", {})
        for section in LISTS:
            entries = getattr(self, section)
            if entries is None:
                continue
            for index, message, _ in fallback_problems(section, entries):
                at = f"entry {index + 1}" if index is not None else "the list"
                raise PydanticCustomError(
                    ROUTE_ERROR,
                    "route.{section} ({at}): {message}",
                    {"section": section, "at": at, "message": message},
                )
            seen: set[str] = set()
            for index, entry in enumerate(entries):
                where = f"{file}:{lines.get(('route', section, index), '?')}"
                if isinstance(entry, RouteFallback):
                    self._fallbacks[section] = (entry.fallback, where)
                    continue
                if folded_name(entry.name) in seen:
                    raise PydanticCustomError(
                        ROUTE_ERROR,
                        "route.{section}: duplicate rule name {name}",
                        {"section": section, "name": quoted(entry.name)},
                    )
                seen.add(folded_name(entry.name))
                entry._where = where
        return self

    def _rules(self, section: str) -> list[RouteRule]:
        return [e for e in getattr(self, section) or () if isinstance(e, RouteRule)]

    @cached_property
    def feedback_rules(self) -> list[RouteRule]:
        """The ordered feedback rules, without the fallback; [] when `route.feedback` is absent."""
        return self._rules("feedback")

    def _fallback(self, section: str) -> tuple[str | None, str | None]:
        return self._fallbacks.get(section, (None, None))

    @cached_property
    def feedback_fallback(self) -> str | None:
        """Where feedback no rule matches goes; None when `route.feedback` is absent."""
        return self._fallback("feedback")[0]

    @cached_property
    def feedback_fallback_where(self) -> str | None:
        """``file:line`` of the feedback ``- fallback:`` entry."""
        return self._fallback("feedback")[1]

    @cached_property
    def maintenance_rules(self) -> list[RouteRule]:
        """The ordered maintenance rules, without the fallback; [] when `route.maintenance` is absent."""
        return self._rules("maintenance")

    @cached_property
    def maintenance_fallback(self) -> str | None:
        """The team owning maintenance no rule matches; None when `route.maintenance` is absent."""
        return self._fallback("maintenance")[0]

    @cached_property
    def maintenance_fallback_where(self) -> str | None:
        """``file:line`` of the maintenance ``- fallback:`` entry."""
        return self._fallback("maintenance")[1]
