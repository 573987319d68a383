"""Scenario 9 — webhook abuse: forged, tampered, unsigned, oversized, malformed and replayed
deliveries never trigger a write, while a write is waiting to be triggered.

The daemon runs with polling far apart, and a Jira issue's Work type is emptied by hand: any
re-read of that issue would make relais write it back. Only the genuine delivery may.
"""

from __future__ import annotations

import json
import time

from daemon_support import WEBHOOK_ENV, daemon_config, hub_signature, post, running_daemon, wait_for
from reliability_support import record
from test_webhooks import PATHS, VENDORS, delivery, jira_body

WORK_TYPE = "customfield_10050"
WRITES = ("PUT", "PATCH", "DELETE")


def writes(sb, daemon) -> tuple[int, int]:
    """(write requests the sandbox received, rows in relais' audit log)."""
    sent = sum(
        1
        for r in sb.log
        if r.method in WRITES
        or (r.method == "POST" and not r.path.endswith(("/search/jql", "/query", "/notes")))
    )
    audited = daemon.engine.store.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    return sent, audited


def abuse(sb, vendor: str, n: int) -> dict[str, tuple[bytes, dict[str, str]]]:
    body, headers = delivery(sb, vendor, n)
    other, _ = delivery(sb, vendor, n + 1)
    sig = next(k for k in headers if "Signature" in k)
    secret = {
        "pagerduty": WEBHOOK_ENV["PAGERDUTY_WEBHOOK_SECRET"],
        "jira": WEBHOOK_ENV["JIRA_WEBHOOK_SECRET"],
        "notion": WEBHOOK_ENV["NOTION_WEBHOOK_TOKEN"],
    }[vendor]
    resign = (
        (lambda b: {**headers, sig: "v1=" + hub_signature(b, secret)[7:]})
        if vendor == "pagerduty"
        else (lambda b: {**headers, sig: hub_signature(b, secret)})
    )
    garbage = b'{"event": {"id": "x", "data": '  # cut off
    huge = json.dumps({"padding": "x" * 400_000}).encode()
    return {
        "forged": delivery(sb, vendor, n, "a-secret-relais-does-not-have"),
        "tampered": (other, headers),
        "unsigned": (body, {k: v for k, v in headers.items() if k != sig}),
        "oversized": (huge, resign(huge)),
        "malformed": (garbage, resign(garbage)),
        "wrong shape": (b'{"hello": "world"}', resign(b'{"hello": "world"}')),
    }


def test_abusive_deliveries_never_trigger_a_write(sandbox, tmp_path):
    config = daemon_config(sandbox, tmp_path, interval=600, webhooks=True)
    with running_daemon(sandbox, config, WEBHOOK_ENV) as daemon:
        sandbox.jira.edit_issue("PAY-2", {WORK_TYPE: None})  # a write waits for a re-read of PAY-2
        before = writes(sandbox, daemon)
        answers: dict[str, int] = {}
        for vendor in VENDORS:
            for kind, (body, headers) in abuse(sandbox, vendor, 10).items():
                status, answer = post(daemon.url + PATHS[vendor], body, headers)
                answers[f"{vendor} {kind}"] = status
                if kind == "wrong shape" and status < 300:
                    # Signed by the vendor, but no item in it (an event relais does not act on):
                    # acknowledged, so that the vendor does not retry, and nothing re-read.
                    assert answer.get("items") == 0, (vendor, answer)
                else:
                    assert status >= 400, (vendor, kind, status, answer)
        time.sleep(1.0)
        assert writes(sandbox, daemon) == before
        assert sandbox.jira.get_issue("PAY-2")["fields"][WORK_TYPE] is None

        # The genuine delivery for PAY-2 makes the write land: the setup could write.
        body = jira_body(sandbox, "PAY-2")
        headers = {
            "X-Hub-Signature": hub_signature(body, WEBHOOK_ENV["JIRA_WEBHOOK_SECRET"]),
            "X-Atlassian-Webhook-Identifier": "genuine-pay-2",
            "X-Atlassian-Webhook-Retry": "0",
        }
        assert post(daemon.url + PATHS["jira"], body, headers)[0] == 202
        wait_for(
            lambda: sandbox.jira.get_issue("PAY-2")["fields"][WORK_TYPE] is not None, what="the genuine write"
        )
        after_genuine = writes(sandbox, daemon)
        assert after_genuine[0] == before[0] + 1

        # Replayed (a vendor retry, or an attacker who recorded it): a no-op, though a write waits again.
        sandbox.jira.edit_issue("PAY-2", {WORK_TYPE: None})
        replays = [post(daemon.url + PATHS["jira"], body, headers)[0] for _ in range(3)]
        time.sleep(1.0)
        assert replays == [200, 200, 200]
        assert writes(sandbox, daemon) == after_genuine
        assert sandbox.jira.get_issue("PAY-2")["fields"][WORK_TYPE] is None
    record(
        "webhooks",
        "fast",
        abusive_deliveries=len(answers),
        replays=len(replays),
        writes_triggered_by_abuse=0,
        statuses=sorted(set(answers.values())),
    )
