"""`briefings:`, `followups:` and their write-backs: defaults, the example, and what is refused."""

from __future__ import annotations

from pathlib import Path

import yaml
from settings_support import EXAMPLE, refused, write_config

from sync.settings import load_settings

FIXTURE = Path(__file__).parent / "fixtures" / "briefings.yaml"


def _uncommented_example() -> str:
    """The example with its briefings, followups and delivery write-backs switched on."""
    out, block, in_status = [], False, False
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        block = line in ("# briefings:", "# followups:") or (block and line.startswith("#   "))
        in_status = line == "    # status:" or (in_status and line.startswith("    #   "))
        if block or in_status or line.lstrip().startswith("# epic: {health"):
            line = line.replace("# ", "", 1)
        out.append(line)
    return "\n".join(out) + "\n"


def write(tmp_path: Path, data: dict) -> Path:
    return write_config(tmp_path, yaml.safe_dump(data, sort_keys=False))


def problems(path: Path) -> list[str]:
    return [f"{p.path}: {p.message}" for p in refused(path).problems]


def test_the_example_ships_with_briefings_and_followups_off():
    settings = load_settings(EXAMPLE)
    assert (settings.briefings, settings.followups) == (None, None)
    assert (settings.writeback.jira.epic, settings.writeback.notion.status) == (None, None)


def test_the_example_sections_load_once_uncommented(tmp_path):
    path = tmp_path / "relais.yaml"
    path.write_text(_uncommented_example(), encoding="utf-8")
    settings = load_settings(path)
    b = settings.briefings
    assert (b.epic_property, b.target_date, b.depends_on, b.validated_by) == (
        "Epic",
        "Target date",
        "Depends on",
        "Validated by",
    )
    assert (b.impact, b.effort, b.security, b.throughput_weeks, b.security_score) == (
        "Impact",
        "Effort",
        "Security critical",
        4,
        1000,
    )
    f = settings.followups
    assert (f.when.conditions(), f.issuetype, f.labels, f.lookback_days) == (
        {"urgency": ["high"]},
        "Task",
        ["incident-follow-up"],
        7,
    )
    epic = settings.writeback.jira.epic
    assert (epic.health.field, epic.briefing_link.field) == ("Health", "Briefing link")
    # the example names every status property, and shows the defaults (as its comment says)
    status = settings.writeback.notion.status
    assert status is not None and status.model_fields_set == set(type(status).model_fields)
    assert status.model_dump() == type(status)().model_dump()


def test_empty_sections_mean_every_default(tmp_path):
    data = yaml.safe_load(FIXTURE.read_text())
    data["briefings"], data["followups"] = None, None
    settings = load_settings(write(tmp_path, data))
    assert settings.briefings.throughput_weeks == 4
    assert settings.followups.when.conditions() == {"urgency": ["high"]}
    assert settings.followups.labels == ["incident-follow-up"]


def test_briefings_need_the_briefings_database_and_jira(tmp_path):
    data = yaml.safe_load(FIXTURE.read_text())
    data["sources"]["notion"]["databases"] = {"feedback": "0b7c52e4a59f4f5d9d5d3b9c2a1f0e22"}
    del data["sources"]["jira"]
    del data["writeback"]["jira"]
    del data["followups"]
    found = problems(write(tmp_path, data))
    assert any(
        p.startswith("briefings: briefings are read from Notion: add sources.notion.databases.briefings")
        for p in found
    ), found
    assert any(p.startswith("briefings: a briefing's progress comes from its epic in Jira") for p in found), (
        found
    )


def test_followups_need_pagerduty_and_jira(tmp_path):
    data = yaml.safe_load(FIXTURE.read_text())
    del data["sources"]["pagerduty"]
    found = problems(write(tmp_path, data))
    assert found == [
        "followups: follow-ups are filed in Jira for PagerDuty incidents: add sources.pagerduty, "
        "or remove the `followups:` section"
    ]


def test_a_followup_condition_naming_an_unknown_team_is_a_problem(tmp_path):
    data = yaml.safe_load(FIXTURE.read_text())
    data["followups"] = {"when": {"urgency": "high", "team": "gama"}}
    found = problems(write(tmp_path, data))
    assert len(found) == 1 and found[0].startswith("followups.when.team") and "'gamma'" in found[0], found


def test_two_status_properties_cannot_share_a_name(tmp_path):
    data = yaml.safe_load(FIXTURE.read_text())
    data["writeback"]["notion"]["status"] = {"reason": "Health"}
    found = problems(write(tmp_path, data))
    assert found == ["writeback.notion.status: health and reason both name the property 'Health'"]
