"""The relais configuration for a sandbox org (same shape as config/relais.example.yaml)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import yaml

from .jira.fields import FEEDBACK_PROJECT_KEY
from .org import BOT_EMAIL, Org

CLASSIFY: list[dict[str, Any]] = [
    {"name": "incidents are RUN", "when": {"source": "pagerduty"}, "then": "RUN"},
    {"name": "bugs and support", "when": {"issuetype": ["Bug", "Support"]}, "then": "RUN"},
    {"name": "maintenance", "when": {"labels": {"any": ["maintenance", "ops"]}}, "then": "RUN"},
    {
        "name": "tech debt and tooling",
        "when": {"labels": {"any": ["tech-debt", "tooling", "training"]}},
        "then": "IMPROVE",
    },
    {"default": "BUILD"},
]

# The sandbox answers fast; relais' own pacing must not make tests slow.
REQUESTS_PER_SECOND = 50


# What relais computes and writes for RUN/BUILD balance (issue 3); added by ``balance=True``.
BALANCE: dict[str, Any] = {
    "backfill_periods": 4,
    "urgent": {"when": {"source": "jira", "priority": ["Highest"]}},
}
BALANCE_WRITEBACK: dict[str, Any] = {
    "scorecard": {"database": "scorecard"},
    "briefings": {"run_load": "Team RUN load", "mode": "Team mode"},
}


def build_config(
    org: Org,
    urls: Mapping[str, str],
    ca_path: str,
    state_path: str,
    balance: bool = False,
    routing: bool = False,
    briefings: bool = False,
) -> dict[str, Any]:
    """``balance=True`` adds the scorecard database, a ``balance`` section and the
    scorecard/briefing write-backs; ``routing=True`` a ``route`` section and the
    routing write-backs; ``briefings=True`` the ``briefings`` and ``followups`` sections
    and the epic/briefing status write-backs (all off by default)."""
    config = _base_config(org, urls, ca_path, state_path)
    sections: dict[str, Any] = {}
    if balance:
        config["sources"]["notion"]["databases"]["scorecard"] = org.notion["scorecard_database"]
        sections["balance"] = copy.deepcopy(BALANCE)
        config["writeback"]["notion"].update(copy.deepcopy(BALANCE_WRITEBACK))
    if routing:
        sections["route"] = route_section(org)
        config["sources"]["jira"]["feedback_jql"] = f"project = {FEEDBACK_PROJECT_KEY}"
        config["writeback"]["jira"].update(copy.deepcopy(ROUTING_WRITEBACK["jira"]))
        config["writeback"]["notion"].update(copy.deepcopy(ROUTING_WRITEBACK["notion"]))
    if briefings:
        sections["briefings"] = copy.deepcopy(BRIEFINGS)
        sections["followups"] = copy.deepcopy(FOLLOWUPS)
        # The follow-up tickets are RUN: a rule on their label, before the default (their type is Task).
        config["classify"].insert(len(config["classify"]) - 1, copy.deepcopy(FOLLOWUP_RULE))
        config["writeback"]["jira"].update(copy.deepcopy(BRIEFINGS_WRITEBACK["jira"]))
        config["writeback"]["notion"].update(copy.deepcopy(BRIEFINGS_WRITEBACK["notion"]))
    ordered: dict[str, Any] = {}
    for key, value in config.items():
        if key == "writeback":
            ordered.update(sections)
        ordered[key] = value
    return ordered


def route_section(org: Org) -> dict[str, Any]:
    """``route:`` for the org: ``ROUTE`` without the targets this org lacks (a custom size
    with fewer teams); the fallbacks stay (the first team / person when theirs is missing)."""
    teams = {t.slug for t in org.teams}
    people = {p.slug for p in org.people}
    out: dict[str, Any] = {}
    for section, entries in ROUTE.items():
        kept = [copy.deepcopy(e) for e in entries[:-1] if e["to"] in teams | people]
        fallback = entries[-1]["fallback"]
        if fallback not in teams | people:
            fallback = org.teams[0].slug if section == "maintenance" else org.people[0].slug
        out[section] = [*kept, {"fallback": fallback}]
    return out


# What relais routes (its routing issue); added by ``routing=True``. Written for the
# seeded feedback pages (sandbox/notion/feedback.py) and the demo's RUN tickets without
# a Team (sandbox/jira/routing.py); sandbox/README.md tables what each decides.
ROUTE: dict[str, list[dict[str, Any]]] = {
    "feedback": [
        {
            "name": "billing",
            "when": {"text": {"contains_any": ["factur", "invoice", "refund", "rembours"]}},
            "to": "payments",
        },
        {"name": "enterprise support", "when": {"origin": "Support", "tier": "Enterprise"}, "to": "farid"},
        {"name": "search and API", "when": {"area": ["Search", "API"]}, "to": "core"},
        {"name": "single sign-on", "when": {"text": {"matches": r"\b(sso|saml|2fa)\b"}}, "to": "core"},
        {"name": "CSV exports", "when": {"text": {"contains_all": ["export", "csv"]}}, "to": "support"},
        {"fallback": "chloe"},
    ],
    "maintenance": [
        {
            "name": "billing and payments",
            "when": {"text": {"contains_any": ["invoice", "refund", "card payment", "billing", "factur"]}},
            "to": "payments",
        },
        {
            "name": "search and API",
            "when": {"text": {"contains_any": ["search", "api", "webhook", "login"]}},
            "to": "core",
        },
        {
            "name": "portal and tooling",
            "when": {"components": ["Portal", "Knowledge base", "Tooling"]},
            "to": "support",
        },
        {"fallback": "core"},
    ],
}
ROUTING_WRITEBACK: dict[str, dict[str, Any]] = {
    "jira": {
        "pm": {"field": "Product Manager"},
        "team": {"field": "Team"},
        "initiative": {"field": "Briefing link"},
    },
    "notion": {"routing": {"database": "feedback"}},
}


# What relais' initiative status needs (briefings, delivery, incident follow-ups); added by
# ``briefings=True``. Property and field names are the sandbox's (sandbox/notion/briefings.py,
# sandbox/jira/epics.py); sandbox/README.md tables the seeded situations they reveal.
BRIEFINGS: dict[str, Any] = {
    "epic_property": "Epic",  # briefing property naming the epic (key or URL)
    "target_date": "Target date",
    "depends_on": "Depends on",
    "validated_by": "Validated by",
    "impact": "Impact",
    "effort": "Effort",
    "security": "Security critical",
    "throughput_weeks": 4,
}
FOLLOWUPS: dict[str, Any] = {
    "when": {"urgency": "high"},
    "issuetype": "Task",
    "labels": ["incident-follow-up"],
    "lookback_days": 7,
}
FOLLOWUP_RULE: dict[str, Any] = {
    "name": "incident follow-ups",
    "when": {"labels": {"any": ["incident-follow-up"]}},
    "then": "RUN",
}
BRIEFINGS_WRITEBACK: dict[str, dict[str, Any]] = {
    "jira": {"epic": {"health": {"field": "Health"}, "briefing_link": {"field": "Briefing link"}}},
    "notion": {
        "status": {
            "health": "Health",
            "reason": "Health reason",
            "progress": "Progress",
            "forecast": "Forecast",
            "incidents": "Open incidents",
            "dependencies": "Dependencies",
            "undeclared": "Undeclared dependencies",
            "score": "Priority score",
            "last_synced": "Last synced",
        }
    },
}


def _base_config(org: Org, urls: Mapping[str, str], ca_path: str, state_path: str) -> dict[str, Any]:
    project_keys = [t.project_key for t in org.teams]
    return {
        "version": 1,
        "timezone": "Europe/Paris",
        "state": {"path": state_path},
        "sources": {
            "jira": {
                "url": urls.get("jira", ""),
                "jql": f"project in ({', '.join(project_keys)})",
                "overlap_minutes": 5,
                "page_size": 100,
                "requests_per_second": REQUESTS_PER_SECOND,
                "ca_bundle": ca_path,
            },
            "notion": {
                "url": urls.get("notion", "https://api.notion.com"),
                "databases": {
                    "briefings": org.notion["briefings_database"],
                    "feedback": org.notion["feedback_database"],
                },
                "properties": {"title": "Name", "team": "Team", "status": "Status", "tags": "Tags"},
                "overlap_minutes": 3,
                "requests_per_second": REQUESTS_PER_SECOND,
                "ca_bundle": ca_path,
            },
            "pagerduty": {
                "url": urls.get("pagerduty", "https://api.pagerduty.com"),
                "services": [s.id for s in org.services],
                "from_email": BOT_EMAIL,
                "overlap_minutes": 10,
                "first_sync_days": 90,
                "requests_per_second": REQUESTS_PER_SECOND,
                "ca_bundle": ca_path,
            },
        },
        "people": {
            p.slug: {"email": p.email, "jira": p.jira_account_id, "notion": p.notion_user_id}
            for p in org.people
        },
        "teams": {
            t.slug: {
                "pm": t.pm,
                "jira": {"projects": [t.project_key]},
                "pagerduty": {"services": [t.service_id]},
                "notion": {"team": t.name},
            }
            for t in org.teams
        },
        "classify": [dict(rule) for rule in CLASSIFY],
        "writeback": {
            "jira": {"work_type": {"field": "Work type"}},
            "notion": {"work_type": {"property": "Work type", "databases": ["briefings", "feedback"]}},
        },
    }


def render_yaml(config: dict[str, Any], seed: int, size_name: str) -> str:
    header = (
        f"# relais configuration for the sandbox org (seed {seed}, size {size_name}).\n"
        "# Generated by `python -m sandbox`; credentials come from the environment it prints.\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False, default_flow_style=False, allow_unicode=True)
