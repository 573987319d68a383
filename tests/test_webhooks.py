"""Webhooks over a real socket: signatures as the vendors document them, replays, rotation, and the
targeted re-read they trigger (the daemon runs in this process, polling far apart, against the sandbox)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from daemon_support import (
    WEBHOOK_ENV,
    daemon_config,
    get,
    hub_signature,
    pagerduty_signature,
    post,
    replace_text,
    running_daemon,
    wait_for,
)

PD, JIRA, NOTION = (
    WEBHOOK_ENV["PAGERDUTY_WEBHOOK_SECRET"],
    WEBHOOK_ENV["JIRA_WEBHOOK_SECRET"],
    WEBHOOK_ENV["NOTION_WEBHOOK_TOKEN"],
)
PATHS = {"pagerduty": "/webhooks/pagerduty", "jira": "/webhooks/jira", "notion": "/hooks/notion"}
VENDORS = ("pagerduty", "jira", "notion")


# -- deliveries shaped like the vendors' ------------------------------------------------
def pagerduty_body(sb: Any, incident_id: str, event_id: str) -> bytes:
    inc = sb.pagerduty.get_incident(incident_id)
    data = {
        k: inc.get(k)
        for k in (
            "id",
            "type",
            "self",
            "html_url",
            "status",
            "incident_key",
            "created_at",
            "title",
            "service",
            "assignees",
            "escalation_policy",
            "teams",
            "priority",
            "urgency",
            "conference_bridge",
        )
    }
    data.update(number=inc.get("incident_number"), type="incident", resolve_reason=None)
    return json.dumps(
        {
            "event": {
                "id": event_id,
                "event_type": "incident.triggered",
                "resource_type": "incident",
                "occurred_at": inc["created_at"],
                "agent": None,
                "client": None,
                "data": data,
            }
        }
    ).encode()


def jira_body(sb: Any, key: str) -> bytes:
    issue = sb.jira.get_issue(key)
    return json.dumps(
        {
            "timestamp": int(time.time() * 1000),
            "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "user": {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Alice"},
            "issue": issue,
            "changelog": {
                "id": "10500",
                "items": [
                    {
                        "field": "summary",
                        "fieldtype": "jira",
                        "from": None,
                        "fromString": "old",
                        "to": None,
                        "toString": issue["fields"]["summary"],
                    }
                ],
            },
        }
    ).encode()


def notion_body(sb: Any, page_id: str, event_id: str) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "timestamp": datetime.now(UTC).isoformat(),
            "workspace_id": "13950b26-c203-4f3b-b97d-93ec06319565",
            "workspace_name": "Acme",
            "subscription_id": "29d75c0d-5546-4414-8459-7b7a92f1fc4b",
            "integration_id": "0ef2e755-4912-8096-91c1-00376a88a5ca",
            "type": "page.properties_updated",
            "authors": [{"id": "c7c11cca-1d73-471d-9b6e-bdef51470190", "type": "person"}],
            "attempt_number": 1,
            "api_version": "2025-09-03",
            "entity": {"id": page_id, "type": "page"},
            "data": {
                "parent": {"id": "1d3b35c6-e5b7-4e3c-9a36-8fe1b0e0a2f4", "type": "database"},
                "updated_properties": ["title"],
            },
        }
    ).encode()


def delivery(sb: Any, vendor: str, n: int, *secrets: str) -> tuple[bytes, dict[str, str]]:
    """Delivery number ``n`` of ``vendor``, signed with ``secrets`` (the vendor's default one if none)."""
    if vendor == "pagerduty":
        ids = sb.pagerduty.incident_ids()
        body = pagerduty_body(sb, ids[n % len(ids)], f"01DEV{n:04d}")
        return body, {
            "X-PagerDuty-Signature": pagerduty_signature(body, *(secrets or (PD,))),
            "X-Webhook-Id": f"f2fd2aa0-{n:04d}",
            "X-Webhook-Subscription": "PY1OL64",
            "User-Agent": "PagerDuty-Webhook/V3.0",
        }
    if vendor == "jira":
        body = jira_body(sb, sb.jira.keys()[n % len(sb.jira.keys())])
        return body, {
            "X-Hub-Signature": hub_signature(body, (secrets or (JIRA,))[0]),
            "X-Atlassian-Webhook-Identifier": f"a1b2c3-{n}",
            "X-Atlassian-Webhook-Retry": "0",
        }
    pages = sb.notion.page_ids("briefings")
    body = notion_body(sb, pages[n % len(pages)], f"367cba44-b6f3-4c92-81e7-6a2e9659{n:04d}")
    return body, {"X-Notion-Signature": hub_signature(body, (secrets or (NOTION,))[0])}


def webhook_cycles(daemon: Any, vendor: str, kind: str = "webhook") -> int:
    return int(
        sum(
            s.value
            for m in daemon.metrics.registry.collect()
            if m.name == "relais_cycles"
            for s in m.samples
            if s.name == "relais_cycles_total" and s.labels["source"] == vendor and s.labels["kind"] == kind
        )
    )


@pytest.fixture
def hooked(sandbox, tmp_path: Path) -> Iterator[Any]:
    config = daemon_config(sandbox, tmp_path, interval=600, webhooks=True)
    with running_daemon(sandbox, config, WEBHOOK_ENV) as daemon:
        yield daemon


# -- signatures ----------------------------------------------------------------------------
@pytest.mark.parametrize("vendor", VENDORS)
def test_a_valid_delivery_is_accepted_and_its_item_re_read(sandbox, hooked, vendor):
    before = sandbox.count(vendor=vendor)
    body, headers = delivery(sandbox, vendor, 0)
    assert post(hooked.url + PATHS[vendor], body, headers) == (202, {"outcome": "accepted", "items": 1})
    wait_for(lambda: webhook_cycles(hooked, vendor) == 1, what="the re-read")
    assert sandbox.count(vendor=vendor) > before
    assert hooked.sources[vendor].last_error is None


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_tampered_body_is_refused_and_nothing_is_read(sandbox, hooked, vendor):
    body, headers = delivery(sandbox, vendor, 1)
    other, _ = delivery(sandbox, vendor, 2)  # another item's event under the first one's signature
    before = sandbox.count(vendor=vendor)
    status, answer = post(hooked.url + PATHS[vendor], other, headers)
    assert (status, answer) == (401, {"error": "signature does not match"})
    time.sleep(0.3)
    assert webhook_cycles(hooked, vendor) == 0 and sandbox.count(vendor=vendor) == before
    # Refused deliveries are not remembered: the genuine one still goes through.
    assert post(hooked.url + PATHS[vendor], body, headers)[0] == 202


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_delivery_signed_with_another_secret_is_refused(sandbox, hooked, vendor):
    body, headers = delivery(sandbox, vendor, 1, "not-the-configured-secret")
    assert post(hooked.url + PATHS[vendor], body, headers)[0] == 401
    unsigned = {k: v for k, v in headers.items() if "Signature" not in k}
    assert post(hooked.url + PATHS[vendor], body, unsigned)[0] == 401
    time.sleep(0.3)
    assert webhook_cycles(hooked, vendor) == 0


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_replayed_delivery_is_a_no_op(sandbox, hooked, vendor):
    body, headers = delivery(sandbox, vendor, 3)
    assert post(hooked.url + PATHS[vendor], body, headers)[0] == 202
    wait_for(lambda: webhook_cycles(hooked, vendor) == 1, what="the re-read")
    reads = sandbox.count(vendor=vendor)
    assert post(hooked.url + PATHS[vendor], body, headers) == (200, {"outcome": "duplicate"})
    time.sleep(0.3)
    assert webhook_cycles(hooked, vendor) == 1 and sandbox.count(vendor=vendor) == reads


def test_replays_are_still_no_ops_after_a_restart(sandbox, tmp_path: Path):
    config = daemon_config(sandbox, tmp_path, interval=600, webhooks=True)
    sent = {v: delivery(sandbox, v, 4) for v in VENDORS}
    with running_daemon(sandbox, config, WEBHOOK_ENV) as daemon:
        for vendor, (body, headers) in sent.items():
            assert post(daemon.url + PATHS[vendor], body, headers)[0] == 202
    with running_daemon(sandbox, config, WEBHOOK_ENV) as daemon:
        for vendor, (body, headers) in sent.items():
            assert post(daemon.url + PATHS[vendor], body, headers) == (200, {"outcome": "duplicate"}), vendor
            assert webhook_cycles(daemon, vendor) == 0


def test_pagerduty_signatures_of_a_secret_rotation_are_accepted(sandbox, tmp_path: Path):
    """During a rotation PagerDuty signs with every active secret; relais may know the old, the new, or both."""
    config = daemon_config(sandbox, tmp_path, interval=600, webhooks=True)
    with running_daemon(
        sandbox, config, {**WEBHOOK_ENV, "PAGERDUTY_WEBHOOK_SECRET": f"pd-new-secret-0002, {PD}"}
    ) as d:
        body, headers = delivery(sandbox, "pagerduty", 5, "pd-new-secret-0002", PD)  # both signatures
        assert post(d.url + PATHS["pagerduty"], body, headers)[0] == 202
        body, headers = delivery(sandbox, "pagerduty", 6, PD)  # only the old one, still active in relais
        assert post(d.url + PATHS["pagerduty"], body, headers)[0] == 202
        body, headers = delivery(sandbox, "pagerduty", 7, "pd-retired-secret", "pd-other-secret")
        assert post(d.url + PATHS["pagerduty"], body, headers)[0] == 401


def test_a_rotated_secret_file_is_picked_up_without_a_restart(sandbox, tmp_path: Path):
    files = {}
    for variable, value in WEBHOOK_ENV.items():
        files[variable] = tmp_path / variable.lower()
        files[variable].write_text(value + "\n")
    env = {f"{variable}_FILE": str(path) for variable, path in files.items()}
    new = {
        "pagerduty": "pd-rotated-0003",
        "jira": "jira-rotated-0003",
        "notion": "secret_notion-rotated-0003",
    }
    config = daemon_config(sandbox, tmp_path, interval=600, webhooks=True)
    with running_daemon(sandbox, config, env) as daemon:
        for vendor, variable in zip(VENDORS, WEBHOOK_ENV):
            replace_text(files[variable], new[vendor] + "\n")
        for n, vendor in enumerate(VENDORS, start=8):
            body, headers = delivery(sandbox, vendor, n, new[vendor])
            wait_for(
                lambda: post(daemon.url + PATHS[vendor], body, headers)[0] == 202,
                step=0.5,
                what=f"{vendor}'s new secret",
            )
            old_body, old_headers = delivery(sandbox, vendor, n + 3)
            assert post(daemon.url + PATHS[vendor], old_body, old_headers)[0] == 401, vendor


# -- Notion's verification handshake --------------------------------------------------------
def test_notion_verification_request_is_answered_and_its_token_kept_for_the_operator(sandbox, tmp_path):
    """Until NOTION_WEBHOOK_TOKEN is set (the subscription being made): once set, no handshake is taken
    (tests/test_reliability_attacks.py)."""
    token = "secret_tMrlL1qK5vuQAh1b6cZGhFChZTSYJlce98V0pYn7yBl"
    body = json.dumps({"verification_token": token}).encode()
    config = daemon_config(sandbox, tmp_path, interval=600, webhooks=True)
    env = {k: v for k, v in WEBHOOK_ENV.items() if k != "NOTION_WEBHOOK_TOKEN"}
    with running_daemon(sandbox, config, env) as daemon:
        assert post(daemon.url + PATHS["notion"], body, {}) == (200, {"outcome": "verification"})
        kept = tmp_path / "notion-webhook-verification-token"
        assert kept.read_text().strip() == token
        assert oct(os.stat(kept).st_mode & 0o777) == "0o600"
        assert webhook_cycles(daemon, "notion") == 0
        # Anything else without a signature is refused.
        assert post(daemon.url + PATHS["notion"], b'{"type": "page.created"}', {})[0] == 401


# -- HTTP hygiene ----------------------------------------------------------------------------
def test_bodies_over_the_cap_are_refused_unread(sandbox, hooked):
    huge = b"{" + b" " * 300_000 + b"}"
    assert post(hooked.url + PATHS["jira"], huge, {"X-Hub-Signature": hub_signature(huge, JIRA)})[0] == 413
    assert get(hooked.url + PATHS["jira"])[0] == 405
    assert post(hooked.url + "/webhooks/github", b"{}", {})[0] == 404


# -- the point of it all: near-real-time ---------------------------------------------------
def scorecard_incidents(sb: Any, key: str) -> int | None:
    for pid in sb.notion.page_ids("scorecard"):
        props = sb.notion.get_page(pid)["properties"]
        if "".join(t["plain_text"] for t in props["Key"]["rich_text"]) == key:
            return props["Incidents"]["number"]
    return None


def test_a_pagerduty_event_makes_the_dependent_write_land_within_5_seconds(sandbox, hooked, capsys):
    team = hooked.settings.teams["payments"]
    service = team.pagerduty.services[0]
    year, week, _ = datetime.now(ZoneInfo(hooked.settings.timezone)).isocalendar()
    row = f"payments:{year}-W{week:02d}"
    before = scorecard_incidents(sandbox, row)
    assert before is not None, "the first cycles create this week's row"
    incident = sandbox.pagerduty.trigger_incident(service, "Checkout returns 502 for card payments")
    body = pagerduty_body(sandbox, incident["id"], "01DEVLATENCY")
    headers = {"X-PagerDuty-Signature": pagerduty_signature(body, PD), "X-Webhook-Id": "latency-0001"}
    sent = time.monotonic()
    assert post(hooked.url + PATHS["pagerduty"], body, headers)[0] == 202
    wait_for(
        lambda: scorecard_incidents(sandbox, row) == before + 1,
        timeout=5,
        step=0.02,
        what="the scorecard row's Incidents to count the new incident",
    )
    latency = time.monotonic() - sent
    with capsys.disabled():
        print(f"\nwebhook → scorecard write: {latency:.2f} s")
    assert latency < 5
    # The cycle is counted when it ends, a moment after its write has landed.
    wait_for(
        lambda: webhook_cycles(hooked, "pagerduty") == 1,
        timeout=5,
        step=0.02,
        what="the webhook's cycle to be counted",
    )
    assert [webhook_cycles(hooked, v, "poll") for v in VENDORS] == [1, 1, 1]  # no poll did it
