"""`relais validate` on every broken config kept in tests/configs/broken:
exit 2, every problem as file:line: path: message, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT, relais_env, run_relais

from sync.cli import main

BROKEN = sorted((ROOT / "tests" / "configs" / "broken").glob("*.yaml"))
EXAMPLE = ROOT / "config" / "relais.example.yaml"
SECRETS = {
    "JIRA_EMAIL": "ops@example.com",
    "JIRA_API_TOKEN": "t-0123456789",
    "NOTION_TOKEN": "t-0123456789",
    "PAGERDUTY_TOKEN": "t-0123456789",
}
PROBLEM = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<path>\S+): .+")


@pytest.fixture
def env(monkeypatch):
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    return monkeypatch


def test_there_are_at_least_15_broken_configs():
    assert len(BROKEN) >= 15


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_validate_reports_every_problem_with_its_place(path: Path, env, capsys):
    code = main(["validate", "-c", str(path)])
    out = capsys.readouterr()
    assert code == 2, out
    assert "Traceback" not in out.err + out.out
    lines = out.err.strip().splitlines()
    assert lines[-1].startswith("relais: ") and "problem(s)" in lines[-1]
    problems = lines[:-1]
    assert problems, out.err
    for line in problems:
        m = PROBLEM.match(line)
        assert m, f"not file:line: path: message — {line!r}"
        assert Path(m["file"]).name == path.name
    expected = (path.with_suffix(".expected")).read_text().split("\n")
    expected_lines = {int(e.split(":", 1)[0]) for e in expected if re.match(r"^\d+:", e)}
    assert expected_lines <= {int(PROBLEM.match(p)["line"]) for p in problems}


def test_the_example_config_validates(env, capsys):
    assert main(["validate", "-c", str(EXAMPLE)]) == 0
    assert "OK" in capsys.readouterr().out


def test_a_missing_secret_is_a_config_problem_naming_the_variables(env, capsys):
    env.delenv("PAGERDUTY_TOKEN")
    assert main(["validate", "-c", str(EXAMPLE)]) == 2
    err = capsys.readouterr().err
    assert "PAGERDUTY_TOKEN" in err and "PAGERDUTY_TOKEN_FILE" in err


def test_a_missing_file_is_a_config_problem(env, tmp_path, capsys):
    assert main(["validate", "-c", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_validate_as_a_user_runs_it(sandbox):
    broken = ROOT / "tests" / "configs" / "broken" / "several_problems.yaml"
    result = run_relais(["validate", "-c", str(broken)], relais_env(sandbox))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len([l for l in result.stderr.splitlines() if PROBLEM.match(l)]) >= 2
