"""PagerDuty data: seeded incidents with their log entries, and REST v2 JSON.

Incidents and log entries are stored as compact records and rendered on read
in the shapes of ``pagerduty-openapiv3.json`` (examples of ``GET /incidents``,
``GET /log_entries``, ``GET /services``, ``GET /priorities``): references are
``*_reference`` objects, ``include[]`` swaps them for full objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from ..org import Org, Person, Service, hex_id, pd_id
from ..timeutil import UTC

SUBDOMAIN = "https://acme-sandbox.pagerduty.com"
ACCOUNT_TZ = "Europe/Paris"  # since/until without offset are read in this zone, like a real account

# Ids and descriptions from the spec's GET /priorities example.
PRIORITIES = [
    ("PSLWBL8", "P1", "Critical issue that warrants public notification and liaison with executive teams"),
    ("P53ZZH5", "P2", "Critical system issue actively impacting many customers' ability to use the product"),
    (
        "PGE9YCZ",
        "P3",
        "Stability or minor customer-impacting issues that require immediate attention from service owners",
    ),
    ("PVJPWYW", "P4", "Minor issues requiring action, but not affecting customer ability to use the product"),
    ("P81SUUT", "P5", "Cosmetic issues or bugs, not affecting customer ability to use the product"),
]
PRIORITY_NAMES = {pid: name for pid, name, _ in PRIORITIES}
OVERVIEW_TYPES = {
    "trigger_log_entry",
    "acknowledge_log_entry",
    "resolve_log_entry",
    "annotate_log_entry",
    "urgency_change_log_entry",
    "escalate_log_entry",
}
_SYMPTOMS = [
    "elevated 5xx rate",
    "p99 latency above 2s",
    "queue backlog growing",
    "certificate expires in 7 days",
    "disk usage above 90%",
    "error budget burn rate high",
    "health check failing",
    "database connection pool exhausted",
    "memory leak suspected after deploy",
]


def pd_time(dt: datetime | None, tz: Any = UTC) -> str | None:
    """``2015-10-06T21:30:42Z`` in UTC, ``2015-10-06T23:30:42+02:00`` in another zone."""
    if dt is None:
        return None
    local = dt.astimezone(tz)
    if local.utcoffset() == timedelta(0):
        return local.strftime("%Y-%m-%dT%H:%M:%SZ")
    return local.isoformat(timespec="seconds")


def _entry(
    rng: Any,
    kind: str,
    at: datetime,
    incident_id: str,
    agent: tuple[str, str],
    channel: str,
    note: str | None = None,
) -> dict[str, Any]:
    return {
        "id": pd_id(rng, "R"),
        "type": kind,
        "created_at": at,
        "incident_id": incident_id,
        "agent": agent,
        "channel": channel,
        "note": note,
    }


def iter_incidents(org: Org) -> Iterator[dict[str, Any]]:
    """Seeded incidents (oldest first), each carrying its log entries.

    Then, for relais' incident follow-ups, every team without a high-urgency incident resolved in
    the last 7 days gets one (:func:`_follow_ups`, own stream): demo: Core, the other two have one.
    """
    recent: set[str] = set()  # teams with a high-urgency incident resolved in the last 7 days
    owner = {s.id: s.team for s in org.services}
    number = 1000
    for rec in _drawn_incidents(org):
        if (
            rec["urgency"] == "high"
            and rec["resolved_at"]
            and rec["resolved_at"] >= org.anchor - FOLLOW_UP_DAYS
        ):
            recent.add(owner[rec["service_id"]])
        number = rec["number"]
        yield rec
    yield from _follow_ups(org, [s for s in org.services if s.team not in recent], number + 1)


FOLLOW_UP_DAYS = timedelta(days=7)


def _follow_ups(org: Org, services: list[Service], number: int) -> Iterator[dict[str, Any]]:
    """A high-urgency incident on each service, triggered in the evening before the anchor (after
    every drawn incident, open ones included, so numbers still follow creation), acknowledged and
    resolved by an on-call member within the hour."""
    rng = org.rng("pagerduty-followups")
    for service in services:
        members = org.members(service.team) or org.people
        person = rng.choice(members)
        created = org.anchor - timedelta(seconds=rng.randint(2 * 3600, 4 * 3600 - 60))
        incident_id = pd_id(rng, "Q")
        acked = created + timedelta(seconds=rng.randint(60, 600))
        resolved = acked + timedelta(seconds=rng.randint(600, 2400))
        trigger = _entry(rng, "trigger_log_entry", created, incident_id, ("service", service.id), "api")
        entries = [
            trigger,
            _entry(rng, "acknowledge_log_entry", acked, incident_id, ("user", person.pd_user_id), "website"),
            _entry(rng, "resolve_log_entry", resolved, incident_id, ("user", person.pd_user_id), "website"),
        ]
        yield {
            "id": incident_id,
            "number": number,
            "title": f"{service.name}: {rng.choice(_SYMPTOMS)}",
            "service_id": service.id,
            "status": "resolved",
            "urgency": "high",
            "priority_id": rng.choice([p[0] for p in PRIORITIES[:3]]),
            "incident_key": hex_id(rng, 32),
            "assignee": person.pd_user_id,
            "created_at": created,
            "acknowledged_at": None,
            "acknowledged_by": None,
            "resolved_at": resolved,
            "last_status_change_at": resolved,
            "last_status_change_by": ("user", person.pd_user_id),
            "updated_at": resolved,
            "first_trigger_log_entry": trigger["id"],
            "alerts": 1,
            "details": None,
            "notes": [],
            "log_entries": entries,
        }
        number += 1


def _drawn_incidents(org: Org) -> Iterator[dict[str, Any]]:
    rng = org.rng("pagerduty")
    n = org.counts["incidents"]
    n_open = min(org.counts["open_incidents"], n)
    span = (org.anchor - org.start).total_seconds() - 4 * 3600
    offsets = sorted(rng.random() * span for _ in range(n - n_open))
    # Open incidents are the most recent drawn ones: triggered in the last two days.
    offsets += sorted(span - rng.random() * 2 * 86400 for _ in range(n_open))
    for i in range(n):
        service = org.services[rng.randrange(len(org.services))]
        members = org.members(service.team) or org.people
        assignee = rng.choice(members)
        created = (org.start + timedelta(seconds=offsets[i])).replace(microsecond=0)
        incident_id = pd_id(rng, "Q")
        is_open = i >= n - n_open
        status = ("triggered" if (i - (n - n_open)) % 2 == 0 else "acknowledged") if is_open else "resolved"
        trigger = _entry(rng, "trigger_log_entry", created, incident_id, ("service", service.id), "api")
        entries = [trigger]
        acked_at = resolved_at = None
        if status == "acknowledged" or (status == "resolved" and rng.random() < 0.85):
            acked_at = created + timedelta(seconds=rng.randint(30, 1200))
            entries.append(
                _entry(
                    rng,
                    "acknowledge_log_entry",
                    acked_at,
                    incident_id,
                    ("user", assignee.pd_user_id),
                    "website",
                )
            )
        if status == "resolved":
            resolved_at = created + timedelta(seconds=rng.randint(600, 2 * 86400))
            resolved_at = min(resolved_at, org.anchor - timedelta(seconds=rng.randint(60, 3600)))
            resolved_at = max(resolved_at, (acked_at or created) + timedelta(seconds=60))
            by_user = rng.random() < 0.8
            entries.append(
                _entry(
                    rng,
                    "resolve_log_entry",
                    resolved_at,
                    incident_id,
                    ("user", assignee.pd_user_id) if by_user else ("service", service.id),
                    "website" if by_user else "auto",
                )
            )
        last = entries[-1]
        yield {
            "id": incident_id,
            "number": 1001 + i,
            "title": f"{service.name}: {rng.choice(_SYMPTOMS)}",
            "service_id": service.id,
            "status": status,
            "urgency": "high" if rng.random() < 0.4 else "low",
            "priority_id": rng.choices([p[0] for p in PRIORITIES], [5, 15, 35, 30, 15])[0],
            "incident_key": hex_id(rng, 32),
            "assignee": assignee.pd_user_id,
            "created_at": created,
            "acknowledged_at": acked_at if status == "acknowledged" else None,
            "acknowledged_by": assignee.pd_user_id if status == "acknowledged" else None,
            "resolved_at": resolved_at,
            "last_status_change_at": last["created_at"],
            "last_status_change_by": last["agent"],
            "updated_at": last["created_at"],
            "first_trigger_log_entry": trigger["id"],
            "alerts": 1 + (rng.random() < 0.3),
            "details": None,
            "notes": [],
            "log_entries": entries,
        }


class Renderer:
    """Compact records to PagerDuty REST v2 JSON for one base URL."""

    def __init__(self, org: Org, base_url: str, last_incident: dict[str, datetime] | None = None):
        self.org = org
        self.base = base_url.rstrip("/")
        self.last_incident = last_incident or {}
        self.services = {s.id: s for s in org.services}
        self.users = {p.pd_user_id: p for p in [*org.people, org.bot]}
        self.teams = {t.slug: t for t in org.teams}

    def ref(self, kind: str, rid: str, summary: str, path: str, html: str | None = None) -> dict[str, Any]:
        return {
            "id": rid,
            "type": f"{kind}_reference",
            "summary": summary,
            "self": f"{self.base}/{path}/{rid}",
            "html_url": f"{SUBDOMAIN}/{html or path}/{rid}",
        }

    def service_ref(self, sid: str) -> dict[str, Any]:
        return self.ref("service", sid, self.services[sid].name, "services", "service-directory")

    def team_ref(self, service: Service) -> dict[str, Any]:
        team = self.teams[service.team]
        return self.ref("team", team.pd_team_id, team.name, "teams")

    def ep_ref(self, service: Service) -> dict[str, Any]:
        return self.ref(
            "escalation_policy",
            service.escalation_policy_id,
            f"{service.name} escalation",
            "escalation_policies",
        )

    def user_ref(self, uid: str) -> dict[str, Any]:
        person = self.users.get(uid)
        return self.ref("user", uid, person.name if person else "Deleted user", "users")

    def agent_ref(self, agent: tuple[str, str]) -> dict[str, Any]:
        kind, aid = agent
        return self.user_ref(aid) if kind == "user" else self.service_ref(aid)

    def user(self, uid: str) -> dict[str, Any]:
        person: Person = self.users[uid]
        full = self.user_ref(uid)
        team = self.teams.get(person.team)
        full.update(
            {
                "type": "user",
                "name": person.name,
                "email": person.email,
                "time_zone": ACCOUNT_TZ,
                "color": "purple",
                "role": "user",
                "avatar_url": f"{SUBDOMAIN}/avatars/{uid}.png",
                "description": "",
                "invitation_sent": False,
                "job_title": "Engineer",
                "teams": [self.ref("team", team.pd_team_id, team.name, "teams")] if team else [],
                "contact_methods": [],
                "notification_rules": [],
            }
        )
        return full

    def service(self, sid: str) -> dict[str, Any]:
        s = self.services[sid]
        full = self.service_ref(sid)
        full.update(
            {
                "type": "service",
                "name": s.name,
                "description": f"{s.name} (owned by {self.teams[s.team].name})",
                "auto_resolve_timeout": 14400,
                "acknowledgement_timeout": 1800,
                "created_at": pd_time(self.org.start - timedelta(days=365)),
                "status": "active",
                "last_incident_timestamp": pd_time(self.last_incident.get(sid, self.org.start)),
                "alert_creation": "create_alerts_and_incidents",
                "alert_grouping_parameters": {"type": "intelligent"},
                "integrations": [],
                "escalation_policy": self.ep_ref(s),
                "teams": [self.team_ref(s)],
                "incident_urgency_rule": {
                    "type": "use_support_hours",
                    "during_support_hours": {"type": "constant", "urgency": "high"},
                    "outside_support_hours": {"type": "constant", "urgency": "low"},
                },
                "support_hours": {
                    "type": "fixed_time_per_day",
                    "time_zone": ACCOUNT_TZ,
                    "start_time": "09:00:00",
                    "end_time": "18:00:00",
                    "days_of_week": [1, 2, 3, 4, 5],
                },
                "scheduled_actions": [],
                "auto_pause_notifications_parameters": {"enabled": True, "timeout": 300},
            }
        )
        return full

    def team(self, service: Service) -> dict[str, Any]:
        full = self.team_ref(service)
        full.update({"type": "team", "name": full["summary"], "description": f"The {full['summary']} team"})
        return full

    def escalation_policy(self, service: Service) -> dict[str, Any]:
        full = self.ep_ref(service)
        full.update(
            {
                "type": "escalation_policy",
                "name": full["summary"],
                "description": "",
                "num_loops": 0,
                "escalation_rules": [],
                "services": [self.service_ref(service.id)],
                "teams": [self.team_ref(service)],
                "on_call_handoff_notifications": "if_has_services",
            }
        )
        return full

    def priority(self, pid: str | None, full: bool) -> dict[str, Any] | None:
        if pid is None:
            return None
        name = PRIORITY_NAMES[pid]
        out = {
            "id": pid,
            "type": "priority" if full else "priority_reference",
            "summary": name,
            "self": f"{self.base}/priorities/{pid}",
        }
        if full:
            out.update({"name": name, "description": next(d for p, _, d in PRIORITIES if p == pid)})
        return out

    def incident(
        self,
        rec: dict[str, Any],
        include: set[str],
        tz: Any = UTC,
        entries: dict[str, dict[str, Any]] | None = None,
        single: bool = False,
    ) -> dict[str, Any]:
        """``single``: the one-incident endpoints, which also carry ``custom_fields``."""
        service = self.services[rec["service_id"]]
        iid = rec["id"]
        user = self.user if "assignees" in include else self.user_ref
        assignments = (
            []
            if rec["status"] == "resolved" or not rec["assignee"]
            else [{"at": pd_time(rec["created_at"], tz), "assignee": user(rec["assignee"])}]
        )
        acknowledgements = []
        if rec["status"] == "acknowledged" and rec["acknowledged_by"]:
            acker = self.user if "acknowledgers" in include else self.user_ref
            acknowledgements = [
                {"at": pd_time(rec["acknowledged_at"], tz), "acknowledger": acker(rec["acknowledged_by"])}
            ]
        trigger_id = rec["first_trigger_log_entry"]
        if "first_trigger_log_entries" in include and entries and trigger_id in entries:
            first = self.log_entry(entries[trigger_id], rec, set(), tz)
        else:
            first = {
                "id": trigger_id,
                "type": "trigger_log_entry_reference",
                "summary": "Triggered through the API",
                "self": f"{self.base}/log_entries/{trigger_id}?incident_id={iid}",
                "html_url": f"{SUBDOMAIN}/incidents/{iid}/log_entries/{trigger_id}",
            }
        resolved = rec["status"] == "resolved"
        agent = rec["last_status_change_by"]
        out: dict[str, Any] = {
            "id": iid,
            "type": "incident",
            "summary": f"[#{rec['number']}] {rec['title']}",
            "self": f"{self.base}/incidents/{iid}",
            "html_url": f"{SUBDOMAIN}/incidents/{iid}",
            "incident_number": rec["number"],
            "title": rec["title"],
            "created_at": pd_time(rec["created_at"], tz),
            "updated_at": pd_time(rec["updated_at"], tz),
            "status": rec["status"],
            "incident_key": rec["incident_key"],
            "service": self.service(service.id) if "services" in include else self.service_ref(service.id),
            "assignments": assignments,
            "assigned_via": "escalation_policy",
            "last_status_change_at": pd_time(rec["last_status_change_at"], tz),
            "resolved_at": pd_time(rec["resolved_at"], tz),
            "first_trigger_log_entry": first,
            "alert_counts": {
                "all": rec["alerts"],
                "triggered": 0 if resolved else rec["alerts"],
                "resolved": rec["alerts"] if resolved else 0,
            },
            "is_mergeable": True,
            "incident_type": {"name": "incident_default"},
            "escalation_policy": self.escalation_policy(service)
            if "escalation_policies" in include
            else self.ep_ref(service),
            "teams": [self.team(service) if "teams" in include else self.team_ref(service)],
            "pending_actions": [],
            "acknowledgements": acknowledgements,
            "alert_grouping": {
                "grouping_type": "advanced",
                "started_at": pd_time(rec["created_at"], tz),
                "ended_at": None,
                "alert_grouping_active": not resolved,
            },
            "last_status_change_by": (self.user(agent[1]) if agent[0] == "user" else self.service(agent[1]))
            if "agents" in include
            else self.agent_ref(agent),
            "priority": self.priority(rec["priority_id"], "priorities" in include),
            "resolve_reason": None,
            "incidents_responders": [],
            "responder_requests": [],
            "urgency": rec["urgency"],
        }
        if single:
            out["custom_fields"] = []
        if "conference_bridge" in include:
            out["conference_bridge"] = {"conference_number": "", "conference_url": ""}
        if "body" in include:
            out["body"] = {"type": "incident_body", "details": rec["details"] or ""}
        return out

    def log_entry(
        self,
        entry: dict[str, Any],
        rec: dict[str, Any],
        include: set[str],
        tz: Any = UTC,
        entries: dict[str, dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        service = self.services[rec["service_id"]]
        eid, iid = entry["id"], rec["id"]
        kind = entry["type"]
        summaries = {
            "trigger_log_entry": "Triggered through the API",
            "acknowledge_log_entry": "Acknowledged by {agent}",
            "resolve_log_entry": "Resolved by {agent}",
            "annotate_log_entry": "Note added",
            "assign_log_entry": "Assigned to {agent}",
            "urgency_change_log_entry": "Urgency changed by {agent}",
        }
        agent = self.agent_ref(entry["agent"])
        out: dict[str, Any] = {
            "id": eid,
            "type": kind,
            "summary": summaries.get(kind, kind).format(agent=agent["summary"]),
            "self": f"{self.base}/log_entries/{eid}?incident_id={iid}",
            "html_url": f"{SUBDOMAIN}/incidents/{iid}/log_entries/{eid}",
            "created_at": pd_time(entry["created_at"], tz),
            "agent": agent,
            "channel": {"type": entry["channel"]},
            "service": self.service(service.id) if "services" in include else self.service_ref(service.id),
            "incident": self.incident(rec, set(), tz, entries)
            if "incidents" in include
            else self.ref("incident", iid, f"[#{rec['number']}] {rec['title']}", "incidents"),
            "teams": [self.team(service) if "teams" in include else self.team_ref(service)],
            "contexts": [],
        }
        if kind == "trigger_log_entry":
            out["event_details"] = {"description": rec["title"]}
        if kind == "acknowledge_log_entry":
            out["acknowledgement_timeout"] = 1800
        if entry.get("note"):
            out["note"] = entry["note"]
        return out
