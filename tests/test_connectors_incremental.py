"""Incremental reads, per vendor, through the real clients against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import Clock, make_engine, write_config

from sync.engine import Engine


def test_jql_watermark_is_written_in_the_api_users_time_zone(engine: Engine):
    engine.connect()
    jira = engine.connectors["jira"]
    assert jira.tz.key == "Europe/Paris"  # from /myself
    jql = jira.jql_for({"watermark": "2026-11-20T10:15:42.123Z"})
    # 10:15:42Z − 5 min overlap = 10:10:42Z = 11:10 in Paris (UTC+1 in November), minute precision.
    assert 'updated >= "2026-11-20 11:10"' in jql
    assert jql.endswith("ORDER BY updated ASC, id ASC")
    assert jira.jql_for(None).startswith("(project in (PAY, CORE, SUP))")


def test_eventually_consistent_search_is_caught_by_the_overlap(pinned_sandbox, clock: Clock, tmp_path):
    sb = pinned_sandbox
    engine = make_engine(sb, write_config(sb, tmp_path))
    try:
        engine.run_cycle(apply=True)
        sb.jira.search_lag_seconds = 30
        key = sb.jira.keys()[0]
        sb.jira.edit_issue(key, {"summary": "Edited while search lags"})
        hidden = engine.run_cycle(apply=True)
        assert hidden.changed["jira"] == 0  # search has not indexed it yet
        clock.advance(seconds=45)
        seen = engine.run_cycle(apply=True)
        assert seen.changed["jira"] == 1
        assert engine.store.get_item("jira", key)[0].title == "Edited while search lags"
    finally:
        engine.close()


def test_notion_query_cap_is_paged_past_without_losing_rows(sandbox, engine: Engine):
    sandbox.notion.query_cap = 5  # Notion's real cap is 10,000 rows per query
    report = engine.run_cycle(apply=True)
    total = sum(len(sandbox.notion.page_ids(s)) for s in ("briefings", "feedback"))
    assert report.errors == {}
    assert engine.store.count_items()["notion"] == total
    assert report.changed["notion"] == total  # re-read rows at the restart points are not double-counted
    assert engine.run_cycle(apply=True).writes == 0


def test_pagerduty_change_to_an_old_incident_comes_from_log_entries(sandbox, engine: Engine):
    engine.run_cycle(apply=True)
    open_ids = [
        i
        for i in sandbox.pagerduty.incident_ids()
        if sandbox.pagerduty.get_incident(i)["status"] != "resolved"
    ]
    assert open_ids, "the demo org has open incidents"
    sandbox.pagerduty.resolve(open_ids[0])
    report = engine.run_cycle(apply=True)
    assert report.changed["pagerduty"] == 1
    item = engine.store.get_item("pagerduty", open_ids[0])[0]
    assert item.status == "resolved" and item.resolved is not None


def test_pagerduty_new_incident_is_read_once(sandbox, engine: Engine):
    engine.run_cycle(apply=True)
    service = engine.settings.sources.pagerduty.services[0]
    created = sandbox.pagerduty.trigger_incident(service, "Checkout latency above SLO")
    report = engine.run_cycle(apply=True)
    assert report.changed["pagerduty"] == 1
    stored = engine.store.get_item("pagerduty", created["id"])[0]
    assert stored.kind == "incident" and stored.urgency == "high"
    assert stored.created <= datetime.now(UTC)
    assert engine.run_cycle(apply=True).changed["pagerduty"] == 0


def test_a_rule_change_replays_over_stored_items_without_new_reads(sandbox, tmp_path):
    def all_build(cfg):
        cfg["classify"] = [{"default": "BUILD"}]

    engine = make_engine(sandbox, write_config(sandbox, tmp_path))
    engine.run_cycle(apply=True)
    engine.close()
    writes_before = sandbox.count(method="PUT") + sandbox.count(method="PATCH")
    replay = make_engine(sandbox, write_config(sandbox, tmp_path, all_build))
    try:
        report = replay.run_cycle(apply=False)
        assert report.planned and all(c.new == "BUILD" for c in report.planned)
        assert all(c.old in ("RUN", "IMPROVE") for c in report.planned)
        assert report.changed == {"jira": 0, "notion": 0, "pagerduty": 0}
        assert sandbox.count(method="PUT") + sandbox.count(method="PATCH") == writes_before
    finally:
        replay.close()
