"""`relais run` as an operator runs it: a subprocess against the sandbox, probed over HTTP."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import yaml
from conftest import left_to_do, relais_env, run_relais
from daemon_support import RelaisProcess, daemon_config, get, replace_text, wait_for
from prometheus_client.parser import text_string_to_metric_families

from sandbox.jira.fields import WORK_TYPE


def scrape(url: str) -> list[tuple[str, dict[str, str], float]]:
    status, text, headers = get(url + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    return [
        (s.name, s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples
    ]


def total(samples: list, name: str, **labels: str) -> float:
    return sum(v for n, lab, v in samples if n == name and all(lab.get(k) == x for k, x in labels.items()))


def work_type(sb: Any, key: str) -> str | None:
    value = sb.jira.get_issue(key)["fields"].get(WORK_TYPE)
    return value.get("value") if value else None


def test_run_cycles_answers_probes_and_metrics_and_stops_cleanly_on_sigterm(sandbox, tmp_path: Path):
    config = daemon_config(sandbox, tmp_path)
    relais = RelaisProcess(sandbox, config)
    try:
        url = relais.url
        status, body, _ = wait_for(lambda: (r := get(url + "/readyz"))[0] == 200 and r, what="/readyz 200")
        ready = json.loads(body)
        assert ready["status"] == "ready" and ready["config"]["ok"]
        assert {n: s["status"] for n, s in ready["sources"].items()} == {
            "jira": "ok",
            "notion": "ok",
            "pagerduty": "ok",
        }
        assert get(url + "/healthz")[0] == 200

        first = scrape(url)
        wait_for(
            lambda: total(scrape(url), "relais_cycles_total") >= total(first, "relais_cycles_total") + 3,
            what="more cycles in /metrics",
        )
        later = scrape(url)
        for source in ("jira", "notion", "pagerduty"):
            assert total(later, "relais_cycles_total", source=source, kind="poll", outcome="ok") >= 1
            assert total(later, "relais_last_success_timestamp_seconds", source=source) > time.time() - 60
            assert total(later, "relais_api_requests_total", vendor=source, status="200") > 0
            assert total(later, "relais_cycle_duration_seconds_count", source=source) >= 1
        assert total(later, "relais_items_pulled_total", source="jira") >= 60
        assert total(later, "relais_writes_applied_total") > 0  # the first cycles wrote the Work types
        assert total(later, "relais_api_requests_total") > total(first, "relais_api_requests_total")

        assert relais.stop() == 0
    finally:
        relais.close()
    assert relais.logs[-1]["msg"] == "stopped"
    # Nothing half-written: the store is intact and a plan finds nothing left to write.
    with sqlite3.connect(tmp_path / "relais.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    plan = run_relais(["plan", "--json", "-c", str(config)], relais_env(sandbox))
    assert plan.returncode == 0, plan.stderr
    assert left_to_do(plan.stdout) == []


def test_sigterm_during_writes_stops_between_two_writes_and_a_restart_finishes_them(sandbox, tmp_path: Path):
    # One PUT per issue (no bulk edit), each taking 0.2 s: the stop comes between two of them.
    config = daemon_config(
        sandbox, tmp_path, balance=False, tweak=lambda d: d["sources"]["jira"].update(bulk_edit=False)
    )
    sandbox.faults.add("jira", "timeout", method="PUT", delay=0.2)
    db = tmp_path / "relais.db"

    def jira_writes() -> int:
        try:
            with sqlite3.connect(db) as conn:
                return conn.execute(
                    "SELECT COUNT(*) FROM audit WHERE source='jira' AND outcome='applied'"
                ).fetchone()[0]
        except sqlite3.OperationalError:
            return 0

    relais = RelaisProcess(sandbox, config)
    try:
        wait_for(lambda: jira_writes() >= 3, what="the first writes")
        asked = time.monotonic()
        assert relais.stop() == 0
        assert time.monotonic() - asked < 5
    finally:
        relais.close()
    written = jira_writes()
    assert 3 <= written < 60, "the stop should have come in the middle of the first cycle's writes"
    assert sandbox.count(vendor="jira", method="PUT") == written  # every write that landed is audited
    assert relais.logged("stop: writes interrupted between two writes; the cycle will be redone")

    sandbox.faults.clear()
    done = run_relais(["sync", "--once", "--json", "-c", str(config)], relais_env(sandbox))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["writes"] > 0
    with sqlite3.connect(db) as conn:
        items_written = conn.execute(
            "SELECT COUNT(DISTINCT item_id) FROM audit WHERE source='jira' AND outcome='applied'"
        ).fetchone()[0]
    assert sandbox.count(vendor="jira", method="PUT") == items_written  # no write was made twice


def _broken(config: Path) -> tuple[str, int]:
    """The config with a misspelt condition in its second classify rule, and that line."""
    data = yaml.safe_load(config.read_text())
    data["classify"][1]["when"] = {"isuetype": ["Bug", "Support"]}
    text = yaml.safe_dump(data, sort_keys=False)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "isuetype" in t)
    return text, line


def test_an_invalid_config_keeps_the_daemon_on_the_last_good_one_until_it_is_fixed(sandbox, tmp_path: Path):
    config = daemon_config(sandbox, tmp_path, balance=False)
    good = config.read_text()
    relais = RelaisProcess(sandbox, config)
    try:
        url = relais.url
        wait_for(lambda: get(url + "/readyz")[0] == 200, what="ready")
        text, line = _broken(config)
        replace_text(config, text)

        def degraded() -> Any:
            details = json.loads(get(url + "/readyz")[1])
            return details if details["status"] == "degraded" else None

        details = wait_for(degraded, what="/readyz to report the config error")
        assert not details["config"]["ok"]
        assert any(
            e.startswith(f"{config}:{line}: classify[1].when.isuetype") and "did you mean 'issuetype'" in e
            for e in details["config"]["errors"]
        ), details["config"]["errors"]

        # Still syncing on the last good config: a new bug is classified RUN by its rules.
        key = sandbox.jira.create_issue("PAY", "Refund button does nothing", issuetype="Bug")["key"]
        wait_for(lambda: work_type(sandbox, key) == "RUN", what="the new bug's Work type")
        assert len(relais.logged("config not reloaded: still running the last good config")) == 1
        problems = [e["problem"] for e in relais.logged("config not reloaded") if "problem" in e]
        assert len(problems) == 1 and f":{line}: " in problems[0]  # each problem once, with its line
        assert "isuetype" in get(url + "/")[1]  # the status page shows it too

        # Fixed, with a new rule: picked up without a restart.
        fixed = yaml.safe_load(good)
        fixed["classify"].insert(
            0,
            {
                "name": "payments bugs are improvements",
                "when": {"project": "PAY", "issuetype": "Bug"},
                "then": "IMPROVE",
            },
        )
        replace_text(config, yaml.safe_dump(fixed, sort_keys=False))
        wait_for(lambda: work_type(sandbox, key) == "IMPROVE", what="the new rule to take effect")
        details = json.loads(get(url + "/readyz")[1])
        assert details["status"] == "ready" and details["config"] == {
            "file": str(config),
            "ok": True,
            "errors": [],
        }
        assert relais.logged("config reloaded")[-1]["changed"] == ["classify"]
        assert relais.stop() == 0
    finally:
        relais.close()
