"""The sandbox as a whole: seeded org, generated relais config, request log, lifecycle, CLI."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from connectors import notion_map
from sandbox import Sandbox
from sandbox.__main__ import build_parser
from sandbox.jira.fields import FIELDS
from sandbox.org import build_org
from sandbox.seed import fingerprint
from sandbox.testing import FrozenClock, ssl_context
from sandbox.timeutil import UTC
from sync import owned
from sync.settings import load_settings

DAY = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "relais.example.yaml"


def test_same_seed_and_day_give_a_byte_identical_org():
    morning = fingerprint(build_org(7, "demo", DAY))
    evening = fingerprint(build_org(7, "demo", DAY + timedelta(hours=12)))
    assert morning == evening
    assert fingerprint(build_org(8, "demo", DAY)) != morning
    assert fingerprint(build_org(7, "demo", DAY + timedelta(days=1))) != morning


def test_the_demo_org_has_the_promised_shape():
    org = build_org(7, "demo", DAY)
    assert [(t.slug, t.project_key, t.pm) for t in org.teams] == [
        ("payments", "PAY", "alice"),
        ("core", "CORE", "bruno"),
        ("support", "SUP", "chloe"),
    ]
    assert [s.name for s in org.services][0] == "Payments API"
    assert len(org.people) == 6 and all(len(p.jira_account_id) == 24 for p in org.people)
    assert org.notion["briefings_database"] != org.notion["briefings_data_source"]
    with Sandbox(seed=7, clock=FrozenClock(DAY)) as sb:
        issues = [sb.jira.get_record(k) for k in sb.jira]
        assert {i["issuetype"] for i in issues} == {"Bug", "Support", "Story", "Task", "Epic"}
        assert (
            [i["key"] for i in issues if i["issuetype"] == "Epic"]
            == sb.jira.epic_keys()
            == ["PAY-20", "PAY-21", "CORE-22", "CORE-23", "SUP-21", "SUP-22"]
        )  # 2 per team, after its issues
        set_values = [i["customfield_10050"] for i in issues if i["customfield_10050"]]
        assert 3 <= len(set_values) <= 8  # most issues still need a work type
        assert all(i["updated"] < sb.org.anchor and i["created"] >= sb.org.start for i in issues)
        assert len(sb.notion.page_ids("briefings")) == 8
        assert (
            len(sb.pagerduty.incident_ids()) == 20 + 1
        )  # + Core's follow-up incident (sandbox.pagerduty.data)


def test_sizes_are_parametric_and_a_bigger_org_is_quick_to_build():
    started = time.monotonic()
    with Sandbox(
        seed=1, size={"teams": 8, "issues": 5000, "incidents": 1500, "feedback": 1200}, clock=FrozenClock(DAY)
    ) as sb:
        assert len(sb.jira) == 5000 + 8 * 2 and len(sb.org.teams) == 8  # + epics_per_team (the demo's 2)
        assert len(sb.jira.epic_keys()) == 16
        assert len(sb.pagerduty.incident_ids()) == 1500  # every team had a recent high-urgency incident
    assert time.monotonic() - started < 5
    with pytest.raises(ValueError):
        Sandbox(size={"tickets": 3})


@pytest.mark.slow
def test_the_large_benchmark_org_builds_in_seconds():
    started = time.monotonic()
    sb = Sandbox(seed=1, size="large", clock=FrozenClock(DAY))
    assert (
        len(sb.jira) == 50_000 + 20 * 50 and len(sb.notion.page_ids("feedback")) > 10_000
    )  # + 50 epics a team
    assert time.monotonic() - started < 30


def test_config_yaml_has_the_example_shape_and_points_at_the_sandbox(tmp_path):
    with Sandbox(seed=7, clock=FrozenClock(DAY)) as sb:
        text = sb.config_yaml(str(tmp_path / "relais.db"))
        config = yaml.safe_load(text)
        example = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
        assert list(config) == [key for key in example if key != "balance"]  # balance: only on request
        for source in ("jira", "notion", "pagerduty"):
            assert set(example["sources"][source]) | {"url", "ca_bundle"} == set(config["sources"][source])
            assert config["sources"][source]["url"] == sb.urls[source]
            assert config["sources"][source]["ca_bundle"] == sb.ca_path
        assert config["sources"]["jira"]["jql"] == "project in (PAY, CORE, SUP)"
        assert config["sources"]["notion"]["databases"] == {
            key: sb.notion.database_ids[key] for key in ("briefings", "feedback")
        }
        assert config["classify"] == example["classify"]
        assert config["writeback"] == {
            "jira": example["writeback"]["jira"],
            "notion": {"work_type": example["writeback"]["notion"]["work_type"]},
        }
        assert config["teams"]["payments"] == {
            "pm": "alice",
            "jira": {"projects": ["PAY"]},
            "pagerduty": {"services": ["PSVC001"]},
            "notion": {"team": "Payments"},
        }
        assert config["people"]["alice"]["jira"] == sb.org.person("alice").jira_account_id
        assert config["sources"]["pagerduty"]["from_email"] == sb.env["PAGERDUTY_FROM"]


def test_config_with_balance_adds_the_scorecard_the_balance_section_and_its_writebacks(tmp_path):
    with Sandbox(seed=7, clock=FrozenClock(DAY)) as sb:
        plain = sb.config(str(tmp_path / "relais.db"))
        config = yaml.safe_load(sb.config_yaml(str(tmp_path / "relais.db"), balance=True))
        example = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
        keys = [key for key in plain if key != "writeback"] + ["balance", "writeback"]
        assert list(config) == keys
        if "balance" in example:  # the same place as in the example
            assert list(config) == list(example)
        assert config["sources"]["notion"]["databases"] == sb.notion.database_ids
        assert config["balance"] == {
            "backfill_periods": 4,
            "urgent": {"when": {"source": "jira", "priority": ["Highest"]}},
        }
        assert config["writeback"]["notion"] == {
            **plain["writeback"]["notion"],
            "scorecard": {"database": "scorecard"},
            "briefings": {"run_load": "Team RUN load", "mode": "Team mode"},
        }
        # everything else is the plain config
        assert {k: v for k, v in config.items() if k not in ("sources", "balance", "writeback")} == {
            k: v for k, v in plain.items() if k not in ("sources", "writeback")
        }
        assert sb.config(str(tmp_path / "relais.db")) == plain  # asking for it changed nothing


def test_config_with_briefings_adds_the_briefings_and_followups_sections_and_their_writebacks(tmp_path):
    with Sandbox(seed=7, clock=FrozenClock(DAY)) as sb:
        plain = sb.config(str(tmp_path / "relais.db"))
        config = yaml.safe_load(sb.config_yaml(str(tmp_path / "relais.db"), briefings=True))
        assert list(config) == [key for key in plain if key != "writeback"] + [
            "briefings",
            "followups",
            "writeback",
        ]
        assert list(sb.config(str(tmp_path / "r.db"), balance=True, routing=True, briefings=True))[-5:] == [
            "balance",
            "route",
            "briefings",
            "followups",
            "writeback",
        ]
        # it names each briefing input relais reads, a briefing property of a type relais reads it as
        briefing_db, inputs = sb.notion.schemas["briefings"], notion_map.BRIEFING_INPUT_TYPES
        names = {k: v for k, v in config["briefings"].items() if k != "throughput_weeks"}
        assert set(names) == set(inputs) and config["briefings"]["throughput_weeks"] == 4
        assert [k for k, v in names.items() if briefing_db[v].type not in inputs[k]] == []
        assert config["followups"] == {
            "when": {"urgency": "high"},
            "issuetype": "Task",
            "labels": ["incident-follow-up"],
            "lookback_days": 7,
        }
        assert config["writeback"]["jira"] == {
            **plain["writeback"]["jira"],
            "epic": {"health": {"field": "Health"}, "briefing_link": {"field": "Briefing link"}},
        }
        status = config["writeback"]["notion"]["status"]
        assert config["writeback"]["notion"] == {**plain["writeback"]["notion"], "status": status}
        # it names every status field relais writes, each a briefing property of the type relais writes
        rows = {f.field: f for f in owned.FIELDS if f.setting.startswith("writeback.notion.status.")}
        assert set(status) == set(rows)
        assert [k for k, v in status.items() if briefing_db[v].type not in rows[k].accepts] == []
        # merged with the other write-backs, not replacing them
        both = sb.config(str(tmp_path / "relais.db"), routing=True, briefings=True)["writeback"]
        assert {"work_type", "pm", "team", "initiative", "epic"} == set(both["jira"])
        assert {"work_type", "routing", "status"} == set(both["notion"])
        # every name it gives is a Jira field or a Notion briefing property of the sandbox
        properties = set(sb.notion.schemas["briefings"])
        assert {v for k, v in config["briefings"].items() if k != "throughput_weeks"} <= properties
        assert set(config["writeback"]["notion"]["status"].values()) <= properties
        assert {w["field"] for w in config["writeback"]["jira"]["epic"].values()} <= {
            f["name"] for f in FIELDS
        }
        # the follow-up tickets' label makes them RUN, by a rule just before the default
        assert config["classify"][-2] == {
            "name": "incident follow-ups",
            "when": {"labels": {"any": ["incident-follow-up"]}},
            "then": "RUN",
        }
        assert config["classify"][:-2] + config["classify"][-1:] == plain["classify"]
        assert {
            k: v for k, v in config.items() if k not in ("briefings", "followups", "writeback", "classify")
        } == {k: v for k, v in plain.items() if k not in ("writeback", "classify")}
        assert sb.config(str(tmp_path / "relais.db")) == plain  # asking for it changed nothing
    assert build_parser().parse_args(["serve", "--briefings"]).briefings is True  # serve --write-config


def test_every_request_is_logged_and_countable():
    with Sandbox(seed=7) as sb:
        with httpx.Client(base_url=sb.urls["jira"], verify=ssl_context(sb)) as c:
            c.get("/rest/api/3/serverInfo")
            c.get("/rest/api/3/myself")  # no credentials: 401
            c.get("/rest/api/3/serverInfo", params={"x": "1"})
        assert sb.count() == 3
        assert sb.count(vendor="jira", method="GET", path_prefix="/rest/api/3/serverInfo", status=200) == 2
        assert sb.count(status=401) == 1
        record = sb.log[-1]
        assert (record.vendor, record.path, record.query, record.status) == (
            "jira",
            "/rest/api/3/serverInfo",
            {"x": ["1"]},
            200,
        )
        assert record.at.tzinfo is not None


def test_stop_closes_the_ports_and_plain_http_is_not_served():
    sb = Sandbox(seed=7).start()
    port = int(sb.urls["notion"].rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
        raw.sendall(b"GET /v1/users/me HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            answer = raw.recv(64)
        except OSError:  # reset: fine, TLS only
            answer = b""
        assert not answer.startswith(b"HTTP/1.1 200")
    sb.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_cli_serves_prints_the_environment_and_writes_a_config(tmp_path):
    config = tmp_path / "relais.yaml"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--seed",
            "3",
            "--write-config",
            str(config),
            "--fault",
            "jira:500:rate=0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("serving"):
                break
        output = "".join(lines)
        assert "export NOTION_TOKEN=sandbox-notion-token" in output
        url = next(line.split()[1] for line in lines if line.startswith("pagerduty"))
        written = yaml.safe_load(config.read_text())
        assert written["sources"]["pagerduty"]["url"] == url
        # every feature on, as in the demo: the status page and `relais report` have what to show
        assert {"balance", "route", "briefings", "followups"} <= set(written)
        settings = load_settings(config)
        assert (
            settings.balance and settings.route and settings.briefings and settings.writeback.notion.scorecard
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err


def test_a_sandbox_for_containers_serves_its_host_with_a_certificate_for_it():
    """`Sandbox(host=…)`: the URLs and the certificate name a container network's gateway (here,
    another loopback address stands in for it), and clients that trust the sandbox's CA verify it."""
    with Sandbox(seed=7, size="demo", host="127.0.0.2") as sb:
        url = sb.config("relais.db")["sources"]["jira"]["url"]
        assert url.startswith("https://127.0.0.2:"), url
        with httpx.Client(verify=ssl_context(sb)) as client:
            answer = client.get(
                f"{url}/rest/api/3/myself", auth=(sb.env["JIRA_EMAIL"], sb.env["JIRA_API_TOKEN"])
            )
        assert answer.status_code == 200, answer.text
