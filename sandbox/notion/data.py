"""Notion data: the briefings and feedback databases, seeded pages, JSON as Notion writes it.

Each database has exactly one data source (ids differ), as under Notion-Version
2025-09-03. Objects follow the recorded cassettes (pages/data sources with
minute-rounded ``…:00.000Z`` timestamps, databases with ``….778+00:00``) and
the generated TS types for property values the cassettes do not show.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from ..initiatives import Plan as Initiatives
from ..org import CUSTOMERS, FEATURES, Org, page_url, uuid_from
from ..timeutil import notion_database_format, notion_format
from . import briefings as notion_briefings
from .feedback import EXTRA_AREAS, routing_values
from .schema import Property, make_options, render_value, rich_text, short_id

DATABASES = {
    "briefings": "Initiative briefings",
    "feedback": "Customer feedback",
    "scorecard": "Team balance scorecard",
}
STATUSES = ["Draft", "Refined", "Dependencies validated", "Presented"]
WORK_TYPES = ["RUN", "BUILD", "IMPROVE"]
ORIGINS = ["Sales", "Support", "Account management"]
TIERS = ["Enterprise", "Growth", "Starter"]
BRIEFING_TAGS = ["customer-facing", "compliance", "platform", "revenue", "retention"]
FEEDBACK_TAGS = ["bug", "feature request", "ux", "performance", "pricing"]
_ASKS = [
    "Export invoices as CSV",
    "Refunds take too long to show up",
    "Need SAML login",
    "Search is slow on big accounts",
    "Cannot bulk-close tickets",
    "Want a sandbox API key",
    "Dark mode for the dashboard",
    "Webhook retries are unclear",
    "Monthly usage report by email",
    "Pricing page is confusing",
]
# Team modes, mildest first, coloured like a traffic light (relais writes them; see issue 3).
LEVELS = [("ok", "green"), ("watch", "yellow"), ("alert", "orange"), ("survival", "red")]
SCORECARD_NUMBERS = ["RUN %", "BUILD %", "IMPROVE %", "RUN hours", "Incidents", "Urgent requests"]
SCORECARD_SHARES = SCORECARD_NUMBERS[:3]  # percentages
#: What relais writes on a briefing for its delivery status (sandbox.notion.briefings).
BRIEFING_STATUS_PROPERTIES = (
    "Health",
    *notion_briefings.OUTPUT_TEXTS,
    *notion_briefings.OUTPUT_NUMBERS,
    *notion_briefings.OUTPUT_DATES,
)


def build_schemas(org: Org) -> dict[str, dict[str, Property]]:
    """Property schemas of both data sources (seeded ids), keyed by property name."""
    rng = org.rng("notion-schema")
    teams = [t.name for t in org.teams]
    areas = list(dict.fromkeys(c for t in org.teams for c in t.components))
    status = Property("Status", short_id(rng), "status", make_options(rng, STATUSES))
    ids = [o["id"] for o in status.options]
    status.groups = [
        {"id": short_id(rng), "name": "To-do", "color": "gray", "option_ids": ids[:1]},
        {"id": short_id(rng), "name": "In progress", "color": "blue", "option_ids": ids[1:3]},
        {"id": short_id(rng), "name": "Complete", "color": "green", "option_ids": ids[3:]},
    ]
    briefings = [
        Property("Name", "title", "title"),
        Property("Team", short_id(rng), "select", make_options(rng, teams)),
        status,
        Property("Tags", short_id(rng), "multi_select", make_options(rng, BRIEFING_TAGS)),
        Property("Owner", short_id(rng), "people"),
        Property("Work type", short_id(rng), "select", make_options(rng, WORK_TYPES)),
        Property("Epic", short_id(rng), "rich_text"),
    ]
    feedback = [
        Property("Name", "title", "title"),
        Property("Team", short_id(rng), "select", make_options(rng, teams)),
        Property("Origin", short_id(rng), "select", make_options(rng, ORIGINS)),
        Property("Customer", short_id(rng), "rich_text"),
        Property("Tier", short_id(rng), "select", make_options(rng, TIERS)),
        Property("Area", short_id(rng), "select", make_options(rng, areas)),
        Property("Tags", short_id(rng), "multi_select", make_options(rng, FEEDBACK_TAGS)),
        Property("Work type", short_id(rng), "select", make_options(rng, WORK_TYPES)),
        Property(
            "Briefing",
            short_id(rng),
            "relation",
            relation={
                "database_id": org.notion["briefings_database"],
                "data_source_id": org.notion["briefings_data_source"],
            },
        ),
    ]
    # The balance properties come from their own stream: the ids above stay what they were.
    rng = org.rng("notion-schema-balance")
    briefings += [
        Property("Team RUN load", short_id(rng), "number"),
        Property("Team mode", short_id(rng), "select", _levels(rng)),
    ]
    scorecard = [
        Property("Name", "title", "title"),
        Property("Key", short_id(rng), "rich_text"),
        Property("Team", short_id(rng), "select", make_options(rng, teams)),
        Property("Period", short_id(rng), "date"),
        *[Property(name, short_id(rng), "number") for name in SCORECARD_NUMBERS],
        Property("Level", short_id(rng), "select", _levels(rng)),
        Property("Alerts", short_id(rng), "rich_text"),
        Property("Notes", short_id(rng), "rich_text"),  # a human's column: relais never writes it
    ]
    # Routing (relais' routing issue): again a stream of its own.
    rng = org.rng("notion-schema-routing")
    area = next(p for p in feedback if p.name == "Area")
    area.options += make_options(rng, [a for a in EXTRA_AREAS if area.option(name=a) is None])
    feedback += [
        Property("PM", short_id(rng), "people"),
        Property("Routed by", short_id(rng), "rich_text"),
        Property("Details", short_id(rng), "rich_text"),
    ]
    briefings += notion_briefings.properties(org)  # relais' briefing status: a stream of its own too
    return {
        "briefings": {p.name: p for p in briefings},
        "feedback": {p.name: p for p in feedback},
        "scorecard": {p.name: p for p in scorecard},
    }


def _levels(rng: Any) -> list[dict[str, Any]]:
    return [
        {"id": short_id(rng), "name": name, "color": color, "description": None} for name, color in LEVELS
    ]


def _times(org: Org, rng: Any) -> tuple[datetime, datetime]:
    span = (org.anchor - org.start).total_seconds() - 3600
    created = org.start + timedelta(seconds=rng.random() * span)
    edited = created + timedelta(seconds=rng.random() * (org.anchor - created).total_seconds() * 0.9)
    return created.replace(microsecond=0), edited.replace(microsecond=rng.randrange(1000) * 1000)


def add_briefing_values(org: Org, pages: list[dict[str, Any]], plan: Initiatives) -> None:
    """Give the drawn briefings (``pages``: :func:`drawn_pages`, briefings first, then feedback)
    their relais properties and their ``Epic``, from the org's initiatives and their own stream
    (:mod:`sandbox.notion.briefings`), after the page's own draws, which stay what they were."""
    briefing_values = notion_briefings.seeded_values(org, plan)
    for i, page in enumerate(pages):
        if page["source"] == "briefings":
            page["values"].update(briefing_values[i])


def drawn_pages(org: Org) -> Iterator[dict[str, Any]]:
    """The pages as drawn from the ``notion`` stream, before the briefings' relais properties."""
    rng = org.rng("notion")
    briefings_by_team: dict[str, list[str]] = {}
    briefings: list[
        tuple[str, str, str]
    ] = []  # (id, team name, title), for the feedback's explicit initiatives
    for i in range(org.counts["briefings"]):
        team = org.teams[rng.randrange(len(org.teams))]
        pm = org.person(team.pm)
        owners = [pm.notion_user_id] + (
            [m.notion_user_id for m in org.members(team.slug) if m != pm][:1] if rng.random() < 0.3 else []
        )
        created, edited = _times(org, rng)
        work = "BUILD" if i % 9 == 2 else ("RUN" if i == 5 else None)  # a right and a wrong value to correct
        page_id = uuid_from(rng)
        briefings_by_team.setdefault(team.name, []).append(page_id)
        quarter = f"Q{rng.randint(1, 4)} {org.anchor.year + 1}"
        editor = rng.choice(owners)  # drawn before the title, as always
        title = f"{quarter} — {rng.choice(FEATURES)}"
        briefings.append((page_id, team.name, title))
        yield {
            "id": page_id,
            "source": "briefings",
            "created": created,
            "edited": edited,
            "created_by": pm.notion_user_id,
            "edited_by": editor,
            "in_trash": False,
            "values": {
                "Name": [title],
                "Team": team.name,
                "Status": rng.choice(STATUSES),
                "Tags": rng.sample(BRIEFING_TAGS, rng.randint(0, 2)),
                "Owner": owners,
                "Work type": work,
                "Epic": [f"{team.project_key}-{rng.randint(1, 40)}"] if rng.random() < 0.7 else [],
            },
        }
    n_feedback = org.counts["feedback"]
    areas = {c for t in org.teams for c in t.components} | set(EXTRA_AREAS)
    for i in range(n_feedback):
        team = org.teams[rng.randrange(len(org.teams))]
        routed = rng.random() < 0.85
        author = rng.choice(org.people)
        created, edited = _times(org, rng)
        candidates = briefings_by_team.get(team.name, [])
        relation = [rng.choice(candidates)] if candidates and rng.random() < 0.4 else []
        page: dict[str, Any] = {
            "id": uuid_from(rng),
            "source": "feedback",
            "created": created,
            "edited": edited,
            "created_by": author.notion_user_id,
            "edited_by": author.notion_user_id,
            "in_trash": i == n_feedback - 1 and n_feedback > 3,  # one trashed row: queries must skip it
            "values": {
                "Name": [rng.choice(_ASKS)],
                "Team": team.name if routed else None,
                "Origin": rng.choice(ORIGINS),
                "Customer": [rng.choice(CUSTOMERS)],
                "Tier": rng.choice(TIERS),
                "Area": rng.choice(team.components),
                "Tags": rng.sample(FEEDBACK_TAGS, rng.randint(0, 2)),
                "Work type": "RUN" if i % 10 == 4 else None,
                "Briefing": relation,
            },
        }
        # The routing content (sandbox.notion.feedback) replaces the draws above, which are still
        # made so that every id and timestamp stays what it was.
        values, router = routing_values(org, i, page["values"], areas, briefings)
        page["values"].update(values)
        if router is not None:
            page["edited_by"] = router
        yield page


class Renderer:
    def __init__(
        self,
        org: Org,
        base_url: str,
        schemas: dict[str, dict[str, Property]],
        titles: dict[str, str] | None = None,
        trashed: set[str] | None = None,
    ):
        self.org = org
        self.base = base_url.rstrip("/")
        self.schemas = schemas
        self.titles = titles or DATABASES  # data source -> its title
        self.trashed = trashed or set()  # data sources in the trash
        self.users = {p.notion_user_id: self.person(p.notion_user_id) for p in org.people}

    def person(self, user_id: str) -> dict[str, Any]:
        p = next(x for x in self.org.people if x.notion_user_id == user_id)
        return {
            "object": "user",
            "id": user_id,
            "name": p.name,
            "avatar_url": None,
            "type": "person",
            "person": {"email": p.email},
        }

    def bot(self) -> dict[str, Any]:
        return {
            "object": "user",
            "id": self.org.bot.notion_user_id,
            "name": "relais",
            "avatar_url": None,
            "type": "bot",
            "bot": {
                "owner": {"type": "workspace", "workspace": True},
                "workspace_name": "Acme (sandbox)",
                "workspace_id": self.org.notion["workspace"],
                "workspace_limits": {"max_file_upload_size_in_bytes": 5242880},
            },
        }

    def page(self, rec: dict[str, Any], only: set[str] | None = None) -> dict[str, Any]:
        source = rec["source"]
        schema = self.schemas[source]
        title = "".join(rec["values"].get("Name") or [])
        return {
            "object": "page",
            "id": rec["id"],
            "created_time": notion_format(rec["created"]),
            "last_edited_time": notion_format(rec["edited"]),
            "created_by": {"object": "user", "id": rec["created_by"]},
            "last_edited_by": {"object": "user", "id": rec["edited_by"]},
            "cover": None,
            "icon": None,
            "parent": {
                "type": "data_source_id",
                "data_source_id": self.org.notion[f"{source}_data_source"],
                "database_id": self.org.notion[f"{source}_database"],
            },
            "in_trash": rec["in_trash"],
            "is_archived": False,
            "is_locked": False,
            "properties": {
                name: render_value(prop, rec["values"].get(name), self.users)
                for name, prop in schema.items()
                if only is None or prop.id in only
            },
            "url": page_url(title, rec["id"]),
            "public_url": None,
            "archived": rec["in_trash"],
        }

    def data_source(self, source: str, edited: datetime) -> dict[str, Any]:
        created = self.org.start - timedelta(days=200)
        name = self.titles[source]
        dsid = self.org.notion[f"{source}_data_source"]
        return {
            "object": "data_source",
            "id": dsid,
            "cover": None,
            "icon": None,
            "created_time": notion_format(created),
            "created_by": {"object": "user", "id": self.org.people[0].notion_user_id},
            "last_edited_by": {"object": "user", "id": self.org.people[0].notion_user_id},
            "last_edited_time": notion_format(edited),
            "title": rich_text([name]),
            "description": [],
            "is_inline": False,
            "properties": {n: p.config() for n, p in self.schemas[source].items()},
            "parent": {"type": "database_id", "database_id": self.org.notion[f"{source}_database"]},
            "database_parent": {"type": "page_id", "page_id": self.org.notion["workspace_page"]},
            "url": page_url("", self.org.notion[f"{source}_database"]),
            "public_url": None,
            "in_trash": source in self.trashed,
            "archived": source in self.trashed,
        }

    def database(self, source: str, edited: datetime) -> dict[str, Any]:
        created = self.org.start - timedelta(days=200, seconds=-17.778)
        name = DATABASES[source]
        dbid = self.org.notion[f"{source}_database"]
        return {
            "object": "database",
            "id": dbid,
            "title": rich_text([name]),
            "description": [],
            "parent": {"type": "page_id", "page_id": self.org.notion["workspace_page"]},
            "is_inline": False,
            "in_trash": False,
            "is_locked": False,
            "created_time": notion_database_format(created),
            "last_edited_time": notion_database_format(edited),
            "data_sources": [{"id": self.org.notion[f"{source}_data_source"], "name": self.titles[source]}],
            "icon": None,
            "cover": None,
            "url": page_url("", dbid),
            "public_url": None,
            "archived": False,
        }
