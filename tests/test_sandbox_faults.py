"""Fault switches and rate limits, seen from a client over real sockets.

One scenario per fault kind, plus the 429 variants (Retry-After seconds,
HTTP date, vendor default, none) and each vendor's token bucket.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime

import httpx
import pytest

from sandbox import Sandbox
from sandbox.testing import http_client


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=11, size="demo") as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _reset(sb: Sandbox) -> Iterator[None]:
    yield
    sb.faults.clear()
    for vendor in ("jira", "notion", "pagerduty"):
        sb.set_rate_limit(vendor, 200, 200)


def client(sb: Sandbox, vendor: str, timeout: float = 5) -> httpx.Client:
    version = {"Notion-Version": "2025-09-03"} if vendor == "notion" else {}
    return http_client(sb, vendor, headers=version, timeout=timeout)


JIRA_SEARCH = ("/rest/api/3/search/jql", {"jql": "project = PAY", "fields": "summary", "maxResults": 5})


def test_status_fault_uses_the_vendors_error_body_then_stops_after_count(sb):
    sb.faults.add("jira", 503, count=2, path=r"/search/jql$", retry_after=7)
    with client(sb, "jira") as c:
        first = c.get(JIRA_SEARCH[0], params=JIRA_SEARCH[1])
        second = c.get(JIRA_SEARCH[0], params=JIRA_SEARCH[1])
        third = c.get(JIRA_SEARCH[0], params=JIRA_SEARCH[1])
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.json() == {"errorMessages": ["Service Unavailable"], "errors": {}}
    assert first.headers["Retry-After"] == "7"
    assert sb.count(vendor="jira", path_prefix="/rest/api/3/search/jql", status=503) == 2


def test_rate_faults_are_seeded_and_filter_on_method():
    outcomes, failures = [], []
    for _ in range(2):
        with Sandbox(seed=5) as fresh, client(fresh, "pagerduty") as c:
            fresh.faults.add("pagerduty", 500, rate=0.5, method="GET")
            responses = [c.get("/abilities") for _ in range(12)]
            outcomes.append([r.status_code for r in responses])
            failures += [r.json() for r in responses if r.status_code == 500]
            unmatched = c.post("/incidents", json={})  # a POST: the GET-only rule never fires
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 500}
    assert failures[0] == {"error": {"message": "Internal Server Error", "code": 2000}}
    assert unmatched.status_code == 400  # no From header: the app answered, not the fault


def test_reset_closes_the_connection_without_an_answer(sb):
    sb.faults.add("notion", "reset", count=1)
    with client(sb, "notion") as c:
        with pytest.raises(httpx.TransportError):
            c.get("/v1/users/me")
        assert c.get("/v1/users/me").status_code == 200
    assert sb.count(vendor="notion", status=0) == 1


def test_timeout_holds_the_answer_back(sb):
    sb.faults.add("pagerduty", "timeout", count=1, delay=1.0, path="^/abilities$")
    with client(sb, "pagerduty", timeout=0.3) as c:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            c.get("/abilities")
        assert time.monotonic() - started < 0.9
    with client(sb, "pagerduty", timeout=3) as c:
        assert c.get("/abilities").status_code == 200


def test_lost_applies_the_write_then_resets_the_connection(sb):
    """The answer is lost after the server acted: the note exists although the client saw only a reset."""
    iid = sb.pagerduty.incident_ids()[0]
    sb.faults.add("pagerduty", "lost", count=1, method="POST", path=r"/notes$")
    with client(sb, "pagerduty") as c:
        before = len(c.get(f"/incidents/{iid}/notes").json()["notes"])
        with pytest.raises(httpx.TransportError):
            c.post(
                f"/incidents/{iid}/notes",
                headers={"From": sb.env["PAGERDUTY_FROM"]},
                json={"note": {"content": "written, answer lost"}},
            )
        notes = c.get(f"/incidents/{iid}/notes").json()["notes"]
    assert len(notes) == before + 1 and notes[-1]["content"] == "written, answer lost"
    assert sb.count(vendor="pagerduty", method="POST", status=0) == 1


def test_timeout_after_applies_the_write_while_the_client_waits_in_vain(sb):
    iid = sb.pagerduty.incident_ids()[1]
    sb.faults.add("pagerduty", "timeout", count=1, delay=1.0, after=True, method="POST")
    with client(sb, "pagerduty", timeout=0.3) as c:
        with pytest.raises(httpx.ReadTimeout):
            c.post(
                f"/incidents/{iid}/notes",
                headers={"From": sb.env["PAGERDUTY_FROM"]},
                json={"note": {"content": "written before the timeout"}},
            )
        # the note is there at once: the request was handled before the answer was held back
        assert [n["content"] for n in c.get(f"/incidents/{iid}/notes").json()["notes"]][-1:] == [
            "written before the timeout"
        ]


def test_malformed_is_a_200_with_a_truncated_json_body(sb):
    sb.faults.add("jira", "malformed", count=1)
    with client(sb, "jira") as c:
        r = c.get("/rest/api/3/myself")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        r.json()


@pytest.mark.parametrize(
    "vendor, method, path, body, items, missing",
    [
        ("jira", "GET", JIRA_SEARCH[0], None, "issues", "fields"),
        ("notion", "POST", "/v1/data_sources/{feedback}/query", {}, "results", "properties"),
        ("pagerduty", "GET", "/incidents", None, "incidents", "service"),
    ],
)
def test_bad_item_breaks_exactly_one_item_of_a_list_page(sb, vendor, method, path, body, items, missing):
    sb.faults.add(vendor, "bad_item", count=1)
    path = path.format(feedback=sb.notion.data_source_ids["feedback"])
    params = JIRA_SEARCH[1] if vendor == "jira" else {"date_range": "all"} if vendor == "pagerduty" else None
    with client(sb, vendor) as c:
        page = c.request(method, path, params=params, json=body).json()[items]
    assert len(page) > 1
    assert sum(missing not in item for item in page) == 1


def test_429_retry_after_variants(sb):
    sb.faults.add("notion", 429, count=1, retry_after=3)
    sb.faults.add("notion", 429, count=1, retry_after="http-date:30")
    sb.faults.add("notion", 429, count=1)
    sb.faults.add("notion", 429, count=1, retry_after="omit")
    with client(sb, "notion") as c:
        seconds, date, default, omitted = (c.get("/v1/users/me") for _ in range(4))
    assert all(
        r.status_code == 429 and r.json()["code"] == "rate_limited" for r in (seconds, date, default, omitted)
    )
    assert seconds.headers["Retry-After"] == "3"
    assert 20 < parsedate_to_datetime(date.headers["Retry-After"]).timestamp() - time.time() <= 31
    assert default.headers["Retry-After"] == "1"
    assert "Retry-After" not in omitted.headers


def test_pagerduty_429_has_ratelimit_headers_and_its_own_body(sb):
    sb.faults.add("pagerduty", 429, count=1)
    sb.faults.add("pagerduty", 429, count=1, retry_after="omit")
    with client(sb, "pagerduty") as c:
        limited, bare = c.get("/abilities"), c.get("/abilities")
    assert limited.json() == {"error": {"message": "Rate Limit Exceeded", "code": 2020}}
    assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= set(limited.headers)
    assert "ratelimit-reset" not in bare.headers and "retry-after" not in bare.headers


def test_token_bucket_answers_429_the_vendors_way(sb):
    sb.set_rate_limit("jira", 4, burst=4)
    with client(sb, "jira") as c:
        statuses = [c.get("/rest/api/3/serverInfo") for _ in range(7)]
    codes = [r.status_code for r in statuses]
    assert codes[:4] == [200] * 4 and codes[-1] == 429
    limited = statuses[-1]
    assert limited.headers["Retry-After"] == "1"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["RateLimit-Reason"] == "jira-burst-based"
    time.sleep(0.3)
    with client(sb, "jira") as c:
        assert c.get("/rest/api/3/serverInfo").status_code == 200  # tokens come back


def test_fault_specs_from_the_command_line(sb):
    rule = sb.faults.add_spec("jira:500:rate=0.1,path=/search,retry_after=http-date")
    assert (rule.vendor, rule.kind, rule.rate, rule.path, rule.retry_after) == (
        "jira",
        500,
        0.1,
        "/search",
        "http-date",
    )
    assert sb.faults.add_spec("notion:timeout:delay=2.5,count=1").delay == 2.5
    assert sb.faults.add_spec("notion:timeout:after=true").after is True
    lost = sb.faults.add_spec("jira:lost:method=POST,path=/issue$")
    assert (lost.kind, lost.method, lost.after) == ("lost", "POST", False)
    for bad in (
        "jira",
        "asana:500",
        "jira:418x",
        "jira:500:rate=2",
        "jira:500:colour=red",
        "jira:reset:after=1",
        "jira:timeout:after=maybe",
    ):
        with pytest.raises(ValueError):
            sb.faults.add_spec(bad)
    sb.faults.clear("jira")
    assert [r.vendor for r in sb.faults.rules] == ["notion", "notion"]
