"""A team's first contact with relais, attacked: `relais check [--fix]` and `relais init` against
tools that people keep using meanwhile, that say more than relais expects, or that were named by
mistake — through the real CLI, the sandbox playing the company's tools.

- ``--fix`` acts on the tool as it is when it fixes, not as the survey saw it: Notion replaces a
  select's whole option list, so an option a person added after the survey must survive; a
  property a person created meanwhile is never retyped.
- What the tools say (a database title, a team's name) is printed inert: no terminal escape,
  no Rich markup, no direction override reaches the terminal.
- ``check`` says which site, account and databases it checked, with each database's title: a
  config naming the wrong (shared) database shows it before ``--fix`` creates anything there.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from conftest import check_fix_held_at, relais_env, run_on_a_terminal, run_relais
from reliability_support import full_config

from sandbox import Sandbox
from sandbox.testing import data_source_schema, notion_client, update_data_source


def _fix_while_a_person_edits(
    sb: Sandbox, config: Path, database: str, edit: dict[str, Any]
) -> subprocess.CompletedProcess:
    """`relais check --fix`, with ``edit`` made by a person right after relais' survey read the
    database's schema (its answer held back 3 s: the survey sees the schema before the edit)."""
    ds = sb.notion.data_source_ids[database]
    fixing = check_fix_held_at(sb, config, "notion", f"/v1/data_sources/{ds}$")
    update_data_source(sb, database, edit)
    out, err = fixing.communicate(timeout=120)
    return subprocess.CompletedProcess(fixing.args, fixing.returncode, out, err)


def test_an_option_a_person_adds_after_the_survey_survives_the_fix(tmp_path: Path):
    """The scorecard's Level lacks `survival` (fresh sandbox): the fix adds it to the option list
    as it is when it sends it, with the `critical` option a person added after the survey."""
    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        config = full_config(sb, tmp_path)
        level = data_source_schema(sb, "scorecard")["Level"]["select"]["options"]
        kept = [{"id": o["id"]} for o in level]
        fixed = _fix_while_a_person_edits(
            sb, config, "scorecard", {"Level": {"select": {"options": [*kept, {"name": "critical"}]}}}
        )
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        options = [o["name"] for o in data_source_schema(sb, "scorecard")["Level"]["select"]["options"]]
    assert options == ["ok", "watch", "alert", "critical", "survival"]


def test_a_property_a_person_creates_after_the_survey_is_not_retyped(tmp_path: Path):
    """'Forecast' is missing at the survey (fresh sandbox); a person creates it as text before the
    fix: relais does not turn it into a date — the check then names the type to change."""
    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        config = full_config(sb, tmp_path)
        fixed = _fix_while_a_person_edits(sb, config, "briefings", {"Forecast": {"rich_text": {}}})
        assert fixed.returncode == 2, fixed.stdout + fixed.stderr
        assert data_source_schema(sb, "briefings")["Forecast"]["type"] == "rich_text"
        again = run_relais(["check", "--json", "-c", str(config)], relais_env(sb))
    problems = {p["setting"]: p for p in json.loads(again.stdout)["problems"]}
    assert again.returncode == 2
    assert problems["writeback.notion.status.forecast"]["message"] == (
        "'Forecast' in the briefings database is a text property; relais writes a date there: "
        "make it a date property 'Forecast'"
    )


def _rename(sb: Sandbox, database: str, title: str) -> None:
    """A person renames the database's data source (the database keeps its title)."""
    client = notion_client(sb)
    try:
        client.data_sources.update(
            data_source_id=sb.notion.data_source_ids[database], title=[{"text": {"content": title}}]
        )
    finally:
        client.close()


def test_a_config_naming_the_wrong_database_shows_its_title_before_the_fix(tmp_path: Path):
    """The briefings and feedback ids swapped (a paste gone wrong; both are shared): `check` names
    each database it checked by its title, so "briefings 'Customer feedback'" is there to see
    before `--fix` creates the briefings' properties in the feedback database."""
    with Sandbox(seed=7, size="demo", fresh=True) as sb:

        def swapped(config: dict[str, Any]) -> None:
            dbs = config["sources"]["notion"]["databases"]
            dbs["briefings"], dbs["feedback"] = dbs["feedback"], dbs["briefings"]

        config = full_config(sb, tmp_path, swapped)
        env = relais_env(sb)
        shown = run_relais(["check", "-c", str(config)], env)
        data = json.loads(run_relais(["check", "--json", "-c", str(config)], env).stdout)
        assert sb.count(vendor="notion", method="PATCH") == 0  # nothing changed without --fix
    assert shown.returncode == 2, shown.stdout + shown.stderr
    lines = [line for line in shown.stdout.splitlines() if line.startswith("checked  notion:")]
    assert len(lines) == 1, shown.stdout
    titles = (
        "databases: briefings 'Customer feedback', feedback 'Initiative briefings', "
        "scorecard 'Team balance scorecard'"
    )
    assert titles in lines[0]
    assert data["checked"]["notion"].endswith(titles)
    assert set(data["checked"]) == {"jira", "notion", "pagerduty"}


#: A title as hostile as a tool can hold: a hyperlink (OSC 8), a colour (CSI), Rich markup that
#: would close a style, a right-to-left override that reorders what follows, a newline.
HOSTILE = "Brief\x1b]8;;https://evil.example\x07ings\x1b[31m [/][bold]x\u202etxt.exe\nnext"


def test_a_hostile_database_title_is_printed_inert_and_kept_whole_in_json(tmp_path: Path):
    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        _rename(sb, "briefings", HOSTILE)
        config = full_config(sb, tmp_path)
        env = relais_env(sb)
        shown = run_relais(["check", "-c", str(config)], env)
        as_json = run_relais(["check", "--json", "-c", str(config)], env)
    assert shown.returncode == 2 and "Traceback" not in shown.stderr, shown.stderr
    for bad in ("\x1b", "\x07", "\u202e"):
        assert bad not in shown.stdout
    line = next(line for line in shown.stdout.splitlines() if line.startswith("checked  notion:"))
    # quoted as Python quotes it: every control character as a visible escape, markup as text
    assert f"briefings 'Initiative briefings' (data source {HOSTILE!r})" in line
    assert f"(data source {HOSTILE!r})" in json.loads(as_json.stdout)["checked"]["notion"]


# -- init: what the tools say, printed inert ---------------------------------------------------
def _init_args(sb: Sandbox, out: Path, *extra: str) -> list[str]:
    urls = [
        "--jira-url",
        sb.urls["jira"],
        "--notion-url",
        sb.urls["notion"],
        "--pagerduty-url",
        sb.urls["pagerduty"],
    ]
    return ["init", "--output", str(out), *urls, "--ca-bundle", sb.ca_path, *extra]


def _add_team_option(sb: Sandbox, name: str) -> None:
    """A person adds an option to the briefings' Team select (it matches no team elsewhere)."""
    team = data_source_schema(sb, "briefings")["Team"]["select"]["options"]
    update_data_source(
        sb, "briefings", {"Team": {"select": {"options": [*({"id": o["id"]} for o in team), {"name": name}]}}}
    )


def test_init_prints_a_hostile_name_from_the_tools_inert(tmp_path: Path):
    """A Notion Team option no other tool has is listed as "matched no team": without its escape
    sequences, bell or direction override."""
    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        _add_team_option(sb, "Ops\x1b]8;;https://evil.example\x07 [/]\x1b[31mred\u202eX")
        out = tmp_path / "relais.yaml"
        result = run_relais(_init_args(sb, out, "--yes"), relais_env(sb))
    assert result.returncode == 0, result.stdout + result.stderr
    for bad in ("\x1b", "\x07", "\u202e"):
        assert bad not in result.stdout
    assert "Notion: matched no team: Ops]8;;https://evil.example [/][31mredX" in result.stdout


def test_init_on_a_terminal_asks_about_a_database_whose_title_looks_like_markup(tmp_path: Path):
    """Through a pseudo-terminal, every proposal accepted with Enter: a title holding Rich markup
    (`[/]` closes nothing) is shown as it is, and the prompts do not fail on it."""
    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        _rename(sb, "feedback", "Customer [/]feedback [bold]")
        out = tmp_path / "relais.yaml"
        code, transcript = run_on_a_terminal(_init_args(sb, out), relais_env(sb), b"\n" * 40)
    assert code == 0, transcript[-2000:]
    assert "'Customer [/]feedback [bold]'" in transcript
    assert "Traceback" not in transcript and "MarkupError" not in transcript


# -- Jira: a field created meanwhile is not created twice ------------------------------------------
def test_a_jira_field_an_admin_creates_after_the_survey_is_not_created_twice(tmp_path: Path):
    """'Health' is missing when the survey lists the fields (its answer held back 3 s); a Jira
    admin creates it meanwhile (two operators running `check --fix` at once do the same): the
    fix finds it and creates no second 'Health' — Jira allows two fields of one name, and relais
    could then write neither."""
    from sandbox.testing import jira_client

    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        config = full_config(sb, tmp_path)
        fixing = check_fix_held_at(sb, config, "jira", "/rest/api/3/field$")
        admin = jira_client(sb)
        try:
            admin._session.post(
                admin._get_url("field"),
                data=json.dumps(
                    {
                        "name": "Health",
                        "type": "com.atlassian.jira.plugin.system.customfieldtypes:select",
                        "searcherKey": "com.atlassian.jira.plugin.system.customfieldtypes:multiselectsearcher",
                    }
                ),
            )
        finally:
            admin.close()
        out, err = fixing.communicate(timeout=120)
        health = [f["id"] for f in sb.jira.catalogue.fields if f["name"] == "Health"]
        again = run_relais(["check", "-c", str(config)], relais_env(sb))
    assert len(health) == 1, (health, out)
    assert fixing.returncode == 0, out + err
    assert again.returncode == 0, again.stdout


# -- progress: the count is an estimate, never a reason to stop ------------------------------------
def test_a_count_the_tool_refuses_does_not_fail_the_sync(tmp_path: Path):
    """Jira refuses the approximate count (403: a proxy or a scope that blocks that one path):
    the sync reads and writes all the same, without an estimate, and `--json` stays clean."""
    with Sandbox(seed=7, size="demo") as sb:
        config = full_config(sb, tmp_path)
        sb.faults.add("jira", 403, path="/search/approximate-count")
        result = run_relais(["sync", "--once", "--json", "-c", str(config)], relais_env(sb))
        counted = sb.count(vendor="jira", path_prefix="/rest/api/3/search/approximate-count")
        puts = sb.count(vendor="jira", method="PUT")
    assert counted >= 1  # it was asked, and refused
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["pulled"]["jira"] > 0 and puts > 0


# -- plan and sync name every tool's problems at once ----------------------------------------------
def test_plan_and_sync_name_the_problems_of_every_tool_failing_the_check_at_once(tmp_path: Path):
    """The workspace before relais lacks things in Jira and in Notion: one run of `plan` (and of
    `sync`) names both tools' problems — not Jira's, then Notion's on the next run — and writes
    nothing."""
    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        config = full_config(sb, tmp_path)
        env = relais_env(sb)
        runs = [run_relais([*command, "-c", str(config)], env) for command in (["plan"], ["sync", "--once"])]
        writes = sb.count(vendor="jira", method="PUT") + sb.count(vendor="notion", method="PATCH")
    assert writes == 0
    for result in runs:
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert "jira: the tool lacks 5 thing(s) the config needs" in result.stderr, result.stderr
        assert "notion: the tool lacks 12 thing(s) the config needs" in result.stderr, result.stderr
        assert (
            "writeback.notion.status.progress: the briefings database has no property 'Progress'"
            in result.stderr
        )
