"""Progress on long work, against the sandbox: the counts a full read announces, `relais plan`'s
estimate of the write requests against those the sync then sends (counted at the sandbox),
and the live view on a terminal — never in `--json` output."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ROOT, make_engine, relais_env, run_relais, write_config
from daemon_support import daemon_config

from benchmarks.counting import kind
from sandbox import Sandbox
from sync.progress import Progress


def full_config(sb: Sandbox, directory: Path, **source: object) -> Path:
    """Every write-back on (work types, scorecard, routing, briefings, follow-ups)."""

    def tweak(data: dict) -> None:
        data["sources"]["jira"].update(source)

    return write_config(sb, directory, tweak, balance=True, routing=True, briefings=True)


def test_a_full_read_is_announced_by_the_tools_counts_before_it_starts(sandbox, tmp_path):
    config = full_config(sandbox, tmp_path)
    announced: dict[str, tuple[int | None, str]] = {}

    def first_announce(tracker: Progress) -> None:
        for name, s in tracker.snapshot()["sources"].items():
            announced.setdefault(name, (s["estimate"], s["estimate_from"]))

    engine = make_engine(sandbox, config)
    engine.progress = Progress(listener=first_announce)
    try:
        report = engine.run_cycle(apply=False)
        assert not report.errors
        # Jira and PagerDuty count; the sandbox's counts are exact, so they are what the read returned
        assert announced["jira"] == (report.pulled["jira"], "approximate-count")
        assert announced["pagerduty"] == (report.pulled["pagerduty"], "total")
        assert announced["notion"] == (None, "unknown")  # Notion has no count, and nothing was read before
        counts = [r for r in sandbox.log if r.path.endswith("/search/approximate-count")]
        assert len(counts) == 2  # the work JQL and the feedback JQL, one request each
        assert [r for r in sandbox.log if r.vendor == "pagerduty" and r.query.get("total") == ["true"]]

        # A second full read of Notion stands on the count the store kept from the first
        announced.clear()
        engine.progress = Progress(listener=first_announce)
        cycle = engine.begin("plan", only="notion", full=True)
        engine.pull(cycle)
        assert announced["notion"] == (report.pulled["notion"], "previous read")
    finally:
        engine.close()


def test_an_incremental_read_asks_for_no_count(sandbox, tmp_path):
    config = full_config(sandbox, tmp_path)
    engine = make_engine(sandbox, config)
    try:
        engine.run_cycle(apply=True)
        start = len(sandbox.log)
        engine.progress = Progress()
        engine.run_cycle(apply=False)
        assert not [r for r in sandbox.log[start:] if r.path.endswith("/search/approximate-count")]
        assert engine.progress.snapshot()["sources"]["jira"]["estimate_from"] == "unknown"
    finally:
        engine.close()


def test_plan_says_how_many_write_requests_the_sync_then_sends(sandbox, tmp_path):
    config = full_config(sandbox, tmp_path)
    env = relais_env(sandbox)
    plan = run_relais(["plan", "--json", "-c", str(config)], env)
    assert plan.returncode == 0, plan.stderr
    estimate = json.loads(plan.stdout)["apply_estimate"]
    start = len(sandbox.log)
    sync = run_relais(["sync", "--once", "--json", "-c", str(config)], env)
    assert sync.returncode == 0, sync.stderr
    sent: dict[str, int] = {}
    for r in sandbox.log[start:]:
        if kind(r.vendor, r.method, r.path) == "write":
            sent[r.vendor] = sent.get(r.vendor, 0) + 1
    assert estimate["requests"] == sent
    # Jira's work types rode in bulk edits: far fewer requests than Jira writes planned
    changes = json.loads(plan.stdout)["changes"]
    assert estimate["requests"]["jira"] < len([c for c in changes if c["target"].startswith("jira:")])
    # at the config's rates, the busiest vendor's requests
    sources = yaml.safe_load(config.read_text())["sources"]
    rates = {v: float(sources[v]["requests_per_second"]) for v in sent}
    assert estimate["seconds"] == round(max(n / rates[v] for v, n in sent.items()), 1)

    text = run_relais(["plan", "-c", str(config)], env)
    assert "applying this plan: no write request" in text.stdout  # everything was written


def test_plan_prints_the_time_applying_takes(sandbox, tmp_path):
    config = full_config(sandbox, tmp_path)
    text = run_relais(["plan", "-c", str(config)], relais_env(sandbox))
    data = json.loads(run_relais(["plan", "--json", "-c", str(config)], relais_env(sandbox)).stdout)
    requests = data["apply_estimate"]["requests"]
    total = sum(requests.values())
    assert total > 0
    by_vendor = ", ".join(f"{v} {n:,}" for v, n in requests.items())
    assert f"applying this plan: ~{total:,} requests, about " in text.stdout
    assert f" at the configured limits\n  ({by_vendor})\n" in text.stdout


def on_a_terminal(args: list[str], env: dict[str, str], stop_after: str | None = None) -> tuple[int, str]:
    """Run the CLI with its output on a pseudo-terminal (as a person at a terminal sees it);
    ``stop_after``: send SIGTERM once that text has been seen (the daemon)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync.cli", *args],
        env={**env, "COLUMNS": "120", "TERM": "xterm"},
        cwd=ROOT,
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
        if stop_after is not None and stop_after in b"".join(chunks).decode(errors="replace"):
            proc.send_signal(signal.SIGTERM)
            stop_after = None
    os.close(leader)
    return proc.wait(60), b"".join(chunks).decode(errors="replace")


def test_on_a_terminal_sync_shows_each_source_and_the_writes_with_the_time_left(sandbox, tmp_path):
    config = full_config(sandbox, tmp_path)
    code, seen = on_a_terminal(["sync", "--once", "-c", str(config)], relais_env(sandbox))
    assert code == 0, seen[-2000:]
    for label in ("reading jira", "reading notion", "reading pagerduty", "writing"):
        assert label in seen, label
    assert "ETA" in seen


def test_json_output_on_a_terminal_carries_no_progress(sandbox, tmp_path):
    config = full_config(sandbox, tmp_path)
    code, seen = on_a_terminal(["sync", "--once", "--json", "-c", str(config)], relais_env(sandbox))
    assert code == 0, seen[-2000:]
    assert "reading jira" not in seen and "ETA" not in seen
    assert json.loads(seen.replace("\r\n", "\n"))["mode"] == "sync"


def test_on_a_terminal_the_daemon_draws_its_first_cycle_then_logs(sandbox, tmp_path):
    config = daemon_config(sandbox, tmp_path, interval=600)
    code, seen = on_a_terminal(["run", "-c", str(config)], relais_env(sandbox), stop_after='"source": "jira"')
    assert code == 0, seen[-2000:]
    for label in ("reading jira", "reading notion", "reading pagerduty", "writing"):
        assert label in seen, label
    assert "cycle finished" in seen and "stopped" in seen  # the log lines, printed around the view
