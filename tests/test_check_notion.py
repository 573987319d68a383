"""`relais check` on the Notion side: every problem at once, each one line saying exactly what to
create or change; `--fix` through a data source update; plan and sync refusing to write into a
database that fails the check; percentages written as fractions into a Percent-formatted number.

The sandbox plays the user's workspace: ``Sandbox(fresh=True)`` is it before relais (some owned
properties and a select option missing, the scorecard's shares formatted Percent); the other
problems are made the way a person would, through the API (a property retyped or reformatted)
or by taking a database away from the integration.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import plan_and_sync, relais_env, run_relais
from reliability_support import full_config

from sandbox import Sandbox
from sandbox.testing import data_source_schema, update_data_source


def _no_jira_writeback(config: dict[str, Any]) -> None:
    """The Notion side alone: Jira's own fields are the Jira check's."""
    config["writeback"].pop("jira", None)


def _check(sb: Sandbox, config: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_relais(["check", "--json", "-c", str(config), *extra], relais_env(sb))
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout)


def _notion(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The Notion problems, by setting."""
    return {p["setting"]: p for p in data["problems"] if p["vendor"] == "notion"}


def _config(sb: Sandbox, tmp_path: Path, tweak: Callable[[dict[str, Any]], None] | None = None) -> Path:
    def both(config: dict[str, Any]) -> None:
        _no_jira_writeback(config)
        if tweak:
            tweak(config)

    return full_config(sb, tmp_path, both)


# -- one test per problem kind, with its exact message -------------------------------------------
def test_every_missing_property_is_listed_at_once_with_its_type_and_options(tmp_path: Path):
    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        code, data = _check(sb, _config(sb, tmp_path))
    problems = _notion(data)
    assert code == 2
    assert problems["writeback.notion.briefings.mode"]["message"] == (
        "the briefings database has no property 'Team mode': create a select property 'Team mode' "
        "with options ok, watch, alert, survival"
    )
    assert problems["writeback.notion.status.progress"]["message"] == (
        "the briefings database has no property 'Progress': create a number property 'Progress' "
        "with number format Percent"
    )
    assert problems["writeback.notion.routing.routed_by"]["message"] == (
        "the feedback database has no property 'Routed by': create a text property 'Routed by'"
    )
    missing = [p for p in problems.values() if "has no property" in p["message"]]
    assert len(missing) == 11 and all(p["fixable"] for p in missing)  # 9 status, Team mode, Routed by


def test_a_property_of_the_wrong_type(tmp_path: Path):
    with Sandbox(seed=7, size="demo") as sb:
        update_data_source(sb, "briefings", {"Team mode": {"rich_text": {}}})
        code, data = _check(sb, _config(sb, tmp_path))
    problem = _notion(data)["writeback.notion.briefings.mode"]
    assert code == 2
    assert problem["message"] == (
        "'Team mode' in the briefings database is a text property; relais writes a select there: "
        "make it a select property 'Team mode' with options ok, watch, alert, survival"
    )
    assert not problem["fixable"]  # retyping would lose what people put there


def test_a_missing_select_option_and_the_team_names(tmp_path: Path):
    with Sandbox(seed=7, size="demo") as sb:
        team_select = data_source_schema(sb, "feedback")["Team"]["select"]["options"]
        payments = next(o["name"] for o in team_select if o["name"].startswith("Pay"))
        kept = [{"id": o["id"]} for o in team_select if o["name"] != payments]
        update_data_source(sb, "feedback", {"Team": {"select": {"options": kept}}})
        code, data = _check(sb, _config(sb, tmp_path))
    problem = _notion(data)["writeback.notion.routing.team"]
    assert code == 2
    assert problem["message"] == (
        f"the select 'Team' in the feedback database lacks the option(s) {payments}: add them"
    )
    assert problem["fixable"]


def test_a_database_not_shared_with_the_integration(tmp_path: Path):
    with Sandbox(seed=7, size="demo") as sb:
        database_id = sb.notion.database_ids["scorecard"]
        sb.notion.unshare(database_id)
        code, data = _check(sb, _config(sb, tmp_path), "--fix")
    problem = _notion(data)["sources.notion.databases.scorecard"]
    assert code == 2
    assert problem["message"] == (
        f"the scorecard database is not shared with the integration: share database {database_id} "
        "with the integration (its ••• menu → Connections)"
    )
    assert not problem["fixable"] and problem["admin"].startswith("Notion: share database")
    assert not data["unreachable"]  # the tool answered: the rest was checked


def test_a_percentage_in_a_currency_format_is_set_to_percent_by_fix(tmp_path: Path):
    with Sandbox(seed=7, size="demo") as sb:
        update_data_source(sb, "scorecard", {"RUN %": {"number": {"format": "dollar"}}})
        config = _config(sb, tmp_path)
        code, data = _check(sb, config)
        fixed_code, fixed = _check(sb, config, "--fix")
        fmt = data_source_schema(sb, "scorecard")["RUN %"]["number"]["format"]
    assert code == 2
    assert _notion(data)["writeback.notion.scorecard.properties.run"]["message"] == (
        "'RUN %' in the scorecard database has number format dollar: set its number format to Percent"
    )
    assert fixed_code == 0 and fmt == "percent"
    assert "set the number format of 'RUN %' in the scorecard database to Percent" in fixed["fixed"]


def test_an_input_relais_only_reads_is_never_created(tmp_path: Path):
    def tweak(config: dict[str, Any]) -> None:
        config["briefings"]["impact"] = "Impakt"

    with Sandbox(seed=7, size="demo") as sb:
        code, data = _check(sb, _config(sb, tmp_path, tweak), "--fix")
        schema = data_source_schema(sb, "briefings")
    problem = _notion(data)["briefings.impact"]
    assert code == 2 and "Impakt" not in schema
    assert problem["message"] == (
        "the briefings database has no property 'Impakt' (did you mean 'Impact'?): create a number "
        "property 'Impakt' (relais reads it; people fill it in)"
    )
    assert not problem["fixable"]


# -- the walkthrough, and what plan and sync do meanwhile ----------------------------------------
def test_check_fix_then_check_is_clean_on_the_workspace_before_relais(tmp_path: Path):
    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        config = _config(sb, tmp_path)
        first, _ = _check(sb, config)
        fixed_code, fixed = _check(sb, config, "--fix")
        last = run_relais(["check", "-c", str(config)], relais_env(sb))
        level = [o["name"] for o in data_source_schema(sb, "scorecard")["Level"]["select"]["options"]]
    assert first == 2
    assert fixed_code == 0 and len(fixed["fixed"]) == 12 and not fixed["failed_fixes"], fixed
    assert last.returncode == 0, last.stdout + last.stderr
    assert "OK" in last.stdout
    assert level == ["ok", "watch", "alert", "survival"]  # the existing options kept, in order


def test_plan_and_sync_refuse_to_write_into_a_workspace_that_fails_the_check(tmp_path: Path):
    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        config = _config(sb, tmp_path)
        plan, sync = plan_and_sync(sb, config)
        writes = sb.count(vendor="notion", method="PATCH", path_prefix="/v1/pages") + sb.count(
            vendor="notion", method="POST", path_prefix="/v1/pages"
        )
    assert plan.returncode != 0 and sync.returncode != 0
    assert writes == 0
    assert "the briefings database has no property 'Team mode'" in sync.stderr, sync.stderr
    assert "relais check --fix" in sync.stderr


def test_percentages_land_as_fractions_in_a_percent_formatted_number(tmp_path: Path):
    with Sandbox(seed=7, size="demo", fresh=True) as sb:  # its scorecard shares are Percent
        config = _config(sb, tmp_path)
        env = relais_env(sb)
        assert _check(sb, config, "--fix")[0] == 0
        plan = json.loads(run_relais(["plan", "--json", "-c", str(config)], env).stdout)
        assert run_relais(["sync", "--once", "-c", str(config)], env).returncode == 0
        again = json.loads(run_relais(["plan", "--json", "-c", str(config)], env).stdout)
        rows = [sb.notion.get_page(i) for i in sb.notion.page_ids("scorecard")]
        progress = [
            sb.notion.get_page(i)["properties"]["Progress"]["number"] for i in sb.notion.page_ids("briefings")
        ]
    planned = {
        (c["new"]["key"], c["new"]["run"])
        for c in plan["creates"]
        if c["field"] == "*" and c["new"].get("run") is not None
    }
    written = {
        (
            "".join(t["plain_text"] for t in r["properties"]["Key"]["rich_text"]),
            r["properties"]["RUN %"]["number"],
        )
        for r in rows
    }
    assert planned and {(k, round(v / 100, 6)) for k, v in planned} <= written
    assert any(0 < share < 1 for _, share in written)  # 49.4 points land as 0.494
    assert [p for p in progress if p is not None] and all(0 <= p <= 1 for p in progress if p is not None)
    # read back as points: nothing to write again
    assert not [c for c in again["changes"] if c["field"] in ("run", "build", "improve", "progress")]
