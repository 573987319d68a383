"""Every file in tests/configs/broken/ is refused with exactly the problems its .expected lists.

A broken config is the example with one or two realistic mistakes; its
``<name>.expected`` holds one ``<line>: <path>: <message substring>`` per
problem. Adding a case is adding those two files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sync.settings import ConfigError, load_settings

BROKEN = Path(__file__).parent / "configs" / "broken"
CASES = sorted(BROKEN.glob("*.yaml"))


def _expected(config: Path) -> list[tuple[int, str, str]]:
    entries = []
    for raw in config.with_suffix(".expected").read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            line, path, substring = raw.split(": ", 2)
            entries.append((int(line), path, substring))
    return entries


def test_there_are_enough_broken_configs_and_each_has_its_expectations():
    assert len(CASES) >= 18
    for config in CASES:
        assert _expected(config), f"{config.name} needs a non-empty {config.stem}.expected"


@pytest.mark.parametrize("config", CASES, ids=[c.stem for c in CASES])
def test_broken_config_is_refused_with_every_expected_problem_at_its_line(config: Path):
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    problems = caught.value.problems
    expected = _expected(config)

    for line, path, substring in expected:
        matching = [p for p in problems if p.line == line and p.path == path and substring in p.message]
        assert matching, f"no problem '{line}: {path}: …{substring}…' in:\n{caught.value}"
    assert len(problems) == len(expected), f"unexpected extra problems:\n{caught.value}"

    shape = re.compile(rf"^{re.escape(str(config))}:\d+: \S+: .+")
    for problem in problems:
        assert shape.match(str(problem)), str(problem)
    assert str(caught.value).splitlines() == [str(p) for p in problems]
    assert "ATATT" not in str(caught.value)  # a pasted token is never repeated back
