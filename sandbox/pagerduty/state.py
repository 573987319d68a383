"""The PagerDuty account's state: incidents, log entries, notes. Thread-safe (one lock).

``sb.pagerduty`` is a :class:`PagerDutyState`. ``trigger_incident``,
``acknowledge`` and ``resolve`` act like the responders on call; each writes
the log entries PagerDuty would, at ``sb.clock()`` time.
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..org import Org, hex_id, pd_id
from ..timeutil import UTC
from ..vendor import VendorState
from . import data as pdd

if TYPE_CHECKING:  # the seed is built from this package's generators: only its type here
    from ..seed import Seed


class PDError(Exception):
    """A refusal in PagerDuty's words: (status, message, code, errors)."""

    def __init__(self, status: int, message: str, code: int, errors: list[str] | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.errors = status, message, code, errors or []


def invalid(*errors: str) -> PDError:
    return PDError(400, "Invalid Input Provided", 2001, list(errors))


class PagerDutyState(VendorState):
    vendor = "pagerduty"

    def __init__(self, org: Org, clock: Callable[[], datetime], seed: Seed) -> None:
        """``seed``: the org's seeded records (:mod:`sandbox.seed`); the state takes its incidents over."""
        super().__init__(org, clock)
        self.abilities = ["teams", "read_only_users", "service_support_hours", "urgencies", "priorities"]
        self._rng = org.rng("pagerduty-runtime")
        self._incidents: list[dict[str, Any]] = []  # sorted by (created_at, number)
        self._by_id: dict[str, dict[str, Any]] = {}
        self._entries: list[dict[str, Any]] = []  # sorted by (created_at, id)
        self._entry_by_id: dict[str, dict[str, Any]] = {}
        for rec in seed.incidents:
            entries = rec.pop("log_entries")
            self._incidents.append(rec)
            self._by_id[rec["id"]] = rec
            for entry in entries:
                self._entry_by_id[entry["id"]] = entry
            self._entries.extend(entries)
        self._entries.sort(key=lambda e: (e["created_at"], e["id"]))
        self._last_incident: dict[str, datetime] = {}
        for rec in self._incidents:
            self._last_incident[rec["service_id"]] = rec["created_at"]
        self._next_number = 1001 + len(self._incidents)

    # ------------------------------------------------------------------ helpers
    def renderer(self) -> pdd.Renderer:
        return pdd.Renderer(self.org, self.base_url, self._last_incident)

    def now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def find(self, incident_id: str) -> dict[str, Any]:
        rec = self._by_id.get(incident_id)
        if rec is None:
            raise PDError(404, "Not Found", 2100)
        return rec

    def user_by_email(self, email: str | None) -> str | None:
        if not email:
            return None
        person = next(
            (p for p in [*self.org.people, self.org.bot] if p.email.lower() == email.strip().lower()), None
        )
        return person.pd_user_id if person else None

    def _log(
        self, rec: dict[str, Any], kind: str, agent: tuple[str, str], channel: str, note: str | None = None
    ) -> dict[str, Any]:
        entry = {
            "id": pd_id(self._rng, "R"),
            "type": kind,
            "created_at": self.now(),
            "incident_id": rec["id"],
            "agent": agent,
            "channel": channel,
            "note": note,
        }
        bisect.insort(self._entries, entry, key=lambda e: (e["created_at"], e["id"]))
        self._entry_by_id[entry["id"]] = entry
        rec["updated_at"] = entry["created_at"]
        return entry

    def _status(self, rec: dict[str, Any], status: str, agent: tuple[str, str], channel: str) -> None:
        if rec["status"] == "resolved":
            raise invalid("Incident Already Resolved")
        if status == rec["status"]:
            return
        if status == "triggered":
            raise invalid("Incident cannot be manually re-triggered")
        kind = {"acknowledged": "acknowledge_log_entry", "resolved": "resolve_log_entry"}[status]
        entry = self._log(rec, kind, agent, channel)
        rec["status"] = status
        rec["last_status_change_at"] = entry["created_at"]
        rec["last_status_change_by"] = agent
        if status == "acknowledged":
            rec["acknowledged_at"], rec["acknowledged_by"] = entry["created_at"], agent[1]
        else:
            rec["resolved_at"] = entry["created_at"]

    # ------------------------------------------------------------------ test API
    def get_incident(self, incident_id: str) -> dict[str, Any]:
        """The incident as ``GET /incidents/{id}`` returns it (a fresh copy)."""
        with self.lock:
            return self.renderer().incident(
                self.find(incident_id), set(), UTC, self._entry_by_id, single=True
            )

    def log_entries_of(self, incident_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [copy.deepcopy(e) for e in self._entries if e["incident_id"] == incident_id]

    def trigger_incident(
        self,
        service_id: str,
        title: str,
        urgency: str = "high",
        incident_key: str | None = None,
        priority: str | None = None,
        from_email: str | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            rec = self.create(
                service_id,
                title,
                urgency,
                incident_key,
                priority,
                None,
                self.user_by_email(from_email) or self.org.bot.pd_user_id,
            )
            return self.get_incident(rec["id"])

    def acknowledge(self, incident_id: str, user_id: str | None = None) -> dict[str, Any]:
        with self.lock:
            rec = self.find(incident_id)
            self._status(
                rec,
                "acknowledged",
                ("user", user_id or rec["assignee"] or self.org.bot.pd_user_id),
                "website",
            )
            return self.get_incident(incident_id)

    def resolve(self, incident_id: str, user_id: str | None = None) -> dict[str, Any]:
        with self.lock:
            rec = self.find(incident_id)
            self._status(
                rec, "resolved", ("user", user_id or rec["assignee"] or self.org.bot.pd_user_id), "website"
            )
            return self.get_incident(incident_id)

    def incident_ids(self) -> list[str]:
        with self.lock:
            return [rec["id"] for rec in self._incidents]

    # ------------------------------------------------------------------ API operations
    def create(
        self,
        service_id: str,
        title: str,
        urgency: str | None,
        incident_key: str | None,
        priority_id: str | None,
        details: str | None,
        user_id: str,
    ) -> dict[str, Any]:
        service = next((s for s in self.org.services if s.id == service_id), None)
        if service is None:
            raise invalid("Service not found")
        if not title:
            raise invalid("Title cannot be empty")
        if urgency not in (None, "high", "low"):
            raise invalid("Urgency must be one of high, low")
        if priority_id is not None and priority_id not in pdd.PRIORITY_NAMES:
            raise invalid("Priority not found")
        if incident_key:
            # "Sending subsequent requests referencing the same service and with the same incident_key
            # will result in those requests being rejected if an open incident matches" (API reference).
            clash = any(
                r["incident_key"] == incident_key
                and r["service_id"] == service_id
                and r["status"] != "resolved"
                for r in self._incidents
            )
            if clash:
                raise invalid(f"Open incident with key '{incident_key}' already exists for this service")
        members = self.org.members(service.team) or self.org.people
        now = self.now()
        rec: dict[str, Any] = {
            "id": pd_id(self._rng, "Q"),
            "number": self._next_number,
            "title": title,
            "service_id": service_id,
            "status": "triggered",
            "urgency": urgency or "high",
            "priority_id": priority_id,
            "incident_key": incident_key or hex_id(self._rng, 32),
            "assignee": members[0].pd_user_id,
            "created_at": now,
            "acknowledged_at": None,
            "acknowledged_by": None,
            "resolved_at": None,
            "last_status_change_at": now,
            "last_status_change_by": ("user", user_id),
            "updated_at": now,
            "first_trigger_log_entry": "",
            "alerts": 0,
            "details": details,
            "notes": [],
        }
        self._next_number += 1
        bisect.insort(self._incidents, rec, key=lambda r: (r["created_at"], r["number"]))
        self._by_id[rec["id"]] = rec
        self._last_incident[service_id] = now
        trigger = self._log(rec, "trigger_log_entry", ("user", user_id), "api")
        rec["first_trigger_log_entry"] = trigger["id"]
        return rec

    def update(self, incident_id: str, changes: dict[str, Any], user_id: str) -> dict[str, Any]:
        rec = self.find(incident_id)
        if changes.get("type") not in ("incident", "incident_reference"):
            raise invalid("Incident type must be 'incident_reference'")
        agent = ("user", user_id)
        if "title" in changes:
            if not isinstance(changes["title"], str) or not changes["title"]:
                raise invalid("Title cannot be empty")
            rec["title"] = changes["title"]
            rec["updated_at"] = self.now()
        if "urgency" in changes and changes["urgency"] != rec["urgency"]:
            if changes["urgency"] not in ("high", "low"):
                raise invalid("Urgency must be one of high, low")
            rec["urgency"] = changes["urgency"]
            self._log(rec, "urgency_change_log_entry", agent, "api")
        if "priority" in changes:
            value = changes["priority"]
            pid = value.get("id") if isinstance(value, dict) else None
            if value is not None and pid not in pdd.PRIORITY_NAMES:
                raise invalid("Priority not found")
            rec["priority_id"] = pid
            rec["updated_at"] = self.now()
        if changes.get("assignments"):
            assignee = ((changes["assignments"][0] or {}).get("assignee") or {}).get("id")
            if assignee not in self.renderer().users:
                raise invalid("Assignee not found")
            rec["assignee"] = assignee
            self._log(rec, "assign_log_entry", agent, "api")
        if "status" in changes:
            if changes["status"] not in ("triggered", "acknowledged", "resolved"):
                raise invalid("Status must be one of triggered, acknowledged, resolved")
            self._status(rec, changes["status"], agent, "api")
        return rec

    def add_note(self, incident_id: str, content: str, user_id: str) -> dict[str, Any]:
        rec = self.find(incident_id)
        if not isinstance(content, str) or not content.strip():
            raise invalid("Content cannot be empty")
        if len(rec["notes"]) >= 2000:
            raise invalid("An incident cannot have more than 2000 notes")
        now = self.now()
        note = {"id": pd_id(self._rng, "P", 6), "user": user_id, "content": content, "created_at": now}
        rec["notes"].append(note)
        self._log(rec, "annotate_log_entry", ("user", user_id), "api", note=content)
        return note

    def incidents_in(self, since: datetime | None, until: datetime | None) -> Iterable[dict[str, Any]]:
        """Incidents created in [since, until), oldest first."""
        keys = [r["created_at"] for r in self._incidents]
        lo = bisect.bisect_left(keys, since) if since else 0
        hi = bisect.bisect_left(keys, until) if until else len(keys)
        return self._incidents[lo:hi]

    def entries_in(self, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
        """Log entries created in [since, until), newest first (as PagerDuty lists them)."""
        keys = [e["created_at"] for e in self._entries]
        lo = bisect.bisect_left(keys, since) if since else 0
        hi = bisect.bisect_left(keys, until) if until else len(keys)
        return self._entries[lo:hi][::-1]
