"""Initiatives: which seeded briefing (Notion) goes with which epic (Jira), and what each shows.

relais' briefing status reads a briefing and the epic that delivers it: the epic's children,
their links to other teams' issues, the briefing's target date and declared dependencies. The
pairing spans two vendors, so it is decided here, once, in the seeding pass (:mod:`sandbox.seed`),
from the teams' seeded issues, the FB project's and the drawn briefings; the Jira fake and the
Notion fake are both handed the same plan.

Epics: ``org.counts["epics_per_team"]`` per team project, keyed after the project's seeded issues
(demo: PAY-20, PAY-21, CORE-22, CORE-23, SUP-21, SUP-22) and numbered after the FB project's issues
(demo: 10069–10074), team by team — ids and keys of everything seeded before stay what they were.

Pairing: each team's briefings, in creation order, take that team's epics in key order; briefings
beyond them have no epic, and if every briefing found one the last pair is undone, so that at least
one briefing names no epic and no epic names it. Which side carries the pairing alternates from
pair to pair, both ways relais reads it:

- ``"briefing link"``: the epic's Briefing link (``customfield_10080``) holds the page's URL and the
  page's ``Epic`` property is empty;
- ``"epic property"``: the page's ``Epic`` holds the epic's key and the epic's Briefing link is empty.

Roles, given to the pairs in that order (:data:`ROLES`), one situation each that relais must
report; ``partner`` is the next team (a custom size with one team has no partner, and no links):

- ``"blocked"``: a child "is blocked by" an open issue of the partner's project; the briefing
  declares the partner in *Depends on*, which has not validated it; the target date has passed.
- ``"validated"``: a child "is blocked by" a done issue of the partner; declared and validated;
  the target date is today.
- ``"undeclared"``: a child "is blocked by" an open issue of the partner, whom *Depends on* does not
  name: a dependency nobody declared.
- ``"done"``: every child is done (the epic too).
- ``"empty"``: the epic has no child yet; the briefing is the one *Security critical*.

What each side seeds for a role is in :mod:`sandbox.jira.epics` and :mod:`sandbox.notion.briefings`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .org import Org, page_url

ROLES = ("blocked", "validated", "undeclared", "done", "empty")
VIA = ("briefing link", "epic property")


@dataclass(frozen=True)
class Epic:
    key: str
    id: str
    team: str  # team slug
    briefing: int | None  # index of its briefing in ``Plan.initiatives``


@dataclass(frozen=True)
class Initiative:
    """One seeded briefing and what goes with it."""

    page_id: str
    title: str  # "Q4 2027 — Instant refunds"
    url: str  # the page's URL, what an epic's Briefing link holds
    team: str  # team slug
    epic: str | None = None  # key of its epic
    via: str | None = None  # "briefing link" or "epic property"
    role: str | None = None  # one of ROLES
    partner: str | None = None  # slug of the team a role's link goes to

    @property
    def feature(self) -> str:
        return self.title.split(" — ", 1)[-1]


@dataclass(frozen=True)
class Plan:
    initiatives: list[Initiative]  # one per seeded briefing, in creation order
    epics: list[Epic]  # in id order

    def role(self, name: str) -> Initiative:
        """The briefing seeded for a role (KeyError if this org is too small to have it)."""
        hit = next((i for i in self.initiatives if i.role == name), None)
        if hit is None:
            raise KeyError(f"no briefing has the role {name!r} in this org")
        return hit

    def without_epic(self) -> list[Initiative]:
        return [i for i in self.initiatives if i.epic is None]


def project_counts(records: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Seeded issues per project key."""
    counts: dict[str, int] = {}
    for rec in records:
        counts[rec["project"]] = counts.get(rec["project"], 0) + 1
    return counts


def build_plan(
    org: Org, counts: Mapping[str, int], briefings: Iterable[dict[str, Any]], first_epic_id: int
) -> Plan:
    """The pairing and roles (module docstring). ``counts``: seeded issues per project key (the
    epics' keys come after them); ``briefings``: the briefing pages as drawn, in creation order;
    ``first_epic_id``: the id after every issue seeded before the epics."""
    per_team = org.counts["epics_per_team"]
    epic_keys: dict[str, list[str]] = {}
    next_id = first_epic_id
    ids: dict[str, str] = {}
    for team in org.teams:
        base = counts.get(team.project_key, 0)
        epic_keys[team.slug] = [f"{team.project_key}-{base + j + 1}" for j in range(per_team)]
        for key in epic_keys[team.slug]:
            ids[key] = str(next_id)
            next_id += 1
    by_name = {t.name: t for t in org.teams}
    drawn = [(p["id"], by_name[p["values"]["Team"]].slug, p["values"]["Name"][0]) for p in briefings]
    taken: dict[str, int] = {}
    pairs: list[tuple[int, str]] = []  # (briefing index, epic key)
    for i, (_, slug, _) in enumerate(drawn):
        n = taken.get(slug, 0)
        if n < per_team:
            pairs.append((i, epic_keys[slug][n]))
            taken[slug] = n + 1
    if pairs and len(pairs) == len(drawn):
        pairs.pop()  # one briefing names no epic and no epic names it
    slugs = [t.slug for t in org.teams]
    initiatives = [Initiative(pid, title, page_url(title, pid), team) for pid, team, title in drawn]
    paired: dict[str, int] = {}
    for n, (i, key) in enumerate(pairs):
        own = slugs.index(initiatives[i].team)
        partner = slugs[(own + 1) % len(slugs)] if len(slugs) > 1 else None
        role = ROLES[n] if n < len(ROLES) else None
        initiatives[i] = replace(
            initiatives[i], epic=key, via=VIA[n % 2], role=role, partner=partner if role else None
        )
        paired[key] = i
    epics = [Epic(key, ids[key], team, paired.get(key)) for team, keys in epic_keys.items() for key in keys]
    return Plan(initiatives, epics)
