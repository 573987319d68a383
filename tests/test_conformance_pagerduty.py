"""The sandbox's PagerDuty held to PagerDuty's own material, every endpoint relais uses, over real HTTPS
(how each call is checked, and what a failure means: tests/conformance_support.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

# The shared fixtures (its __all__): pytest finds a fixture by its name in the module.
from conformance_support import *  # noqa: F403
from conformance_support import (
    PD_IGNORE,
    body_of,
    call,
    conforms,
    error_conforms,
    fail_if_problems,
    oa,
    pd_list_checks,
    vendor_client,
)


def test_pd_abilities(pd):
    r = call(pd, "GET", "/abilities", 200)
    body = conforms("pagerduty", r, example_ignore=())
    assert body["abilities"]


def test_pd_incidents_total_and_include(pd):
    params = {
        "total": "true",
        "limit": 5,
        "include[]": ["services", "assignees", "priorities"],
        "time_zone": "UTC",
        "date_range": "all",
    }
    r = call(pd, "GET", "/incidents", 200, params=params)
    body = pd_list_checks(r, "incidents", total=True)
    assert body["incidents"], "sandbox has no incidents"
    problems = []
    for i, inc in enumerate(body["incidents"]):
        if (inc.get("service") or {}).get("type") != "service":
            problems.append(
                f"/incidents/{i}/service/type: {inc.get('service', {}).get('type')!r} — "
                "include[]=services returns full service objects (type 'service')"
            )
        if inc.get("type") != "incident":
            problems.append(f"/incidents/{i}/type: {inc.get('type')!r}")
    fail_if_problems(r, problems)
    # without include[] the service is a reference
    r = call(pd, "GET", "/incidents", 200, params={"limit": 2, "date_range": "all"})
    body = pd_list_checks(r, "incidents", total=False)
    fail_if_problems(
        r,
        [
            f"/incidents/{i}/service/type: {inc['service'].get('type')!r}, expected 'service_reference'"
            for i, inc in enumerate(body["incidents"])
            if inc["service"].get("type") != "service_reference"
        ],
    )


@pytest.fixture(scope="module")
def pd_incident(pd) -> dict:
    r = call(
        pd, "GET", "/incidents", 200, params={"limit": 1, "statuses[]": ["triggered"], "date_range": "all"}
    )
    incidents = body_of(r)["incidents"]
    if not incidents:
        incidents = body_of(call(pd, "GET", "/incidents", 200, params={"limit": 1, "date_range": "all"}))[
            "incidents"
        ]
    assert incidents, "sandbox has no incidents"
    return incidents[0]


def test_pd_get_incident(pd, pd_incident):
    r = call(pd, "GET", f"/incidents/{pd_incident['id']}", 200)
    body = conforms("pagerduty", r, example_ignore=PD_IGNORE["incidents"])
    assert body["incident"]["id"] == pd_incident["id"]


def test_pd_unknown_incident_is_404(pd):
    r = call(pd, "GET", "/incidents/PNOSUCH1", 404)
    error_conforms("pagerduty", r)
    conforms("pagerduty", r)


def test_pd_log_entries_include_incidents(pd):
    r = call(
        pd,
        "GET",
        "/log_entries",
        200,
        params={
            "include[]": ["incidents"],
            "limit": 10,
            "time_zone": "UTC",
            "is_overview": "true",
            "total": "true",
        },
    )
    body = pd_list_checks(r, "log_entries", total=True)
    assert body["log_entries"], "sandbox has no log entries"
    problems = []
    for i, entry in enumerate(body["log_entries"]):
        if not str(entry.get("type", "")).endswith("_log_entry"):
            problems.append(f"/log_entries/{i}/type: {entry.get('type')!r} is not a *_log_entry type")
        inc = entry.get("incident") or {}
        if inc.get("type") != "incident":
            problems.append(
                f"/log_entries/{i}/incident/type: {inc.get('type')!r} — include[]=incidents "
                "returns full incidents (type 'incident')"
            )
    example = oa.example_for("pagerduty", "GET", "/log_entries", 200)["log_entries"][0]
    triggers = [(i, e) for i, e in enumerate(body["log_entries"]) if e["type"] == example["type"]]
    if not triggers:
        problems.append(
            f"/log_entries: no {example['type']} among {len(body['log_entries'])} entries to compare"
        )
    for i, entry in triggers:
        problems += [
            f"/log_entries/{i}{p}: missing (the vendor's example has it)"
            for p in oa.missing_keys(example, entry, PD_IGNORE["incidents"])
        ]
    fail_if_problems(r, problems)


def test_pd_services(pd):
    r = call(pd, "GET", "/services", 200, params={"limit": 25, "total": "true"})
    body = pd_list_checks(r, "services", total=True)
    assert body["services"]


def test_pd_priorities(pd):
    r = call(pd, "GET", "/priorities", 200)
    body = pd_list_checks(r, "priorities", total=False)
    assert body["priorities"]


def test_pd_wrong_token_is_401(sb, tls):
    with vendor_client(sb, tls, "pagerduty", token="y_NbAkKc66ryYTWUXYEu") as bad:
        r = call(bad, "GET", "/incidents", 401)
    error_conforms("pagerduty", r)
    conforms("pagerduty", r)


def test_pd_rate_limit_fault_is_429(sb, pd):
    sb.faults.add("pagerduty", 429, count=1, path=r"^/incidents$")
    r = call(pd, "GET", "/incidents", 429)
    error_conforms("pagerduty", r)
    conforms("pagerduty", r)
    call(pd, "GET", "/incidents", 200, params={"limit": 1})  # count=1: next one passes


def test_pd_put_incident_and_note(pd, pd_incident, sb):
    headers = {"From": sb.env["PAGERDUTY_FROM"]}
    iid = pd_incident["id"]
    r = call(
        pd,
        "PUT",
        f"/incidents/{iid}",
        200,
        headers=headers,
        json={"incident": {"type": "incident_reference", "status": "acknowledged"}},
    )
    body = conforms("pagerduty", r, example_ignore=PD_IGNORE["incidents"])
    inc = body["incident"]
    assert inc["status"] == "acknowledged"
    assert inc["acknowledgements"], "an acknowledged incident lists its acknowledgement"
    assert inc["last_status_change_at"] >= pd_incident["last_status_change_at"]
    # relais finds changed incidents through /log_entries since its cursor
    since = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    entries = body_of(
        call(
            pd,
            "GET",
            "/log_entries",
            200,
            params={"since": since, "time_zone": "UTC", "is_overview": "true", "limit": 100},
        )
    )["log_entries"]
    assert any(
        e["type"] == "acknowledge_log_entry" and (e.get("incident") or {}).get("id") == iid for e in entries
    ), "no acknowledge_log_entry for the acknowledged incident in /log_entries"
    r = call(
        pd,
        "POST",
        f"/incidents/{iid}/notes",
        200,
        headers=headers,
        json={"note": {"content": "relais conformance note"}},
    )
    body = conforms("pagerduty", r, example_ignore=())
    assert body["note"]["content"] == "relais conformance note"


def test_pd_list_notes(pd, sb):
    """What relais reads before writing a follow-up note (notes are not paginated)."""
    iid = sb.pagerduty.incident_ids()[-1]  # Core's follow-up incident, resolved
    r = call(pd, "GET", f"/incidents/{iid}/notes", 200)
    assert conforms("pagerduty", r)["notes"] == []
    call(
        pd,
        "POST",
        f"/incidents/{iid}/notes",
        200,
        headers={"From": sb.env["PAGERDUTY_FROM"]},
        json={"note": {"content": "Follow-up: CORE-24"}},
    )
    r = call(pd, "GET", f"/incidents/{iid}/notes", 200)
    body = conforms("pagerduty", r, example_ignore=(), all_items=True)
    fail_if_problems(
        r, [] if [n["content"] for n in body["notes"]] == ["Follow-up: CORE-24"] else [f"/notes: {body!r}"]
    )
    r = call(pd, "GET", "/incidents/PNOSUCH1/notes", 404)
    error_conforms("pagerduty", r)
    # no From header: PagerDuty refuses the write
    error_conforms(
        "pagerduty", call(pd, "POST", f"/incidents/{iid}/notes", 400, json={"note": {"content": "x"}})
    )


def test_pd_teams(sb, pd):
    """`relais init` matches PagerDuty teams with Jira projects and Notion's Team options."""
    r = call(pd, "GET", "/teams", 200, params={"limit": 2, "total": "true"})
    body = pd_list_checks(r, "teams", total=True)
    assert body["total"] == len(sb.org.teams) and body["more"] is True
    r = call(pd, "GET", "/teams", 200, params={"limit": 100})
    body = pd_list_checks(r, "teams", total=False)
    assert [(t["id"], t["name"]) for t in body["teams"]] == [(t.pd_team_id, t.name) for t in sb.org.teams]
    r = call(pd, "GET", "/teams", 200, params={"query": "pay"})
    assert [t["name"] for t in body_of(r)["teams"]] == ["Payments"]
