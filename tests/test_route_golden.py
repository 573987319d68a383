"""Routing golden table: 40 feedback items (and five scenarios), French and English, with the PM, team,
initiative and rule each must get — worked out by hand from tests/fixtures/routing.yaml."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.models import WorkItem
from sync.owned import Written
from sync.route import (
    Briefing,
    Briefings,
    briefing_of,
    desired_feedback_fields,
    keep_human_choices,
    route_feedback,
)
from sync.settings import load_settings

SETTINGS = load_settings(Path(__file__).parent / "fixtures" / "routing.yaml")
T0 = datetime(2026, 9, 1, tzinfo=UTC)


_n = iter(range(1, 10_000))


def page(title: str, *, origin=None, tier=None, area=None, tags=(), text="", owned=None) -> WorkItem:
    n = next(_n)
    return WorkItem(
        source="notion",
        id=f"page-{n:04d}",
        key=title,
        kind="feedback",
        title=title,
        text=text,
        updated=T0,
        created=T0 + timedelta(minutes=n),
        labels=tuple(tags),
        origin=origin,
        tier=tier,
        area=area,
        database="feedback",
        owned=owned or {},
    )


BRIEFS = {
    "Instant refunds": ("payments", ("refunds", "remboursement")),
    "Invoice redesign": ("payments", ("facture", "invoices")),
    "Faster search": ("core", ("search", "performance")),
    "SSO for enterprise": ("core", ("saml", "security")),
    "Self-serve exports": ("support", ("exports", "export")),
    "Onboarding guides": ("support", ("onboarding", "docs")),
}
BRIEFINGS: list[Briefing] = [
    briefing_of(
        WorkItem(
            source="notion",
            id=f"brief-{i}",
            key=t,
            kind="briefing",
            title=t,
            updated=T0,
            created=T0 + timedelta(days=i),
            labels=tags,
            database="briefings",
        ),
        team,
    )
    for i, (t, (team, tags)) in enumerate(BRIEFS.items())
]
ID = {b.title: b.id for b in BRIEFINGS}
INDEX = Briefings(BRIEFINGS)  # as plan_routing indexes them, once
S, E, M, SMB = "Support", "Enterprise", "Mid-market", "SMB"
SALES, AM = "Sales", "Account management"

# title, origin, tier, area → rule, PM, team, initiative (title), initiative reason
TABLE = [
    (
        "Facture en double pour ACME",
        SALES,
        SMB,
        "Billing",
        "billing",
        "alice",
        "payments",
        "Invoice redesign",
    ),
    ("FACTURATION: montant erroné", SALES, SMB, "Billing", "billing", "alice", "payments", None),
    (
        "Refunds take too long to show up",
        S,
        SMB,
        "Billing",
        "billing",
        "alice",
        "payments",
        "Instant refunds",
    ),
    ("Remboursement pas reçu", S, M, "Billing", "billing", "alice", "payments", "Instant refunds"),
    ("Invoice PDF is blank", AM, E, "Billing", "billing", "alice", "payments", "Invoice redesign"),
    ("Search is slow on large accounts", S, E, "Search", "enterprise support", "chloe", "support", None),
    (
        "Search is slow on big accounts",
        SALES,
        E,
        "Search",
        "search and api",
        "bruno",
        "core",
        "Faster search",
    ),
    ("API rate limit too low", SALES, SMB, "API", "search and api", "bruno", "core", "Faster search"),
    ("L'API renvoie des erreurs 500", S, SMB, "API", "search and api", "bruno", "core", "Faster search"),
    ("Need SAML login", SALES, E, "Security", "security", "bruno", "core", "SSO for enterprise"),
    ("SSO obligatoire pour nos équipes", AM, E, "Security", "security", "bruno", "core", None),
    ("2FA par SMS", S, SMB, "Security", "security", "bruno", "core", None),
    ("Export CSV cassé", S, SMB, "Exports", "exports", "chloe", "support", "Self-serve exports"),
    ("CSV export misses columns", SALES, SMB, "Exports", "exports", "chloe", "support", "Self-serve exports"),
    ("Exporter en CSV les factures", S, SMB, "Exports", "billing", "alice", "payments", None),
    ("Onboarding is confusing", SALES, SMB, "Onboarding", "fallback", "dana", None, None),
    ("Pricing page is confusing", SALES, SMB, "Pricing", "fallback", "dana", None, None),
    ("Webhook retries are unclear", S, M, "Integrations", "fallback", "dana", None, None),
    ("Dark mode please", SALES, SMB, "UI", "fallback", "dana", None, None),
    ("Mobile app crashes on login", S, SMB, "Mobile", "fallback", "dana", None, None),
    ("Invoice in wrong currency", S, E, "Billing", "billing", "alice", "payments", "Invoice redesign"),
    ("Charged twice on my card", S, SMB, "Billing", "fallback", "dana", None, None),
    ("Recherche trop lente", S, SMB, "Search", "search and api", "bruno", "core", "Faster search"),
    ("recherche : résultats manquants", AM, M, "Search", "search and api", "bruno", "core", "Faster search"),
    ("MFA for admins", AM, E, "Security", "security", "bruno", "core", None),
    ("Facturé deux fois", SALES, SMB, "Billing", "billing", "alice", "payments", "Invoice redesign"),
    ("FACTURE illisible", S, SMB, "Billing", "billing", "alice", "payments", "Invoice redesign"),
    ("Le remboursement a échoué", S, SMB, "Billing", "billing", "alice", "payments", "Instant refunds"),
    (
        "Enterprise customer wants exports in CSV",
        S,
        E,
        "Exports",
        "enterprise support",
        "chloe",
        "support",
        "Self-serve exports",
    ),
    (
        "Enterprise onboarding docs outdated",
        S,
        E,
        "Docs",
        "enterprise support",
        "chloe",
        "support",
        "Onboarding guides",
    ),
    (
        "Slow search and slow exports",
        SALES,
        SMB,
        "Search",
        "search and api",
        "bruno",
        "core",
        "Faster search",
    ),
    ("Api keys rotation", SALES, SMB, "API", "search and api", "bruno", "core", "Faster search"),
    ("saml metadata expired", S, SMB, "Security", "security", "bruno", "core", "SSO for enterprise"),
    ("Export PDF", S, SMB, "Exports", "fallback", "dana", None, None),
    ("CSV import broken", S, SMB, "Imports", "fallback", "dana", None, None),
    ("Rembourser un client", AM, SMB, "Billing", "billing", "alice", "payments", None),
    ("Invoices missing VAT number", SALES, M, "Billing", "billing", "alice", "payments", "Invoice redesign"),
    ("Search filters reset", S, E, "Search", "enterprise support", "chloe", "support", None),
    ("REFUND STILL PENDING", AM, SMB, "Billing", "billing", "alice", "payments", None),
    ("Refund request from ACME", S, SMB, "Billing", "billing", "alice", "payments", None),
]


@pytest.mark.parametrize("title,origin,tier,area,rule,pm,team,initiative", TABLE, ids=[r[0] for r in TABLE])
def test_routing_table(title, origin, tier, area, rule, pm, team, initiative):
    item = page(title, origin=origin, tier=tier, area=area)
    r = route_feedback(item, SETTINGS, None, {}, INDEX)
    assert (r.rule, r.pm, r.team) == (rule, pm, team)
    assert r.initiative == (ID[initiative] if initiative else None)
    assert r.fallback == (rule == "fallback")


def test_the_table_is_big_enough():
    assert len(TABLE) >= 40


def test_an_initiative_already_linked_is_kept():
    item = page("SAML SSO with Okta", area="Security", owned={"initiative": (ID["Self-serve exports"],)})
    r = route_feedback(item, SETTINGS, None, {}, INDEX)
    assert (r.rule, r.initiative, r.initiative_reason) == ("security", ID["Self-serve exports"], "kept")


def test_a_pm_set_by_hand_is_kept_and_reported():
    bruno = SETTINGS.people["bruno"].notion
    item = page("Refund delayed", origin=S, tier=SMB, area="Billing", owned={"pm": bruno})
    r = route_feedback(item, SETTINGS, None, {}, INDEX)
    assert r.pm == "alice"
    final, overrides = keep_human_choices(
        item, desired_feedback_fields(r, SETTINGS, "notion"), relais_wrote={}
    )
    assert "pm" not in final  # bruno stays
    assert [(o.field, o.human, o.rule_says) for o in overrides] == [
        ("pm", bruno, SETTINGS.people["alice"].notion)
    ]
    assert final["team"] == "Payments"


def test_a_pm_relais_wrote_is_updated_when_the_rules_change():
    alice, bruno = SETTINGS.people["alice"].notion, SETTINGS.people["bruno"].notion
    item = page("Search is slow again", origin=SALES, tier=SMB, area="Search", owned={"pm": alice})
    r = route_feedback(item, SETTINGS, None, {}, INDEX)
    final, overrides = keep_human_choices(
        item, desired_feedback_fields(r, SETTINGS, "notion"), relais_wrote={"pm": Written(json.dumps(alice))}
    )
    assert final["pm"] == bruno and overrides == []


def test_survival_mode_redirects_when_the_rule_says_so():
    item = page("Need SAML login", origin=SALES, tier=E, area="Security")
    r = route_feedback(item, SETTINGS, None, {"core": "survival"}, INDEX)
    assert (r.pm, r.team, r.survival, r.redirected) == ("dana", None, True, True)


def test_survival_mode_without_a_redirect_marks_the_item():
    item = page("Search is slow", origin=SALES, tier=SMB, area="Search")
    r = route_feedback(item, SETTINGS, None, {"core": "survival"}, INDEX)
    assert (r.pm, r.team, r.survival, r.redirected) == ("bruno", "core", True, False)
    assert desired_feedback_fields(r, SETTINGS, "notion")["routed_by"].endswith("team in survival mode")
