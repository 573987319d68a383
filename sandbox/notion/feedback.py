"""The seeded feedback pages' routing content (relais' routing issue).

The first ``len(FEEDBACK)`` feedback pages of every org take their title,
details, customer, origin, tier, area, team, tags, briefing and PM from this
table instead of the generic draws (ids, timestamps, authors, Work type and the
trashed row stay what :mod:`sandbox.notion.data` drew, so nothing else moves). Written the
way sales, support and account managers write: French and English, accents,
capitals; a third without a Team (relais routes them), two pointing at a
briefing already (explicit initiative), one routed by a human (``PM`` set by the
Support PM, who also edited the page last), one trashed.

What the sandbox's ``route.feedback`` rules (``sandbox.config``) decide for each
page is tabled in ``sandbox/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..org import Org

# Product areas feedback speaks of that are no team's Jira component.
EXTRA_AREAS = ["Search", "Exports"]


@dataclass(frozen=True)
class Feedback:
    title: str
    details: str
    customer: str
    origin: str
    tier: str
    area: str
    team: str | None  # a team *name* (the Notion select), None: to be routed
    tags: tuple[str, ...] = ()
    briefing_words: tuple[str, ...] = ()  # non-empty: the page already points at a briefing of `team`
    human_pm: str | None = None  # slug of the person a human routed it to (and who edited the page)


FEEDBACK: list[Feedback] = [
    Feedback(
        "Search is slow on large accounts",
        "Searches take more than 10 s once an account has over 50,000 tickets; their agents gave up on it.",
        "Hooli",
        "Sales",
        "Enterprise",
        "Search",
        "Core",
        ("performance",),
    ),
    Feedback(
        "Facture en double pour ACME",
        "Le client a reçu deux factures pour la commande de mars et demande un avoir.",
        "ACME",
        "Account management",
        "Enterprise",
        "Billing",
        None,
        ("bug",),
    ),
    Feedback(
        "FACTURATION: montant erroné",
        "Le montant facturé ne tient pas compte de la remise annuelle négociée.",
        "Globex",
        "Support",
        "Growth",
        "Billing",
        "Payments",
        ("bug", "pricing"),
        briefing_words=("invoice", "billing", "plan"),
    ),
    Feedback(
        "Refund took 3 weeks",
        "The customer waited three weeks for the refund of a cancelled plan and asks for instant refunds.",
        "Stark Retail",
        "Support",
        "Growth",
        "Refunds",
        None,
        ("feature request",),
    ),
    Feedback(
        "API rate limit too low",
        "Their nightly sync hits 429 after 1,000 calls; they need 5,000 an hour.",
        "Initech",
        "Sales",
        "Enterprise",
        "API",
        None,
        ("feature request", "performance"),
    ),
    Feedback(
        "Export CSV cassé",
        "L'export CSV coupe les lignes qui contiennent des accents (é, è, ç).",
        "Umbrella",
        "Support",
        "Starter",
        "Exports",
        "Support",
        ("bug",),
    ),
    Feedback(
        "Need SAML login for the whole team",
        "Their IT requires SSO through SAML before rolling out to 400 seats.",
        "Wayne Logistics",
        "Sales",
        "Enterprise",
        "Auth",
        "Core",
        ("feature request",),
        briefing_words=("sso", "enterprise"),
    ),
    Feedback(
        "Remboursement non reçu",
        "Le remboursement de la commande annulée n'apparaît toujours pas dans le portail client.",
        "Acme Travel",
        "Support",
        "Enterprise",
        "Portal",
        "Support",
        (),
        human_pm="chloe",
    ),
    Feedback(
        "Dark mode for the dashboard",
        "Agents on night shifts ask for a dark theme.",
        "Soylent",
        "Account management",
        "Starter",
        "Portal",
        "Support",
        ("ux",),
    ),
    Feedback(
        "Webhook retries are unclear",
        "Nothing says whether a failed webhook will be retried, nor when.",
        "Initech",
        "Support",
        "Growth",
        "API",
        "Core",
        ("ux",),
    ),
    Feedback(
        "Recherche : résultats incomplets",
        "La recherche ne trouve pas les tickets archivés ; le client les croyait perdus.",
        "Globex",
        "Account management",
        "Growth",
        "Search",
        None,
        ("bug",),
    ),
    Feedback(
        "Pricing page is confusing",
        "Prospects cannot tell which plan includes SSO; two deals stalled on it.",
        "Hooli",
        "Sales",
        "Starter",
        "Checkout",
        "Payments",
        ("pricing", "ux"),
    ),
    Feedback(
        "Besoin d'un rapport mensuel d'usage",
        "Le DAF veut chaque mois un récapitulatif par e-mail de l'usage par équipe.",
        "Stark Retail",
        "Account management",
        "Growth",
        "Knowledge base",
        None,
        ("feature request",),
    ),
    Feedback(
        "Cannot bulk-close tickets",
        "Support leads close 200 spam tickets by hand every Monday.",
        "Umbrella",
        "Support",
        "Enterprise",
        "Tooling",
        "Support",
        ("feature request",),
    ),
    Feedback(
        "Doublon : export CSV des remboursements",
        "Même demande que « Export CSV cassé ».",
        "Globex",
        "Support",
        "Growth",
        "Exports",
        "Support",
        (),
    ),  # the seeded trashed row (demo)
]


def routing_values(
    org: Org, i: int, drawn: dict[str, Any], areas: set[str], briefings: list[tuple[str, str, str]]
) -> tuple[dict[str, Any], str | None]:
    """Values replacing the drawn ones for feedback page ``i`` (names, not option ids),
    and the Notion user id of the human who routed it (None if nobody did).

    ``briefings``: (page id, team name, title) of the seeded briefings, oldest first.
    """
    if i >= len(FEEDBACK):
        return {"PM": [], "Routed by": [], "Details": []}, None
    f = FEEDBACK[i]
    team_names = {t.name for t in org.teams}
    team = f.team if f.team is None or f.team in team_names else drawn["Team"]
    values: dict[str, Any] = {
        "Name": [f.title],
        "Details": [f.details],
        "Customer": [f.customer],
        "Origin": f.origin,
        "Tier": f.tier,
        "Area": f.area if f.area in areas else drawn["Area"],
        "Team": team,
        "Tags": list(f.tags),
        "Briefing": [],
        "PM": [],
        "Routed by": [],
    }
    if f.briefing_words and briefings:
        own = [b for b in briefings if b[1] == team] or briefings
        best = next((b for b in own if any(w in b[2].lower() for w in f.briefing_words)), own[0])
        values["Briefing"] = [best[0]]
    editor = None
    slugs = {p.slug for p in org.people}
    if f.human_pm and f.human_pm in slugs:
        editor = org.person(f.human_pm).notion_user_id
        values["PM"] = [editor]
    return values, editor
