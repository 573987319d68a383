"""`relais demo --json`: the main job against the bundled sandbox, as `make demo` runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT


def test_demo_json_reports_two_cycles_and_a_quiet_second_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "NOTION_", "PAGERDUTY_"))}
    chart = tmp_path / "balance.png"
    result = subprocess.run(
        [sys.executable, "-m", "sync.cli", "demo", "--json", "--chart", str(chart)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    first, second = data["cycles"]
    assert set(first["pulled"]) == {"jira", "notion", "pagerduty"}
    # the teams' 60 issues, their 6 epics and FB's 8; 20 incidents and Core's follow-up incident
    assert first["pulled"]["jira"] == 60 + 6 + 8 and first["pulled"]["pagerduty"] == 20 + 1
    # 12 scorecard rows, 3 follow-up tickets and their 3 notes
    assert first["writes"] > 0 and first["created"] == 12 + 3 + 3 and first["rows_created"] == 12
    assert first["notes_created"] == 3 and first["held"] == 0
    assert second["writes"] == 0 and second["created"] == 0
    # decisions people made before relais ran are kept, and said so: SUP-3's Work type, routed feedback
    assert {(k["target"], k["field"]) for k in data["kept"]} >= {("jira:SUP-3", "work_type")}
    assert first["quarantined"] == 0 and first["errors"] == {} and second["errors"] == {}
    # epics, FB feedback issues, and the 3 follow-up tickets the first cycle filed, read by the second
    assert data["followups_created"] == first["followups_created"] == 3 and second["followups_created"] == 0
    assert sum(data["classified"].values()) == 60 + 6 + 8 + 22 + 20 + 1 + 3
    assert data["briefings_updated"] == first["briefings_updated"] == 8 and second["briefings_updated"] == 0
    assert {b["health"] for b in data["briefings"]} <= {"On track", "At risk", "Off track", "Blocked"}
    assert data["scorecard_rows"] == 12  # 3 teams × 4 weeks, one row each
    assert {a["level"] for a in data["alerts"]} <= {"watch", "alert", "survival"} and data["alerts"]
    assert sum(data["routed"].values()) == 14 + 8  # every live feedback page and FB issue has a PM
    assert (
        0 <= data["fallback"] <= 14 + 8 and data["routing"]["overrides"]
    )  # the page a person routed is kept
    assert chart.stat().st_size > 10_000 and chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
