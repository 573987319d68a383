"""The seeded organisation every fake serves: teams, people, services, ids.

Deterministic: the same (seed, size, day) gives a byte-identical org (see
:func:`sandbox.seed.fingerprint`). ``now`` is floored to the UTC day so that a sandbox started at
10:00 and one started at 17:00 on the same day agree. Each vendor's items are
generated from the org by :func:`sandbox.seed.generate`, each step from its own RNG
stream, so changing one vendor's count never reshuffles another vendor's data.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .timeutil import floor_day, utc_now

SIZES: dict[str, dict[str, int]] = {
    "demo": {
        "teams": 3,
        "people_per_team": 2,
        "weeks": 4,
        "issues": 60,
        "incidents": 20,
        "open_incidents": 3,
        "briefings": 8,
        "feedback": 15,
        "epics_per_team": 2,
    },
    "small": {
        "teams": 5,
        "people_per_team": 3,
        "weeks": 8,
        "issues": 600,
        "incidents": 150,
        "open_incidents": 5,
        "briefings": 40,
        "feedback": 160,
        "epics_per_team": 6,
    },
    "large": {
        "teams": 20,
        "people_per_team": 5,
        "weeks": 26,
        "issues": 50_000,
        "incidents": 15_000,
        "open_incidents": 25,
        "briefings": 1_500,
        "feedback": 10_500,
        "epics_per_team": 50,
    },
}
# Keys added after custom sizes existed: a custom size's name hashes them only when they differ
# from the demo's, so the name (which seeds every RNG stream) of an existing custom size stays.
LATER_KEYS = ("epics_per_team",)

DOMAIN = "acme.example"
BOT_EMAIL = f"relais-bot@{DOMAIN}"

# slug, display name, Jira project key, PagerDuty service, Jira components
TEAM_CATALOG: list[tuple[str, str, str, str, tuple[str, ...]]] = [
    ("payments", "Payments", "PAY", "Payments API", ("Billing", "Checkout", "Refunds")),
    ("core", "Core", "CORE", "Core Platform", ("API", "Auth", "Infra")),
    ("support", "Support", "SUP", "Support Portal", ("Portal", "Knowledge base", "Tooling")),
    ("growth", "Growth", "GROW", "Growth Engine", ("Onboarding", "Experiments")),
    ("search", "Search", "SRCH", "Search Service", ("Indexing", "Ranking")),
    ("mobile", "Mobile", "MOB", "Mobile Backend", ("iOS", "Android")),
    ("data", "Data", "DATA", "Data Pipeline", ("Ingestion", "Warehouse")),
    ("identity", "Identity", "IAM", "Identity Service", ("SSO", "Directory")),
    ("ledger", "Ledger", "LEDG", "Ledger Service", ("Accounts", "Reconciliation")),
    ("risk", "Risk", "RISK", "Risk Engine", ("Scoring", "Rules")),
    ("notifications", "Notifications", "NOTIF", "Notification Hub", ("Email", "Push")),
    ("platform", "Platform", "PLAT", "Platform Gateway", ("Gateway", "Mesh")),
    ("security", "Security", "SEC", "Security Scanner", ("Secrets", "Audit")),
    ("analytics", "Analytics", "ANLY", "Analytics API", ("Dashboards", "Exports")),
    ("catalog", "Catalog", "CAT", "Catalog Service", ("Products", "Pricing")),
    ("onboarding", "Onboarding", "ONB", "Onboarding Flow", ("KYC", "Signup")),
    ("reporting", "Reporting", "REP", "Reporting Jobs", ("Scheduler", "PDF")),
    ("integrations", "Integrations", "INTG", "Integrations Hub", ("Webhooks", "Connectors")),
    ("messaging", "Messaging", "MSG", "Messaging Bus", ("Queues", "Streams")),
    ("infra", "Infrastructure", "INFRA", "Cluster Control", ("Kubernetes", "Network")),
]

# The product's features (briefings and epics are named after them) and its customers.
FEATURES = [
    "Instant refunds",
    "Multi-currency invoices",
    "SSO for enterprise",
    "Audit log export",
    "Self-serve plan upgrades",
    "Saved searches",
    "Usage-based billing",
    "Status page widget",
    "Bulk ticket actions",
    "Data residency in the EU",
]
CUSTOMERS = [
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark Retail",
    "Wayne Logistics",
    "Soylent",
    "Acme Travel",
]

FIRST_NAMES = [
    "alice",
    "bruno",
    "chloe",
    "david",
    "emma",
    "farid",
    "gina",
    "hugo",
    "ines",
    "jules",
    "karim",
    "lea",
    "malik",
    "nora",
    "oscar",
    "paula",
    "quentin",
    "rosa",
    "sami",
    "tess",
    "ugo",
    "vera",
    "wassim",
    "xenia",
    "yann",
    "zoe",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Laurent",
    "Moreau",
    "Garcia",
    "Roux",
    "Fontaine",
    "Chevalier",
    "Nguyen",
]


@dataclass(frozen=True)
class Person:
    slug: str
    name: str
    email: str
    team: str
    jira_account_id: str
    notion_user_id: str
    pd_user_id: str


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    team: str
    escalation_policy_id: str


@dataclass(frozen=True)
class Team:
    slug: str
    name: str
    project_key: str
    project_id: str
    components: tuple[str, ...]
    pm: str  # person slug
    service_id: str
    pd_team_id: str


@dataclass
class Org:
    seed: int
    size_name: str
    counts: dict[str, int]
    anchor: datetime  # "today" 00:00 UTC: all generated history lies before it
    teams: list[Team]
    people: list[Person]
    services: list[Service]
    bot: Person
    notion: dict[str, str] = field(default_factory=dict)  # ids of databases, data sources, workspace, bot

    @property
    def start(self) -> datetime:
        return self.anchor - timedelta(weeks=self.counts["weeks"])

    def team(self, slug: str) -> Team:
        return next(t for t in self.teams if t.slug == slug)

    def person(self, slug: str) -> Person:
        return next(p for p in [*self.people, self.bot] if p.slug == slug)

    def members(self, team_slug: str) -> list[Person]:
        return [p for p in self.people if p.team == team_slug]

    def rng(self, stream: str) -> random.Random:
        """An independent RNG stream for one generator (str seeds hash stably)."""
        return random.Random(f"relais-sandbox:{self.seed}:{self.size_name}:{stream}")


def resolve_size(size: str | Mapping[str, int]) -> tuple[str, dict[str, int]]:
    if isinstance(size, str):
        if size not in SIZES:
            raise ValueError(f"unknown size {size!r}; expected one of {', '.join(SIZES)} or a dict of counts")
        return size, dict(SIZES[size])
    unknown = set(size) - set(SIZES["demo"])
    if unknown:
        raise ValueError(f"unknown size keys {sorted(unknown)}; known: {sorted(SIZES['demo'])}")
    counts = dict(SIZES["demo"])
    counts.update({k: int(v) for k, v in size.items()})
    named = {k: v for k, v in counts.items() if k not in LATER_KEYS or v != SIZES["demo"][k]}
    name = "custom-" + hashlib.sha1(json.dumps(named, sort_keys=True).encode()).hexdigest()[:8]
    return name, counts


def uuid_from(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def hex_id(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def pd_id(rng: random.Random, prefix: str, n: int = 13) -> str:
    return prefix + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(n))


def page_url(title: str, object_id: str) -> str:
    """``https://app.notion.com/p/<title slug>-<id without dashes>``, as Notion builds page URLs."""
    slug = "-".join("".join(c if c.isalnum() else " " for c in title).split())
    return f"https://app.notion.com/p/{slug + '-' if slug else ''}{object_id.replace('-', '')}"


def _team_entry(i: int) -> tuple[str, str, str, str, tuple[str, ...]]:
    if i < len(TEAM_CATALOG):
        return TEAM_CATALOG[i]
    n = i + 1
    return (f"team{n}", f"Team {n}", f"T{n}", f"Service {n}", ("Backend", "Frontend"))


def build_org(seed: int = 7, size: str | Mapping[str, int] = "demo", now: datetime | None = None) -> Org:
    size_name, counts = resolve_size(size)
    anchor = floor_day(now or utc_now())
    rng = random.Random(f"relais-sandbox:{seed}:{size_name}:org")

    people: list[Person] = []
    teams: list[Team] = []
    services: list[Service] = []
    n_teams = counts["teams"]
    per_team = counts["people_per_team"]
    for t in range(n_teams):
        slug, name, key, service_name, components = _team_entry(t)
        service_id = f"PSVC{t + 1:03d}"
        services.append(Service(service_id, service_name, slug, f"PESC{t + 1:03d}"))
        teams.append(Team(slug, name, key, str(10000 + t), components, "", service_id, f"PTEAM{t + 1:02d}"))
    # People are dealt round-robin so the first n_teams people are the PMs
    # (demo: alice → payments, bruno → core, chloe → support).
    for i in range(n_teams * per_team):
        team = teams[i % n_teams]
        first = FIRST_NAMES[i % len(FIRST_NAMES)]
        slug = first if i < len(FIRST_NAMES) else f"{first}{i // len(FIRST_NAMES) + 1}"
        last = LAST_NAMES[(i * 7 + seed) % len(LAST_NAMES)]
        people.append(
            Person(
                slug=slug,
                name=f"{first.capitalize()} {last}",
                email=f"{slug}@{DOMAIN}",
                team=team.slug,
                jira_account_id="5b10ac8d" + hex_id(rng, 16),
                notion_user_id=uuid_from(rng),
                pd_user_id=f"PUSR{i + 1:03d}",
            )
        )
    teams = [
        Team(
            t.slug,
            t.name,
            t.project_key,
            t.project_id,
            t.components,
            people[i].slug,
            t.service_id,
            t.pd_team_id,
        )
        for i, t in enumerate(teams)
    ]
    bot = Person(
        "relais-bot", "relais bot", BOT_EMAIL, "", "5b10ac8d" + hex_id(rng, 16), uuid_from(rng), "PUSR000"
    )
    notion = {
        "briefings_database": uuid_from(rng),
        "briefings_data_source": uuid_from(rng),
        "feedback_database": uuid_from(rng),
        "feedback_data_source": uuid_from(rng),
        "workspace": uuid_from(rng),
        "workspace_page": uuid_from(rng),
        # Drawn last so that adding them left every earlier id unchanged.
        "scorecard_database": uuid_from(rng),
        "scorecard_data_source": uuid_from(rng),
    }
    return Org(seed, size_name, counts, anchor, teams, people, services, bot, notion)


def org_summary(org: Org) -> dict[str, Any]:
    data = asdict(org)
    data["anchor"] = org.anchor.isoformat()
    return data
