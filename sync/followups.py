"""Incident follow-ups: one Jira ticket per resolved incident that matches, and a note on the incident.

Planning is pure: a resolved incident matching ``followups.when``, resolved at
most ``lookback_days`` ago, on a service of a team with a Jira project, whose
follow-up is not recorded as done, is a follow-up to file.

Applying is where "exactly once" is earned, and the key lives in the tools: the
ticket carries the label ``relais-followup-<incident id>``, the note names the
ticket. Before filing a ticket relais always asks Jira for an issue with that
label, and before adding a note it always lists the incident's notes — whatever
the state store says, so a new, lost or second store never files anything twice.
Plan already knows the tickets that are among the stored Jira issues (their
label), and shows those follow-ups as "note only".

The state store keeps two natural keys per follow-up, ``followup:<incident id>``
(the ticket) and ``followup-note:<incident id>`` (the note), recorded as
*creating* before the request and *created* after it; they save the look-ups
once both exist. Jira's search lags behind writes, so after a create whose
answer was lost (the key says *creating*) a ticket the search does not show is
filed again only once ``followups.confirm_after_seconds`` (wall-clock time: the
lag is the index's) have passed since the attempt; until then the follow-up
waits for a later cycle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.errors import FatalError, RequestError, TransientError
from sync.classify import classify
from sync.models import FieldChange, WorkItem
from sync.rules import first_failure

if TYPE_CHECKING:
    from sync.settings import Settings

RULE = "followups"


def ticket_key(incident_id: str) -> str:
    return f"followup:{incident_id}"


def note_key(incident_id: str) -> str:
    return f"followup-note:{incident_id}"


FOLLOWUP_LABEL = "relais-followup-"
NOTE = "Follow-up ticket: {ticket} (filed by relais)"
NOTE_PATTERN = re.compile(r"Follow-up ticket: (\S+) \(filed by relais\)")


def label_for(incident_id: str) -> str:
    return FOLLOWUP_LABEL + incident_id


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
    ticket: str | None = None  # the ticket's key, when the store or the stored Jira issues know it

    @property
    def natural_key(self) -> str:
        return ticket_key(self.incident.id)

    @property
    def what(self) -> str:
        return "note on the incident" if self.note_only else f"{self.issuetype} in {self.project}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": "create",
            "target": f"followup:{self.incident.key}",
            "field": self.what,
            "old": None,
            "new": self.summary,
            "rule": RULE,
        }

    def creates_as_dicts(self) -> list[dict[str, Any]]:
        """The ticket (unless it exists) and the note naming it, as plan lists creates."""
        out = []
        if not self.note_only:
            out.append(
                {
                    "action": "create",
                    "target": f"jira:{self.project}",
                    "field": f"{self.issuetype} (ticket)",
                    "old": None,
                    "new": self.summary,
                    "rule": RULE,
                    "key": label_for(self.incident.id),
                }
            )
        ticket = self.ticket or ("the ticket" if self.note_only else "the new ticket")
        out.append(
            {
                "action": "create",
                "target": f"pagerduty:{self.incident.key}",
                "field": "note",
                "old": None,
                "new": NOTE.format(ticket=ticket),
                "rule": RULE,
                "key": note_key(self.incident.id),
                **({"unless": "the incident already has a note naming the ticket"} if self.note_only else {}),
            }
        )
        return out


def names_ticket(note: str, ticket: str) -> bool:
    """The note names ``ticket`` as a whole key (a note naming PAY-45 does not name PAY-4)."""
    return re.search(rf"(?<![A-Za-z0-9-]){re.escape(ticket)}(?![0-9])", note) is not None


def with_filed_tickets(followups: list[FollowUp], jira_items: dict[str, str]) -> list[FollowUp]:
    """The follow-ups whose ticket is among the stored Jira issues (``jira_items``: follow-up label →
    issue key) become "note only": the ticket exists in Jira, whatever the store's keys say."""
    out = []
    for f in followups:
        key = jira_items.get(label_for(f.incident.id))
        if key is not None and not f.note_only:
            f = replace(f, note_only=True, ticket=key)
        out.append(f)
    return out


def service_name(incident: WorkItem) -> str:
    """The incident's service as people name it: its name, with its id (the id alone when the
    payload had no name)."""
    name = incident.inputs.get("service")
    return f"{name} ({incident.service})" if name else str(incident.service)


def _hours(incident: WorkItem) -> float:
    end = incident.resolved or incident.updated
    return max(0.0, (end - incident.created).total_seconds() / 3600)


def plan_followup(
    incident: WorkItem, team: str | None, settings: Settings, now: datetime, states: dict[str, str]
) -> FollowUp | None:
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
    service = incident.inputs.get("service") or incident.service
    on = "" if str(service).casefold() in incident.title.casefold() else f" on {service}"  # said once
    summary = f"Follow-up of incident {incident.key}{on}: {incident.title}"[:250]
    opened, closed = incident.created.astimezone(settings.tz), incident.resolved.astimezone(settings.tz)
    description = (  # times in the config's zone, the one the teams read their weeks in
        f"{incident.urgency or 'unknown'}-urgency incident {incident.key} on service "
        f"{service_name(incident)}, open {_hours(incident):.1f} h "
        f"({opened:%Y-%m-%d %H:%M} → {closed:%Y-%m-%d %H:%M} {settings.timezone}). "
        f"Incident: {incident.url or incident.id}. Filed by relais."
    )
    would_be = WorkItem(
        source="jira",
        id="",
        key="",
        kind="issue",
        title=summary,
        text=description,
        updated=now,
        created=now,
        project=projects[0],
        issuetype=cfg.issuetype,
        labels=labels,
    )
    work_type = classify(would_be, settings, team).value.value
    return FollowUp(
        incident,
        team,
        projects[0],
        summary,
        description,
        labels,
        cfg.issuetype,
        work_type,
        note_only=states.get(ticket_key(incident.id)) == "created",
    )


@dataclass
class FollowUpResult:
    created: int = 0
    notes: int = 0
    waiting: list[str] = field(default_factory=list)  # incidents whose ticket is not confirmed yet
    failed_sources: dict[str, str] = field(default_factory=dict)


def apply_followups(
    followups: list[FollowUp], connectors: dict, store: Any, settle: timedelta, cycle: int | None
) -> FollowUpResult:
    """File each ticket, then the note, each exactly once (see the module docstring).
    ``settle``: how long Jira's search may take to show a ticket just created."""
    out = FollowUpResult()
    jira, pagerduty = connectors.get("jira"), connectors.get("pagerduty")
    todo = [
        f for f in followups if (store.key_record(ticket_key(f.incident.id)) or {}).get("state") != "created"
    ]
    filed: dict[str, tuple[str, str]] = {}
    try:  # every label of this cycle's follow-ups in one search: the keys in the tool, whatever the store says
        if todo:
            assert jira is not None, "follow-ups are planned only when Jira is a source"
            filed = jira.find_issues_by_labels([label_for(f.incident.id) for f in todo])
    except FatalError:
        raise
    except (RequestError, TransientError) as e:
        out.failed_sources["jira"] = str(e)
        return out
    for f in followups:
        if "jira" in out.failed_sources or "pagerduty" in out.failed_sources:
            break
        try:
            ticket, new = _ticket(f, filed.get(label_for(f.incident.id)), jira, pagerduty, store, settle, out)
            if ticket is not None:
                _note(f, ticket, new, pagerduty, store, out)
        except FatalError:
            raise
        except (RequestError, TransientError) as e:
            vendor = getattr(e, "vendor", None) or "jira"
            out.failed_sources.setdefault(vendor, str(e))
    return out


def _noted_ticket(notes: list[str]) -> str | None:
    """The ticket a note relais added names, if the incident has one."""
    for note in notes:
        match = NOTE_PATTERN.search(note)
        if match:
            return match.group(1)
    return None


def _ticket(
    f: FollowUp,
    found: tuple[str, str] | None,
    jira: Any,
    pagerduty: Any,
    store: Any,
    settle: timedelta,
    out: FollowUpResult,
) -> tuple[str | None, bool]:
    """(the follow-up's ticket key, or None to wait or stop; whether it was created just now).
    ``found``: (id, key) of the issue carrying the follow-up's label, if the search saw one."""
    key = ticket_key(f.incident.id)
    state = store.key_record(key)
    if state is not None and state["state"] == "created":
        return state["target_id"], False
    if found is not None:
        # relais made it (its label says so), with these values: audited as relais', so that a
        # value a person changed since is kept and one still as made follows the rules
        _audit_created(f, *found, jira, store)
        store.set_key(key, "jira", "created", found[1])
        return found[1], False
    noted = _noted_ticket(pagerduty.notes(f.incident.id))
    if noted is not None:  # filed before, and the ticket since deleted or moved out of reach: not again
        store.set_key(key, "jira", "created", noted)
        store.set_key(note_key(f.incident.id), "pagerduty", "created", noted)
        return None, False
    if state is not None and datetime.now(UTC) - state["at"] < settle:
        out.waiting.append(f.incident.key)  # 'creating': an earlier attempt got no answer; search may lag
        return None, False
    store.set_key(key, "jira", "creating")
    issue_id, issue_key = jira.create_followup(f)
    store.set_key(key, "jira", "created", issue_key)
    _audit_created(f, issue_id, issue_key, jira, store)
    out.created += 1
    return issue_key, True


def _audit_created(f: FollowUp, issue_id: str, issue_key: str, jira: Any, store: Any) -> None:
    """The owned values a follow-up was created with, audited as written by relais (once)."""
    changes = [
        FieldChange("jira", issue_id, issue_key, name, None, value, RULE)
        for name, value in jira.followup_owned(f).items()
    ]
    overwrites = store.overwrites()
    if all(overwrites.written(("jira", issue_id, c.field)).last is None for c in changes):
        store.record_audit(changes, None, "applied")


def _note(f: FollowUp, ticket: str, new: bool, pagerduty: Any, store: Any, out: FollowUpResult) -> None:
    """The note naming ``ticket``; looked for first, whatever the store says — but for a ticket made
    just now (``new``): no note can name a key that did not exist."""
    key = note_key(f.incident.id)
    state = store.key_record(key)
    if state is not None and state["state"] == "created":
        return
    if not new and any(names_ticket(note, ticket) for note in pagerduty.notes(f.incident.id)):
        store.set_key(key, "pagerduty", "created", ticket)
        return
    store.set_key(key, "pagerduty", "creating")
    pagerduty.add_note(f.incident.id, NOTE.format(ticket=ticket))
    store.set_key(key, "pagerduty", "created", ticket)
    out.notes += 1
