"""What relais prints is what it does: plan, sync, report and explain tell the same story.

Found from outside: with every tool unreachable, `plan --json` printed a plausible plan
from an empty store (new scorecard rows of zeros) and nothing on stderr; `sync` said
`created: 0` after filing 3 tickets; `plan` did not list the follow-ups it would
create; `report` and `explain` assembled the plan's inputs their own way.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import relais_env, run_relais
from reliability_support import full_config

from sandbox import Sandbox


def test_plan_json_with_every_tool_unreachable_says_so_and_plans_nothing(tmp_path: Path):
    with Sandbox(seed=7, size="demo") as sb:
        config = full_config(sb, tmp_path)
        for vendor in ("jira", "notion", "pagerduty"):
            sb.faults.add(vendor, 503, retry_after=0)
        result = run_relais(["plan", "--json", "-c", str(config)], relais_env(sb))
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert set(data["errors"]) == {"jira", "notion", "pagerduty"}
    assert data["changes"] == [] and data["creates"] == []
    # the rows an empty store would imply are held, with the reason, not planned
    assert data["held"] and all("is failing" in h["reason"] for h in data["held"])
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["jira", "notion", "pagerduty"], lines


def test_plan_lists_every_create_and_sync_counts_them_all(tmp_path: Path):
    with Sandbox(seed=7, size="demo") as sb:
        config = full_config(sb, tmp_path)
        env = relais_env(sb)
        plan = json.loads(run_relais(["plan", "--json", "-c", str(config)], env).stdout)
        text = run_relais(["plan", "-c", str(config)], env).stdout
        sync = json.loads(run_relais(["sync", "--once", "--json", "-c", str(config)], env).stdout)
        tickets = [
            key
            for key in sb.jira
            if any(lb.startswith("relais-followup-") for lb in sb.jira.get_issue(key)["fields"]["labels"])
        ]
    kinds = [c["field"] for c in plan["creates"]]
    assert kinds.count("Task (ticket)") == 3 and kinds.count("note") == 3 and kinds.count("*") == 12
    assert plan["summary"]["creates"] == 18 and "to create: 18" in text
    assert sync["created"] == 18 == sync["rows_created"] + sync["followups_created"] + sync["notes_created"]
    assert sync["followups_created"] == len(tickets) == 3 and sync["notes_created"] == 3
    assert len(sync["creates"]) == 18


def test_report_explain_and_sync_show_what_sync_writes(tmp_path: Path):
    with Sandbox(seed=7, size="demo") as sb:
        config = full_config(sb, tmp_path)
        env = relais_env(sb)
        assert run_relais(["sync", "--once", "-c", str(config)], env).returncode == 0
        # people work, and PagerDuty starts failing: some writes land, some are held
        sb.jira.edit_issue("CORE-2", {"labels": ["tech-debt"]})
        sb.jira.edit_issue("PAY-5", {"customfield_10050": None})
        sb.faults.add("pagerduty", 503, retry_after=0)
        plan = json.loads(run_relais(["plan", "--json", "-c", str(config)], env).stdout)
        report = json.loads(run_relais(["report", "--format", "json", "-c", str(config)], env).stdout)
        explained = json.loads(
            run_relais(["explain", "jira:CORE-2", "--json", "-c", str(config)], env).stdout
        )
        sync = json.loads(run_relais(["sync", "--once", "--json", "-c", str(config)], env).stdout)

    def writes(entries: list[dict]) -> set:
        return {(e["item"], e["field"], json.dumps(e["new"])) for e in entries}

    assert plan["changes"] and plan["held"] and plan["errors"].keys() == {"pagerduty"}
    assert writes(sync["changes"]) == writes(plan["changes"])
    assert sync["writes"] == len(sync["changes"]) and sync["held"] == plan["held"]
    assert report["pending_writes"] == len(plan["changes"]) and report["held"] == plan["held"]
    core2 = [c for c in plan["changes"] if c["target"] == "jira:CORE-2"]
    assert core2 and writes(explained["pending_changes"]) == writes(core2)


def test_sync_exits_1_and_names_each_write_a_tool_refused(tmp_path: Path):
    """A write the tool refuses (a 4xx: a select option missing, a property of another type) is
    not retried until something changes; `sync --once` used to exit 0 all the same."""
    with Sandbox(seed=7, size="demo") as sb:
        config = full_config(sb, tmp_path)
        sb.faults.add("notion", 400, method="PATCH", count=2)  # Notion's validation_error, twice
        result = run_relais(["sync", "--once", "-c", str(config)], relais_env(sb))
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("relais: ") and "refused by the tools" in lines[0], lines
    refused = [line.strip() for line in lines[1:]]
    assert len(refused) == 2 and all(r.startswith("notion:") and "write refused" in r for r in refused), lines


def test_a_missing_property_is_never_mistaken_for_the_property_of_another_figure(tmp_path: Path):
    """Found from outside: a scorecard configured with `run: RUN share` on a database without
    it was told "did you mean 'RUN hours'?" — the property relais writes the RUN hours to."""
    with Sandbox(seed=7, size="demo") as sb:
        config = full_config(
            sb,
            tmp_path,
            lambda c: c["writeback"]["notion"]["scorecard"].update(properties={"run": "RUN share"}),
        )
        result = run_relais(["plan", "-c", str(config)], relais_env(sb))
    assert result.returncode == 1
    assert "the scorecard database has no property 'RUN share'" in result.stderr, result.stderr
    assert "RUN hours" not in result.stderr


def test_a_missing_jira_field_is_never_mistaken_for_a_field_relais_writes_something_else_to(tmp_path: Path):
    with Sandbox(seed=7, size="demo") as sb:
        config = full_config(sb, tmp_path, lambda c: c["writeback"]["jira"]["team"].update(field="Healt"))
        result = run_relais(["plan", "-c", str(config)], relais_env(sb))
    assert result.returncode == 1
    assert "no custom field 'Healt'" in result.stderr, result.stderr
    assert "'Health'" not in result.stderr  # the epics' Health field: relais writes the health there


def test_plan_warns_of_a_rule_that_matches_nothing_and_of_one_an_earlier_rule_shadows(tmp_path: Path):
    def tweak(config: dict) -> None:
        rules = config["classify"]
        first = rules[0]  # decides some items already
        rules.insert(-1, {"name": "typo", "when": {"labels": {"any": ["tech-dept"]}}, "then": "IMPROVE"})
        rules.insert(-1, {"name": "again", "when": first["when"], "then": "BUILD"})

    with Sandbox(seed=7, size="demo") as sb:
        shipped = full_config(sb, tmp_path / "a")
        run_relais(["sync", "--once", "-c", str(shipped)], relais_env(sb))  # the follow-up tickets exist
        plain = json.loads(run_relais(["plan", "--json", "-c", str(shipped)], relais_env(sb)).stdout)
        config = full_config(sb, tmp_path / "b", tweak)
        result = run_relais(["plan", "--json", "-c", str(config)], relais_env(sb))
        human = run_relais(["plan", "-c", str(config)], relais_env(sb))
    assert plain["warnings"] == []  # the shipped rules all decide something
    warnings = {w["rule"]: w for w in json.loads(result.stdout)["warnings"]}
    assert set(warnings) == {"typo", "again"}
    assert warnings["typo"]["problem"] == "matches nothing" and "a typo?" in warnings["typo"]["message"]
    first = json.loads(result.stdout)  # the shadowing rule is named
    assert warnings["again"]["problem"] == "shadowed" and warnings["again"]["by"] != "again", first[
        "warnings"
    ]
    assert "relais.yaml:" in warnings["typo"]["message"]  # where to look
    assert human.stdout.count("warning:") == 2, human.stdout
