"""The `daemon:` section: defaults that keep today's configs valid, errors with lines, webhook secrets."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sync.settings import ConfigError, SecretError, load_settings, resolve_secrets

BASE = """\
version: 1
timezone: UTC
sources:
  jira: {url: 'https://acme.atlassian.net', jql: 'project in (PAY)'}
  pagerduty: {services: [PSVC001], from_email: bot@acme.com}
classify:
  - default: BUILD
"""
# Line 8 is the first line after BASE.
ENV = {
    "JIRA_EMAIL": "bot@acme.com",
    "JIRA_API_TOKEN": "jira-token-0123456789",
    "PAGERDUTY_TOKEN": "pd-token-0123456789",
}


def _load(tmp_path: Path, extra: str = ""):
    path = tmp_path / "relais.yaml"
    path.write_text(BASE + textwrap.dedent(extra))
    return load_settings(path)


def _problems(tmp_path: Path, extra: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, extra)
    return [str(p) for p in e.value.problems]


def test_a_config_without_the_section_runs_with_the_defaults(tmp_path: Path):
    daemon = _load(tmp_path).daemon
    assert (daemon.intervals.jira, daemon.intervals.notion, daemon.intervals.pagerduty) == (60, 120, 60)
    assert daemon.http.listen == "127.0.0.1:8765" and daemon.http.status_page and daemon.http.enabled
    assert daemon.webhooks.enabled() == {} and daemon.reconcile_every == 21_600


def test_an_empty_webhook_entry_turns_it_on_at_its_default_path(tmp_path: Path):
    daemon = _load(tmp_path, "daemon:\n  webhooks:\n    pagerduty:\n    jira: {path: /hooks/jira}\n").daemon
    assert daemon.webhooks.enabled() == {"pagerduty": "/webhooks/pagerduty", "jira": "/hooks/jira"}


def test_a_misspelt_key_is_reported_with_its_line_and_the_closest_name(tmp_path: Path):
    problems = _problems(tmp_path, "daemon:\n  intervals: {jira: 30, pagerdutty: 30}\n")
    assert problems == [
        f"{tmp_path / 'relais.yaml'}:9: daemon.intervals.pagerdutty: unknown key 'pagerdutty' "
        f"(did you mean 'pagerduty'?)"
    ]


@pytest.mark.parametrize(
    ("listen", "message"),
    [
        ("8765", "expected host:port"),
        ("0.0.0.0:99999", "port 99999 is out of range"),
        ("[::zz]:8765", "expected host:port"),
    ],
)
def test_a_bad_listen_address_says_what_is_expected(tmp_path: Path, listen: str, message: str):
    problems = _problems(tmp_path, f"daemon:\n  http: {{listen: '{listen}'}}\n")
    assert len(problems) == 1 and ":9: daemon.http.listen:" in problems[0] and message in problems[0]


def test_webhook_paths_must_be_distinct_and_not_relais_own(tmp_path: Path):
    problems = _problems(tmp_path, "daemon:\n  webhooks:\n    jira: {path: /metrics}\n")
    assert "/metrics is one of relais' own endpoints" in problems[0]
    problems = _problems(
        tmp_path, "daemon:\n  webhooks:\n    jira: {path: /hook}\n    pagerduty: {path: /hook}\n"
    )
    assert "pagerduty and jira both use the path /hook" in problems[0] or "jira and pagerduty" in problems[0]


def test_a_webhook_needs_its_source(tmp_path: Path):
    problems = _problems(tmp_path, "daemon:\n  webhooks:\n    notion:\n")
    assert problems == [
        f"{tmp_path / 'relais.yaml'}:10: daemon.webhooks.notion: the notion webhook needs "
        f"sources.notion: its events are re-read through it"
    ]


def test_a_webhook_secret_pasted_in_the_file_names_its_variable(tmp_path: Path):
    problems = _problems(
        tmp_path, "daemon:\n  webhooks:\n    jira: {path: /hooks/jira, secret: hunter2hunter2}\n"
    )
    assert len(problems) == 1
    assert problems[0].endswith(
        "daemon.webhooks.jira.secret: secrets must not be written in the config file; "
        "set JIRA_WEBHOOK_SECRET (or JIRA_WEBHOOK_SECRET_FILE) in the environment"
    )
    assert "hunter2" not in problems[0]


def test_webhook_secrets_come_from_the_environment_when_their_webhook_is_on(tmp_path: Path):
    settings = _load(tmp_path, "daemon:\n  webhooks: {pagerduty: {}, jira: {}}\n")
    with pytest.raises(SecretError) as e:
        resolve_secrets(settings, environ=ENV)
    assert e.value.problems == [
        "daemon.webhooks.pagerduty: no signing secret: set PAGERDUTY_WEBHOOK_SECRET or PAGERDUTY_WEBHOOK_SECRET_FILE",
        "daemon.webhooks.jira: no webhook secret: set JIRA_WEBHOOK_SECRET or JIRA_WEBHOOK_SECRET_FILE",
    ]
    secret_file = tmp_path / "jira-webhook"
    secret_file.write_text("jira-hook-secret-42\n")
    secrets = resolve_secrets(
        settings,
        environ={
            **ENV,
            "PAGERDUTY_WEBHOOK_SECRET": " new-secret-0001 , old-secret-0002",
            "JIRA_WEBHOOK_SECRET_FILE": str(secret_file),
        },
    )
    assert secrets.pagerduty_webhook_secret == "new-secret-0001,old-secret-0002"  # a rotation's list
    assert secrets.jira_webhook_secret == "jira-hook-secret-42"
    assert "secret-0001" not in repr(secrets) and "hook-secret" not in repr(secrets)
    # Without webhooks, none is asked for.
    assert resolve_secrets(_load(tmp_path), environ=ENV).jira_webhook_secret is None


def test_the_example_s_commented_daemon_section_is_valid_and_shows_the_defaults(tmp_path: Path):
    example = (Path(__file__).resolve().parents[1] / "config" / "relais.example.yaml").read_text()
    block = example[example.index("# daemon:") :]
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") else line.lstrip("#") for line in block.splitlines()
    )
    assert _load(tmp_path, uncommented + "\n").daemon == _load(tmp_path).daemon
