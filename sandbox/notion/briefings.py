"""The briefings' properties for relais' initiative status: what a PM fills in, what relais writes.

Inputs, filled by people (seeded below):

- ``Target date`` (date): when the initiative is due.
- ``Depends on`` (multi_select of team names): the teams whose work the initiative needs.
- ``Validated by`` (multi_select of team names): each team named in *Depends on* ticks its own
  name once it has discussed and accepted the dependency ("no dependency that is not known, no
  dependency that is not discussed").
- ``Impact``, ``Effort`` (numbers) and ``Security critical`` (checkbox): prioritisation inputs;
  critical security work bypasses the impact/effort score.

Outputs, owned by relais, seeded empty: ``Health`` (select On track / At risk / Off track /
Blocked), ``Health reason``, ``Dependencies`` ("1 of 2 validated"), ``Undeclared dependencies``
(rich text), ``Progress`` (number, relais writes 0–100), ``Forecast``, ``Last synced`` (dates),
``Open incidents``, ``Priority score`` (numbers).

Property ids are drawn from the ``notion-schema-briefing-status`` stream and page values from
``notion-briefings``, both after everything else: every earlier id and value stays what it was.
The ``Epic`` property (rich text) holds the key of the page's epic when the pairing is carried by
the page (:mod:`sandbox.initiatives`), else nothing — it no longer holds a random key.

Dates are date-only (``{"start": "2026-11-20", "end": null, "time_zone": null}``). "Today" is the
org's anchor day, 00:00 UTC, which is the same calendar day in Europe/Paris (01:00 or 02:00).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ..org import Org
from .schema import Property, short_id

HEALTH = [("On track", "green"), ("At risk", "yellow"), ("Off track", "orange"), ("Blocked", "red")]
OUTPUT_TEXTS = ("Health reason", "Dependencies", "Undeclared dependencies")
OUTPUT_NUMBERS = ("Progress", "Open incidents", "Priority score")
OUTPUT_DATES = ("Forecast", "Last synced")
IMPACTS = [1, 2, 3, 5, 8]
EFFORTS = [1, 2, 3, 5, 8, 13]

# role -> (target date in days from today, impact, effort, security critical, declared, validated)
ROLE_VALUES: dict[str, tuple[int, int, int, bool, bool, bool]] = {
    "blocked": (-10, 8, 5, False, True, False),  # late, and the dependency is not validated
    "validated": (0, 5, 3, False, True, True),  # due today
    "undeclared": (28, 3, 2, False, False, False),
    "done": (14, 5, 8, False, False, False),
    "empty": (60, 8, 3, True, False, False),  # not started, security critical
}


def properties(org: Org) -> list[Property]:
    rng = org.rng("notion-schema-briefing-status")
    teams = [t.name for t in org.teams]

    def options(names: list[str]) -> list[dict[str, Any]]:
        colors = ["blue", "purple", "pink", "brown", "gray", "default", "orange", "yellow", "green", "red"]
        return [
            {"id": short_id(rng), "name": n, "color": colors[i % len(colors)], "description": None}
            for i, n in enumerate(names)
        ]

    return [
        Property("Target date", short_id(rng), "date"),
        Property("Depends on", short_id(rng), "multi_select", options(teams)),
        Property("Validated by", short_id(rng), "multi_select", options(teams)),
        Property("Impact", short_id(rng), "number"),
        Property("Effort", short_id(rng), "number"),
        Property("Security critical", short_id(rng), "checkbox"),
        Property(
            "Health",
            short_id(rng),
            "select",
            [{"id": short_id(rng), "name": n, "color": c, "description": None} for n, c in HEALTH],
        ),
        *[Property(name, short_id(rng), "rich_text") for name in OUTPUT_TEXTS],
        *[Property(name, short_id(rng), "number") for name in OUTPUT_NUMBERS],
        *[Property(name, short_id(rng), "date") for name in OUTPUT_DATES],
    ]


def _date(org: Org, days: int | None) -> dict[str, Any] | None:
    if days is None:
        return None
    return {"start": (org.anchor.date() + timedelta(days=days)).isoformat(), "end": None, "time_zone": None}


def seeded_values(org: Org, plan: Any) -> list[dict[str, Any]]:
    """Values of the briefings' new properties, and their ``Epic``, per briefing (names, not ids).

    Pages without a role draw a target date (or none), impact and effort (or none), depend on no
    team and are not security critical; the draws are made for every page so a page's values do
    not move when roles do.
    """
    rng = org.rng("notion-briefings")
    names = {t.slug: t.name for t in org.teams}
    out: list[dict[str, Any]] = []
    for initiative in plan.initiatives:
        days = rng.randint(7, 120) if rng.random() < 0.6 else None
        impact = rng.choice(IMPACTS) if rng.random() < 0.7 else None
        effort = rng.choice(EFFORTS) if rng.random() < 0.7 else None
        security, depends, validated = False, [], []
        if initiative.role in ROLE_VALUES:
            days, impact, effort, security, declared, ok = ROLE_VALUES[initiative.role]
            partner = names.get(initiative.partner or "")
            depends = [partner] if declared and partner else []
            validated = [partner] if ok and partner else []
        out.append(
            {
                "Epic": [initiative.epic] if initiative.via == "epic property" else [],
                "Target date": _date(org, days),
                "Depends on": depends,
                "Validated by": validated,
                "Impact": impact,
                "Effort": effort,
                "Security critical": security,
                "Health": None,
                **{name: [] for name in OUTPUT_TEXTS},
                **dict.fromkeys(OUTPUT_NUMBERS),
                **dict.fromkeys(OUTPUT_DATES),
            }
        )
    return out
