"""load_settings on valid files: what the example means, shorthands, paths, and messages."""

from __future__ import annotations

import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import pydantic
import pytest
from settings_support import EXAMPLE, ROOT
from settings_support import problems as _problems
from settings_support import write_config as _write

from sync.models import WorkClass
from sync.settings import (
    ConfigError,
    ConfigProblem,
    SetMatch,
    TextMatch,
    load_settings,
)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


MINIMAL = """\
    version: 1
    timezone: UTC
    sources:
      pagerduty: {services: [PSVC123], from_email: bot@acme.com}
    classify:
      - {name: incidents are RUN, when: {source: pagerduty}, then: RUN}
      - default: BUILD
"""


# ---------------------------------------------------------------- example ---


def test_example_config_loads_with_its_key_facts():
    settings = load_settings(EXAMPLE)

    assert settings.file == EXAMPLE
    assert settings.version == 1
    assert settings.tz == ZoneInfo("Europe/Paris")
    assert settings.state.path == EXAMPLE.parent / "relais.db"
    jira = settings.sources.jira
    assert (jira.url, jira.jql) == ("https://acme.atlassian.net", "project in (PAY, CORE, SUP)")
    assert (jira.overlap_minutes, jira.page_size, jira.requests_per_second) == (5, 100, 10)
    assert (jira.ca_bundle, jira.timeout_seconds) == (None, 30)
    notion = settings.sources.notion
    assert notion.url == "https://api.notion.com"
    assert notion.databases.feedback == "6b1c4e2a-8d7f-4f3b-b2a9-7c5d1e0f3b02"
    assert notion.properties.team == "Team"
    assert (notion.overlap_minutes, notion.requests_per_second) == (3, 3)
    pagerduty = settings.sources.pagerduty
    assert pagerduty.services == ["PSVC123", "PSVC456", "PSVC789"]
    assert (pagerduty.from_email, pagerduty.first_sync_days) == ("relais-bot@acme.com", 90)
    assert settings.people["alice"].notion == "9a3b5c1d-2e4f-4a6b-8c0d-1e2f3a4b5c6d"
    assert settings.people["bruno"].notion is None
    assert settings.teams["payments"].pm == "alice"
    assert settings.teams["core"].jira.projects == ["CORE"]
    assert settings.teams["support"].notion.team == "Support"
    assert settings.writeback.jira.work_type.field == "Work type"
    assert settings.writeback.jira.work_type.labels_prefix is None
    assert settings.writeback.notion.work_type.databases == ["briefings", "feedback"]


def test_example_classify_rules_keep_order_and_the_line_they_were_written_on():
    settings = load_settings(EXAMPLE)
    text = EXAMPLE.read_text(encoding="utf-8")

    assert [(r.name, r.then) for r in settings.classify] == [
        ("incidents are RUN", WorkClass.RUN),
        ("bugs and support", WorkClass.RUN),
        ("maintenance", WorkClass.RUN),
        ("tech debt and tooling", WorkClass.IMPROVE),
    ]
    first = settings.classify[0]
    assert first.where == f"{EXAMPLE}:{_line_of(text, '- name: incidents are RUN')}"
    assert settings.classify[1].when.issuetype == ["Bug", "Support"]
    assert settings.classify[2].when.labels == SetMatch(any=["maintenance", "ops"])
    assert settings.classify_default == WorkClass.BUILD
    assert settings.classify_default_where == f"{EXAMPLE}:{_line_of(text, '- default: BUILD')}"


def test_rule_location_names_the_file_as_the_caller_gave_it(monkeypatch):
    monkeypatch.chdir(ROOT)
    settings = load_settings("config/relais.example.yaml")
    assert settings.classify[0].where.startswith("config/relais.example.yaml:")
    assert settings.file == Path("config/relais.example.yaml")


# ------------------------------------------------------------- shorthands ---


def test_condition_shorthands_mean_their_long_form(tmp_path):
    path = _write(
        tmp_path,
        """\
        version: 1
        timezone: UTC
        sources:
          pagerduty: {services: [PSVC123], from_email: bot@acme.com}
        classify:
          - name: shorthand
            when: {source: PagerDuty, labels: ops, title: outage, priority: P1}
            then: run
          - name: long form
            when:
              labels: {all: [a, b], none: c}
              text: {contains_all: [refund, invoice], matches: "inv-[0-9]+"}
            then: Improve
          - default: build
        """,
    )
    settings = load_settings(path)
    short, long = settings.classify

    assert short.when.source == ["pagerduty"]
    assert short.when.labels == SetMatch(any=["ops"])
    assert short.when.title == TextMatch(contains_any=["outage"])
    assert short.when.priority == ["P1"]
    assert short.then is WorkClass.RUN
    assert long.when.labels == SetMatch(all=["a", "b"], none=["c"])
    assert long.when.text.matches == "inv-[0-9]+"
    assert (long.then, settings.classify_default) == (WorkClass.IMPROVE, WorkClass.BUILD)
    assert short.when.conditions() == {
        "source": ["pagerduty"],
        "priority": ["P1"],
        "labels": {"any": ["ops"]},
        "title": {"contains_any": ["outage"]},
    }


def test_a_rule_without_any_condition_is_a_problem(tmp_path):
    path = _write(tmp_path, MINIMAL.replace("when: {source: pagerduty}", "when: {}"))
    assert _problems(path) == [
        "6: classify[0].when: a rule needs at least one condition "
        "(source, kind, project, issuetype, status, priority, urgency, "
        "service, team, origin, tier, area, customer, labels, components, title, text)"
    ]


def test_unknown_source_value_in_a_condition_suggests_the_closest(tmp_path):
    path = _write(tmp_path, MINIMAL.replace("when: {source: pagerduty}", "when: {source: pagerduti}"))
    assert _problems(path) == [
        "6: classify[0].when.source: unknown source 'pagerduti' (did you mean 'pagerduty'?); "
        "use jira, notion, pagerduty"
    ]


def test_unknown_key_with_nothing_close_lists_the_valid_keys(tmp_path):
    path = _write(tmp_path, MINIMAL.replace("from_email: bot@acme.com", "from_email: bot@acme.com, zzz: 1"))
    assert _problems(path) == [
        "4: sources.pagerduty.zzz: unknown key 'zzz'; expected one of: url, services, from_email, "
        "overlap_minutes, first_sync_days, requests_per_second, ca_bundle, timeout_seconds"
    ]


def test_jira_work_type_takes_exactly_one_of_field_or_labels_prefix(tmp_path):
    text = (
        MINIMAL.replace(
            "  pagerduty:",
            "  jira: {url: 'https://acme.atlassian.net', jql: project = PAY}\n      pagerduty:",
        )
        + "    writeback:\n      jira: {work_type: {field: Work type, labels_prefix: 'work:'}}\n"
    )
    assert _problems(_write(tmp_path, text)) == [
        "10: writeback.jira.work_type: set exactly one of `field` (a custom field name) or `labels_prefix`"
    ]


def test_notion_ids_are_normalised_to_dashed_lower_case(tmp_path):
    path = _write(
        tmp_path,
        MINIMAL.replace(
            "  pagerduty:",
            "  notion: {databases: {briefings: 0D3F8A5E5F694C1E9A542D1E0B7C9A01}}\n      pagerduty:",
        ),
    )
    assert load_settings(path).sources.notion.databases.briefings == "0d3f8a5e-5f69-4c1e-9a54-2d1e0b7c9a01"


def test_order_by_inside_a_quoted_jql_string_is_a_search_not_an_ordering(tmp_path):
    jql = "jql: 'project = SUP AND summary ~ \"order by\"'"
    path = _write(
        tmp_path,
        MINIMAL.replace(
            "  pagerduty:", f"  jira: {{url: 'https://acme.atlassian.net', {jql}}}\n      pagerduty:"
        ),
    )
    assert load_settings(path).sources.jira.jql == 'project = SUP AND summary ~ "order by"'


def test_plain_http_is_accepted_only_for_a_loopback_sandbox(tmp_path):
    sandbox = MINIMAL.replace("{services:", "{url: 'http://127.0.0.1:8443/', services:")
    assert load_settings(_write(tmp_path / "a", sandbox)).sources.pagerduty.url == "http://127.0.0.1:8443"
    remote = MINIMAL.replace("{services:", "{url: 'http://pd.acme.com', services:")
    assert "plain http is only allowed for a sandbox" in _problems(_write(tmp_path / "b", remote))[0]


def test_anchors_and_merge_keys_are_allowed(tmp_path):
    text = (
        MINIMAL
        + "    teams:\n      a: &base {pm: null, jira: {projects: [PAY]}}\n      b: {<<: *base, notion: {team: B}}\n"
    )
    settings = load_settings(_write(tmp_path, text))
    assert settings.teams["b"].jira.projects == ["PAY"]
    assert settings.teams["b"].notion.team == "B"


def test_sections_left_empty_read_as_empty(tmp_path):
    settings = load_settings(_write(tmp_path, MINIMAL + "    people:\n    teams:\n    writeback:\n"))
    assert (settings.people, settings.teams) == ({}, {})
    assert settings.writeback.jira is None


def test_settings_are_immutable():
    settings = load_settings(EXAMPLE)
    with pytest.raises(pydantic.ValidationError):
        settings.timezone = "UTC"  # type: ignore[misc]


# ------------------------------------------------------------------ paths ---


def test_relative_state_and_ca_paths_resolve_against_the_config_folder(tmp_path, monkeypatch):
    folder = tmp_path / "ops" / "relais"
    (folder / "certs").mkdir(parents=True)
    (folder / "certs" / "corp-root.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    text = MINIMAL.replace("{services:", "{ca_bundle: certs/corp-root.pem, services:")
    path = _write(folder, text + "    state: {path: data/relais.db}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    settings = load_settings(path)

    assert settings.state.path == folder / "data" / "relais.db"
    assert settings.sources.pagerduty.ca_bundle == folder / "certs" / "corp-root.pem"


def test_state_path_defaults_to_relais_db_beside_the_config(tmp_path):
    assert load_settings(_write(tmp_path, MINIMAL)).state.path == tmp_path / "relais.db"


def test_absolute_state_path_is_kept(tmp_path):
    target = tmp_path / "var" / "state.db"
    settings = load_settings(_write(tmp_path / "cfg", MINIMAL + f"    state: {{path: '{target}'}}\n"))
    assert settings.state.path == target


# --------------------------------------------------------------- messages ---


def test_problem_renders_as_file_line_path_message():
    problem = ConfigProblem(
        "config/relais.yaml", 14, "classify[2].when.isuetype", "unknown condition 'isuetype'"
    )
    assert str(problem) == "config/relais.yaml:14: classify[2].when.isuetype: unknown condition 'isuetype'"


def test_a_file_that_cannot_be_read_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "missing.yaml")
    (problem,) = caught.value.problems
    assert problem.line is None
    assert (
        str(problem)
        == f"{tmp_path / 'missing.yaml'}: <document>: cannot read the file: No such file or directory"
    )


def test_pasted_secrets_are_reported_without_repeating_them(tmp_path):
    notion_token = "ntn_" + "Q" * 43  # built here: no token-shaped literal in the repository
    text = (
        MINIMAL.replace(
            "{services: [PSVC123], from_email: bot@acme.com}",
            "{services: [PSVC123], from_email: bot@acme.com, token: hunter2hunter2}",
        )
        + f"    people:\n      ana: {{notion: {notion_token}}}\n"
    )
    path = _write(tmp_path, text)

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    assert [f"{p.line}: {p.path}: {p.message}" for p in caught.value.problems] == [
        "4: sources.pagerduty.token: secrets must not be written in the config file; "
        "set PAGERDUTY_TOKEN (or PAGERDUTY_TOKEN_FILE) in the environment",
        "9: people.ana.notion: secrets must not be written in the config file; "
        "set NOTION_TOKEN (or NOTION_TOKEN_FILE) in the environment",
    ]
    assert "hunter2" not in str(caught.value)
    assert notion_token[4:20] not in str(caught.value)


def test_credentials_in_a_url_are_refused_without_repeating_them(tmp_path):
    text = MINIMAL.replace("{services:", "{url: 'https://bot:pa55word-x9@api.pagerduty.com', services:")
    problems = _problems(_write(tmp_path, text))
    assert problems == [
        "4: sources.pagerduty.url: a URL must not contain credentials; secrets come from the environment"
    ]


def test_a_rule_naming_a_team_needs_a_teams_section(tmp_path):
    path = _write(tmp_path, MINIMAL.replace("when: {source: pagerduty}", "when: {team: payments}"))
    assert _problems(path) == ["6: classify[0].when.team: unknown team 'payments'; teams has: none"]


def test_config_error_survives_pickling_with_its_problems(tmp_path):
    import pickle

    path = _write(tmp_path, MINIMAL.replace("version: 1", "version: 3"))
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert copy.problems == caught.value.problems
    assert str(copy) == str(caught.value)


# ---------------------------------------------------------------- balance ---


def test_an_empty_balance_section_means_every_default(tmp_path):
    absent = load_settings(_write(tmp_path / "a", MINIMAL))
    empty = load_settings(_write(tmp_path / "b", MINIMAL + "    balance: {}\n"))
    blank = load_settings(_write(tmp_path / "c", MINIMAL + "    balance:\n"))

    assert absent.balance is None
    balance = empty.balance
    assert balance == blank.balance
    assert (balance.period, balance.backfill_periods, balance.buffer_target, balance.urgent) == (
        "week",
        8,
        0.2,
        None,
    )
    pagerduty, jira, notion = balance.effort.pagerduty, balance.effort.jira, balance.effort.notion
    assert (pagerduty.count, pagerduty.cap_hours, pagerduty.urgency_weights) == (
        True,
        24,
        {"high": 1.0, "low": 0.5},
    )
    assert jira.measures == ["worklog", "story_points", "count"]
    assert (jira.hours_per_point, jira.hours_per_issue, jira.story_points_field) == (4.0, 2.0, "Story Points")
    assert (notion.count, notion.hours_per_item) == (False, 1.0)
    assert [
        (a.name, a.metric, a.op, a.threshold, a.for_periods, a.level, a.where) for a in balance.alerts
    ] == [
        ("RUN overload", "run_share", ">", 0.5, 2, "alert", "default"),
        ("survival mode", "build_share", "<", 0.3, 1, "survival", "default"),
        ("urgent flood", "urgent_requests", ">", 3, 1, "watch", "default"),
    ]
    assert balance.alerts[0].message == "RUN above 50% two weeks running: block time to reduce tech debt"


def test_alert_thresholds_are_numbers_and_percentages_are_fractions(tmp_path):
    text = MINIMAL + textwrap.indent(
        textwrap.dedent("""\
        balance:
          buffer_target: 25%
          alerts:
            - {name: a, when: "run_share >= 50.1%", level: alert, message: m}
            - {name: b, when: "buffer_left<-10%", level: watch, message: m}
            - {name: c, when: "  total_hours == 37.5 ", level: watch, message: m}
            - {name: d, when: "improve_share != 0.125", level: watch, message: m}
            - {name: e, when: "incidents > 3", for_periods: 4, level: Survival, message: m}
        """),
        "    ",
    )
    balance = load_settings(_write(tmp_path, text)).balance

    assert balance.buffer_target == 0.25
    assert [(a.metric, a.op, a.threshold) for a in balance.alerts] == [
        ("run_share", ">=", 0.501),
        ("buffer_left", "<", -0.1),
        ("total_hours", "==", 37.5),
        ("improve_share", "!=", 0.125),
        ("incidents", ">", 3.0),
    ]
    assert balance.alerts[2].when == "total_hours == 37.5"
    assert (balance.alerts[4].for_periods, balance.alerts[4].level) == (4, "survival")


def test_example_alerts_and_urgent_condition_know_the_line_they_were_written_on():
    settings = load_settings(EXAMPLE)
    text = EXAMPLE.read_text(encoding="utf-8")
    balance = settings.balance

    assert [a.where for a in balance.alerts] == [
        f"{EXAMPLE}:{_line_of(text, '- name: RUN overload')}",
        f"{EXAMPLE}:{_line_of(text, '- name: survival mode')}",
        f"{EXAMPLE}:{_line_of(text, '- name: urgent flood')}",
    ]
    assert balance.urgent.where == f"{EXAMPLE}:{_line_of(text, '  urgent:')}"
    assert balance.urgent.when.conditions() == {"source": ["jira"], "priority": ["Highest"]}
    assert [(a.metric, a.op, a.threshold, a.for_periods) for a in balance.alerts] == [
        ("run_share", ">", 0.5, 2),
        ("build_share", "<", 0.3, 1),
        ("urgent_requests", ">", 3, 1),
    ]
    assert settings.sources.notion.databases.scorecard == "3e7a9c1b-4d2f-4a8e-9b6c-5f0e1d2c3b03"
    scorecard = settings.writeback.notion.scorecard
    assert (scorecard.database, scorecard.properties.run, scorecard.properties.urgent) == (
        "scorecard",
        "RUN %",
        "Urgent requests",
    )
    assert (settings.writeback.notion.briefings.run_load, settings.writeback.notion.briefings.mode) == (
        "Team RUN load",
        "Team mode",
    )
