"""kill -9 in the middle of apply, restart: the same end state as a run with no crash,
no item skipped, no write repeated, nothing created twice."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from conftest import relais_env, run_relais, start_relais, write_config

from sandbox import Sandbox
from sync.state import StateStore

WORK_TYPE = "customfield_10050"


def slow_writes(cfg: dict) -> None:
    # Slow enough that the kill lands in the middle of the writes; one PUT per issue, so that
    # there is a middle (the reliability suite kills relais during bulk edits too).
    cfg["sources"]["jira"]["bulk_edit"] = False
    cfg["sources"]["jira"]["requests_per_second"] = 15
    cfg["sources"]["notion"]["requests_per_second"] = 15


def end_state(sb: Sandbox) -> dict[str, str | None]:
    state = {}
    for key in sb.jira:
        value = sb.jira.get_issue(key)["fields"].get(WORK_TYPE)
        state[f"jira:{key}"] = value["value"] if value else None
    for source in ("briefings", "feedback"):
        for page_id in sb.notion.page_ids(source):
            select = sb.notion.get_page(page_id)["properties"]["Work type"]["select"]
            state[f"notion:{page_id}"] = select["name"] if select else None
    return state


def counts(sb: Sandbox) -> dict[str, int]:
    return {
        "jira_writes": sb.count(vendor="jira", method="PUT", path_prefix="/rest/api/3/issue/"),
        "notion_writes": sb.count(vendor="notion", method="PATCH", path_prefix="/v1/pages/"),
        "jira_creates": sb.count(vendor="jira", method="POST", path_prefix="/rest/api/3/issue"),
        "notion_creates": sb.count(vendor="notion", method="POST", path_prefix="/v1/pages"),
        "pagerduty_creates": sb.count(vendor="pagerduty", method="POST"),
    }


def test_sigkill_during_apply_then_restart_converges(tmp_path: Path, state_at):
    """On either store: a PostgreSQL writer killed leaves its lock to the server, which drops it."""
    on_store = (
        (lambda d: d.update(state={"url": state_at})) if isinstance(state_at, str) else (lambda d: None)
    )

    def crash_config(d: dict) -> None:
        slow_writes(d)
        on_store(d)

    # The reference: one uninterrupted run.
    with Sandbox(seed=11, size="demo") as ref:
        (tmp_path / "ref").mkdir()
        cfg = write_config(ref, tmp_path / "ref", slow_writes)
        done = run_relais(["sync", "--once", "-c", str(cfg)], relais_env(ref))
        assert done.returncode == 0, done.stderr
        expected_state, expected_counts = end_state(ref), counts(ref)
    assert expected_counts["jira_writes"] > 20

    with Sandbox(seed=11, size="demo") as sb:
        (tmp_path / "crash").mkdir()
        cfg = write_config(sb, tmp_path / "crash", crash_config)
        proc = start_relais(["sync", "--once", "-c", str(cfg)], relais_env(sb))
        deadline = time.monotonic() + 60
        while sb.count(vendor="jira", method="PUT") < 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        written_before_restart = counts(sb)["jira_writes"]
        assert 10 <= written_before_restart < expected_counts["jira_writes"], (
            "the kill missed the apply phase"
        )

        again = run_relais(["sync", "--once", "-c", str(cfg)], relais_env(sb))
        assert again.returncode == 0, again.stderr
        assert end_state(sb) == expected_state
        # Every write happened exactly once across the crash and the restart.
        assert counts(sb) == expected_counts

        # No item skipped: everything the tools hold is in the state store.
        store = StateStore(state_at if isinstance(state_at, str) else cfg.parent / "relais.db")
        try:
            stored = store.count_items()
        finally:
            store.close()
        assert stored["jira"] == len(sb.jira.keys())
        assert stored["notion"] == sum(len(sb.notion.page_ids(s)) for s in ("briefings", "feedback"))
        assert stored["pagerduty"] == len(sb.pagerduty.incident_ids())
        # And a third run has nothing left to do.
        steady = run_relais(["sync", "--once", "-c", str(cfg)], relais_env(sb))
        assert steady.returncode == 0 and counts(sb) == expected_counts
