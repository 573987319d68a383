"""`relais check` on Jira (and PagerDuty): every problem at once, one exact line each, what
`--fix` mends through the API, the checklist left for an admin, and plan/sync refusing to
write into a Jira that fails the check. Against `Sandbox(fresh=True)`: the site before relais
(no "Health" field, the Team field without the last team's key, "Briefing link" off the
default screen)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import plan_and_sync, relais_env, run_relais
from reliability_support import full_config

from sandbox import Sandbox

TEAM_NOTE = "(Jira's Team options are the team keys of `teams:`; Notion's Team select holds the team names)"
HEALTH = "single-select custom field 'Health' with options On track, At risk, Off track, Blocked"


def check(config: Path, sb: Sandbox, *args: str) -> tuple[int, dict, str]:
    result = run_relais(["check", "--json", "-c", str(config), *args], relais_env(sb))
    assert not result.stderr.strip() or "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def jira_lines(data: dict) -> list[tuple[str, str]]:
    return [(p["setting"], p["message"]) for p in data["problems"] if p["vendor"] == "jira"]


def test_check_lists_every_jira_problem_at_once_and_fix_leaves_the_site_clean(tmp_path: Path):
    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        config = full_config(sb, tmp_path)
        gone = sb.org.teams[-1].slug
        code, before, _ = check(config, sb)
        fix_code, fixed, _ = check(config, sb, "--fix")
        after_code, after, _ = check(config, sb)
        health = [f for f in sb.jira.catalogue.fields if f["name"] == "Health"]
        options = sb.jira.catalogue.options[health[0]["id"]] if health else {}
    assert code == 2
    assert jira_lines(before) == [
        ("writeback.jira.epic.health.field", f"no custom field 'Health': create a {HEALTH}"),
        (
            "writeback.jira.team.field",
            f"'Team' lacks the option(s) {gone}: add the option(s) {gone} to the single-select "
            f"field 'Team' {TEAM_NOTE}",
        ),
        *[
            (
                "writeback.jira.epic.briefing_link.field",
                f"'Briefing link' is not on the edit screen of project {p}: add 'Briefing link' to "
                f"the screen of {p}'s Edit Issue operation",
            )
            for p in ("PAY", "CORE", "SUP")
        ],
    ]
    assert all(p["fixable"] for p in before["problems"] if p["vendor"] == "jira")
    assert fix_code == 0 and fixed["problems"] == [] and not fixed["failed_fixes"]
    assert any(line.startswith("created the single-select custom field 'Health'") for line in fixed["fixed"])
    assert after_code == 0 and after["ok"]
    assert list(options.values()) == ["On track", "At risk", "Off track", "Blocked"]


def test_after_check_fix_plan_and_sync_write_the_new_field_and_option(tmp_path: Path):
    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        config = full_config(sb, tmp_path)
        env = relais_env(sb)
        assert run_relais(["check", "--fix", "-c", str(config)], env).returncode == 0
        plan = run_relais(["plan", "-c", str(config)], env)
        sync = run_relais(["sync", "--once", "--json", "-c", str(config)], env)
        health = next(f["id"] for f in sb.jira.catalogue.fields if f["name"] == "Health")
        epics = [sb.jira.get_record(k).get(health) for k in sb.jira.epic_keys()]
    assert plan.returncode == 0, plan.stderr
    assert sync.returncode == 0, sync.stderr
    assert json.loads(sync.stdout)["failed_writes"] == 0
    assert any(epics), "the epics' Health, in the field check --fix created"


def test_a_field_of_the_wrong_type_is_named_with_its_type(tmp_path: Path):
    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        sb.jira.catalogue.create_field(
            {"name": "Health", "type": "com.atlassian.jira.plugin.system.customfieldtypes:textfield"}
        )
        config = full_config(sb, tmp_path)
        code, data, _ = check(config, sb)
    assert code == 2
    wrong = [p for p in data["problems"] if p["setting"] == "writeback.jira.epic.health.field"]
    assert [p["message"] for p in wrong] == [
        "'Health' is a short text field, not a single-select one: name a single-select field in the "
        f"config, or rename 'Health' in Jira and create a {HEALTH}"
    ]
    assert not wrong[0]["fixable"] and wrong[0]["admin"]


def test_a_project_with_a_screen_of_its_own_is_left_to_an_admin_checklist(tmp_path: Path):
    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        sb.jira.own_screen("CORE")  # addToDefault does not reach it
        config = full_config(sb, tmp_path)
        env = relais_env(sb)
        fixed = run_relais(["check", "--fix", "-c", str(config)], env)
        code, data, _ = check(config, sb, "--fix")  # again: the same steps are left
    assert fixed.returncode == 2 and code == 2
    left = [(p["message"], p["fixable"]) for p in data["problems"]]
    assert left == [
        (
            f"'{name}' is not on the edit screen of project CORE: add '{name}' to the screen of "
            "CORE's Edit Issue operation",
            False,
        )
        for name in ("Briefing link", "Health")
    ]
    text = " ".join(fixed.stdout.split())  # rich wraps at the terminal's width
    assert "For an admin (relais could not do these itself):" in text
    for name in ("Health", "Briefing link"):
        assert f"[ ] add '{name}' to the screen of CORE's Edit Issue operation (customfield_" in text


def test_without_jira_admin_the_fixes_fail_cleanly_and_become_admin_steps(tmp_path: Path):
    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        sb.jira.admin = False
        config = full_config(sb, tmp_path)
        result = run_relais(["check", "--fix", "-c", str(config)], relais_env(sb))
        code, data, _ = check(config, sb, "--fix")
        created = [f for f in sb.jira.catalogue.fields if f["name"] == "Health"]
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    assert code == 2 and not created
    # the field, the Team option, and the screen (once per project lacking it)
    assert len(data["failed_fixes"]) == 5, data["failed_fixes"]
    jira = [p for p in data["problems"] if p["vendor"] == "jira"]
    assert len(jira) == 5 and not any(p["fixable"] for p in jira)
    text = " ".join(result.stdout.split())
    assert "could not fix writeback.jira.epic.health.field:" in text
    assert f"[ ] create a {HEALTH} (relais could not: Jira answered" in text


def test_plan_and_sync_refuse_to_write_into_a_jira_that_fails_the_check(tmp_path: Path):
    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        config = full_config(sb, tmp_path)
        plan, sync = plan_and_sync(sb, config)
        puts = sb.count(vendor="jira", method="PUT")
        posts = [
            r.path for r in sb.log if r.vendor == "jira" and r.method == "POST" and "search" not in r.path
        ]
    for result in (plan, sync):
        assert result.returncode != 0
        assert "no custom field 'Health'" in result.stderr, result.stderr
        assert "'Briefing link' is not on the edit screen of project PAY" in result.stderr
        assert "Traceback" not in result.stderr
    assert puts == 0 and posts == []


def test_check_names_each_missing_pagerduty_service_with_a_near_one(tmp_path: Path):
    with Sandbox(seed=7, size="demo") as sb:
        service = sb.org.services[0]

        def tweak(c: dict) -> None:
            c["sources"]["pagerduty"]["services"] = [service.name, "PNOPE00"]

        config = full_config(sb, tmp_path, tweak)
        code, data, _ = check(config, sb)
    assert code == 2
    assert [(p["setting"], p["message"]) for p in data["problems"] if p["vendor"] == "pagerduty"] == [
        (
            "sources.pagerduty.services",
            f"no service with id {service.name!r} (did you mean {service.id!r}, the service "
            f"{service.name!r}?): name a service id of the account (the last part of the service's "
            "URL, e.g. PABC123)",
        ),
        (
            "sources.pagerduty.services",
            "no service with id 'PNOPE00': name a service id of the account (the last part of the "
            "service's URL, e.g. PABC123)",
        ),
    ]
