"""The table of owned fields (sync/owned.py) is the one list: the connectors, plan and the README agree with it."""

from __future__ import annotations

from pathlib import Path

from sync import owned
from sync.readiness import stream_of, streams
from sync.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_table_is_the_one_the_code_prints():
    readme = (ROOT / "README.md").read_text()
    between = readme.split("<!-- owned:start -->\n", 1)[1].split("\n<!-- owned:end -->", 1)[0]
    assert between == owned.table(), "run `python -m sync.owned` and paste its table into the README"


def test_every_field_a_full_config_owns_is_in_the_table(sandbox, tmp_path):
    import yaml

    data = sandbox.config(str(tmp_path / "relais.db"), balance=True, routing=True, briefings=True)
    config = tmp_path / "relais.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    settings = load_settings(config)
    kinds = {"briefings": "briefing", "feedback": "feedback", "scorecard": "scorecard"}
    for database, kind in kinds.items():
        for field in owned.notion_properties(settings.writeback.notion, settings.briefings, database):
            assert owned.lookup("notion", kind, field) is not None, (database, field)
    for field in owned.jira_fields(settings):
        assert any(owned.lookup("jira", kind, field) for kind in ("issue", "epic", "feedback")), field


def test_each_kind_has_its_policy_and_each_derivation_its_streams(sandbox, tmp_path):
    import yaml

    data = sandbox.config(str(tmp_path / "relais.db"), balance=True, routing=True, briefings=True)
    config = tmp_path / "relais.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    settings = load_settings(config)
    assert {f.kind for f in owned.FIELDS} == {owned.DECISION, owned.MEASUREMENT}
    decisions = {(f.vendor, f.field) for f in owned.FIELDS if f.kind == owned.DECISION}
    assert decisions == {
        ("jira", "work_type"),
        ("jira", "team"),
        ("jira", "pm"),
        ("jira", "initiative"),
        ("jira", "briefing_link"),
        ("notion", "work_type"),
        ("notion", "pm"),
        ("notion", "team"),
        ("notion", "initiative"),
        ("notion", "epic"),
    }
    configured = streams(settings)
    everything = set(configured)
    assert owned.needs("classify", "jira:issues", settings, configured) == {"jira:issues"}
    assert owned.needs("scorecard", None, settings, configured) == everything  # the balance counts every tool
    assert "notion:scorecard" not in owned.needs("balance", "notion:briefings", settings, configured)
    assert owned.needs("followups", None, settings, configured) == {"jira:issues", "pagerduty:incidents"}
    for f in owned.FIELDS:
        assert (
            owned.needs(f.derived_from, stream_of(f.vendor, f.on[0], "briefings"), settings, configured)
            <= everything
        )
