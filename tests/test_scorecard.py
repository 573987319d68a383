"""The scorecard teams see in Notion: one row per (team, week), written once, kept true."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from conftest import make_engine, relais_env, run_relais, start_relais, write_config

from sandbox import Sandbox
from sync.engine import Engine
from sync.scorecard import IN_PROGRESS
from sync.settings import load_settings, resolve_secrets

ROWS_PER_TEAM = 4  # backfill_periods in the sandbox's balance config


def balance_config(sb: Sandbox, directory: Path, tweak=None) -> Path:
    return write_config(sb, directory, tweak, balance=True)


def rows(sb: Sandbox) -> list[dict]:
    return [sb.notion.get_page(pid) for pid in sb.notion.page_ids("scorecard")]


def keys(sb: Sandbox) -> Counter:
    return Counter("".join(t["plain_text"] for t in r["properties"]["Key"]["rich_text"]) for r in rows(sb))


@pytest.fixture
def sc_engine(sandbox, tmp_path):
    engine = make_engine(sandbox, balance_config(sandbox, tmp_path))
    yield engine
    engine.close()


def test_one_row_per_team_and_week_and_a_quiet_second_cycle(sandbox, sc_engine):
    first = sc_engine.run_cycle(apply=True)
    assert first.errors == {}
    teams = len(sc_engine.settings.teams)
    assert first.created == teams * ROWS_PER_TEAM
    counted = keys(sandbox)
    assert len(counted) == teams * ROWS_PER_TEAM and set(counted.values()) == {1}
    second = sc_engine.run_cycle(apply=True)
    assert second.writes == 0 and second.created == 0 and second.planned_creates == []
    assert keys(sandbox) == counted


def test_rows_hold_the_reported_figures(sandbox, sc_engine, tmp_path):
    sc_engine.run_cycle(apply=True)
    config = sc_engine.settings.file
    report = run_relais(["report", "--format", "json", "-c", str(config)], relais_env(sandbox))
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    team, weeks = next(iter(data["teams"].items()))
    week = weeks[-2]
    row = next(
        r
        for r in rows(sandbox)
        if "".join(t["plain_text"] for t in r["properties"]["Key"]["rich_text"]) == f"{team}:{week['week']}"
    )
    props = row["properties"]
    assert props["RUN %"]["number"] == week["run"]
    assert props["RUN hours"]["number"] == week["run_hours"]
    assert props["Incidents"]["number"] == week["incidents"]
    assert props["Level"]["select"]["name"] == week["level"]
    assert props["Period"]["date"]["start"] == week["start"]


def test_human_notes_on_rows_and_briefings_survive_every_cycle(sandbox, sc_engine):
    sc_engine.run_cycle(apply=True)
    row_id = sandbox.notion.page_ids("scorecard")[0]
    brief_id = sandbox.notion.page_ids("briefings")[0]
    note = {"rich_text": [{"text": {"content": "Discussed in the weekly: OK"}}]}
    sandbox.notion.edit_page(row_id, {"Notes": note})
    sandbox.notion.edit_page(brief_id, {"Epic": {"rich_text": [{"text": {"content": "PAY-999"}}]}})
    for _ in range(2):
        sc_engine.run_cycle(apply=True)
    assert (
        sandbox.notion.get_page(row_id)["properties"]["Notes"]["rich_text"][0]["plain_text"]
        == "Discussed in the weekly: OK"
    )
    assert sandbox.notion.get_page(brief_id)["properties"]["Epic"]["rich_text"][0]["plain_text"] == "PAY-999"


def test_briefings_carry_their_teams_run_load_and_mode(sandbox, sc_engine):
    sc_engine.run_cycle(apply=True)
    filled = [sandbox.notion.get_page(p)["properties"] for p in sandbox.notion.page_ids("briefings")]
    with_team = [p for p in filled if p["Team"]["select"]]
    assert with_team and all(p["Team mode"]["select"] for p in with_team)
    assert {p["Team mode"]["select"]["name"] for p in with_team} <= {"ok", "watch", "alert", "survival"}


def test_a_create_whose_answer_is_lost_is_not_repeated(sandbox, tmp_path):
    def short_timeout(cfg):
        cfg["sources"]["notion"]["timeout_seconds"] = 0.5

    engine = make_engine(sandbox, balance_config(sandbox, tmp_path, short_timeout))
    try:
        # The first create reaches Notion, but its answer comes after the client gave up.
        sandbox.faults.add("notion", "timeout", count=1, method="POST", path="^/v1/pages$", delay=1.0)
        first = engine.run_cycle(apply=True)
        assert "notion" in first.errors
        time.sleep(1.5)  # the sandbox finishes that create
        second = engine.run_cycle(apply=True)
        assert second.errors == {}
        counted = keys(sandbox)
        assert set(counted.values()) == {1}
        assert len(counted) == len(engine.settings.teams) * ROWS_PER_TEAM
    finally:
        engine.close()


def test_kill_during_scorecard_creates_leaves_no_duplicate(tmp_path):
    def slow_notion(cfg):
        cfg["sources"]["notion"]["requests_per_second"] = 4

    with Sandbox(seed=7, size="demo") as sb:
        config = balance_config(sb, tmp_path, slow_notion)
        proc = start_relais(["sync", "--once", "-c", str(config)], relais_env(sb))
        deadline = time.monotonic() + 120
        while (
            sb.count(vendor="notion", method="POST", path_prefix="/v1/pages", status=200) < 3
            and time.monotonic() < deadline
        ):
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        made = len(keys(sb))
        assert 3 <= made < 12, "the kill missed the scorecard creates"
        again = run_relais(["sync", "--once", "-c", str(config)], relais_env(sb), timeout=300)
        assert again.returncode == 0, again.stderr
        counted = keys(sb)
        assert set(counted.values()) == {1} and len(counted) == 12


def test_changing_an_alert_threshold_replays_without_reading_history(sandbox, tmp_path):
    config = balance_config(sandbox, tmp_path / "a")
    engine = make_engine(sandbox, config)
    engine.run_cycle(apply=True)
    engine.close()

    def strict(cfg):
        cfg["balance"]["alerts"] = [
            {"name": "RUN watch", "when": "run_share > 10%", "level": "watch", "message": "RUN above 10%"}
        ]

    data = yaml.safe_load(config.read_text())
    strict(data)
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    before = len(sandbox.log)
    result = run_relais(["plan", "--json", "-c", str(config)], relais_env(sandbox))
    assert result.returncode == 0, result.stderr
    changes = json.loads(result.stdout)["changes"]
    assert changes and {c["field"] for c in changes} <= {"level", "alerts", "mode"}
    assert any(c["new"] == "watch" for c in changes)
    # Only incremental reads: no search/query without a time filter, no write.
    new = sandbox.log[before:]
    assert not [
        r for r in new if r.method in ("PUT", "PATCH") or (r.method == "POST" and r.path == "/v1/pages")
    ]
    # connect()'s survey finds one issue per project (maxResults=1) to read its edit screen:
    # one id each, no history; every read of the items is incremental
    searches = [r for r in new if r.path.endswith("/search/jql") and r.query.get("maxResults") != ["1"]]
    assert searches and all("updated >=" in " ".join(r.query.get("jql", [])) for r in searches)
    # And a sync then writes exactly what the plan showed.
    synced = run_relais(["sync", "--once", "--json", "-c", str(config)], relais_env(sandbox))
    assert synced.returncode == 0, synced.stderr
    applied = json.loads(synced.stdout)["changes"]
    key = lambda c: (c["target"], c["field"], json.dumps(c["new"]))  # noqa: E731
    assert sorted(map(key, applied)) == sorted(map(key, changes))


def test_the_row_of_the_week_in_progress_says_so_until_the_week_is_over(sandbox, tmp_path):
    """Found from outside: a scorecard row did not say its week was still in progress, so a
    Monday's row of one day's work read like a quiet week."""

    def titles() -> dict[str, str]:
        out = {}
        for r in rows(sandbox):
            key = "".join(t["plain_text"] for t in r["properties"]["Key"]["rich_text"])
            title = next(p for p in r["properties"].values() if p["type"] == "title")
            out[key] = "".join(t["plain_text"] for t in title["title"])
        return out

    settings = load_settings(balance_config(sandbox, tmp_path))
    secrets = resolve_secrets(settings, environ=sandbox.env)
    engine = Engine(settings, secrets)
    engine.run_cycle(apply=True)
    engine.close()
    first = titles()
    current = sorted(k.split(":")[1] for k, t in first.items() if t.endswith(IN_PROGRESS))
    teams = len(settings.teams)
    assert len(current) == teams and len(set(current)) == 1  # one row per team: this week's
    assert all(k.split(":")[1] < current[0] for k, t in first.items() if not t.endswith(IN_PROGRESS))
    # A week later, last week's rows are complete: their titles lose the mark, this week's get it.
    later = Engine(settings, secrets, clock=lambda: datetime.now(UTC) + timedelta(days=7))
    later.run_cycle(apply=True)
    later.close()
    after = titles()
    assert all(not after[k].endswith(IN_PROGRESS) for k, t in first.items() if t.endswith(IN_PROGRESS))
    assert sum(t.endswith(IN_PROGRESS) for t in after.values()) == teams
