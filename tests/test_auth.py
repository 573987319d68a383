"""A missing or wrong token: one clear line naming the tool and the variable, exit 1,
nothing in the state store changed, and the secret itself never printed."""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import relais_env, run_relais

WRONG = "wrong-token-value-9c1d"


def digest(path: Path) -> str:
    # The WAL is checkpointed on close; compare the database and its WAL, if any.
    parts = [p for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
    return hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()


def test_missing_token_names_the_variables_and_exits_1(sandbox, config: Path):
    result = run_relais(["sync", "--once", "-c", str(config)], relais_env(sandbox, NOTION_TOKEN=None))
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "notion" in lines[0] and "NOTION_TOKEN" in lines[0] and "NOTION_TOKEN_FILE" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (config.parent / "relais.db").exists()


def test_wrong_token_names_tool_and_variable_shows_last_4_only(sandbox, config: Path):
    ok = run_relais(["sync", "--once", "-c", str(config)], relais_env(sandbox))
    assert ok.returncode == 0, ok.stderr
    db = config.parent / "relais.db"
    before = digest(db)

    result = run_relais(["sync", "--once", "-c", str(config)], relais_env(sandbox, JIRA_API_TOKEN=WRONG))
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("relais: jira")
    assert "JIRA_API_TOKEN" in lines[0] and "****9c1d" in lines[0]
    assert WRONG not in result.stderr and WRONG[:-4] not in result.stderr
    assert digest(db) == before


def test_wrong_token_file_variant_is_read_and_refused(sandbox, config: Path, tmp_path: Path):
    secret = tmp_path / "pd-token"
    secret.write_text(WRONG + "\n")
    env = relais_env(sandbox, PAGERDUTY_TOKEN=None, PAGERDUTY_TOKEN_FILE=str(secret))
    result = run_relais(["sync", "--once", "-c", str(config)], env)
    assert result.returncode == 1
    assert "pagerduty" in result.stderr and "PAGERDUTY_TOKEN" in result.stderr
    assert WRONG not in result.stderr
