"""Team resolution and RUN/BUILD/IMPROVE classification: pure functions."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sync.models import WorkClass, WorkItem
from sync.rules import first_failure, fold


@dataclass(frozen=True)
class Decision:
    value: WorkClass
    rule: str  # rule name, or "default"
    where: str  # file:line of the rule in the config

    @property
    def label(self) -> str:
        return f"{self.rule} ({os.path.basename(self.where)})"


def resolve_team(item: WorkItem, settings) -> str | None:
    """The relais team owning ``item``, or None (unowned).

    Jira: the team in the issue's Team field when relais manages it (routed
    maintenance, or set by hand); else the team listing the issue's project —
    among several, one that also lists one of the issue's components wins.
    PagerDuty: the team listing the incident's service (or PagerDuty team).
    Notion: the team whose ``notion.team`` equals the page's Team property.
    """
    best: tuple[int, str] | None = None
    for name, team in settings.teams.items():
        score = _team_score(item, team, name)
        if score and (best is None or score > best[0]):
            best = (score, name)
    return best[1] if best else None


def _team_score(item: WorkItem, team, name: str = "") -> int:
    if item.source == "jira" and item.owned.get("team"):
        return 3 if item.owned["team"] == name else 0  # the Jira Team field, routed or set by hand, decides
    if item.source == "jira" and team.jira is not None and item.project in (team.jira.projects or []):
        if team.jira.components:
            wanted = {fold(c) for c in team.jira.components}
            return 2 if wanted & {fold(c) for c in item.components} else 0
        return 1
    if item.source == "pagerduty" and team.pagerduty is not None:
        if item.service in (team.pagerduty.services or []) or (item.team and item.team in (team.pagerduty.teams or [])):
            return 1
    if item.source == "notion" and team.notion is not None and team.notion.team and item.team:
        return 1 if fold(team.notion.team) == fold(item.team) else 0
    return 0


def classify(item: WorkItem, settings, team: str | None) -> Decision:
    for rule in settings.classify:
        if first_failure(rule.when, item, team) is None:
            return Decision(WorkClass(rule.then), rule.name, rule.where)
    return Decision(WorkClass(settings.classify_default), "default", settings.classify_default_where)


def explain_rules(item: WorkItem, settings, team: str | None) -> list[tuple[str, str, str | None]]:
    """For ``relais explain``: each rule tried, in order, with the condition that failed (None = matched)."""
    out = []
    for rule in settings.classify:
        failed = first_failure(rule.when, item, team)
        out.append((rule.name, rule.where, failed))
        if failed is None:
            break
    return out
