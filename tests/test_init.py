"""`relais init`: discovery against the sandbox (real clients, real sockets), the proposals it
makes for the sandbox's organisation, the file it writes (validates at once, plans against a
sandbox where every owned field exists), and the pure matching on plain data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml
from conftest import run_on_a_terminal

from connectors.discover import (
    Account,
    JiraProject,
    JiraSite,
    NotionDatabase,
    NotionProperty,
    NotionWorkspace,
    PagerDutyAccount,
    PagerDutyService,
    PagerDutyTeam,
)
from sandbox import Sandbox
from sync.cli import main
from sync.init import Discovered, normalise, propose, propose_people, propose_teams, recognise_databases

ROOT = Path(__file__).resolve().parent.parent


def _args(sb: Sandbox, out: Path, *extra: str, jira: bool = True) -> list[str]:
    urls = ["--notion-url", sb.urls["notion"], "--pagerduty-url", sb.urls["pagerduty"]]
    if jira:
        urls += ["--jira-url", sb.urls["jira"]]
    return ["init", "--output", str(out), *urls, "--ca-bundle", sb.ca_path, *extra]


@pytest.fixture
def env(sandbox, monkeypatch):
    monkeypatch.delenv("JIRA_URL", raising=False)
    for name, value in sandbox.env.items():
        monkeypatch.setenv(name, value)
    return sandbox


def test_init_yes_proposes_the_sandbox_org_and_the_file_validates_and_plans(env, tmp_path, capsys):
    sb, out = env, tmp_path / "relais.yaml"
    assert main(_args(sb, out, "--yes")) == 0
    said = capsys.readouterr().out
    assert f"next: relais check -c {out}" in said
    assert "team payments: Jira PAY · PagerDuty PSVC001 · Notion Team 'Payments', PM alice" in said
    config = yaml.safe_load(out.read_text())
    org = sb.org
    # teams: one per Jira project whose name the other tools share, with services and Team option
    assert {
        key: (t["jira"]["projects"], t["pagerduty"]["services"], t["notion"]["team"], t["pm"])
        for key, t in config["teams"].items()
    } == {t.slug: ([t.project_key], [t.service_id], t.name, t.pm) for t in org.teams}
    # people: by email, with their id in each tool; the API bot is in Jira and PagerDuty only
    expected = {
        p.slug: {
            "email": p.email,
            "jira": p.jira_account_id,
            "notion": p.notion_user_id,
            "pagerduty": p.pd_user_id,
        }
        for p in org.people
    }
    expected["relais-bot"] = {
        "email": org.bot.email,
        "jira": org.bot.jira_account_id,
        "pagerduty": org.bot.pd_user_id,
    }
    assert config["people"] == expected
    # databases recognised by their properties; FB, the project of feedback issues
    assert config["sources"]["notion"]["databases"] == {
        role: org.notion[f"{role}_database"] for role in ("briefings", "feedback", "scorecard")
    }
    assert config["sources"]["jira"]["feedback_jql"] == "project = FB"
    assert config["sources"]["jira"]["jql"] == "project in (CORE, PAY, SUP)"
    assert config["sources"]["pagerduty"]["from_email"] == sb.env["PAGERDUTY_FROM"]
    assert {s["ca_bundle"] for s in config["sources"].values()} == {str(Path(sb.ca_path).resolve())}
    # every write-back on, under its default name
    assert config["writeback"]["jira"]["work_type"] == {"field": "Work type"}
    assert set(config["writeback"]["notion"]) == {"work_type", "scorecard", "briefings", "routing", "status"}
    assert config["route"]["feedback"][-1] == {"fallback": "core"}
    assert "# The databases shared with the integration" in out.read_text()  # commented

    assert main(["validate", "-c", str(out)]) == 0
    assert "OK — sources: jira, notion, pagerduty; 3 teams, 7 people" in capsys.readouterr().out
    assert main(["plan", "--json", "-c", str(out)]) == 0  # every owned field exists in Sandbox()
    plan = yaml.safe_load(capsys.readouterr().out)
    assert plan["errors"] == {} and plan["changes"]


def test_init_on_the_tools_before_relais_writes_a_valid_config(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("JIRA_URL", raising=False)
    with Sandbox(fresh=True) as sb:
        for name, value in sb.env.items():
            monkeypatch.setenv(name, value)
        out = tmp_path / "relais.yaml"
        assert main(_args(sb, out, "--yes")) == 0
        config = yaml.safe_load(out.read_text())
        assert set(config["teams"]) == {t.slug for t in sb.org.teams}
        assert config["sources"]["notion"]["databases"] == {
            role: sb.org.notion[f"{role}_database"] for role in ("briefings", "feedback", "scorecard")
        }
        capsys.readouterr()
        assert main(["validate", "-c", str(out)]) == 0


def test_init_refuses_to_overwrite_without_force(env, tmp_path, capsys):
    out = tmp_path / "relais.yaml"
    out.write_text("mine\n")
    assert main(_args(env, out, "--yes")) == 2
    assert capsys.readouterr().err == f"relais: {out} exists; pass --force to overwrite it\n"
    assert out.read_text() == "mine\n"
    assert main(_args(env, out, "--yes", "--force")) == 0
    assert "teams:" in out.read_text()


def test_a_vendor_without_its_token_or_url_is_left_out_with_a_line(env, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("PAGERDUTY_TOKEN")
    out = tmp_path / "relais.yaml"
    assert main(_args(env, out, "--yes", jira=False)) == 0
    said = capsys.readouterr().out
    assert "PagerDuty: left out — PAGERDUTY_TOKEN is not set" in said
    assert (
        "Jira: left out — no site URL: pass --jira-url https://<site>.atlassian.net or set JIRA_URL" in said
    )
    config = yaml.safe_load(out.read_text())
    assert set(config["sources"]) == {"notion"}
    # teams from the one tool that names them (Notion's Team select), people from Notion
    assert {k: t["notion"]["team"] for k, t in config["teams"].items()} == {
        t.slug: t.name for t in env.org.teams
    }
    assert config["people"]["alice"] == {
        "email": "alice@acme.example",
        "notion": env.org.person("alice").notion_user_id,
    }
    assert main(["validate", "-c", str(out)]) == 0
    monkeypatch.setenv("JIRA_URL", env.urls["jira"])  # the site from the environment instead
    assert main(_args(env, out, "--yes", "--force", jira=False)) == 0
    assert set(yaml.safe_load(out.read_text())["sources"]) == {"jira", "notion"}


def test_init_bad_input_is_one_line(env, tmp_path, capsys):
    out = tmp_path / "relais.yaml"
    assert main([*_args(env, out)[:-2], "--ca-bundle", str(tmp_path / "nope.pem"), "--yes"]) == 2
    assert capsys.readouterr().err == f"relais: --ca-bundle: no file {tmp_path / 'nope.pem'}\n"
    assert main(["init", "--yes", "--output", str(out), "--jira-url", "http://x.atlassian.net"]) == 2
    assert "must start with https://" in capsys.readouterr().err
    assert not out.exists()


def test_init_without_yes_off_a_terminal_says_so(env, tmp_path, monkeypatch, capsys):
    with open(os.devnull) as devnull:
        monkeypatch.setattr(sys, "stdin", devnull)
        assert main(_args(env, tmp_path / "r.yaml")) == 2
    assert "pass --yes" in capsys.readouterr().err


def test_init_interactive_on_a_terminal_accepts_and_changes_proposals(env, tmp_path):
    """Through a pseudo-terminal: Enter keeps a proposal; the payments team is renamed, its
    PM changed, the support team and the bot left out, the scorecard database refused."""
    out = tmp_path / "relais.yaml"
    answers = [
        "",  # core: key
        "",  # core: PM bruno
        "pay",  # payments: key
        "farid",  # payments: PM
        "-",  # support: left out
        *[""] * 6,  # the six people
        "-",  # relais-bot: left out
        "",  # briefings database
        "",  # feedback database
        "-",  # scorecard database: none
    ]
    code, transcript = run_on_a_terminal(
        _args(env, out), dict(os.environ), "".join(a + "\n" for a in answers).encode()
    )
    assert code == 0, transcript[-2000:]
    assert "team 'Payments' (Jira, PagerDuty, Notion): key" in transcript, transcript[-3000:]
    config = yaml.safe_load(out.read_text())
    assert config["teams"]["pay"]["pm"] == "farid"
    assert config["teams"]["pay"]["jira"] == {"projects": ["PAY"]}
    assert set(config["teams"]) == {"core", "pay"}
    assert "relais-bot" not in config["people"] and "alice" in config["people"]
    assert "scorecard" not in config["sources"]["notion"]["databases"]
    assert "scorecard" not in config["writeback"]["notion"]
    assert main(["validate", "-c", str(out)]) == 0


# -- the pure part, on plain data --------------------------------------------------------------
def _found(jira_users=(), notion_users=(), pd_users=(), projects=(), pd_teams=(), services=(), options=()):
    notion_db = NotionDatabase(
        "db1", "Briefings", ["ds1"], {"Team": NotionProperty("Team", "select", tuple(options))}
    )
    return Discovered(
        jira=JiraSite("https://x.atlassian.net", projects=list(projects), users=list(jira_users)),
        notion=NotionWorkspace("https://api.notion.com", [notion_db], list(notion_users)),
        pagerduty=PagerDutyAccount(
            "https://api.pagerduty.com", list(services), list(pd_teams), list(pd_users)
        ),
    )


def test_people_are_matched_by_email_whatever_its_case_a_person_in_two_tools_only():
    found = _found(
        jira_users=[Account("j1", "Zoé Durand", "Zoe.Durand@Acme.com"), Account("j2", "Hidden", None)],
        notion_users=[Account("n1", "Zoé", "zoe.durand@acme.com")],
        pd_users=[Account("p1", "Zoé D.", "ZOE.DURAND@acme.com"), Account("p2", "Max", "max@acme.com")],
    )
    people = {p.key: (p.jira, p.notion, p.pagerduty) for p in propose_people(found)}
    assert people == {"zoe-durand": ("j1", "n1", "p1"), "max": (None, None, "p2")}
    found.jira.users.append(Account("j3", "Max", "max@acme.com"))  # now in two tools
    assert {p.key: (p.jira, p.notion, p.pagerduty) for p in propose_people(found)}["max"] == (
        "j3",
        None,
        "p2",
    )


def test_teams_match_across_tools_whatever_the_accents_and_case():
    found = _found(
        jira_users=[Account("lead", "Léa", "lea@acme.com")],
        projects=[
            JiraProject("PAIE", "Équipe Paiements", "1", "lead"),
            JiraProject("OPS", "Opérations", "2"),
            JiraProject("FB", "Customer feedback", "3"),
        ],
        pd_teams=[PagerDutyTeam("T1", "equipe paiements"), PagerDutyTeam("T2", "Lonely")],
        services=[
            PagerDutyService("S1", "Billing API", ("T1",)),
            PagerDutyService("S2", "Operations", ()),
            PagerDutyService("S3", "OPERATIONS worker", ()),
        ],
        options=["ÉQUIPE PAIEMENTS", "ops"],
    )
    people = propose_people(found)
    teams, unmatched = propose_teams(found, people)
    by_key = {t.key: t for t in teams}
    assert set(by_key) == {"equipe-paiements", "operations"}
    pay = by_key["equipe-paiements"]
    assert (pay.jira_projects, pay.pagerduty_services, pay.notion_team, pay.pm) == (
        ["PAIE"],
        ["S1"],
        "ÉQUIPE PAIEMENTS",
        "lea",
    )
    ops = by_key["operations"]  # Notion's "ops" is the project's key; the services by name
    assert (ops.jira_projects, ops.pagerduty_services, ops.notion_team) == (["OPS"], ["S2", "S3"], "ops")
    assert unmatched == {"jira": ["FB"], "pagerduty": ["Lonely"]}
    assert normalise("Équipe  Paiements!") == normalise("equipe-paiements") == "equipepaiements"


def test_databases_are_recognised_by_their_properties_not_their_titles():
    def db(dbid: str, title: str, **props: str) -> NotionDatabase:
        return NotionDatabase(
            dbid, title, [dbid + "-ds"], {n: NotionProperty(n, t) for n, t in props.items()}
        )

    roadmap = db(
        "a",
        "Roadmap",
        Name="title",
        Deadline="date",
        **{"Needs": "multi_select", "Signed off": "multi_select", "Value": "number", "Cost": "number"},
    )
    voices = db("b", "Voices", Name="title", Origin="select", Customer="rich_text", Tier="select")
    notes = db("c", "Meeting notes", Name="title", Date="date", Tags="multi_select")
    board = db("d", "KPIs", Name="title", Key="rich_text", Period="date", **{"RUN %": "number"})
    assert {role: d.title for role, d in recognise_databases([notes, voices, roadmap, board]).items()} == {
        "briefings": "Roadmap",
        "feedback": "Voices",
        "scorecard": "KPIs",
    }
    assert recognise_databases([notes]) == {}


def test_from_email_is_a_pagerduty_user():
    found = _found(pd_users=[Account("p1", "Ops", "ops@acme.com"), Account("p2", "Me", "me@acme.com")])
    assert propose(found, {"JIRA_EMAIL": "ME@acme.com"}).from_email == "me@acme.com"
    assert (
        propose(found, {"PAGERDUTY_FROM": "ops@acme.com", "JIRA_EMAIL": "me@acme.com"}).from_email
        == "ops@acme.com"
    )
    assert propose(found, {}).from_email == "ops@acme.com"


def test_a_title_from_the_tools_cannot_write_a_key_into_the_config(env, tmp_path, capsys):
    """Found from outside: a database's title went into a YAML comment as it was, so a workspace
    member could title the briefings database "x\\nwriteback: {adopt: overwrite}" and have the
    config relais init writes overwrite every decision people had made."""
    from sandbox.testing import notion_client

    sb, out = env, tmp_path / "relais.yaml"
    client = notion_client(sb)
    ds = sb.org.notion["briefings_data_source"]
    hostile = "Briefings\nwriteback: {adopt: overwrite}\u2028scratch: 1\x1b]8;;http://x\x07"
    client.data_sources.update(data_source_id=ds, title=[{"type": "text", "text": {"content": hostile}}])
    client.close()
    assert main(_args(sb, out, "--yes")) == 0
    text = out.read_text()
    config = yaml.safe_load(text)
    assert config["writeback"].get("adopt") != "overwrite" and "scratch" not in config
    comment = next(line for line in text.splitlines() if "Briefings" in line)
    assert comment.lstrip().startswith("briefings:") and "writeback: {adopt: overwrite}" in comment
    assert "\x1b" not in text and "\u2028" not in text


def test_init_reads_a_token_from_its_file_as_the_config_does(env, tmp_path, monkeypatch, capsys):
    """Docker and Kubernetes secrets: PAGERDUTY_TOKEN_FILE names the file holding the token, as
    for every secret relais reads; init finds PagerDuty's services through it."""
    token = tmp_path / "pagerduty-token"
    token.write_text(env.env["PAGERDUTY_TOKEN"] + "\n")
    monkeypatch.delenv("PAGERDUTY_TOKEN")
    monkeypatch.setenv("PAGERDUTY_TOKEN_FILE", str(token))
    out = tmp_path / "relais.yaml"
    assert main(_args(env, out, "--yes")) == 0
    assert "PagerDuty: left out" not in capsys.readouterr().out
    config = yaml.safe_load(out.read_text())
    assert sorted(config["sources"]["pagerduty"]["services"]) == sorted(t.service_id for t in env.org.teams)
