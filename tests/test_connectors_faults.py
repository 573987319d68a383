"""The one network policy, through the real clients, against the sandbox's faults."""

from __future__ import annotations

import pytest

from connectors.errors import ServerError
from sync.engine import Engine


@pytest.fixture
def fast_engine(engine: Engine) -> Engine:
    for connector in engine.connectors.values():
        connector.policy.backoff_base = 0.05  # keep the suite fast; Retry-After is still honoured
    engine.connect()
    return engine


def stats(engine: Engine, vendor: str):
    return engine.connectors[vendor].policy.stats


def test_jira_429_retry_after_seconds_is_honoured(sandbox, fast_engine):
    sandbox.faults.add("jira", 429, count=2, path="/search/jql", retry_after=1)
    report = fast_engine.run_cycle(apply=False)
    assert report.errors == {} and report.pulled["jira"] == 60 + 6  # the teams' issues and their 6 epics
    s = stats(fast_engine, "jira")
    assert s.rate_limited == 2 and s.waited_seconds >= 2.0


def test_notion_429_with_http_date_is_honoured(sandbox, fast_engine):
    sandbox.faults.add("notion", 429, count=1, path="/query$", retry_after="http-date:2")
    report = fast_engine.run_cycle(apply=False)
    assert report.errors == {}
    assert stats(fast_engine, "notion").waited_seconds >= 1.0  # an HTTP date, whole seconds


def test_pagerduty_429_without_headers_backs_off_and_goes_on(sandbox, fast_engine):
    sandbox.faults.add("pagerduty", 429, count=2, path="^/incidents$", retry_after="omit")
    report = fast_engine.run_cycle(apply=False)
    assert report.errors == {} and report.pulled["pagerduty"] == 20 + 1  # + Core's follow-up incident
    assert stats(fast_engine, "pagerduty").rate_limited == 2


@pytest.mark.parametrize(
    "vendor,path,kind",
    [
        ("jira", "/search/jql", 500),
        ("jira", "/search/jql", "malformed"),
        ("notion", "/query$", 502),
        ("notion", "/query$", 529),
        ("notion", "/query$", "reset"),
        ("pagerduty", "^/incidents$", 503),
    ],
)
def test_transient_read_failures_are_retried(sandbox, fast_engine, vendor, path, kind):
    sandbox.faults.add(vendor, kind, count=2, path=path)
    report = fast_engine.run_cycle(apply=False)
    assert report.errors == {}
    assert stats(fast_engine, vendor).retries >= 2


def test_a_slow_answer_times_out_and_is_retried(sandbox, tmp_path):
    from conftest import make_engine, write_config

    def short_timeout(cfg):
        cfg["sources"]["pagerduty"]["timeout_seconds"] = 0.5

    engine = make_engine(sandbox, write_config(sandbox, tmp_path, short_timeout))
    try:
        sandbox.faults.add("pagerduty", "timeout", count=1, path="^/incidents$", delay=2)
        report = engine.run_cycle(apply=False)
        assert report.errors == {} and report.pulled["pagerduty"] == 20 + 1  # + Core's follow-up incident
        assert engine.connectors["pagerduty"].policy.stats.requests["network-error"] == 1
    finally:
        engine.close()


def test_a_vendor_that_stays_down_fails_alone_and_keeps_its_cursor(sandbox, fast_engine):
    fast_engine.run_cycle(apply=True)
    notion_cursor = fast_engine.store.cursor("notion")
    sandbox.faults.add("notion", 503, path="/query$")
    report = fast_engine.run_cycle(apply=True)
    assert set(report.errors) == {"notion"} and "503" in report.errors["notion"]
    assert (
        sandbox.count(vendor="notion", path_prefix="/v1/data_sources/", method="POST", status=503)
        == fast_engine.connectors["notion"].policy.max_attempts
    )
    assert fast_engine.store.cursor("notion") == notion_cursor
    assert report.pulled["jira"] > 0 and "jira" not in report.errors


def test_a_put_is_retried_because_it_is_idempotent(sandbox, fast_engine):
    fast_engine.connectors["jira"].bulk = None  # every write a PUT (bulk edits have their own tests)
    sandbox.faults.add("jira", 502, count=1, method="PUT")
    report = fast_engine.run_cycle(apply=True)
    assert report.errors == {} and report.failed_writes == 0
    jira_writes = sum(1 for c in report.planned if c.source == "jira")
    assert sandbox.count(vendor="jira", method="PUT") == jira_writes + 1  # the 502, then the retry


def test_a_post_that_creates_is_never_resent_after_a_5xx(sandbox, fast_engine):
    sandbox.faults.add("notion", 500, count=1, method="POST", path="^/v1/pages$")
    client = fast_engine.connectors["notion"].client
    with pytest.raises(ServerError) as err:
        client.pages.create(
            parent={"data_source_id": sandbox.notion.data_source_ids["feedback"]},
            properties={"Name": {"title": [{"text": {"content": "Should exist once"}}]}},
        )
    assert "POST /v1/pages → 500" in str(err.value)
    assert sandbox.count(vendor="notion", method="POST", path_prefix="/v1/pages") == 1


def test_a_malformed_item_is_quarantined_and_the_rest_goes_on(sandbox, fast_engine):
    sandbox.faults.add("jira", "bad_item", count=1, path="/search/jql")
    report = fast_engine.run_cycle(apply=True)
    assert report.errors == {}
    assert len(report.quarantined) == 1
    q = report.quarantined[0]
    assert q["source"] == "jira" and "unreadable issue payload" in q["reason"]
    assert report.pulled["jira"] == 60 + 6 - 1 and report.writes > 0  # issues and epics, less the broken one
