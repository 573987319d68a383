"""The fake Jira Cloud, driven through the real ``jira`` client over HTTPS.

Pins what relais depends on: Cloud detection, token paging without gaps or
repeats, JQL dates read in the API user's time zone at minute precision, the
410 on the removed search, error bodies, write validation, changelog, and the
eventual consistency knob.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from jira import JIRAError

from sandbox import Sandbox
from sandbox.testing import http_client, jira_client
from sandbox.timeutil import UTC

START = datetime(2026, 11, 20, 9, 30, 42, 500000, tzinfo=UTC)  # 10:30:42 in Paris


@pytest.fixture
def raw(sb: Sandbox) -> Iterator[httpx.Client]:
    with http_client(sb, "jira") as client:
        yield client


def search_all(jira: Any, jql: str, page_size: int, fields: list[str]) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = []
    token = None
    for _ in range(1000):
        page = jira.enhanced_search_issues(
            jql, nextPageToken=token, maxResults=page_size, fields=fields, json_result=True
        )
        assert "total" not in page
        issues += page["issues"]
        token = page.get("nextPageToken")
        assert page["isLast"] is (token is None)
        if token is None:
            return issues
    raise AssertionError("search never reached its last page")


def test_jql_or_and_and_combine_as_jira_reads_them(jira):
    def keys(jql: str) -> set[str]:
        return {i["key"] for i in search_all(jira, jql, 100, ["issuetype"])}

    pay, core, bugs = keys("project = PAY"), keys("project = CORE"), keys("issuetype = Bug")
    assert pay and core and bugs & pay and bugs - pay  # each side has issues the other lacks
    assert keys("project = PAY OR project = CORE") == pay | core
    assert keys("project = PAY AND issuetype = Bug") == pay & bugs
    # AND binds tighter than OR
    assert keys("project = CORE OR project = PAY AND issuetype = Bug") == core | (pay & bugs)


def test_server_info_says_cloud_so_the_client_takes_its_cloud_paths(jira):
    assert jira.deploymentType == "Cloud"
    assert jira.myself()["timeZone"] == "Europe/Paris"


def test_search_pages_through_every_issue_once(sb, jira):
    issues = search_all(
        jira,
        "project in (PAY, CORE, SUP) ORDER BY updated ASC, id ASC",
        7,
        ["summary", "updated", "Work type"],
    )
    keys = [i["key"] for i in issues]
    assert len(keys) == len(set(keys)) == len(sb.jira.keys()) == 60 + 6  # the teams' issues and their epics
    stamps = [i["fields"]["updated"] for i in issues]
    assert stamps == sorted(stamps, key=lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z"))
    # the client translated the field name "Work type" to its id via GET /field
    assert all(set(i["fields"]) == {"summary", "updated", "customfield_10050"} for i in issues)


def test_search_defaults_to_ids_only(raw):
    body = raw.get("/rest/api/3/search/jql", params={"jql": "project = PAY", "maxResults": 3}).json()
    assert body["isLast"] is False and body["nextPageToken"]
    assert all("fields" not in issue and issue["id"].isdigit() for issue in body["issues"])


def test_jql_dates_are_read_in_the_api_users_time_zone(sb, jira, clock):
    sb.jira.edit_issue("PAY-3", {"summary": "touched at 09:30:42Z"})  # 10:30 in Paris
    key = "key = PAY-3 AND "

    def hits(jql: str) -> int:
        return len(
            jira.enhanced_search_issues(key + jql, maxResults=5, fields=["updated"], json_result=True)[
                "issues"
            ]
        )

    assert hits('updated >= "2026-11-20 10:30"') == 1
    assert hits('updated >= "2026-11-20 10:31"') == 0
    # a client that forgets the zone and sends UTC wall time gets a wider window, not this issue's minute
    assert hits('updated >= "2026-11-20 09:31"') == 1
    assert hits('updated >= "2026/11/20 10:30" AND updated < "2026-11-20 10:31"') == 1
    assert sb.jira.get_issue("PAY-3")["fields"]["updated"] == "2026-11-20T10:30:42.500+0100"


@pytest.mark.parametrize(
    "jql, message",
    [
        ("order by key", "Unbounded JQL queries are not allowed here"),
        ("", "Unbounded JQL queries are not allowed here"),
        (
            'updated >= "2026-11-20 10:30:15"',
            "Date value '2026-11-20 10:30:15' for field 'updated' is invalid",
        ),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("colour = red", "Field 'colour' does not exist"),
        ("project = PAY AND (", "Error in the JQL Query"),
    ],
)
def test_bad_jql_is_a_400_error_collection(raw, jql, message):
    r = raw.get("/rest/api/3/search/jql", params={"jql": jql})
    assert r.status_code == 400
    body = r.json()
    assert body["errors"] == {} and message in body["errorMessages"][0]


def test_the_removed_search_endpoint_answers_410(raw, jira):
    for method in ("GET", "POST"):
        r = raw.request(method, "/rest/api/3/search", params={"jql": "project = PAY"})
        assert r.status_code == 410
        assert r.json()["errorMessages"][0].startswith("The requested API has been removed.")
    with pytest.raises(JIRAError):  # the client's own fallback for startAt > 0 hits it too
        jira.search_issues("project = PAY", startAt=5)


def test_wrong_token_is_401_with_an_error_collection(sb):
    with http_client(sb, "jira", token="nope") as c:
        r = c.get("/rest/api/3/myself")
    assert r.status_code == 401
    assert r.json() == {
        "errorMessages": ["Client must be authenticated to access this resource."],
        "errors": {},
    }


def test_work_type_write_is_validated_logged_and_bumps_updated(sb, jira, clock):
    clock.advance(minutes=2)
    issue = jira.issue("CORE-2")
    issue.update(fields={"customfield_10050": {"value": "IMPROVE"}})
    raw = sb.jira.get_issue("CORE-2")
    assert raw["fields"]["customfield_10050"]["value"] == "IMPROVE"
    assert raw["fields"]["updated"] == "2026-11-20T10:32:42.500+0100"
    history = raw["changelog"]["histories"][0]
    assert history["author"]["accountId"] == sb.org.bot.jira_account_id
    assert (
        history["items"][0]["fieldId"] == "customfield_10050" and history["items"][0]["toString"] == "IMPROVE"
    )

    with pytest.raises(JIRAError) as bad:
        issue.update(fields={"customfield_10050": {"value": "SOMETIMES"}})
    assert bad.value.status_code == 400
    assert bad.value.response.json() == {
        "errorMessages": [],
        "errors": {"customfield_10050": "Option value 'SOMETIMES' is not valid"},
    }

    clock.advance(minutes=1)
    issue.update(fields={"customfield_10050": {"id": "10102"}})  # same value: still bumps updated, like Jira
    after = sb.jira.get_issue("CORE-2")
    assert after["fields"]["updated"] == "2026-11-20T10:33:42.500+0100"
    assert len(after["changelog"]["histories"]) == 1


def test_labels_update_operations_and_unknown_fields(sb, raw):
    r = raw.put(
        "/rest/api/3/issue/SUP-1", json={"update": {"labels": [{"add": "ops"}, {"remove": "customer"}]}}
    )
    assert r.status_code == 204
    assert "ops" in sb.jira.get_issue("SUP-1")["fields"]["labels"]
    r = raw.put(
        "/rest/api/3/issue/SUP-1", json={"fields": {"status": {"name": "Done"}, "customfield_99999": 1}}
    )
    assert r.status_code == 400
    assert set(r.json()["errors"]) == {"status", "customfield_99999"}


def test_search_lag_hides_issues_updated_in_the_last_seconds(sb, jira, clock):
    sb.jira.search_lag_seconds = 30
    sb.jira.edit_issue("PAY-4", {"labels": ["fresh"]})
    jql = "key = PAY-4"
    assert jira.enhanced_search_issues(jql, fields=["labels"], json_result=True)["issues"] == []
    assert jira.issue("PAY-4").fields.labels == ["fresh"]  # direct reads are consistent
    issue_id = sb.jira.get_issue("PAY-4")["id"]
    reconciled = jira.enhanced_search_issues(
        jql, fields=["labels"], reconcileIssues=[int(issue_id)], json_result=True
    )
    assert [i["key"] for i in reconciled["issues"]] == ["PAY-4"]
    clock.advance(seconds=31)
    assert len(jira.enhanced_search_issues(jql, fields=["labels"], json_result=True)["issues"]) == 1


def test_concurrent_clients_read_and_write_safely(sb):
    errors: list[BaseException] = []

    def work(n: int) -> None:
        client = jira_client(sb)
        try:
            for i in range(5):
                client.issue(f"PAY-{n + 1}").update(fields={"labels": [f"thread-{n}", f"round-{i}"]})
                search_all(client, "project = PAY ORDER BY id ASC", 10, ["labels"])
        except BaseException as exc:  # collected and re-raised below
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert [sb.jira.get_issue(f"PAY-{n + 1}")["fields"]["labels"] for n in range(6)] == [
        [f"thread-{n}", "round-4"] for n in range(6)
    ]


def test_editing_status_by_hand_sets_the_resolution_date(sb, clock):
    key = next(k for k in sb.jira if sb.jira.get_record(k)["status"] != "Done")
    sb.jira.edit_issue(key, {"status": "Done"})
    fields = sb.jira.get_issue(key)["fields"]
    assert fields["status"]["statusCategory"]["key"] == "done"
    assert fields["resolutiondate"] == fields["updated"]


def test_create_issue_returns_its_id_and_key(sb, jira):
    created = jira.create_issue(
        fields={
            "project": {"key": "PAY"},
            "issuetype": {"id": "10002"},
            "summary": "Rotate the webhook secret",
        },
        prefetch=False,
    )
    assert created.key == "PAY-22"  # after PAY's 19 seeded issues and its epics PAY-20 and PAY-21
    assert sb.jira.get_issue("PAY-22")["fields"]["reporter"]["accountId"] == sb.org.bot.jira_account_id
    with pytest.raises(JIRAError) as bad:
        jira.create_issue(fields={"project": {"key": "PAY"}, "issuetype": {"id": "10002"}}, prefetch=False)
    assert bad.value.response.json()["errors"] == {"summary": "You must specify a summary of the issue."}


# --------------------------------------------------------------- worklogs (issue 3: effort per week)
def _busiest(sb: Sandbox) -> str:
    return max(sb.jira.keys(), key=lambda k: len(sb.jira.get_record(k)["worklogs"]))


def test_worklogs_page_through_the_issue_worklog_list(sb, jira):
    key = _busiest(sb)
    stored = sb.jira.get_record(key)["worklogs"]
    assert len(stored) > 20
    everything = jira.worklogs(key)  # GET /issue/{key}/worklog, maxResults defaults to 5000: one page
    assert [w.id for w in everything] == [w["id"] for w in stored]
    first = everything[0]
    assert first.timeSpentSeconds % 900 == 0 and first.issueId == sb.jira.get_issue(key)["id"]
    assert first.author.accountId in {
        p.jira_account_id
        for p in sb.org.members(next(t.slug for t in sb.org.teams if t.project_key == key.split("-")[0]))
    }
    paged: list[str] = []
    while True:  # the way relais completes an issue's worklogs after search
        page = jira._get_json(f"issue/{key}/worklog", params={"startAt": len(paged), "maxResults": 8})
        assert page["total"] == len(stored) and page["maxResults"] == 8
        paged += [w["id"] for w in page["worklogs"]]
        if not page["worklogs"] or len(paged) >= page["total"]:
            break
    assert paged == [w.id for w in everything]
    started = [w["started"] for w in stored]
    middle = int(started[len(started) // 2].timestamp() * 1000)
    later = jira._get_json(f"issue/{key}/worklog", params={"startedAfter": middle})
    assert later["total"] == sum(1 for s in started if s.timestamp() * 1000 >= middle)


def test_search_embeds_the_first_20_worklogs_only_when_asked(sb, jira):
    key = _busiest(sb)
    total = len(sb.jira.get_record(key)["worklogs"])
    hit = jira.enhanced_search_issues(f"key = {key}", fields=["summary", "worklog"], json_result=True)[
        "issues"
    ][0]
    embedded = hit["fields"]["worklog"]
    assert (embedded["startAt"], embedded["maxResults"], embedded["total"]) == (0, 20, total)
    assert [w["id"] for w in embedded["worklogs"]] == [w.id for w in jira.worklogs(key)][:20]
    assert all(re.fullmatch(r"\d+h( (15|30|45)m)?|(15|30|45)m", w["timeSpent"]) for w in embedded["worklogs"])
    navigable = jira.enhanced_search_issues(f"key = {key}", fields=["*navigable"], json_result=True)[
        "issues"
    ][0]
    assert "worklog" not in navigable["fields"] and "summary" in navigable["fields"]
    everything = jira.enhanced_search_issues(f"key = {key}", fields=["*all"], json_result=True)["issues"][0]
    assert everything["fields"]["worklog"]["total"] == total
    assert jira.issue(key).raw["fields"]["worklog"]["total"] == total  # GET issue: *all by default


def test_adding_a_worklog_bumps_updated_and_records_the_change(sb, jira, clock):
    key = next(k for k in sb.jira if not sb.jira.get_record(k)["worklogs"])
    clock.advance(minutes=5)
    started = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)
    worklog = sb.jira.add_worklog(key, 5400, started)
    assert (worklog["timeSpent"], worklog["timeSpentSeconds"]) == ("1h 30m", 5400)
    assert worklog["started"] == "2026-11-19T15:00:00.000+0100"
    assert (
        worklog["author"]["accountId"]
        == sb.org.person(
            next(t.pm for t in sb.org.teams if t.project_key == key.split("-")[0])
        ).jira_account_id
    )
    issue = jira.issue(key, expand="changelog")
    assert issue.fields.updated == "2026-11-20T10:35:42.500+0100"
    assert [w.id for w in jira.worklogs(key)] == [worklog["id"]]
    items = issue.raw["changelog"]["histories"][0]["items"]
    assert [(i["field"], i["toString"]) for i in items] == [
        ("timespent", "5400"),
        ("WorklogId", worklog["id"]),
    ]
    with pytest.raises(ValueError):
        sb.jira.add_worklog(key, 30, started)
