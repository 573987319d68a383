"""Incident follow-ups: one Jira ticket per resolved incident that matches, and a note on the incident.

Planning is pure: a resolved incident matching ``followups.when``, resolved at
most ``lookback_days`` ago, on a service of a team with a Jira project, whose
follow-up is not recorded as done, is a follow-up to file.

Applying is where "exactly once" is earned. A follow-up has two natural keys
in the state store, ``followup:<incident id>`` (the ticket) and
``followup-note:<incident id>`` (the note), each recorded as *creating* before
the request and *created* after it. The ticket carries the label
``relais-followup-<incident id>``. When a key is found *creating* — the answer
to the create was lost, or relais died before recording it — the tool is asked
first: Jira for an issue with that label, PagerDuty for a note naming the
ticket. Jira's search lags behind writes, so an unconfirmed ticket is created
again only once ``followups.confirm_after_seconds`` (wall-clock time: the lag
is the index's) have passed since the attempt; until then the follow-up waits
for a later cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from connectors.errors import FatalError, RequestError, TransientError
from sync.classify import classify
from sync.models import WorkItem
from sync.rules import first_failure

RULE = "followups"


def ticket_key(incident_id: str) -> str:
    return f"followup:{incident_id}"


def note_key(incident_id: str) -> str:
    return f"followup-note:{incident_id}"


def label_for(incident_id: str) -> str:
    return f"relais-followup-{incident_id}"


@dataclass(frozen=True)
class FollowUp:
    """A ticket to file (and a note to add) for one incident."""

    incident: WorkItem
    team: str
    project: str
    summary: str
    description: str
    labels: tuple[str, ...]
    issuetype: str
    work_type: str
    note_only: bool = False  # the ticket exists; only the note is missing

    @property
    def natural_key(self) -> str:
        return ticket_key(self.incident.id)

    def as_dict(self) -> dict[str, Any]:
        what = "note on the incident" if self.note_only else f"{self.issuetype} in {self.project}"
        return {"action": "create", "target": f"followup:{self.incident.key}", "field": what,
                "old": None, "new": self.summary, "rule": RULE}


def _hours(incident: WorkItem) -> float:
    end = incident.resolved or incident.updated
    return max(0.0, (end - incident.created).total_seconds() / 3600)


def plan_followup(incident: WorkItem, team: str | None, settings: Any, now: datetime,
                  states: dict[str, str]) -> FollowUp | None:
    """The follow-up ``incident`` needs, or None. ``states``: natural key → state in the store."""
    cfg = settings.followups
    if cfg is None or incident.source != "pagerduty" or incident.status_category != "done" or team is None:
        return None
    if states.get(note_key(incident.id)) == "created":
        return None
    if incident.resolved is None or incident.resolved < now - timedelta(days=cfg.lookback_days):
        return None
    if first_failure(cfg.when, incident, team) is not None:
        return None
    projects = settings.teams[team].jira.projects
    if not projects:
        return None
    labels = (*cfg.labels, label_for(incident.id))
    summary = f"Follow-up of incident {incident.key}: {incident.title}"[:250]
    description = (f"{incident.urgency or 'unknown'}-urgency incident {incident.key} on service "
                   f"{incident.service}, open {_hours(incident):.1f} h "
                   f"({incident.created:%Y-%m-%d %H:%M} → {incident.resolved:%Y-%m-%d %H:%M} UTC). "
                   f"Incident: {incident.url or incident.id}. Filed by relais.")
    would_be = WorkItem(source="jira", id="", key="", kind="issue", title=summary, text=description,
                        updated=now, created=now, project=projects[0], issuetype=cfg.issuetype, labels=labels)
    work_type = classify(would_be, settings, team).value.value
    return FollowUp(incident, team, projects[0], summary, description, labels, cfg.issuetype, work_type,
                    note_only=states.get(ticket_key(incident.id)) == "created")


@dataclass
class FollowUpResult:
    created: int = 0
    notes: int = 0
    waiting: list[str] = field(default_factory=list)  # incidents whose ticket is not confirmed yet
    failed_sources: dict[str, str] = field(default_factory=dict)


def apply_followups(followups: list[FollowUp], connectors: dict, store: Any, settle: timedelta,
                    cycle: int | None) -> FollowUpResult:
    """File each ticket, then the note, each exactly once (see the module docstring).
    ``settle``: how long Jira's search may take to show a ticket just created."""
    out = FollowUpResult()
    jira, pagerduty = connectors.get("jira"), connectors.get("pagerduty")
    for f in followups:
        if "jira" in out.failed_sources or "pagerduty" in out.failed_sources:
            break
        try:
            ticket = _ticket(f, jira, store, settle, out)
            if ticket is not None:
                _note(f, ticket, pagerduty, store, out)
        except FatalError:
            raise
        except (RequestError, TransientError) as e:
            vendor = getattr(e, "vendor", None) or "jira"
            out.failed_sources.setdefault(vendor, str(e))
    return out


def _ticket(f: FollowUp, jira: Any, store: Any, settle: timedelta, out: FollowUpResult) -> str | None:
    key = ticket_key(f.incident.id)
    state = store.key_record(key)
    if state is not None and state["state"] == "created":
        return state["target_id"]
    if state is not None:  # 'creating': an earlier attempt got no answer
        found = jira.find_issue_by_label(label_for(f.incident.id))
        if found is None and datetime.now(timezone.utc) - state["at"] < settle:
            out.waiting.append(f.incident.key)
            return None
        if found is not None:
            store.set_key(key, "jira", "created", found)
            return found
    store.set_key(key, "jira", "creating")
    issue_key = jira.create_followup(f)
    store.set_key(key, "jira", "created", issue_key)
    out.created += 1
    return issue_key


def _note(f: FollowUp, ticket: str, pagerduty: Any, store: Any, out: FollowUpResult) -> None:
    key = note_key(f.incident.id)
    state = store.key_record(key)
    if state is not None and state["state"] == "created":
        return
    if state is not None and any(ticket in note for note in pagerduty.notes(f.incident.id)):
        store.set_key(key, "pagerduty", "created", ticket)
        return
    store.set_key(key, "pagerduty", "creating")
    pagerduty.add_note(f.incident.id, f"Follow-up ticket: {ticket} (filed by relais)")
    store.set_key(key, "pagerduty", "created", ticket)
    out.notes += 1
