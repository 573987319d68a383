"""Team resolution and RUN/BUILD/IMPROVE classification: pure functions."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sync.models import WorkClass, WorkItem
from sync.rules import Memo, built_once, first_failure, fold

if TYPE_CHECKING:
    from sync.settings import Settings


@dataclass(frozen=True)
class Decision:
    value: WorkClass
    rule: str  # rule name, or "default"
    where: str  # file:line of the rule in the config

    @property
    def label(self) -> str:
        return f"{self.rule} ({os.path.basename(self.where)})"


def resolve_team(item: WorkItem, settings: Settings) -> str | None:
    """The relais team owning ``item``, or None (unowned).

    Jira: the team in the issue's Team field when relais manages it (routed
    maintenance, or set by hand); else the team listing the issue's project —
    among several, one that also lists one of the issue's components wins.
    PagerDuty: the team listing the incident's service (or PagerDuty team).
    Notion: the team whose ``notion.team`` equals the page's Team property.
    Among equals, the team written first in the config.
    """
    return _index(settings).team_of(item)


class _TeamIndex:
    """The `teams` mapping turned into lookups: plan resolves the team of every stored item."""

    def __init__(self, teams: dict) -> None:
        self.names = set(teams)
        self.projects: dict[str, list[tuple[str, frozenset[str] | None]]] = {}
        self.order = {name: i for i, name in enumerate(teams)}
        self.services: dict[str, str] = {}
        self.pd_teams: dict[str, str] = {}
        self.notion: dict[str, str] = {}
        for name, team in teams.items():
            for project in team.jira.projects or ():
                components = (
                    frozenset(fold(c) for c in team.jira.components) if team.jira.components else None
                )
                self.projects.setdefault(project, []).append((name, components))
            for service in team.pagerduty.services or ():
                self.services.setdefault(service, name)
            for pd_team in team.pagerduty.teams or ():
                self.pd_teams.setdefault(pd_team, name)
            if team.notion.team:
                self.notion.setdefault(fold(team.notion.team), name)

    def team_of(self, item: WorkItem) -> str | None:
        if item.source == "jira":
            if item.owned.get("team"):  # the Jira Team field, routed or set by hand, decides
                return item.owned["team"] if item.owned["team"] in self.names else None
            candidates = self.projects.get(item.project or "", ())
            have = {fold(c) for c in item.components} if item.components else set()
            for name, components in candidates:  # a team listing one of the components wins
                if components is not None and components & have:
                    return name
            return next((name for name, components in candidates if components is None), None)
        if item.source == "pagerduty":
            found = [
                t for t in (self.services.get(item.service or ""), self.pd_teams.get(item.team or "")) if t
            ]
            return min(found, key=self.order.__getitem__) if found else None
        if item.source == "notion" and item.team:
            return self.notion.get(fold(item.team))
        return None


def _index(settings: Settings) -> _TeamIndex:
    return built_once(settings, "team index", lambda: _TeamIndex(settings.teams))


def classify(item: WorkItem, settings: Settings, team: str | None) -> Decision:
    rules, default, memo = _decisions(settings)
    key = memo.key(item, team)
    hit = memo.get(key)
    if hit is not None:
        return hit
    decision = default
    for when, candidate in rules:
        if first_failure(when, item, team) is None:
            decision = candidate
            break
    return memo.remember(key, decision)


def _decisions(settings: Settings) -> tuple[tuple[tuple[object, Decision], ...], Decision, Memo]:
    """Built once per settings: each rule's condition with the Decision it makes (making the enum
    and the Decision cost more than most conditions), and a memo of decisions by the attributes
    the rules read and the team — classify runs for every stored item each cycle, and items
    sharing source, type, labels… share their class."""

    def build() -> tuple[tuple[tuple[object, Decision], ...], Decision, Memo]:
        rules = tuple((r.when, Decision(WorkClass(r.then), r.name, r.where)) for r in settings.classify)
        default = Decision(WorkClass(settings.classify_default), "default", settings.classify_default_where)
        return rules, default, Memo(*(r.when for r in settings.classify))

    return built_once(settings, "classify", build)


def explain_rules(item: WorkItem, settings: Settings, team: str | None) -> list[tuple[str, str, str | None]]:
    """For ``relais explain``: each rule tried, in order, with the condition that failed (None = matched)."""
    out = []
    for rule in settings.classify:
        failed = first_failure(rule.when, item, team)
        out.append((rule.name, rule.where, failed))
        if failed is None:
            break
    return out
