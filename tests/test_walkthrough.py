"""The README's "Pointing relais at your tools", followed literally against the sandbox.

The sandbox plays the user's tools as a company has them before relais
(``Sandbox(fresh=True)``: some owned fields and properties missing). Each
command of the README's walkthrough block runs as written, in a scratch folder,
with the environment the README tells the user to export; the exit code each
step must give is the ``# exit N`` of its line (0 when none). Nobody edits the
YAML between the steps: its bytes after ``relais init`` are its bytes at the end.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

from sandbox import Sandbox

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"<!-- walkthrough:start -->\s*```sh\n(.*?)```\s*<!-- walkthrough:end -->", re.S)


def walkthrough_steps() -> list[tuple[list[str], int]]:
    """(argv, expected exit code) for each `relais …` line of the README's walkthrough block."""
    match = BLOCK.search(README.read_text(encoding="utf-8"))
    assert match, "README.md has no walkthrough block (<!-- walkthrough:start --> … end)"
    steps = []
    for line in match.group(1).splitlines():
        command, _, comment = line.partition("#")
        if not command.strip().startswith("relais "):
            continue
        expected = re.search(r"exit (\d)", comment)
        steps.append((shlex.split(command), int(expected.group(1)) if expected else 0))
    return steps


def run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    assert argv[0] == "relais"
    return subprocess.run(
        [sys.executable, "-m", "sync.cli", *argv[1:]],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_readme_walkthrough_takes_a_new_company_to_its_first_sync(tmp_path: Path):
    steps = walkthrough_steps()
    names = [" ".join(a[1:2]) + (" --fix" if "--fix" in a else "") for a, _ in steps]
    assert names == ["init", "validate", "check", "check --fix", "check", "plan", "sync"], names
    with Sandbox(seed=7, size="demo", fresh=True) as sb:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "NOTION_", "PAGERDUTY_"))},
            **sb.env,
            **sb.init_env(),  # what `python -m sandbox serve` tells the user to export
        }
        timings, outputs = [], {}
        config_bytes = None
        for argv, expected in steps:
            t0 = time.monotonic()
            result = run(argv, env, tmp_path)
            timings.append((" ".join(argv), time.monotonic() - t0))
            where = f"`{' '.join(argv)}` gave {result.returncode}:\n{result.stdout}\n{result.stderr}"
            assert result.returncode == expected, where
            outputs.setdefault(" ".join(argv), []).append(result)
            if argv[1] == "init":
                config_bytes = (tmp_path / "relais.yaml").read_bytes()
        assert (tmp_path / "relais.yaml").read_bytes() == config_bytes  # no hand edit, no rewrite
    print("\n".join(f"{s:8.2f} s  {c}" for c, s in timings))
    first, last = outputs["relais check -c relais.yaml"]
    problems = [line for line in first.stdout.splitlines() if line.startswith(("jira ", "notion "))]
    # every field and property the fresh tools lack, at once, each saying what to create
    assert len(problems) >= 10, first.stdout
    assert any("no custom field 'Health'" in p and "single-select" in p for p in problems), problems
    assert any("'Team mode'" in p and "select" in p for p in problems), problems
    fixed = outputs["relais check --fix -c relais.yaml"][0].stdout
    assert fixed.count("fixed") >= len(problems) - 1, fixed  # a shared fix can mend two lines
    assert "OK" in last.stdout
    synced = outputs["relais sync --once -c relais.yaml"][0]
    assert "refused" not in synced.stderr, synced.stderr
