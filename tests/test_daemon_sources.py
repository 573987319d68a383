"""How the daemon lives with its sources: failures logged once and recoveries once, deletions swept."""

from __future__ import annotations

import json
from pathlib import Path

from daemon_support import RelaisProcess, daemon_config, get, running_daemon, wait_for
from test_daemon_run import scrape, total


def test_a_failing_source_is_logged_once_and_once_when_it_recovers(sandbox, tmp_path: Path):
    config = daemon_config(
        sandbox, tmp_path, balance=False, tweak=lambda d: d["daemon"].update(failing_after=2)
    )
    relais = RelaisProcess(sandbox, config)
    try:
        url = relais.url
        wait_for(lambda: get(url + "/readyz")[0] == 200, what="ready")
        sandbox.faults.add("notion", 429, retry_after=0)  # a 429 storm: every retry refused too

        def notion_state() -> dict:
            return json.loads(get(url + "/readyz")[1])["sources"]["notion"]

        wait_for(lambda: notion_state()["status"] == "failing", what="notion failing on /readyz")
        details = json.loads(get(url + "/readyz")[1])
        assert details["status"] == "degraded"
        assert details["sources"]["jira"]["status"] == details["sources"]["pagerduty"]["status"] == "ok"
        assert "429" in details["sources"]["notion"]["last_error"]
        wait_for(
            lambda: total(scrape(url), "relais_cycles_total", source="notion", outcome="failed") >= 4,
            what="more failed notion cycles",
        )
        assert total(scrape(url), "relais_api_rate_limited_total", vendor="notion") >= 4

        sandbox.faults.clear()
        wait_for(lambda: json.loads(get(url + "/readyz")[1])["status"] == "ready", what="recovery")
        ok_before = total(scrape(url), "relais_cycles_total", source="notion", outcome="ok")
        wait_for(
            lambda: total(scrape(url), "relais_cycles_total", source="notion", outcome="ok") >= ok_before + 2,
            what="more good notion cycles",
        )
        assert relais.stop() == 0
    finally:
        relais.close()
    failing = relais.logged("source failing", source="notion")
    assert len(failing) == 1 and failing[0]["level"] == "error"
    recovered = relais.logged("source recovered", source="notion")
    assert len(recovered) == 1 and recovered[0]["failed_cycles"] >= 4
    assert not relais.logged("source failing", source="jira")
    text = "\n".join(relais.lines)
    for name in ("JIRA_API_TOKEN", "NOTION_TOKEN", "PAGERDUTY_TOKEN"):
        assert sandbox.env[name] not in text


def test_the_reconciliation_sweep_forgets_what_the_tools_deleted(sandbox, tmp_path: Path):
    config = daemon_config(
        sandbox, tmp_path, interval=600, balance=False, tweak=lambda d: d["daemon"].update(reconcile_every=5)
    )
    deleted_issue = sandbox.jira.keys()[0]
    trashed_page = sandbox.notion.page_ids("briefings")[0]
    with running_daemon(sandbox, config) as daemon:
        store = daemon.engine.store
        assert store.get_item("jira", deleted_issue) is not None
        assert store.get_item("notion", trashed_page) is not None
        kept = store.count_items()
        sandbox.jira.delete_issue(deleted_issue)
        sandbox.notion.trash_page(trashed_page)
        # The sweep's cycle is recorded just after it forgot the items: wait for both.
        wait_for(
            lambda: (
                store.get_item("jira", deleted_issue) is None
                and store.get_item("notion", trashed_page) is None
                and daemon.sources["jira"].last_kind == "reconcile"
            ),
            what="the sweep",
            step=0.2,
        )
        assert store.count_items() == {**kept, "jira": kept["jira"] - 1, "notion": kept["notion"] - 1}
