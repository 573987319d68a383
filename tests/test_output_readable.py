"""Output people read: every table at 80 columns and on a wide terminal, people and issues by name,
the plan's summary by field and by rule, and the README's screenshots.

Each command runs through the real CLI against the sandbox, with ``COLUMNS`` set as a terminal
of that width sets it.
"""

from __future__ import annotations

import json
import re
import tempfile
import xml.etree.ElementTree as ET
from io import StringIO
from pathlib import Path

import pytest
import yaml
from conftest import relais_env, run_relais, write_config
from rich.console import Console

from sync.report import week_labels

TABLES = ("plan", "sync --once", "report", "report --routing")  # in this order: sync after plan
EXPLAIN = ("explain jira:PAY-12", "explain jira:FB-8")


def run(args: str, config: Path, env: dict[str, str], width: int) -> str:
    result = run_relais([*args.split(), "-c", str(config)], {**env, "COLUMNS": str(width)})
    assert result.returncode == 0, f"relais {args}: {result.stderr}"
    return result.stdout


def assert_reads_at(out: str, width: int, what: str) -> None:
    """No line wider than the terminal; no cell cut to '…' (only relais' own "… and N more")."""
    for line in out.splitlines():
        assert len(line) <= width, f"{what} at {width} columns: a line of {len(line)}: {line!r}"
        assert "…" not in line or line.lstrip().startswith("… and "), f"{what}: an elided cell: {line!r}"


@pytest.fixture
def relais(sandbox, tmp_path):
    config = write_config(sandbox, tmp_path, balance=True, routing=True, briefings=True)
    return config, relais_env(sandbox)


def test_every_table_reads_at_80_columns_and_uses_a_wide_terminal(relais):
    config, env = relais
    widest = {}
    for args in (*TABLES, *EXPLAIN):
        for width in (80, 160):
            out = run(args, config, env, width)
            assert_reads_at(out, width, f"relais {args}")
            rows = [line for line in out.splitlines() if line[:1] in "┏┃│┡└"]  # the tables' lines
            widest[args, width] = max(map(len, rows), default=0)
        if args == "report":
            assert re.search(r"│ W\d\d ", out), out  # compact week labels, whole
    for args in ("plan", "report"):  # a table with the content for it spreads out
        assert widest[args, 160] > 80, args


@pytest.mark.parametrize("width", [80, 160])
def test_the_demo_reads_at_80_columns_and_uses_a_wide_terminal(width):
    result = run_relais(["demo"], {**relais_env_without_vendors(), "COLUMNS": str(width)}, timeout=300)
    assert result.returncode == 0, result.stderr
    assert_reads_at(result.stdout, width, "relais demo")
    rows = [line for line in result.stdout.splitlines() if line[:1] in "┏┃│┡└"]  # the tables' lines
    assert (max(map(len, rows)) > 80) == (width > 80)
    # the demo's figures are those of before
    assert "writes applied: 227, created: 18 (12 rows, 3 tickets, 3 notes), kept: 14" in " ".join(
        result.stdout.split()
    )


def relais_env_without_vendors() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "NOTION_", "PAGERDUTY_"))}


def test_people_and_issues_are_shown_by_name_and_json_keeps_the_ids(relais):
    config, env = relais
    people = yaml.safe_load(config.read_text())["people"]
    ids = {user_id: key for key, p in people.items() for user_id in (p["jira"], p["notion"])}
    plan = json.loads(run("plan --json", config, env, 80))
    shown = [run(args, config, env, 80) for args in ("plan", "sync --once", "report", "report --routing")]
    shown += [run(args, config, env, 80) for args in EXPLAIN]
    text = "\n".join(shown)
    for user_id in ids:
        assert user_id not in text, f"a user id is shown: {user_id}"
    assert not re.search(r"jira:\d+", text)  # issues by key, not by id
    assert "kept: jira:FB-8 pm = 'bruno'" in " ".join(text.split())  # the PM a person set, by name
    # JSON: the id as before, the person's key beside it
    pm = [c for c in plan["changes"] if c["field"] == "pm"]
    assert pm and all(ids[c["new"]] == c["new_name"] for c in pm)
    kept = [k for k in plan["kept"] if k["field"] == "pm"]
    assert kept and all(ids[k["value"]] == k["value_name"] for k in kept)
    routing = json.loads(run("report --routing --format json", config, env, 80))["routing"]
    for o in routing["overrides"]:
        assert o["key"] and o["item"] != f"{o['item'].partition(':')[0]}:{o['key']}"


def test_plan_sums_its_writes_by_field_and_by_rule_before_the_rows(relais):
    config, env = relais
    plan = json.loads(run("plan --json", config, env, 80))
    summary, changes = plan["summary"], plan["changes"]
    assert {"writes", "creates", "held", "kept", "conflicts"} <= summary.keys()  # as before
    by_field = {}
    for c in changes:
        name = f"{c['target'].partition(':')[0]}.{c['field']}"
        by_field[name] = by_field.get(name, 0) + 1
    assert summary["by_field"] == by_field
    assert sum(summary["by_rule"].values()) == len(changes) == summary["writes"]
    for rule, n in summary["by_rule"].items():  # a rule's own detail (a week, a briefing) is not a rule
        assert n == sum(c["rule"] == rule or c["rule"].startswith(f"{rule} (") for c in changes), rule
    assert len(summary["by_rule"]) < len({c["rule"] for c in changes})
    out = run("plan", config, env, 80)
    assert out.index("writes by field") < out.index("writes by rule") < out.index("planned write(s)")
    assert "warning:" in out and "matches no stored item" in " ".join(out.split())  # still shown


def test_week_labels_carry_the_year_only_where_two_years_meet():
    weeks = [{"week": w} for w in ("2026-W52", "2026-W53", "2027-W01", "2027-W02")]
    assert week_labels(weeks) == (["W52", "W53", "2027-W01", "W02"], "2026–2027")
    assert week_labels(weeks[2:]) == (["W01", "W02"], "2027")


def test_the_screenshots_are_three_80_column_svgs_of_the_demo(tmp_path):
    result = run_relais(["demo", "--screenshots", str(tmp_path / "img")], relais_env_without_vendors())
    assert result.returncode == 0, result.stderr
    reference = Console(record=True, width=80, file=StringIO())
    reference.print("relais")
    width_80 = ET.fromstring(reference.export_svg()).get("viewBox").split()[2]
    texts = {}
    for name in ("demo.svg", "plan.svg", "report.svg"):
        svg = ET.parse(tmp_path / "img" / name).getroot()
        assert svg.get("viewBox").split()[2] == width_80, name
        texts[name] = "".join(svg.itertext()).replace("\xa0", " ")
    assert re.search(r"\bW\d\d\b", texts["report.svg"])
    assert "Feedback routed, per PM" in texts["demo.svg"] and "bruno" in texts["demo.svg"]
    assert "writes by field" in texts["plan.svg"] and "writes by rule" in texts["plan.svg"]
    assert tempfile.gettempdir() not in "".join(texts.values())  # no machine path in the README
