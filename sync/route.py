"""Route feedback to a PM and maintenance to a team, by ordered rules. Pure functions.

Feedback: the first rule whose ``when`` matches names a target — a team
(its PM receives the item) or a person; nothing matching means the explicit
fallback. When the target team is in survival mode the item is marked so,
and the rule's ``when_survival`` target, if any, takes it instead.

The initiative a feedback item concerns: the one it already points at is
kept; otherwise the rule's ``initiative`` (a briefing title or page id);
otherwise relais proposes the target team's briefing sharing the most words
with the feedback (words of 4+ letters, compared case- and accent-
insensitively, over the briefing's title and tags); ties go to the oldest
briefing; no shared word, no proposal.

Maintenance: a Jira RUN issue whose Team field is empty is given the team of
the first matching ``route.maintenance`` rule. If no rule matches, the
``teams`` mapping keeps it (nothing is written); work that no mapping owns
goes to the maintenance fallback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sync.models import FieldChange, WorkItem
from sync.owned import Written, adopt_policy, derived_from, kept_reason
from sync.rules import first_failure, fold

if TYPE_CHECKING:
    from sync.settings import Settings

WORD = re.compile(r"[a-z0-9]{4,}")


@dataclass(frozen=True)
class Routing:
    target: str  # the team or person key the rules named (after a survival redirect)
    team: str | None
    pm: str | None  # person key
    rule: str
    where: str
    fallback: bool = False
    survival: bool = False  # the target team was in survival mode
    redirected: bool = False  # … and when_survival took the item instead
    initiative: str | None = None  # briefing page id (or, kept on a Jira issue, the link it holds)
    initiative_reason: str | None = None  # kept | rule | proposed
    initiative_url: str | None = None

    @property
    def label(self) -> str:
        """What "Routed by" says: the rule's name — never its file or line, which change with any
        edit of the config and would rewrite every routed page (``where`` stays in explain)."""
        return self.rule


@dataclass(frozen=True)
class Briefing:
    id: str
    title: str
    team: str | None
    words: frozenset[str]
    created: Any
    url: str | None = None


def briefing_of(item: WorkItem, team: str | None) -> Briefing:
    text = " ".join((item.title, *item.labels))
    return Briefing(item.id, item.title, team, frozenset(WORD.findall(fold(text))), item.created, item.url)


def resolve_target(settings: Settings, target: str) -> tuple[str | None, str | None]:
    """(team, pm) for a target that is a team key or a person key."""
    if target in settings.teams:
        return target, settings.teams[target].pm
    team = next((name for name, t in settings.teams.items() if t.pm == target), None)
    return team, target


class Briefings:
    """The briefings feedback may be linked to, indexed once per plan: by id, and per team by
    word (plan routes every feedback item each cycle; scanning every briefing for each one
    grew with feedback × briefings)."""

    def __init__(self, briefings: Iterable[Briefing]) -> None:
        self.all = list(briefings)
        self.by_id: dict[str, Briefing] = {}
        self.words: dict[str | None, dict[str, list[Briefing]]] = {}
        for b in self.all:
            self.by_id.setdefault(b.id, b)
            index = self.words.setdefault(b.team, {})
            for word in b.words:
                index.setdefault(word, []).append(b)

    def sharing_most_words(self, words: frozenset[str], team: str | None) -> Briefing | None:
        """The team's briefing sharing the most words with ``words`` (ties: the oldest); None
        when none shares a word."""
        index = self.words.get(team, {})
        shared: dict[int, int] = {}
        found: dict[int, Briefing] = {}
        for word in words:
            for b in index.get(word, ()):
                shared[id(b)] = shared.get(id(b), 0) + 1
                found[id(b)] = b
        if not shared:
            return None
        best = max(shared.values())
        return min((found[k] for k, n in shared.items() if n == best), key=lambda b: (b.created, b.id))


def _initiative(
    item: WorkItem, rule_initiative: str | None, team: str | None, briefings: Briefings
) -> tuple[str | None, str | None]:
    current = item.owned.get("initiative")
    if current:
        return (current[0] if isinstance(current, (list, tuple)) else current), "kept"
    if rule_initiative:
        wanted = fold(rule_initiative)
        for b in briefings.all:
            if b.id == rule_initiative or fold(b.title) == wanted:
                return b.id, "rule"
        return None, None
    chosen = briefings.sharing_most_words(frozenset(WORD.findall(fold(f"{item.title} {item.text}"))), team)
    return (chosen.id, "proposed") if chosen is not None else (None, None)


def route_feedback(
    item: WorkItem, settings: Settings, team: str | None, modes: dict[str, str], briefings: Briefings
) -> Routing:
    route = settings.route
    assert route is not None, "routing runs only when the config has a route section"
    chosen = None
    for rule in route.feedback_rules:
        if first_failure(rule.when, item, team) is None:
            chosen = rule
            break
    if chosen is None:
        target, name, where, fallback, on_survival, wanted = (
            route.feedback_fallback,
            "fallback",
            route.feedback_fallback_where,
            True,
            None,
            None,
        )
    else:
        target, name, where, fallback, on_survival, wanted = (
            chosen.to,
            chosen.name,
            chosen.where,
            False,
            chosen.when_survival,
            chosen.initiative,
        )
    assert target is not None and where is not None, "feedback is routed only with a fallback"
    to_team, pm = resolve_target(settings, target)
    survival = to_team is not None and modes.get(to_team) == "survival"
    redirected = False
    if survival and on_survival:
        target, redirected = on_survival, True
        to_team, pm = resolve_target(settings, target)
    initiative, reason = _initiative(item, wanted, to_team, briefings)
    linked = briefings.by_id.get(initiative) if initiative is not None else None
    return Routing(
        target,
        to_team,
        pm,
        name,
        where,
        fallback,
        survival,
        redirected,
        initiative,
        reason,
        linked.url if linked is not None else None,
    )


def route_maintenance(item: WorkItem, settings: Settings, mapped_team: str | None) -> Routing | None:
    """The team a Jira RUN issue without a Team value should get, or None to leave it."""
    route = settings.route
    assert route is not None, "routing runs only when the config has a route section"
    for rule in route.maintenance_rules:
        if first_failure(rule.when, item, mapped_team) is None:
            return Routing(rule.to, rule.to, settings.teams[rule.to].pm, rule.name, rule.where)
    if mapped_team is not None:
        return None
    fb, where = route.maintenance_fallback, route.maintenance_fallback_where
    assert fb is not None and where is not None, "maintenance is routed only with a fallback"
    return Routing(fb, fb, settings.teams[fb].pm, "fallback", where, fallback=True)


# -- from a routing decision to owned values ----------------------------------------
#: The owned fields a routing decision writes (a view of sync.owned).
ROUTED_FIELDS = derived_from("routing")


def desired_feedback_fields(routing: Routing, settings: Settings, source: str) -> dict[str, Any]:
    """Owned values a routed feedback item should hold, in the tool's representation."""
    person = settings.people.get(routing.pm) if routing.pm else None
    out: dict[str, Any] = {
        "routed_by": routing.label + (" — team in survival mode" if routing.survival else "")
    }
    pm_id = getattr(person, source, None) if person else None
    if pm_id:
        out["pm"] = pm_id
    if routing.team:
        team = settings.teams[routing.team]
        out["team"] = (
            team.notion.team if source == "notion" and team.notion and team.notion.team else routing.team
        )
    if routing.initiative:
        if source == "notion":
            out["initiative"] = (routing.initiative,)
        elif routing.initiative_reason == "kept":
            out["initiative"] = routing.initiative  # the link already on the issue
        elif routing.initiative_url:
            out["initiative"] = routing.initiative_url  # Jira holds the briefing's URL
    return out


@dataclass(frozen=True)
class Override:
    """A routing field a person set, that relais keeps and reports."""

    item: str
    field: str
    human: Any
    rule_says: Any
    target: str = ""  # the item's key
    why: str = "set by hand"


def _last_written(relais_wrote: dict[str, Written], name: str, current: Any) -> str | None:
    """The JSON of relais' value in ``name`` (as the audit log has it), None if it never wrote one."""
    return relais_wrote[name].relais_value(current) if name in relais_wrote else None


def keep_human_choices(
    item: WorkItem,
    desired: dict[str, Any],
    relais_wrote: dict[str, Written],
    settings: Settings | None = None,
) -> tuple[dict[str, Any], list[Override]]:
    """Drop from ``desired`` the PM/team a person set (a value relais did not write, or one put in
    place of relais' own) and report them; ``writeback.adopt: overwrite`` lets relais replace a
    value it never wrote (:func:`sync.owned.kept_reason`)."""
    final, overrides = dict(desired), []
    for name in ("pm", "team"):
        current = item.owned.get(name)
        if name not in desired or current == desired[name]:
            continue
        why = kept_reason(current, _last_written(relais_wrote, name, current), adopt_policy(settings, name))
        if why is not None:
            overrides.append(Override(item.ref, name, current, desired[name], item.key, why))
            del final[name]
    if overrides and "routed_by" in desired:  # Jira has no "Routed by" field: nothing to say there
        final["routed_by"] = "kept as set by hand; " + desired["routed_by"]
    return final, overrides


@dataclass
class RoutingPlan:
    changes: list[tuple[WorkItem, list[Any]]]  # (item, [FieldChange])
    decisions: list[tuple[WorkItem, Routing]]  # every feedback item routed this cycle
    overrides: list[Override]
    maintenance: list[tuple[WorkItem, Routing]]


def plan_routing(
    settings: Settings,
    feedback: list[tuple[WorkItem, str | None]],
    maintenance: list[tuple[WorkItem, Routing]],
    briefings: list[Briefing],
    modes: dict[str, str],
    relais_wrote: dict[tuple[str, str], dict[str, Any]],
    kept: list[Override] | None = None,
) -> RoutingPlan:
    """Owned-field changes for routed feedback, and for the maintenance decisions already taken
    (plan takes those while streaming, so that the balance counts the routed team at once)."""

    out = RoutingPlan([], [], list(kept or []), list(maintenance))
    route = settings.route
    index = Briefings(briefings)
    if route is not None and route.feedback_fallback:
        for item, team in feedback:
            if not set(ROUTED_FIELDS).intersection(item.owned):
                continue  # routing is not written back for this database
            r = route_feedback(item, settings, team, modes, index)
            out.decisions.append((item, r))
            desired = {
                k: v for k, v in desired_feedback_fields(r, settings, item.source).items() if k in item.owned
            }
            final, overrides = keep_human_choices(
                item, desired, relais_wrote.get((item.source, item.id), {}), settings
            )
            out.overrides += overrides
            changes = [
                FieldChange(item.source, item.id, item.key, k, item.owned.get(k), v, r.label)
                for k, v in final.items()
                if item.owned.get(k) != v
            ]
            if changes:
                out.changes.append((item, changes))
    for item, r in maintenance:
        out.changes.append(
            (
                item,
                [
                    FieldChange(
                        item.source, item.id, item.key, "team", item.owned.get("team"), r.team, r.label
                    )
                ],
            )
        )
    return out


def maintenance_decision(
    item: WorkItem,
    settings: Settings,
    mapped_team: str | None,
    is_run: bool,
    relais_wrote: dict[str, Written] | None = None,
) -> tuple[Routing | None, Override | None]:
    """For a Jira RUN issue: the team routing gives it when its (owned) Team field is empty. A team a
    person set (one relais did not write) is kept, and returned as an override when a matching rule
    says otherwise — unless relais never wrote the field and ``writeback.adopt`` says ``overwrite``:
    then the rule's team replaces it, once."""
    route = settings.route
    if (
        route is None
        or not route.maintenance_fallback
        or not is_run
        or item.source != "jira"
        or item.kind != "issue"
    ):
        return None, None
    if "team" not in item.owned:
        return None, None  # the Team field is not managed here
    current = item.owned["team"]
    if not current:
        return route_maintenance(item, settings, mapped_team), None
    wrote = relais_wrote or {}
    last = _last_written(wrote, "team", current)
    if last != json.dumps(current):  # not relais' value
        r = route_maintenance(item, settings, None)
        if r is not None and not r.fallback and r.team != current:
            why = kept_reason(current, last, adopt_policy(settings, "team"))
            if why is None:
                return r, None
            return None, Override(item.ref, "team", current, r.team, item.key, why)
    return None, None


def _who(settings: Settings, value: Any) -> Any:
    """A person key for a tool's user id, when the config knows the person."""
    for key, person in settings.people.items():
        if value and value in (person.jira, person.notion):
            return key
    return value


def routing_summary(plan: RoutingPlan, settings: Settings) -> dict[str, Any]:
    """Per PM: items routed, by rule; the fallback share; survival flags; human overrides."""
    per_pm: dict[str, dict[str, Any]] = {}
    fallback = survival = 0
    for _item, r in plan.decisions:
        who = r.pm or r.target
        entry = per_pm.setdefault(who, {"items": 0, "by_rule": {}, "survival": 0})
        entry["items"] += 1
        entry["by_rule"][r.rule] = entry["by_rule"].get(r.rule, 0) + 1
        entry["survival"] += int(r.survival)
        fallback += int(r.fallback)
        survival += int(r.survival)
    total = len(plan.decisions)
    return {
        "routed": {who: e["items"] for who, e in sorted(per_pm.items())},
        "per_pm": dict(sorted(per_pm.items())),
        "fallback": fallback,
        "fallback_share": round(fallback / total, 3) if total else None,
        "survival_flags": survival,
        "overrides": [
            {
                "item": o.item,
                "key": o.target,  # what people call the item: PAY-12, the page's title
                "field": o.field,
                "set_by_hand": _who(settings, o.human),
                "rules_say": _who(settings, o.rule_says),
            }
            for o in plan.overrides
        ],
        "maintenance": [
            {"item": i.ref, "key": i.key, "team": r.team, "rule": r.rule} for i, r in plan.maintenance
        ],
    }
