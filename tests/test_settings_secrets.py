"""resolve_secrets: environment or *_FILE, only for enabled sources, never shown."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sync.settings import SecretError, Secrets, load_settings, resolve_secrets

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "relais.example.yaml"

# Built at test time so that no token-shaped literal sits in the repository.
JIRA_TOKEN = "ATATT" + "3xFfGF0" * 6 + "wxyz"
NOTION_TOKEN = "ntn_" + "5" * 40 + "n0tn"
PAGERDUTY_TOKEN = "u+" + "Pd" * 9 + "pd42"

FULL_ENV = {
    "JIRA_EMAIL": "relais-bot@acme.com",
    "JIRA_API_TOKEN": JIRA_TOKEN,
    "NOTION_TOKEN": NOTION_TOKEN,
    "PAGERDUTY_TOKEN": PAGERDUTY_TOKEN,
}


@pytest.fixture(scope="module")
def settings():
    return load_settings(EXAMPLE)


def test_secrets_come_from_the_environment(settings):
    secrets = resolve_secrets(settings, FULL_ENV)
    assert secrets == Secrets(
        jira_email="relais-bot@acme.com",
        jira_api_token=JIRA_TOKEN,
        notion_token=NOTION_TOKEN,
        pagerduty_token=PAGERDUTY_TOKEN,
    )


def test_every_missing_secret_is_listed_with_both_variables(settings):
    with pytest.raises(SecretError) as caught:
        resolve_secrets(settings, {})
    assert str(caught.value).splitlines() == [
        "jira: no account email: set JIRA_EMAIL or JIRA_EMAIL_FILE",
        "jira: no API token: set JIRA_API_TOKEN or JIRA_API_TOKEN_FILE",
        "notion: no integration token: set NOTION_TOKEN or NOTION_TOKEN_FILE",
        "pagerduty: no API token: set PAGERDUTY_TOKEN or PAGERDUTY_TOKEN_FILE",
    ]


def test_only_enabled_sources_need_secrets(tmp_path):
    path = tmp_path / "relais.yaml"
    path.write_text(
        textwrap.dedent("""\
            version: 1
            timezone: UTC
            sources:
              pagerduty: {services: [PSVC123], from_email: bot@acme.com}
            classify:
              - default: RUN
            """),
        encoding="utf-8",
    )
    secrets = resolve_secrets(load_settings(path), {"PAGERDUTY_TOKEN": PAGERDUTY_TOKEN})
    assert secrets == Secrets(pagerduty_token=PAGERDUTY_TOKEN)


def test_a_file_variable_supplies_the_secret_stripped(settings, tmp_path):
    token_file = tmp_path / "jira_api_token"
    token_file.write_text(JIRA_TOKEN + "\n", encoding="utf-8")
    environ = {**FULL_ENV, "JIRA_API_TOKEN_FILE": str(token_file)}
    del environ["JIRA_API_TOKEN"]

    assert resolve_secrets(settings, environ).jira_api_token == JIRA_TOKEN


def test_the_variable_itself_wins_over_its_file(settings, tmp_path):
    environ = {**FULL_ENV, "NOTION_TOKEN_FILE": str(tmp_path / "does-not-matter")}
    assert resolve_secrets(settings, environ).notion_token == NOTION_TOKEN


def test_an_unreadable_file_variable_names_the_variable_and_the_path(settings, tmp_path):
    missing = tmp_path / "run" / "secrets" / "pagerduty"
    environ = {**FULL_ENV, "PAGERDUTY_TOKEN_FILE": str(missing)}
    del environ["PAGERDUTY_TOKEN"]

    with pytest.raises(SecretError) as caught:
        resolve_secrets(settings, environ)
    assert caught.value.problems == [
        f"pagerduty: cannot read PAGERDUTY_TOKEN_FILE={missing}: No such file or directory"
    ]


def test_an_empty_variable_or_file_is_not_a_secret(settings, tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    environ = {**FULL_ENV, "JIRA_EMAIL": "", "NOTION_TOKEN_FILE": str(empty)}
    del environ["NOTION_TOKEN"]

    with pytest.raises(SecretError) as caught:
        resolve_secrets(settings, environ)
    assert caught.value.problems == [
        "jira: JIRA_EMAIL is set but empty; set it or JIRA_EMAIL_FILE",
        f"notion: NOTION_TOKEN_FILE={empty} names an empty file",
    ]


def test_a_token_pasted_with_a_line_break_inside_is_refused_without_showing_it(settings):
    broken = JIRA_TOKEN[:20] + "\n" + JIRA_TOKEN[20:]
    with pytest.raises(SecretError) as caught:
        resolve_secrets(settings, {**FULL_ENV, "JIRA_API_TOKEN": broken})
    assert caught.value.problems == [
        "jira: JIRA_API_TOKEN contains whitespace inside the value; check how it was pasted"
    ]
    assert JIRA_TOKEN[:20] not in str(caught.value)


def test_secrets_repr_shows_at_most_the_last_four_characters(settings):
    secrets = resolve_secrets(settings, FULL_ENV)
    shown = [repr(secrets), str(secrets), f"{secrets}", f"{secrets!r}"]

    for text in shown:
        for value in FULL_ENV.values():
            assert value not in text
            assert value[:-4] not in text
    assert repr(secrets) == (
        "Secrets(jira_email=****.com, jira_api_token=****wxyz, "
        "notion_token=****n0tn, pagerduty_token=****pd42)"
    )


def test_short_secrets_show_nothing_at_all():
    assert repr(Secrets(jira_email="a@b.co", notion_token="tiny-token")) == (
        "Secrets(jira_email=****, jira_api_token=None, notion_token=****, pagerduty_token=None)"
    )


def test_secret_error_survives_pickling_with_its_problems(settings):
    import pickle

    with pytest.raises(SecretError) as caught:
        resolve_secrets(settings, {})
    assert pickle.loads(pickle.dumps(caught.value)).problems == caught.value.problems
