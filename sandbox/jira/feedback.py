"""The Jira feedback project: FB ("Customer feedback") and its seeded Feedback issues.

Its fields are in :mod:`sandbox.jira.fields`; how they behave in :mod:`sandbox.jira.families`.

relais reads feedback from Jira through a second JQL (``sources.jira.feedback_jql``),
taking four fields by name (``sources.jira.feedback_fields``: Origin, Customer, Tier,
Area by default) and writing on those issues the routed Product Manager, Team and
Briefing link (:mod:`sandbox.jira.routing`).

- ``customfield_10090`` "Origin": single select (Sales, Support, Account management),
  options ``10300…``.
- ``customfield_10091`` "Customer": a short text field (a string, 255 characters at most).
- ``customfield_10092`` "Tier": single select (SMB, Mid-market, Enterprise), ``10310…``.
- ``customfield_10093`` "Area": single select (Billing, Search, API, Exports, Security,
  Onboarding, Dashboard), ``10320…``.

The four fields are on the FB project's screens only (like a field context limited
to one project): on other issues they read ``null`` and a write is Jira's "cannot be
set". No relais team owns FB, so the demo's ``project in (PAY, CORE, SUP)`` never
sees these issues; ``sb.jira.keys()`` leaves them out, ``sb.jira.feedback_keys()``
lists them.

Seeded issues (:func:`build_feedback`, drawn last and from their own RNG stream, so
that every earlier draw is unchanged): :data:`FEEDBACK`, French and English, created
over the last three weeks, To Do or In Progress, no worklogs, no story points, no
Team, no Product Manager — except one whose Product Manager a person set after
creation (a changelog entry by that person: :class:`Plan`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..org import Org, Person
from ..timeutil import floor_ms
from . import options as jo
from .families import routing_change_item
from .fields import (
    AREA,
    CUSTOMER,
    FEEDBACK_ISSUE_TYPE,
    FEEDBACK_PROJECT_KEY,
    FEEDBACK_SELECTS,
    ORIGIN,
    PM,
    ROUTING_FIELDS,
    STORY_POINTS,
    TIER,
    WORK_TYPE,
)
from .routing import FIRST_SEEDED_HISTORY

WEEKS = 3  # seeded feedback is created over the last three weeks
HUMAN_PM_HISTORY = FIRST_SEEDED_HISTORY + 1  # 10401: after SUP-18's Team (10400), below runtime ids
# summary, description, origin, customer, tier, area, status, priority. What the
# ``routing=True`` rules decide for each is tabled in sandbox/README.md.
FEEDBACK: list[tuple[str, str, str, str, str, str, str, str]] = [
    (
        "Facture envoyée deux fois au client",
        "Le client a reçu la même facture deux fois ce mois-ci et a été prélevé deux fois. Il demande un avoir.",
        "Support",
        "Boulangeries Roux",
        "SMB",
        "Billing",
        "To Do",
        "High",
    ),
    (
        "Invoice shows the wrong VAT",
        "The invoice charges 20 % VAT to a Belgian customer with a valid VAT number; it should be reverse-charged.",
        "Account management",
        "Initech",
        "Mid-market",
        "Billing",
        "In Progress",
        "Medium",
    ),
    (
        "Search ignores accents",
        "Searching for Hélène finds nothing while Helene finds the contact. French users type the accents.",
        "Sales",
        "Hooli",
        "Mid-market",
        "Search",
        "To Do",
        "Medium",
    ),
    (
        "API returns 502 under load",
        "During their nightly batch (about 300 requests a minute) one call in ten answers 502 Bad Gateway. "
        "They retry, but the batch now takes three hours.",
        "Support",
        "Globex",
        "Enterprise",
        "API",
        "In Progress",
        "High",
    ),
    (
        "Export CSV incomplet",
        "L'export CSV des contacts s'arrête à 10 000 lignes, sans message d'erreur. Le client en a 14 000.",
        "Support",
        "Mairie de Villeurbanne",
        "SMB",
        "Exports",
        "To Do",
        "Medium",
    ),
    (
        "SSO with Azure AD",
        "Their IT wants every employee to sign in through Azure AD and passwords switched off.",
        "Sales",
        "Stark Retail",
        "Enterprise",
        "Security",
        "To Do",
        "Medium",
    ),
    (
        "Onboarding emails in English only",
        "New users in France and Belgium get the welcome and setup emails in English, whatever language they chose.",
        "Account management",
        "Wayne Logistics",
        "Mid-market",
        "Onboarding",
        "To Do",
        "Low",
    ),
    (
        "Dashboard slow on Mondays",
        "Every Monday morning the dashboard takes 20 to 30 seconds to load; the rest of the week it is instant.",
        "Account management",
        "Umbrella",
        "Enterprise",
        "Dashboard",
        "In Progress",
        "Medium",
    ),
]
HUMAN_PM_INDEX = 7  # "Dashboard slow on Mondays": the rules' fallback, but a person chose a PM


@dataclass
class Plan:
    """What :func:`build_feedback` decided (``sb.jira.feedback_plan``)."""

    keys: list[str]  # FB-1…, oldest first
    human_pm: str | None = None  # key of the issue whose Product Manager a person set
    human: str | None = None  # that person's slug (the project lead, triaging)
    human_value: str | None = None  # the person they chose


def lead(org: Org) -> Person:
    """Who runs the feedback project (default author of edits): the PM of the third team
    (demo: chloe, Support's PM, who also gets the unrouted Notion feedback)."""
    return org.person(org.teams[min(2, len(org.teams) - 1)].pm)


def build_feedback(org: Org, first_id: int) -> tuple[list[dict[str, Any]], Plan]:
    """The seeded FB issues, oldest first, and the plan; ``first_id``: the id after the teams'
    seeded issues."""
    rng = org.rng("jira-feedback")
    span = timedelta(weeks=WEEKS).total_seconds() - 3600
    offsets = sorted(rng.random() * span for _ in FEEDBACK)
    start = org.anchor - timedelta(weeks=WEEKS)
    records: list[dict[str, Any]] = []
    for i, (summary, description, origin, customer, tier, area, status, priority) in enumerate(FEEDBACK):
        created = floor_ms(start + timedelta(seconds=offsets[i]))
        life = (org.anchor - created).total_seconds()
        updated = floor_ms(created + timedelta(seconds=life * (0.2 + 0.7 * rng.random())))
        records.append(
            {
                "id": str(first_id + i),
                "key": f"{FEEDBACK_PROJECT_KEY}-{i + 1}",
                "project": FEEDBACK_PROJECT_KEY,
                "issuetype": FEEDBACK_ISSUE_TYPE,
                "summary": summary,
                "description": description,
                "status": status,
                "priority": priority,
                "labels": [],
                "components": [],
                "assignee": None,
                "reporter": rng.choice(org.people).jira_account_id,
                "created": created,
                "updated": updated,
                "resolutiondate": None,
                STORY_POINTS: None,
                WORK_TYPE: None,
                **dict.fromkeys(ROUTING_FIELDS),
                ORIGIN: jo.option_id(FEEDBACK_SELECTS[ORIGIN], origin),
                CUSTOMER: customer,
                TIER: jo.option_id(FEEDBACK_SELECTS[TIER], tier),
                AREA: jo.option_id(FEEDBACK_SELECTS[AREA], area),
                "changelog": [],
                "worklogs": [],
            }
        )
    plan = Plan(keys=[r["key"] for r in records])
    rec = records[HUMAN_PM_INDEX]
    person = lead(org)
    chosen = org.person(org.teams[min(1, len(org.teams) - 1)].pm)  # demo: bruno, Core's PM
    plan.human_pm, plan.human, plan.human_value = rec["key"], person.slug, chosen.slug
    users = {p.jira_account_id: p for p in org.people}
    rec["changelog"].append(
        {
            "id": str(HUMAN_PM_HISTORY),
            "author": person.jira_account_id,
            "created": floor_ms(rec["created"] + (rec["updated"] - rec["created"]) / 2),
            "items": [routing_change_item({}, PM, None, chosen.jira_account_id, users)],
        }
    )
    rec[PM] = chosen.jira_account_id
    return records, plan
