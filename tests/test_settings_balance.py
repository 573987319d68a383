"""The `balance:` section and the scorecard/briefing write-backs: edge cases the broken configs do not cover."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

import pydantic
import pytest
from settings_support import problems, write_config

from sync.settings import AlertRule, Balance, JiraEffort, load_settings

BASE = """\
version: 1
timezone: UTC
sources:
  notion:
    databases:
      briefings: 0d3f8a5e5f694c1e9a542d1e0b7c9a01
      scorecard: 3e7a9c1b4d2f4a8e9b6c5f0e1d2c3b03
teams:
  payments: {notion: {team: Payments}}
classify:
  - default: BUILD
"""


def _load(tmp_path: Path, extra: str, base: str = BASE):
    return load_settings(write_config(tmp_path, base + textwrap.dedent(extra)))


def _problems(tmp_path: Path, extra: str, base: str = BASE) -> list[str]:
    return problems(write_config(tmp_path, base + textwrap.dedent(extra)))


def _alert(when: str) -> str:
    return f"balance:\n  alerts:\n    - {{name: a, when: '{when}', level: watch, message: m}}\n"


# ----------------------------------------------------------------- alerts ---


def test_explicit_empty_alerts_mean_no_alerts(tmp_path):
    assert _load(tmp_path, "balance: {alerts: []}\n").balance.alerts == []


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("run_share > 50", "run_share is a share from 0 to 1 (0% to 100%), found 50; did you mean '50%'?"),
        ("buffer_left < -150%", "buffer_left is a share from -1 to 1 (-100% to 100%), found -150%"),
        (
            "run_hours > 10%",
            "run_hours is in hours, not a share: write a plain number such as 'run_hours > 3', "
            "not a percentage (run_share, build_share, improve_share, buffer_left take percentages)",
        ),
        (
            "run_share => 0.5",
            "expected '<metric> <op> <number>' (e.g. 'run_share > 50%'), found 'run_share => 0.5'; "
            "unknown operator '=>'; use >, >=, <, <=, ==, !=",
        ),
        (
            "run_share > half",
            "expected '<metric> <op> <number>' (e.g. 'run_share > 50%'), found 'run_share > half'; "
            "'half' is not a number (write 0.5, 3 or 50%)",
        ),
        (
            "load > 1",
            "expected '<metric> <op> <number>' (e.g. 'run_share > 50%'), found 'load > 1'; unknown metric "
            "'load'; metrics: run_share, build_share, improve_share, run_hours, build_hours, improve_hours, "
            "total_hours, incidents, urgent_requests, buffer_left",
        ),
    ],
)
def test_an_alert_condition_that_cannot_work_is_a_problem_at_its_line(tmp_path, when, message):
    assert _problems(tmp_path, _alert(when)) == [f"14: balance.alerts[0].when: {message}"]


def test_an_alert_condition_written_as_a_mapping_says_what_it_expects(tmp_path):
    text = "balance:\n  alerts:\n    - name: a\n      when: {run_share: 0.5}\n      level: watch\n      message: m\n"
    assert _problems(tmp_path, text) == [
        "15: balance.alerts[0].when: expected an expression '<metric> <op> <number>' such as "
        "'run_share > 50%', found a mapping"
    ]


def test_alert_names_differ_by_more_than_case_and_spacing(tmp_path):
    text = (
        "balance:\n  alerts:\n"
        "    - {name: RUN  overload, when: run_share > 50%, level: alert, message: m}\n"
        "    - {name: run overload, when: run_share > 60%, level: survival, message: m}\n"
    )
    assert _problems(tmp_path, text) == [
        "15: balance.alerts[1].name: duplicate alert name 'run overload' (first used at line 14); "
        "the scorecard and `relais report` name alerts, so each name must be unique"
    ]


def test_alerts_are_read_only_and_survive_pickling(tmp_path):
    balance = _load(tmp_path, _alert("incidents >= 2")).balance
    rule = balance.alerts[0]
    with pytest.raises(pydantic.ValidationError):
        rule.threshold = 3  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        rule.when = "incidents > 9"  # type: ignore[misc]
    copy = pickle.loads(pickle.dumps(balance))
    assert (copy.alerts[0].metric, copy.alerts[0].threshold, copy.alerts[0].where) == (
        "incidents",
        2.0,
        f"{tmp_path / 'relais.yaml'}:14",
    )


def test_models_built_in_code_parse_and_check_like_the_loader():
    rule = AlertRule(name="x", when="run_share > 40%", level="alert", message="m")
    assert (rule.metric, rule.op, rule.threshold, rule.where) == ("run_share", ">", 0.4, "default")
    assert [a.where for a in Balance().alerts] == ["default"] * 3
    with pytest.raises(pydantic.ValidationError, match="duplicate alert name"):
        Balance(alerts=[rule, rule])
    with pytest.raises(pydantic.ValidationError, match="listed twice"):
        JiraEffort(measures=["count", "count"])


# ----------------------------------------------------------------- effort ---


def test_effort_values_are_checked(tmp_path):
    text = """\
        balance:
          buffer_target: 120%
          backfill_periods: 0
          effort:
            pagerduty: {cap_hours: 0, urgency_weights: {high: 1}}
            jira: {measures: []}
        """
    assert _problems(tmp_path, text) == [
        "13: balance.buffer_target: expected a value from 0 to 1 (0% to 100%), found a string ('120%')",
        "14: balance.backfill_periods: expected a value from 1 to 104, found an integer (0)",
        "16: balance.effort.pagerduty.cap_hours: expected a value above 0, found an integer (0)",
        "16: balance.effort.pagerduty.urgency_weights: set a weight for both high and low urgency (missing: low)",
        "17: balance.effort.jira.measures: must not be empty",
    ]


def test_a_lone_measure_must_be_a_list(tmp_path):
    assert _problems(tmp_path, "balance: {effort: {jira: {measures: worklog}}}\n") == [
        "12: balance.effort.jira.measures: expected a list of strings, found a string ('worklog'); "
        "write [worklog] for a single value"
    ]


def test_effort_sections_left_empty_read_as_defaults(tmp_path):
    effort = _load(tmp_path, "balance:\n  effort:\n    jira:\n    notion:\n").balance.effort
    assert (effort.jira.measures, effort.notion.count) == (["worklog", "story_points", "count"], False)


def test_an_urgent_condition_naming_an_unknown_team_is_a_problem(tmp_path):
    assert _problems(tmp_path, "balance: {urgent: {when: {team: paymnts}}}\n") == [
        "12: balance.urgent.when.team: unknown team 'paymnts' (did you mean 'payments'?)"
    ]


# -------------------------------------------------------------- writeback ---


def test_scorecard_and_briefing_writebacks_default_their_names(tmp_path):
    notion = _load(
        tmp_path, "balance: {}\nwriteback:\n  notion: {scorecard: {}, briefings: {}}\n"
    ).writeback.notion
    assert (notion.scorecard.database, notion.scorecard.properties.title) == ("scorecard", "Name")
    assert (notion.scorecard.properties.key, notion.scorecard.properties.level) == ("Key", "Level")
    assert (notion.briefings.run_load, notion.briefings.mode) == ("Team RUN load", "Team mode")


def test_the_scorecard_needs_a_database_of_its_own(tmp_path):
    text = "balance: {}\nwriteback:\n  notion: {scorecard: {database: briefings}}\n"
    assert _problems(tmp_path, text) == [
        "14: writeback.notion.scorecard.database: the scorecard needs a database of its own; "
        "briefings holds work relais reads"
    ]
    same_id = BASE.replace("3e7a9c1b4d2f4a8e9b6c5f0e1d2c3b03", "0d3f8a5e5f694c1e9a542d1e0b7c9a01")
    assert _problems(tmp_path, "", same_id) == [
        "5: sources.notion.databases: briefings and scorecard are the same database; each needs its own"
    ]


def test_a_misspelt_scorecard_database_gets_a_did_you_mean(tmp_path):
    text = "balance: {}\nwriteback:\n  notion: {scorecard: {database: scorecrd}}\n"
    assert _problems(tmp_path, text) == [
        "14: writeback.notion.scorecard.database: unknown Notion database 'scorecrd' (did you mean 'scorecard'?)"
    ]


def test_briefing_writeback_needs_the_briefings_database(tmp_path):
    base = BASE.replace("      briefings: 0d3f8a5e5f694c1e9a542d1e0b7c9a01\n", "")
    assert _problems(tmp_path, "balance: {}\nwriteback:\n  notion: {briefings: {}}\n", base) == [
        "13: writeback.notion.briefings: the team's RUN load and mode are written on briefings: "
        "add sources.notion.databases.briefings, or remove writeback.notion.briefings"
    ]


def test_a_notion_source_may_hold_only_the_scorecard(tmp_path):
    base = BASE.replace("      briefings: 0d3f8a5e5f694c1e9a542d1e0b7c9a01\n", "")
    settings = _load(tmp_path, "balance: {}\nwriteback:\n  notion: {scorecard: {}}\n", base)
    assert settings.sources.notion.databases.configured() == {
        "scorecard": "3e7a9c1b-4d2f-4a8e-9b6c-5f0e1d2c3b03"
    }


def test_two_scorecard_properties_cannot_share_a_name(tmp_path):
    text = (
        "balance: {}\nwriteback:\n  notion:\n    scorecard:\n      properties: {run: RUN, run_hours: RUN}\n"
    )
    assert _problems(tmp_path, text) == [
        "16: writeback.notion.scorecard.properties: run and run_hours both name the property 'RUN'"
    ]
