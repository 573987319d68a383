"""The fake PagerDuty REST API v2, driven through the real ``pagerduty`` client over HTTPS.

Pins: classic pagination and its 10,000 ceiling, since/until on creation time
with the one-month default, ``iter_history`` over log entries, the From header
on writes, incident_key de-duplication, and the error shapes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pagerduty
import pytest

from sandbox import Sandbox
from sandbox.testing import FrozenClock, http_client, pagerduty_client
from sandbox.timeutil import UTC

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ACCEPT = "application/vnd.pagerduty+json;version=2"


@pytest.fixture
def raw(sb: Sandbox) -> Iterator[httpx.Client]:
    with http_client(sb, "pagerduty", headers={"Accept": ACCEPT}) as c:
        yield c


def test_iter_all_reads_every_incident_once(sb, pd):
    incidents = list(pd.iter_all("incidents", params={"date_range": "all"}, page_size=6))
    ids = [i["id"] for i in incidents]
    assert (
        len(ids) == len(set(ids)) == len(sb.pagerduty.incident_ids()) == 20 + 1
    )  # + Core's follow-up incident
    assert sum(i["status"] != "resolved" for i in incidents) == 3
    assert {i["urgency"] for i in incidents} == {"high", "low"}
    assert {i["priority"]["summary"] for i in incidents} <= {"P1", "P2", "P3", "P4", "P5"}
    assert all(i["service"]["type"] == "service_reference" for i in incidents)


def test_since_until_filter_on_creation_time_with_a_one_month_default():
    clock = FrozenClock(START)
    with Sandbox(seed=3, size={"weeks": 10, "incidents": 40}, clock=clock) as sb, pagerduty_client(sb) as pd:
        everything = list(pd.iter_all("incidents", params={"date_range": "all"}))
        default = list(pd.iter_all("incidents"))
        cutoff = START - timedelta(days=30)
        assert {i["id"] for i in default} == {
            i["id"]
            for i in everything
            if datetime.fromisoformat(i["created_at"].replace("Z", "+00:00")) >= cutoff
        }
        assert 0 < len(default) < len(everything)
        # a note changes an old incident now, but a creation-time window still does not return it
        old = everything[0]
        pd.rpost(f"incidents/{old['id']}/notes", json={"content": "late follow-up"})
        week = list(
            pd.iter_all(
                "incidents",
                params={"since": (START - timedelta(days=7)).isoformat(), "until": START.isoformat()},
            )
        )
        assert old["id"] not in {i["id"] for i in week}


def test_iter_history_reads_log_entries_with_their_incidents(sb, pd):
    entries = list(
        pd.iter_history(
            "log_entries",
            START - timedelta(days=30),
            START,
            params={"include[]": ["incidents"], "time_zone": "UTC"},
        )
    )
    kinds = {e["type"] for e in entries}
    assert {"trigger_log_entry", "acknowledge_log_entry", "resolve_log_entry"} <= kinds
    assert all(e["incident"]["type"] == "incident" and e["created_at"].endswith("Z") for e in entries)
    assert sum(e["type"] == "trigger_log_entry" for e in entries) == 20 + 1  # + Core's follow-up incident


def test_log_entries_render_in_the_account_time_zone_unless_asked(raw):
    body = raw.get("/log_entries", params={"limit": 1}).json()
    assert body["log_entries"][0]["created_at"].endswith("+01:00")  # Europe/Paris in November
    assert body["total"] is None and body["more"] is True
    body = raw.get("/log_entries", params={"limit": 1, "time_zone": "UTC", "total": "true"}).json()
    assert body["log_entries"][0]["created_at"].endswith("Z") and isinstance(body["total"], int)


def test_offset_plus_limit_above_10000_is_refused(raw):
    r = raw.get("/incidents", params={"offset": 9950, "limit": 100, "date_range": "all"})
    assert r.status_code == 400
    assert r.json() == {
        "error": {
            "message": "Invalid Input Provided",
            "code": 2001,
            "errors": ["Offset must be less than 10000."],
        }
    }
    assert raw.get("/incidents", params={"offset": 9900, "limit": 100}).status_code == 200


def test_writes_need_a_from_header_naming_a_user(sb, raw, clock):
    incident = next(
        i for i in sb.pagerduty.incident_ids() if sb.pagerduty.get_incident(i)["status"] == "triggered"
    )
    body = {"incident": {"type": "incident_reference", "status": "acknowledged"}}
    r = raw.put(f"/incidents/{incident}", json=body)
    assert r.status_code == 400 and r.json()["error"]["code"] == 2001
    r = raw.put(f"/incidents/{incident}", json=body, headers={"From": "stranger@example.org"})
    assert r.status_code == 400
    clock.advance(minutes=5)
    r = raw.put(f"/incidents/{incident}", json=body, headers={"From": sb.env["PAGERDUTY_FROM"]})
    assert r.status_code == 200 and r.json()["incident"]["status"] == "acknowledged"
    assert r.json()["incident"]["last_status_change_at"] == "2026-11-20T09:05:00Z"
    assert sb.pagerduty.log_entries_of(incident)[-1]["type"] == "acknowledge_log_entry"


def test_priority_updates_and_notes_through_the_client(sb, pd):
    incident = sb.pagerduty.incident_ids()[0]
    updated = pd.rput(
        f"incidents/{incident}",
        json={"type": "incident_reference", "priority": {"id": "PSLWBL8", "type": "priority_reference"}},
    )
    assert updated["priority"]["summary"] == "P1"
    note = pd.rpost(f"incidents/{incident}/notes", json={"content": "classified RUN by relais"})
    assert note["content"] == "classified RUN by relais"
    assert [n["content"] for n in pd.rget(f"incidents/{incident}/notes")] == ["classified RUN by relais"]


def test_incident_key_deduplicates_open_incidents(sb, pd):
    body = {
        "type": "incident",
        "title": "Payments API: card declines spike",
        "incident_key": "jira:10007",
        "service": {"id": "PSVC001", "type": "service_reference"},
    }
    first = pd.rpost("incidents", json=body)
    with pytest.raises(pagerduty.HttpError) as duplicate:
        pd.rpost("incidents", json=body)
    assert duplicate.value.response.status_code == 400
    found = pd.list_all("incidents", params={"incident_key": "jira:10007", "date_range": "all"})
    assert [i["id"] for i in found] == [first["id"]]
    sb.pagerduty.resolve(first["id"])
    assert pd.rpost("incidents", json=body)["id"] != first["id"]


def test_responder_helpers_write_log_entries(sb, clock):
    incident = sb.pagerduty.trigger_incident("PSVC002", "Core Platform: health check failing", urgency="low")
    clock.advance(minutes=3)
    sb.pagerduty.acknowledge(incident["id"])
    clock.advance(minutes=30)
    resolved = sb.pagerduty.resolve(incident["id"])
    assert resolved["status"] == "resolved" and resolved["resolved_at"] == "2026-11-20T09:33:00Z"
    assert resolved["assignments"] == []
    kinds = [e["type"] for e in sb.pagerduty.log_entries_of(incident["id"])]
    assert kinds == ["trigger_log_entry", "acknowledge_log_entry", "resolve_log_entry"]


def test_auth_errors_and_lookups(sb, raw, pd):
    with http_client(sb, "pagerduty", token="wrong") as bad:
        r = bad.get("/abilities")
    assert r.status_code == 401 and r.json()["error"]["code"] == 2006
    assert raw.get("/incidents/QNOSUCHINCIDENT").json() == {"error": {"message": "Not Found", "code": 2100}}
    assert pd.account_has_ability("teams")
    assert [p["name"] for p in pd.list_all("priorities")] == ["P1", "P2", "P3", "P4", "P5"]
    assert [s["id"] for s in pd.list_all("services")] == ["PSVC001", "PSVC002", "PSVC003"]
