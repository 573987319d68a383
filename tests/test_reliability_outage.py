"""Scenario 7 — one vendor down for ten cycles (from the very start: relais cannot even connect to it).

`relais run` as a user runs it, against the sandbox: the other sources keep syncing and
writing, `/readyz` says degraded, the failure is logged once and the recovery once, and
the writes planned for the vendor while it was down land once it is back.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import left_to_do, relais_env, run_relais
from daemon_support import RelaisProcess, daemon_config, get, wait_for
from reliability_support import _plain, record
from test_daemon_run import scrape, total

WORK_TYPE = "customfield_10050"
DOWN_CYCLES = 10


def scorecard_row(sb, key: str) -> dict:
    rows = [
        rec["values"]
        for rec in sb.notion.snapshot_pages().values()
        if rec["source"] == "scorecard" and not rec["in_trash"] and _plain(rec["values"].get("Key")) == key
    ]
    assert len(rows) == 1, (key, len(rows))
    return rows[0]


def test_a_vendor_down_for_ten_cycles_while_the_others_sync(sandbox, tmp_path: Path):
    config = daemon_config(sandbox, tmp_path, tweak=lambda d: d["daemon"].update(failing_after=3))
    week = datetime.now(ZoneInfo("Europe/Paris")).isocalendar()
    row_key = f"payments:{week.year}-W{week.week:02d}"
    relais = RelaisProcess(sandbox, config)
    try:
        url = relais.url
        wait_for(lambda: get(url + "/readyz")[0] == 200, what="the first cycles")
        row = scorecard_row(sandbox, row_key)
        hours_before = (row["RUN hours"], row["BUILD %"])
        t0 = time.monotonic()
        sandbox.faults.add("notion", 503, retry_after=0)  # Notion answers nothing but 503
        failed = lambda: total(scrape(url), "relais_cycles_total", source="notion", outcome="failed")  # noqa: E731
        wait_for(lambda: failed() >= 1, what="notion failing")
        # While Notion is down, people work: a Jira field relais owns is emptied (relais must
        # write it back: Jira keeps syncing), and a worklog changes this week's Notion scorecard
        # row (a write planned for the vendor that is down).
        sandbox.jira.edit_issue("PAY-2", {WORK_TYPE: None})
        sandbox.jira.add_worklog("PAY-2", 3 * 3600, datetime.now(UTC) - timedelta(minutes=5))
        wait_for(
            lambda: sandbox.jira.get_issue("PAY-2")["fields"][WORK_TYPE] is not None,
            timeout=30,
            what="Jira synced while Notion is down",
        )
        wait_for(lambda: failed() >= 3, timeout=60, what="notion failing 3 cycles running (failing_after)")
        details = json.loads(get(url + "/readyz")[1])
        assert details["status"] == "degraded"
        assert details["sources"]["notion"]["status"] == "failing"
        assert details["sources"]["jira"]["status"] == details["sources"]["pagerduty"]["status"] == "ok"
        wait_for(lambda: failed() >= DOWN_CYCLES, timeout=120, what=f"{DOWN_CYCLES} failed notion cycles")
        row = scorecard_row(sandbox, row_key)
        assert (row["RUN hours"], row["BUILD %"]) == hours_before  # planned, not written: Notion is down
        down_cycles, down_seconds = failed(), time.monotonic() - t0
        jira_ok = total(scrape(url), "relais_cycles_total", source="jira", outcome="ok")

        sandbox.faults.clear()
        wait_for(
            lambda: json.loads(get(url + "/readyz")[1])["status"] == "ready", timeout=60, what="recovery"
        )
        wait_for(
            lambda: (
                (scorecard_row(sandbox, row_key)["RUN hours"], scorecard_row(sandbox, row_key)["BUILD %"])
                != hours_before
            ),
            timeout=30,
            what="the scorecard write planned during the outage",
        )
        assert relais.stop() == 0
    finally:
        relais.close()
    left = run_relais(["plan", "--json", "-c", str(config)], relais_env(sandbox))
    assert left.returncode == 0 and left_to_do(left.stdout) == []  # every planned write landed
    failing = relais.logged("source failing", source="notion")
    recovered = relais.logged("source recovered", source="notion")
    assert len(failing) == 1 and len(recovered) == 1
    assert recovered[0]["failed_cycles"] >= DOWN_CYCLES
    assert not relais.logged("source failing", source="jira") and not relais.logged(
        "source failing", source="pagerduty"
    )
    record(
        "outage",
        "fast",
        vendor_down="notion",
        failed_cycles=down_cycles,
        seconds_down=round(down_seconds, 1),
        other_sources_ok_cycles_meanwhile=jira_ok,
        logged_failing=len(failing),
        logged_recovered=len(recovered),
        writes_left_after_recovery=0,
    )


def test_a_vendor_down_at_start_does_not_stop_sync_once(sandbox, tmp_path: Path):
    """`relais sync --once` with Notion down before relais could even connect: the others sync."""
    config = daemon_config(sandbox, tmp_path)
    sandbox.faults.add("notion", 503, retry_after=0)
    result = run_relais(["sync", "--once", "--json", "-c", str(config)], relais_env(sandbox))
    assert result.returncode == 1, result.stderr  # a source failed: the operator's scripts see it
    report = json.loads(result.stdout)
    assert set(report["errors"]) == {"notion"} and "cannot connect" in report["errors"]["notion"]
    assert report["pulled"]["jira"] > 0 and report["pulled"]["pagerduty"] > 0 and report["writes"] > 0
    sandbox.faults.clear()
    again = run_relais(["sync", "--once", "--json", "-c", str(config)], relais_env(sandbox))
    assert again.returncode == 0 and json.loads(again.stdout)["errors"] == {}
