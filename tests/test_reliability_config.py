"""Scenario 3 — bad config: property-based mutations of config/relais.example.yaml (hypothesis).

Two kinds of mutation: of the document (a key deleted, renamed with a typo or
replaced, a value replaced by one of another type or an odd one, an unknown key
added, a value wrapped in a list), and of the text (lines deleted, duplicated,
re-indented, swapped, cut, or a stray YAML line inserted). Each mutant goes
through ``relais validate``. The properties: relais never prints a traceback
nor an internal error; it accepts (exit 0) or rejects with exit 2 and at least
one ``file:line`` message. The fast variant is derandomised, so CI runs the same
cases every time; the long one tries 2,000 and more.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import run_relais
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import ROOT, record

from sync.cli import main

EXAMPLE = ROOT / "config" / "relais.example.yaml"
PLACED = re.compile(r"^[^\n:]+:\d+: \S")
SECRETS = {
    "JIRA_EMAIL": "bot@acme.example",
    "JIRA_API_TOKEN": "t" * 24,
    "NOTION_TOKEN": "n" * 24,
    "PAGERDUTY_TOKEN": "p" * 20,
}

ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "~",
        "null",
        "yes",
        "no",
        "on",
        "0x1F",
        "1e999",
        "-.inf",
        ".nan",
        "@",
        "*anchor",
        "&a",
        "!!str",
        "{",
        "[",
        "}",
        "'",
        '"',
        "#",
        "%",
        "|",
        ">",
        "- x",
        "a: b",
        "RUN",
        "run",
        "BUILD ",
        "Ünïcødé 🚀",
        "\u202e",
        "x" * 5000,
        "0",
        "-1",
        "1.5",
        "2024-02-30",
        "Europe/Atlantis",
        "jira",
        "pagerduty",
        "notion",
        "default",
    ]
)
ODD_VALUE = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.floats(allow_nan=True, allow_infinity=True),
        ODD_TEXT,
        st.text(max_size=30),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(ODD_TEXT, st.text(max_size=12)), inner, max_size=4),
    ),
    max_leaves=8,
)


def typo(draw: Any, key: str) -> str:
    if not key:
        return "x"
    i = draw(st.integers(0, len(key) - 1))
    how = draw(st.sampled_from(["drop", "double", "swap", "case", "space"]))
    if how == "drop":
        return key[:i] + key[i + 1 :] or "x"
    if how == "double":
        return key[:i] + key[i] + key[i:]
    if how == "swap" and i < len(key) - 1:
        return key[:i] + key[i + 1] + key[i] + key[i + 2 :]
    if how == "case":
        return key.swapcase()
    return key + " "


@st.composite
def document_mutant(draw: Any) -> str:
    data = yaml.safe_load(EXAMPLE.read_text())
    for _ in range(draw(st.integers(1, 3))):
        parent, key = data, None
        while True:  # walk down to a random node
            children = list(parent.keys()) if isinstance(parent, dict) else list(range(len(parent)))
            if not children:
                break
            key = draw(st.sampled_from(children))
            child = parent[key]
            if not isinstance(child, (dict, list)) or not child or draw(st.booleans()):
                break
            parent = child
        if key is None:
            continue
        op = draw(st.sampled_from(["delete", "replace", "rename", "add", "wrap", "retype"]))
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(ODD_VALUE)
        elif op == "rename" and isinstance(parent, dict):
            parent[typo(draw, str(key))] = parent.pop(key)
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.one_of(ODD_TEXT, st.text(min_size=1, max_size=12)))] = draw(ODD_VALUE)
        elif op == "wrap":
            parent[key] = [parent[key]]
        else:  # the same content as another type: a number as text, a list as a mapping…
            value = parent[key]
            parent[key] = (
                str(value)
                if not isinstance(value, (dict, list))
                else dict(enumerate(value))
                if isinstance(value, list)
                else list(value.values())
            )
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@st.composite
def text_mutant(draw: Any) -> str:
    lines = EXAMPLE.read_text().splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(
            st.sampled_from(["delete", "duplicate", "indent", "dedent", "swap", "insert", "cut", "edit"])
        )
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "indent":
            lines[i] = " " * draw(st.integers(1, 4)) + lines[i]
        elif op == "dedent":
            lines[i] = lines[i][draw(st.integers(1, 4)) :]
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            lines.insert(
                i,
                draw(
                    st.sampled_from(
                        [
                            "- default: BUILD",
                            "  extra: 1",
                            "teams:",
                            "? x",
                            "--- ",
                            "classify: []",
                            "\tindented: tab",
                            "key: [unclosed",
                            "<<: *nothing",
                            "!!binary x",
                            "writeback: ~",
                        ]
                    )
                ),
            )
        elif op == "cut":
            lines = lines[:i]
        else:
            col = draw(st.integers(0, max(0, len(lines[i]))))
            lines[i] = lines[i][:col] + draw(ODD_TEXT) + lines[i][col:]
    return "\n".join(lines) + "\n"


class Tally:
    def __init__(self) -> None:
        self.tried = self.accepted = self.rejected = self.problems = 0
        self.samples: list[tuple[str, int]] = []  # rejected files, to replay through a real process


def validate(tmp: Path, text: str, tally: Tally) -> None:
    path = tmp / f"mutant-{tally.tried}.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", "-c", str(path)])
    stdout, stderr = out.getvalue(), err.getvalue()
    tally.tried += 1
    assert "Traceback" not in stdout + stderr and "internal error" not in stdout + stderr, stderr
    assert code in (0, 2), f"exit {code}: {stderr}"
    if code == 2:
        placed = [line for line in stderr.splitlines() if PLACED.match(line)]
        assert placed, f"no file:line message in: {stderr}"
        tally.rejected += 1
        tally.problems += len(placed)
        if len(tally.samples) < 12:
            tally.samples.append((str(path), code))
    else:
        tally.accepted += 1
        path.unlink()


def run_mutants(tmp_path: Path, examples: int, variant: str) -> None:
    tally = Tally()
    common = {
        "max_examples": examples,
        "derandomize": True,
        "database": None,
        "deadline": None,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    }
    old = {k: os.environ.get(k) for k in SECRETS}
    os.environ.update(SECRETS)
    try:
        given(document_mutant())(settings(**common)(lambda text: validate(tmp_path, text, tally)))()
        given(text_mutant())(settings(**common)(lambda text: validate(tmp_path, text, tally)))()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    # The same answers through a real process: exit code, no traceback, placed messages.
    env = {**relais_env_without_sandbox(), **SECRETS}
    for path, code in tally.samples:
        done = run_relais(["validate", "-c", path], env)
        assert done.returncode == code and "Traceback" not in done.stderr
        assert any(PLACED.match(line) for line in done.stderr.splitlines())
    assert tally.rejected > tally.tried / 4, "the mutations must really break configs"
    record(
        "config",
        variant,
        configs_tried=tally.tried,
        accepted=tally.accepted,
        rejected=tally.rejected,
        problems_reported=tally.problems,
        tracebacks=0,
        replayed_in_a_process=len(tally.samples),
    )


def relais_env_without_sandbox() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "NOTION_", "PAGERDUTY_"))}


def test_mutated_example_configs_are_accepted_or_rejected_with_placed_messages(tmp_path):
    run_mutants(tmp_path, 100, "fast")  # 100 of each kind


@pytest.mark.slow
def test_thousands_of_mutated_example_configs(tmp_path):
    run_mutants(tmp_path, 1100, "long")  # 1,100 of each kind
