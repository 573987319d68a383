"""The sandbox's Jira Cloud held to Atlassian's own material, every endpoint relais uses, over real HTTPS
(how each call is checked, and what a failure means: tests/conformance_support.py)."""

from __future__ import annotations

import copy
import re
import ssl
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

# The shared fixtures (its __all__): pytest finds a fixture by its name in the module.
from conformance_support import *  # noqa: F403
from conformance_support import (
    JIRA_FIELDS,
    JIRA_ISSUE_FIELD_IGNORE,
    body_of,
    call,
    conforms,
    error_conforms,
    fail_if_problems,
    jira_component,
    jira_field_values,
    jira_schema_problems,
    jira_search_checks,
    oa,
    search_checked,
    vendor_client,
)

from sandbox import Sandbox


def test_jira_server_info(jira):
    r = call(jira, "GET", "/rest/api/3/serverInfo", 200)
    # "displayUrl*" are instance-specific (custom domains, linked Confluence / Service
    # Management); not every Cloud site has them.
    site_urls = ("displayUrl", "displayUrlConfluence", "displayUrlServicedeskHelpCenter")
    body = conforms("jira", r, example_ignore=site_urls)
    assert body["deploymentType"] == "Cloud"


def test_jira_myself(jira):
    r = call(jira, "GET", "/rest/api/3/myself", 200)
    # The spec marks User.key/name "no longer available" (GDPR user-privacy migration); real
    # Cloud responses do not carry them.
    body = conforms("jira", r, example_ignore=("key", "name"))
    assert body.get("timeZone"), "relais reads the API user's timeZone for JQL dates"
    assert body.get("accountId")


def test_jira_fields(jira):
    r = call(jira, "GET", "/rest/api/3/field", 200)
    # Every field against the example's keys, except `schema`: real Jira omits it for
    # fields without a value type (issuekey, thumbnail); custom fields are checked below.
    body = conforms("jira", r, example_ignore=("schema",), all_items=True)
    assert isinstance(body, list) and body
    problems = []
    for i, f in enumerate(body):
        if "key" not in f:
            problems.append(f"/{i}/key: missing ({f.get('id')})")
        if f.get("custom"):
            if not re.fullmatch(r"customfield_\d+", str(f.get("id", ""))):
                problems.append(f"/{i}/id: custom field id {f.get('id')!r} is not customfield_NNNNN")
            schema = f.get("schema") or {}
            for key in ("type", "custom", "customId"):
                if key not in schema:
                    problems.append(
                        f"/{i}/schema/{key}: missing on custom field {f.get('id')} "
                        "(real custom fields carry type, custom plugin key, customId)"
                    )
            if (
                f.get("clauseNames")
                and f"cf[{str(f.get('id', '')).rpartition('_')[2]}]" not in f["clauseNames"]
            ):
                problems.append(f"/{i}/clauseNames: {f['clauseNames']!r} lacks the cf[NNNNN] clause name")
    fail_if_problems(r, problems)


def test_jira_search_jql_get_and_next_page(jira, jira_project):
    jql = f"project = {jira_project} ORDER BY updated ASC, id ASC"
    params = {"jql": jql, "maxResults": 3, "fields": ",".join(JIRA_FIELDS)}
    r = call(jira, "GET", "/rest/api/3/search/jql", 200, params=params)
    first = jira_search_checks(r, JIRA_FIELDS)
    assert len(first["issues"]) == 3 and first.get("isLast") is False and first.get("nextPageToken")
    r = call(
        jira, "GET", "/rest/api/3/search/jql", 200, params={**params, "nextPageToken": first["nextPageToken"]}
    )
    second = jira_search_checks(r, JIRA_FIELDS)
    assert second["issues"], "second page is empty"
    assert not {i["id"] for i in first["issues"]} & {i["id"] for i in second["issues"]}, "pages overlap"


def test_jira_search_jql_post_pages_to_the_end(jira, jira_project):
    body = {
        "jql": f"project = {jira_project} ORDER BY updated ASC, id ASC",
        "maxResults": 50,
        "fields": JIRA_FIELDS,
    }
    seen: list[str] = []
    token = None
    for _ in range(50):
        r = call(
            jira,
            "POST",
            "/rest/api/3/search/jql",
            200,
            json={**body, **({"nextPageToken": token} if token else {})},
        )
        page = jira_search_checks(r, JIRA_FIELDS)
        seen += [i["id"] for i in page["issues"]]
        token = page.get("nextPageToken")
        if page.get("isLast") or not token:
            break
    assert page.get("isLast") is True
    assert len(seen) == len(set(seen))


def test_jira_approximate_count(jira, jira_project):
    # POST /search/approximate-count (countIssues): JQLCountRequestBean in, JQLCountResultsBean
    # out; relais asks it before a full read, to show how far the read is. The sandbox's count is
    # exact: the issues the same JQL's search lists.
    jql = f"project = {jira_project}"
    r = call(jira, "POST", "/rest/api/3/search/approximate-count", 200, json={"jql": jql})
    body = conforms("jira", r)
    listed = 0
    token = None
    for _ in range(100):
        page = body_of(
            call(
                jira,
                "POST",
                "/rest/api/3/search/jql",
                200,
                json={
                    "jql": jql,
                    "maxResults": 100,
                    "fields": ["id"],
                    **({"nextPageToken": token} if token else {}),
                },
            )
        )
        listed += len(page["issues"])
        token = page.get("nextPageToken")
        if not token or page.get("isLast"):
            break
    assert set(body) == {"count"} and body["count"] == listed > 0
    # 400: JQL that cannot be parsed (the spec gives no body schema; Jira's ErrorCollection)
    r = call(jira, "POST", "/rest/api/3/search/approximate-count", 400, json={"jql": "project = = ("})
    error_conforms("jira", r)


def test_jira_search_jql_without_fields_returns_ids_only(jira, jira_project):
    # Real /search/jql defaults `fields` to "id" (unlike the removed /search).
    r = call(
        jira,
        "GET",
        "/rest/api/3/search/jql",
        200,
        params={"jql": f"project = {jira_project}", "maxResults": 2},
    )
    body = conforms("jira", r)
    for issue in body["issues"]:
        assert set(issue.get("fields", {})) <= {"id"}, issue


def _work_type_field(jira, name: str) -> tuple[str, str]:
    fields = body_of(call(jira, "GET", "/rest/api/3/field", 200))
    options = [
        f
        for f in fields
        if f.get("custom") and (f.get("schema") or {}).get("type") == "option" and f.get("name") == name
    ]
    assert len(options) == 1, f"expected one custom single-select field named {name!r} (relais writes it)"
    return options[0]["id"], options[0]["name"]


@pytest.fixture(scope="module")
def jira_issue_key(jira, jira_project) -> str:
    r = call(
        jira,
        "GET",
        "/rest/api/3/search/jql",
        200,
        params={"jql": f"project = {jira_project} ORDER BY key ASC", "maxResults": 1, "fields": "summary"},
    )
    return body_of(r)["issues"][0]["key"]


def test_jira_get_issue(jira, jira_issue_key):
    r = call(
        jira, "GET", f"/rest/api/3/issue/{jira_issue_key}", 200, params={"fields": ",".join(JIRA_FIELDS)}
    )
    body = conforms("jira", r, example_ignore=tuple("/fields/" + k for k in JIRA_ISSUE_FIELD_IGNORE))
    fail_if_problems(r, jira_field_values(body))
    assert body["key"] == jira_issue_key


def test_jira_put_issue_then_bad_option(jira, jira_issue_key, relais_config):
    fid, fname = _work_type_field(jira, relais_config["writeback"]["jira"]["work_type"]["field"])
    before = body_of(
        call(jira, "GET", f"/rest/api/3/issue/{jira_issue_key}", 200, params={"fields": f"{fid},updated"})
    )
    current = (before["fields"].get(fid) or {}).get("value")
    value = next(v for v in _jira_allowed_values(jira, jira_issue_key, fid) if v != current)
    r = call(
        jira, "PUT", f"/rest/api/3/issue/{jira_issue_key}", 204, json={"fields": {fid: {"value": value}}}
    )
    assert not r.content, "204 must have an empty body"
    conforms("jira", r)
    got = body_of(
        call(jira, "GET", f"/rest/api/3/issue/{jira_issue_key}", 200, params={"fields": f"{fid},updated"})
    )
    assert (got["fields"].get(fid) or {}).get("value") == value
    # relais' watermark is fields.updated: an edit must move it forward
    assert _jira_time(got["fields"]["updated"]) > _jira_time(before["fields"]["updated"]), (before, got)
    option = got["fields"][fid]
    problems = [
        f"/fields/{fid}/{k}: missing (real option values carry self/value/id)"
        for k in ("self", "value", "id")
        if k not in option
    ]
    fail_if_problems(r, problems)

    # 400: an option that does not exist. The spec documents 400 with NO body
    # schema; real Jira answers with an ErrorCollection keyed by the field id.
    r = call(
        jira,
        "PUT",
        f"/rest/api/3/issue/{jira_issue_key}",
        400,
        json={"fields": {fid: {"value": "No such option " + uuid.uuid4().hex[:6]}}},
    )
    body = error_conforms("jira", r)
    fail_if_problems(
        r,
        [] if fid in body.get("errors", {}) else [f"/errors/{fid}: missing (real Jira names the bad field)"],
    )


def _jira_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def _jira_allowed_values(jira, key: str, fid: str) -> list[str]:
    """Option values of the work-type field, from values issues already carry (only
    endpoints relais itself uses)."""
    project = key.split("-")[0]
    r = call(
        jira,
        "POST",
        "/rest/api/3/search/jql",
        200,
        json={"jql": f"project = {project}", "maxResults": 100, "fields": [fid]},
    )
    values = sorted({(i["fields"].get(fid) or {}).get("value") for i in body_of(r)["issues"]} - {None})
    assert values, f"no issue in {project} carries a value for {fid}"
    return values


def test_jira_unknown_issue_is_404(jira):
    # Spec: 404 documented without a body schema; real Jira sends an ErrorCollection.
    r = call(jira, "GET", "/rest/api/3/issue/NOPE-99999", 404)
    assert error_conforms("jira", r)["errorMessages"]


def test_jira_wrong_token_is_401(sb, tls):
    with vendor_client(sb, tls, "jira", token="not-the-token") as bad:
        r = call(bad, "GET", "/rest/api/3/myself", 401)
    # The spec documents 401 without a body. Real Jira Cloud still sends one; if it
    # is JSON it is an ErrorCollection (next best check: the vendor error schema).
    if "json" in r.headers.get("content-type", ""):
        error_conforms("jira", r)
    else:
        assert r.text.strip(), "401 without any explanation"


def test_jira_removed_search_is_410(jira):
    # Not in the spec at all: the spec still lists /rest/api/3/search (deprecated,
    # 200/400/401). Atlassian removed it (changelog CHANGE-2046); the live API
    # answers 410 with an ErrorCollection pointing to /search/jql.
    jql = "created >= -30d order by key"
    for method, kw in (("GET", {"params": {"jql": jql}}), ("POST", {"json": {"jql": jql}})):
        r = call(jira, method, "/rest/api/3/search", 410, **kw)
        body = error_conforms("jira", r)
        assert body["errorMessages"], "410 without an errorMessage"


def _worklog_checks(where: str, worklogs: list, issue_id: str) -> list[str]:
    """Each worklog against the spec's Worklog, plus what the schema leaves loose but
    real Jira always does (ADF comment, timestamps in Jira's format, whole minutes)."""
    problems: list[str] = []
    for i, w in enumerate(worklogs):
        at = f"{where}/{i}"
        problems += jira_schema_problems(at, "Worklog", w)
        if w.get("issueId") != issue_id:
            problems.append(f"{at}/issueId: {w.get('issueId')!r}, expected {issue_id!r}")
        for ts in ("created", "updated", "started"):
            if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}", str(w.get(ts))):
                problems.append(f"{at}/{ts}: {w.get(ts)!r} is not Jira's 2021-01-17T12:34:00.000+0000 format")
        seconds = w.get("timeSpentSeconds")
        if not isinstance(seconds, int) or seconds <= 0 or seconds % 60:
            problems.append(f"{at}/timeSpentSeconds: {seconds!r} (Jira logs whole minutes)")
        comment = w.get("comment")
        if comment is not None and not (isinstance(comment, dict) and comment.get("type") == "doc"):
            problems.append(
                f"{at}/comment: API v3 returns Atlassian Document Format, got {str(comment)[:60]!r}"
            )
        if not str(w.get("self", "")).endswith(f"/rest/api/3/issue/{issue_id}/worklog/{w.get('id')}"):
            problems.append(f"{at}/self: {w.get('self')!r}")
    return problems


@pytest.fixture(scope="module")
def jira_busy_issue(jira, jira_project) -> dict:
    """The issue with the most worklogs (found through search, as a client would)."""
    r = call(
        jira,
        "POST",
        "/rest/api/3/search/jql",
        200,
        json={"jql": "created >= -36500d", "maxResults": 100, "fields": ["worklog"]},
    )
    issues = body_of(r)["issues"]
    busiest = max(issues, key=lambda i: i["fields"]["worklog"]["total"])
    assert busiest["fields"]["worklog"]["total"] > 20, "no issue has more worklogs than search embeds"
    return busiest


def test_jira_issue_worklogs(jira, jira_busy_issue):
    issue_id, total = jira_busy_issue["id"], jira_busy_issue["fields"]["worklog"]["total"]
    # The vendor example shows a group-restricted worklog; an unrestricted one (all of
    # the sandbox's) carries no `visibility` in real responses.
    r = call(jira, "GET", f"/rest/api/3/issue/{issue_id}/worklog", 200)
    body = conforms("jira", r, example_ignore=("visibility",), all_items=True)
    fail_if_problems(r, _worklog_checks("/worklogs", body["worklogs"], issue_id))
    assert (body["startAt"], body["maxResults"], body["total"], len(body["worklogs"])) == (
        0,
        5000,
        total,
        total,
    )
    # paged by a client: startAt/maxResults, no overlap, same total
    seen: list[str] = []
    while len(seen) < total:
        r = call(
            jira,
            "GET",
            f"/rest/api/3/issue/{jira_busy_issue['key']}/worklog",
            200,
            params={"startAt": len(seen), "maxResults": 7},
        )
        page = conforms("jira", r, example_ignore=("visibility",), all_items=True)
        assert (page["startAt"], page["maxResults"], page["total"]) == (len(seen), 7, total)
        assert page["worklogs"], "an empty page before the total was reached"
        seen += [w["id"] for w in page["worklogs"]]
    assert seen == [w["id"] for w in body["worklogs"]]
    r = call(jira, "GET", "/rest/api/3/issue/NOPE-99999/worklog", 404)
    assert error_conforms("jira", r)["errorMessages"]


def test_jira_search_and_issue_embed_at_most_20_worklogs(jira, jira_busy_issue):
    requested = ["summary", "project", "updated", "worklog"]
    r, body = search_checked(jira, f"key = {jira_busy_issue['key']}", requested)
    issue = body["issues"][0]
    # IssueBean.fields is free-form in the spec: the embedded value is a PageOfWorklogs.
    embedded = issue["fields"]["worklog"]
    problems = jira_schema_problems("/issues/0/fields/worklog", "PageOfWorklogs", embedded)
    problems += _worklog_checks("/issues/0/fields/worklog/worklogs", embedded["worklogs"], issue["id"])
    fail_if_problems(r, problems)
    assert (embedded["startAt"], embedded["maxResults"], len(embedded["worklogs"])) == (0, 20, 20)
    assert embedded["total"] == jira_busy_issue["fields"]["worklog"]["total"] > 20
    r = call(
        jira, "GET", f"/rest/api/3/issue/{issue['key']}", 200, params={"fields": "project,worklog,updated"}
    )
    single = conforms("jira", r, example_ignore=tuple("/fields/" + k for k in JIRA_ISSUE_FIELD_IGNORE))
    assert single["fields"]["worklog"] == embedded


# --------------------------------------------------------------- routing fields (relais' routing issue)

_ROUTING_FIELDS = {
    "Product Manager": ("user", "userpicker"),
    "Team": ("option", "select"),
    "Briefing link": ("string", "url"),
}


def _routing_field_ids(jira) -> dict[str, str]:
    fields = body_of(call(jira, "GET", "/rest/api/3/field", 200))
    return {f["name"]: f["id"] for f in fields if f.get("custom") and f.get("name") in _ROUTING_FIELDS}


def test_jira_fields_list_the_routing_fields(sb, jira):
    r = call(jira, "GET", "/rest/api/3/field", 200)
    body = conforms("jira", r, example_ignore=("schema",), all_items=True)
    by_name = {f["name"]: f for f in body if f.get("custom")}
    problems = []
    for name, (kind, plugin) in _ROUTING_FIELDS.items():
        f = by_name.get(name)
        if f is None:
            problems.append(
                f"/{name}: no custom field of that name (relais finds its write-back fields by name)"
            )
            continue
        schema = f.get("schema") or {}
        if (
            schema.get("type") != kind
            or schema.get("custom") != f"com.atlassian.jira.plugin.system.customfieldtypes:{plugin}"
        ):
            problems.append(f"/{name}/schema: {schema!r}, expected type {kind!r}, plugin {plugin!r}")
        if (
            f"cf[{schema.get('customId')}]" not in f.get("clauseNames", [])
            or f["id"] != f"customfield_{schema.get('customId')}"
        ):
            problems.append(
                f"/{name}: id {f['id']!r}, customId {schema.get('customId')!r}, clauses {f.get('clauseNames')!r}"
            )
    fail_if_problems(r, problems)
    writeback = sb.config("unused-state.db", routing=True)["writeback"]["jira"]
    assert {writeback["pm"]["field"], writeback["team"]["field"]} <= set(by_name), writeback


def test_jira_search_with_the_routing_fields(sb, jira):
    ids = _routing_field_ids(jira)
    key = sb.jira.routing_plan.unowned[0]
    pm = sb.org.person("alice")
    link = "https://app.notion.com/p/Instant-refunds-42d7176f158f4b6fa0376a6bdf0448d4"
    r = call(
        jira,
        "PUT",
        f"/rest/api/3/issue/{key}",
        204,
        json={
            "fields": {
                ids["Product Manager"]: {"accountId": pm.jira_account_id},
                ids["Team"]: {"value": "payments"},
                ids["Briefing link"]: link,
            }
        },
    )
    conforms("jira", r)
    requested = ["summary", "project", "updated", *ids.values()]
    r, body = search_checked(
        jira, f"key in ({key}, {sb.jira.routing_plan.unowned[1]}) ORDER BY key ASC", requested
    )
    issue = next(i for i in body["issues"] if i["key"] == key)
    f = issue["fields"]
    where = f"/issues/{key}/fields"
    # IssueBean.fields is free-form: a user-picker value is the spec's User, an option carries self/value/id.
    problems = jira_schema_problems(f"{where}/{ids['Product Manager']}", "User", f[ids["Product Manager"]])
    user = f[ids["Product Manager"]] or {}
    if (user.get("accountId"), user.get("displayName"), user.get("active")) != (
        pm.jira_account_id,
        pm.name,
        True,
    ):
        problems.append(f"{where}/{ids['Product Manager']}: {user!r}")
    option = f[ids["Team"]] or {}
    if set(option) != {"self", "value", "id"} or option.get("value") != "payments":
        problems.append(f"{where}/{ids['Team']}: {option!r} (an option value carries self/value/id)")
    if f[ids["Briefing link"]] != link:
        problems.append(
            f"{where}/{ids['Briefing link']}: {f[ids['Briefing link']]!r} (a URL field is a string)"
        )
    other = next(i for i in body["issues"] if i["key"] != key)["fields"]
    if any(other[fid] is not None for fid in ids.values()):
        problems.append(
            f"/issues/{sb.jira.routing_plan.unowned[1]}/fields: empty fields must be null: {other!r}"
        )
    fail_if_problems(r, problems)

    # 400: a user that does not exist. The spec documents 400 without a body schema;
    # real Jira answers with an ErrorCollection naming the field.
    r = call(
        jira,
        "PUT",
        f"/rest/api/3/issue/{key}",
        400,
        json={"fields": {ids["Product Manager"]: {"accountId": "5b10ac8d" + "0" * 16}}},
    )
    body = error_conforms("jira", r)
    fail_if_problems(
        r, [] if ids["Product Manager"] in body.get("errors", {}) else ["/errors: the bad field is not named"]
    )


def test_jira_changelog_of_a_team_a_person_set(sb, jira):
    key = sb.jira.routing_plan.human_team
    r = call(jira, "GET", f"/rest/api/3/issue/{key}/changelog", 200)
    body = body_of(r)
    problems = _changelog_checks(key, body)
    team = [item for h in body["values"] for item in h["items"] if item.get("field") == "Team"]
    if [(t["fieldtype"], t["toString"]) for t in team] != [("custom", "support")]:
        problems.append(f"/values/*/items: {team!r}, expected one custom Team item set to support")
    if body["values"] and body["values"][0]["author"]["accountId"] != sb.org.person("farid").jira_account_id:
        problems.append("/values/0/author: not the person who set the team")
    fail_if_problems(r, problems)


def _changelog_checks(key: str, body: dict) -> list[str]:
    # The spec types ChangeDetails.from/to/fromString/toString as plain strings, but its own
    # example for this operation has "from": null and "to": null, and real Jira sends null
    # for a field that had no value (Team or Product Manager before a person set it). Next best check:
    # the body against PageBeanChangelog with those null values left out, the nulls
    # allowed only there, and the key set against the example.
    stripped = copy.deepcopy(body)
    problems = []
    for i, history in enumerate(stripped.get("values", [])):
        for j, item in enumerate(history.get("items", [])):
            for k in [k for k, v in item.items() if v is None]:
                if k not in ("from", "fromString", "to", "toString"):
                    problems.append(f"/values/{i}/items/{j}/{k}: null")
                del item[k]
    problems += oa.validate_against(jira_component("PageBeanChangelog"), stripped)
    example = oa.example_for("jira", "GET", f"/rest/api/3/issue/{key}/changelog", 200)
    assert example is not None
    problems += [
        f"{p}: missing (the vendor's example has it)"
        for p in oa.missing_keys(example, body, ("nextPage",), all_items=True)
    ]
    for i, history in enumerate(body["values"]):
        problems += jira_schema_problems(f"/values/{i}/author", "UserDetails", history["author"])
    return problems


# --------------------------------------------------------------- feedback issues (relais' feedback_jql)

_FEEDBACK_FIELDS = {
    "Origin": ("option", "select"),
    "Customer": ("string", "textfield"),
    "Tier": ("option", "select"),
    "Area": ("option", "select"),
}


def test_jira_fields_list_the_feedback_fields(jira):
    r = call(jira, "GET", "/rest/api/3/field", 200)
    body = conforms("jira", r, example_ignore=("schema",), all_items=True)
    problems = []
    for name, (kind, plugin) in _FEEDBACK_FIELDS.items():
        named = [f for f in body if f.get("name") == name]
        if len(named) != 1 or not named[0].get("custom"):
            problems.append(
                f"/{name}: {len(named)} fields of that name (relais reads the feedback fields by name)"
            )
            continue
        f, schema = named[0], named[0].get("schema") or {}
        if (schema.get("type"), schema.get("custom")) != (
            kind,
            f"com.atlassian.jira.plugin.system.customfieldtypes:{plugin}",
        ):
            problems.append(f"/{name}/schema: {schema!r}, expected type {kind!r}, plugin {plugin!r}")
        if f"cf[{schema.get('customId')}]" not in f.get("clauseNames", []) or name not in f.get(
            "clauseNames", []
        ):
            problems.append(f"/{name}/clauseNames: {f.get('clauseNames')!r}")
    fail_if_problems(r, problems)


def test_jira_search_feedback_issues_with_their_fields(sb, jira):
    fields = body_of(call(jira, "GET", "/rest/api/3/field", 200))
    ids = {f["name"]: f["id"] for f in fields if f.get("custom") and f.get("name") in _FEEDBACK_FIELDS}
    requested = [*JIRA_FIELDS, *ids.values()]
    # IssueTypeDetails (Feedback), StatusDetails, Priority, ADF…
    r, body = search_checked(jira, "project = FB ORDER BY key ASC", requested, maxResults=100)
    problems = []
    if [i["key"] for i in body["issues"]] != sb.jira.feedback_keys() or not body["issues"]:
        problems.append(
            f"/issues: {[i['key'] for i in body['issues']]!r}, expected {sb.jira.feedback_keys()!r}"
        )
    for issue in body["issues"]:
        f, where = issue["fields"], f"/issues/{issue['key']}/fields"
        if (f["issuetype"]["name"], f["issuetype"].get("hierarchyLevel"), f["issuetype"]["subtask"]) != (
            "Feedback",
            0,
            False,
        ):
            problems.append(f"{where}/issuetype: {f['issuetype']!r}")
        problems += jira_schema_problems(
            f"{where}/project", "ProjectCategory", f["project"]["projectCategory"]
        )
        if f["project"].get("projectTypeKey") not in ("software", "service_desk", "business"):
            problems.append(f"{where}/project/projectTypeKey: {f['project'].get('projectTypeKey')!r}")
        for name, fid in ids.items():
            value = f.get(fid)
            if _FEEDBACK_FIELDS[name][0] == "string":
                if not isinstance(value, str) or not value:
                    problems.append(f"{where}/{fid}: {value!r} (a text field is a string)")
                continue
            # IssueBean.fields is free-form; an option value is the spec's CustomFieldOption (self,
            # value) plus the id real Jira always adds.
            option = dict(value or {})
            option_id = option.pop("id", None)
            problems += jira_schema_problems(f"{where}/{fid}", "CustomFieldOption", option)
            if not (isinstance(option_id, str) and option_id.isdigit() and option.get("value")):
                problems.append(f"{where}/{fid}: {value!r} (an option value carries self/value/id)")
    fail_if_problems(r, problems)


def test_jira_changelog_of_a_pm_a_person_set_on_feedback(sb, jira):
    key = sb.jira.feedback_plan.human_pm
    r = call(jira, "GET", f"/rest/api/3/issue/{key}/changelog", 200)
    body = body_of(r)
    problems = _changelog_checks(key, body)
    items = [item for h in body["values"] for item in h["items"]]
    if [(i["field"], i["fieldtype"], i["from"], i["toString"]) for i in items] != [
        ("Product Manager", "custom", None, sb.org.person("bruno").name)
    ]:
        problems.append(f"/values/*/items: {items!r}, expected one Product Manager item set to bruno")
    if body["values"] and body["values"][0]["author"]["accountId"] != sb.org.person("chloe").jira_account_id:
        problems.append("/values/0/author: not the person who set the PM")
    fail_if_problems(r, problems)


# --------------------------------------------------------------- initiatives (epics, parents, issue links)

# The linked issue's issuetype in the vendor's GET /issueLink example carries `entityId` and `scope`:
# those belong to team-managed projects' issue types; the sandbox's projects are company-managed
# (`simplified: false`), whose types have neither. Its priority carries `description` and
# `statusColor`, which GET /priority returns; inside an issue Jira embeds the short Priority
# (self, iconUrl, name, id), checked against the Priority schema by _linked_issue_checks.
_LINKED_ISSUE_IGNORE = ("entityId", "scope", "description", "statusColor")


def _linked_issue_checks(where: str, linked: dict) -> list[str]:
    problems = jira_schema_problems(where, "LinkedIssue", linked)
    if set(linked) != {"id", "key", "self", "fields"}:
        problems.append(f"{where}: keys {sorted(linked)} (a linked issue shows id, key, self, fields)")
    for name, ref in (
        ("status", "StatusDetails"),
        ("issuetype", "IssueTypeDetails"),
        ("priority", "Priority"),
    ):
        problems += jira_schema_problems(
            f"{where}/fields/{name}", ref, (linked.get("fields") or {}).get(name)
        )
    return problems


def test_jira_search_with_parent_and_issuelinks(sb, jira):
    blocked = sb.jira.epic_plan.role("blocked")
    requested = [*JIRA_FIELDS, "parent", "issuelinks"]
    r, body = search_checked(
        jira, f"key in ({blocked.child}, {blocked.other}, {blocked.epic}) ORDER BY key ASC", requested
    )
    by_key = {i["key"]: i["fields"] for i in body["issues"]}
    problems = []
    if set(by_key) != {blocked.child, blocked.other, blocked.epic}:
        problems.append(f"/issues: {sorted(by_key)}")
    # fields.parent is a LinkedIssue (the epic, one hierarchy level up); an issue without one has no key
    parent = by_key[blocked.child].get("parent") or {}
    problems += _linked_issue_checks(f"/issues/{blocked.child}/fields/parent", parent)
    if (parent.get("key"), (parent.get("fields") or {}).get("issuetype", {}).get("hierarchyLevel")) != (
        blocked.epic,
        1,
    ):
        problems.append(
            f"/issues/{blocked.child}/fields/parent: {parent.get('key')!r}, not the epic {blocked.epic}"
        )
    if "parent" in by_key[blocked.epic]:
        problems.append(
            f"/issues/{blocked.epic}/fields/parent: present on an issue without parent (Jira omits it)"
        )
    # IssueLink requires both ends, yet an issue's own links carry only the other end, named from
    # this issue's side — as the spec's own IssueBean examples show (one `outwardIssue`, one
    # `inwardIssue`). Next best check: the schema with the missing end filled by the present one,
    # exactly one end, and each end a LinkedIssue.
    for key, end in ((blocked.child, "inwardIssue"), (blocked.other, "outwardIssue")):
        links = by_key[key]["issuelinks"]
        where = f"/issues/{key}/fields/issuelinks"
        if [link.get(end, {}).get("key") for link in links] != [
            blocked.other if end == "inwardIssue" else blocked.child
        ]:
            problems.append(f"{where}: {links!r}, expected one link with {end}")
            continue
        link = links[0]
        other_end = "outwardIssue" if end == "inwardIssue" else "inwardIssue"
        if other_end in link:
            problems.append(f"{where}/0/{other_end}: present (an issue's links show only the other end)")
        problems += jira_schema_problems(f"{where}/0", "IssueLink", {**link, other_end: link[end]})
        problems += _linked_issue_checks(f"{where}/0/{end}", link[end])
        if not (
            str(link.get("id", "")).isdigit()
            and str(link.get("self", "")).endswith(f"/issueLink/{link['id']}")
        ):
            problems.append(f"{where}/0: id/self {link.get('id')!r} {link.get('self')!r}")
    fail_if_problems(r, problems)


def test_jira_issue_link_create_get_delete(jira):
    r = call(jira, "GET", "/rest/api/3/issueLinkType", 200)
    types = conforms("jira", r, example_ignore=(), all_items=True)["issueLinkTypes"]
    by_name = {t["name"]: t for t in types}
    fail_if_problems(
        r,
        []
        if (
            by_name["Blocks"]["id"],
            by_name["Blocks"]["inward"],
            by_name["Blocks"]["outward"],
            by_name["Relates"]["id"],
        )
        == ("10000", "is blocked by", "blocks", "10003")
        else [f"/issueLinkTypes: {types!r} (Jira Cloud's Blocks 10000 and Relates 10003)"],
    )
    # 201 with an empty body: the spec says it "returns nothing"; its {} schema accepts no body
    r = call(
        jira,
        "POST",
        "/rest/api/3/issueLink",
        201,
        json={"type": {"name": "Blocks"}, "inwardIssue": {"key": "CORE-4"}, "outwardIssue": {"key": "PAY-6"}},
    )
    conforms("jira", r)
    assert not r.content, "the spec: this resource returns nothing on the creation of an issue link"
    links = body_of(call(jira, "GET", "/rest/api/3/issue/PAY-6", 200, params={"fields": "issuelinks"}))
    link_id = next(
        l["id"] for l in links["fields"]["issuelinks"] if l.get("inwardIssue", {}).get("key") == "CORE-4"
    )
    r = call(jira, "GET", f"/rest/api/3/issueLink/{link_id}", 200)
    body = conforms("jira", r, example_ignore=_LINKED_ISSUE_IGNORE)
    problems = _linked_issue_checks("/inwardIssue", body["inwardIssue"])
    problems += _linked_issue_checks("/outwardIssue", body["outwardIssue"])
    if (body["inwardIssue"]["key"], body["outwardIssue"]["key"], body["type"]["name"]) != (
        "CORE-4",
        "PAY-6",
        "Blocks",
    ):
        problems.append(
            f"/: {body['inwardIssue']['key']} → {body['outwardIssue']['key']}, posted CORE-4 → PAY-6"
        )
    fail_if_problems(r, problems)
    r = call(jira, "DELETE", f"/rest/api/3/issueLink/{link_id}", 204)
    conforms("jira", r)
    # 404s: the spec documents them without a body; real Jira sends an ErrorCollection
    assert error_conforms("jira", call(jira, "GET", f"/rest/api/3/issueLink/{link_id}", 404))["errorMessages"]
    r = call(
        jira,
        "POST",
        "/rest/api/3/issueLink",
        404,
        json={
            "type": {"name": "Depends"},
            "inwardIssue": {"key": "CORE-4"},
            "outwardIssue": {"key": "PAY-6"},
        },
    )
    assert error_conforms("jira", r)["errorMessages"]


def test_jira_create_issue_answer(jira):
    def create_task(expect: int, **fields: Any) -> httpx.Response:
        body = {"fields": {"project": {"key": "CORE"}, "issuetype": {"name": "Task"}, **fields}}
        return call(jira, "POST", "/rest/api/3/issue", expect, json=body)

    r = create_task(
        201,
        summary="Follow-up: conformance",
        labels=["incident-follow-up"],
        description={
            "type": "doc",
            "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "From incident #1021."}]}],
        },
    )
    # `transition` is in the example because its request asked for one; this one did not.
    body = conforms("jira", r, example_ignore=("transition",))
    problems = [] if set(body) == {"id", "key", "self"} else [f"/: keys {sorted(body)}"]
    if not (
        body["id"].isdigit()
        and body["key"].startswith("CORE-")
        and body["self"].endswith(f"/issue/{body['id']}")
    ):
        problems.append(f"/: {body!r}")
    fail_if_problems(r, problems)
    r = create_task(400, summary="bad health", customfield_10094={"value": "Fine"})
    assert "customfield_10094" in error_conforms("jira", r)["errors"]


def test_jira_fields_list_health_parent_and_issuelinks(jira):
    r = call(jira, "GET", "/rest/api/3/field", 200)
    body = conforms("jira", r, example_ignore=("schema",), all_items=True)
    by_id = {f["id"]: f for f in body}
    problems = []
    health = by_id.get("customfield_10094") or {}
    if (health.get("name"), health.get("schema")) != (
        "Health",
        {
            "type": "option",
            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select",
            "customId": 10094,
        },
    ):
        problems.append(f"/customfield_10094: {health!r}")
    # as Jira Cloud lists them (a recorded /field listing): parent without schema, issuelinks an array
    if {k: by_id.get("parent", {}).get(k) for k in ("name", "custom", "navigable", "clauseNames")} != {
        "name": "Parent",
        "custom": False,
        "navigable": True,
        "clauseNames": ["parent"],
    }:
        problems.append(f"/parent: {by_id.get('parent')!r}")
    if (by_id.get("issuelinks", {}).get("schema") or {}).get("items") != "issuelinks":
        problems.append(f"/issuelinks: {by_id.get('issuelinks')!r}")
    fail_if_problems(r, problems)


# --------------------------------------------------------------- bulk edit (relais' batched writes)

_HEALTH, _HEALTH_CONTEXT = "customfield_10094", "20094"


def test_jira_field_contexts_and_options(jira):
    r = call(jira, "GET", f"/rest/api/3/field/{_HEALTH}/context", 200)
    body = conforms("jira", r, example_ignore=(), all_items=True)
    fail_if_problems(
        r, [] if [c["id"] for c in body["values"]] == [_HEALTH_CONTEXT] else [f"/values: {body['values']!r}"]
    )
    r = call(jira, "GET", f"/rest/api/3/field/{_HEALTH}/context/{_HEALTH_CONTEXT}/option", 200)
    body = conforms("jira", r, example_ignore=(), all_items=True)
    fail_if_problems(
        r,
        []
        if [o["value"] for o in body["values"]] == ["On track", "At risk", "Off track", "Blocked"]
        else [f"/values: {body['values']!r}"],
    )
    r = call(
        jira,
        "GET",
        f"/rest/api/3/field/{_HEALTH}/context/{_HEALTH_CONTEXT}/option",
        200,
        params={"startAt": 1, "maxResults": 2},
    )
    body = conforms("jira", r, example_ignore=(), all_items=True)
    fail_if_problems(
        r,
        []
        if (body["startAt"], body["total"], body["isLast"], len(body["values"])) == (1, 4, False, 2)
        else [f"/: a second page of two out of four, got {body!r}"],
    )
    # 404/400 bodies: the spec's own examples are ErrorCollections, with these very messages
    for path, status in (
        ("/rest/api/3/field/customfield_99999/context", 404),
        (f"/rest/api/3/field/{_HEALTH}/context/20050/option", 404),
        ("/rest/api/3/field/customfield_10016/context/20016/option", 400),
    ):
        r = call(jira, "GET", path, status)
        body = conforms("jira", r, example_ignore=())
        error_conforms("jira", r)
        if status == 400 or path.endswith("/context"):  # the context mismatch has no example of its own
            fail_if_problems(
                r, [] if body == oa.example_for("jira", "GET", path, status) else [f"/: {body!r}"]
            )


def _bulk_payload(keys: list[str], option_id: int) -> dict:
    return {
        "selectedIssueIdsOrKeys": keys,
        "selectedActions": [_HEALTH],
        "sendBulkNotification": False,
        "editedFieldsInput": {
            "singleSelectFields": [{"fieldId": _HEALTH, "option": {"optionId": option_id}}]
        },
    }


def test_jira_bulk_edit_submit_and_progress(sb, jira):
    delay = sb.jira.bulk_delay_seconds
    sb.jira.bulk_delay_seconds = 60
    try:
        r = call(
            jira,
            "POST",
            "/rest/api/3/bulk/issues/fields",
            201,
            json=_bulk_payload(["PAY-7", "FB-2", "NOPE-1"], 10333),
        )
    finally:
        sb.jira.bulk_delay_seconds = delay
    task = conforms("jira", r, example_ignore=())["taskId"]
    fail_if_problems(r, [] if set(body_of(r)) == {"taskId"} else [f"/: {body_of(r)!r} (only a taskId)"])
    r = call(jira, "GET", f"/rest/api/3/bulk/queue/{task}", 200)
    queued = conforms("jira", r)
    fail_if_problems(
        r,
        []
        if queued["status"] in ("ENQUEUED", "RUNNING")
        else [f"/status: {queued['status']} before the delay"],
    )
    sb.jira.run_bulk(task)
    r = call(jira, "GET", f"/rest/api/3/bulk/queue/{task}", 200)
    # the example of a complete task; failedAccessibleIssues is there too (a real site sends {} when none)
    done = conforms("jira", r, example_ignore=())
    problems = (
        []
        if (
            done["status"],
            done["progressPercent"],
            done["invalidOrInaccessibleIssueCount"],
            done["totalIssueCount"],
        )
        == ("COMPLETE", 100, 1, 3)
        else [f"/: {done!r}"]
    )
    if list(done["failedAccessibleIssues"]) != [sb.jira.get_record("FB-2")["id"]]:
        problems.append(
            f"/failedAccessibleIssues: {done['failedAccessibleIssues']!r} (FB-2 cannot take Health)"
        )
    # the check bites: ids as strings or ISO timestamps are what the (corrected) schema refuses
    for key, wrong in (
        ("processedAccessibleIssues", [str(i) for i in done["processedAccessibleIssues"]]),
        ("created", "2026-11-20T10:30:42.500+0100"),
    ):
        if not oa.validate_response("jira", "GET", r.request.url.path, 200, {**done, key: wrong}):
            problems.append(f"/{key}: the schema check accepts {wrong!r}")
    fail_if_problems(r, problems)


def test_jira_bulk_edit_400_403_and_unknown_task(sb, jira):
    # 400: BulkOperationErrorResponse (the spec's schema and example for this operation)
    bad = {**_bulk_payload(["PAY-7"], 10330), "selectedActions": ["priority"]}
    r = call(jira, "POST", "/rest/api/3/bulk/issues/fields", 400, json=bad)
    body = conforms("jira", r, example_ignore=())
    fail_if_problems(
        r,
        []
        if body["errors"][0]["message"].startswith("The following editedFieldInput values are not listed")
        else [f"/errors: {body!r}"],
    )
    # 403: the spec documents none for this operation; its sibling bulk operations document their 403
    # as BulkOperationErrorResponse, and a real site answered this endpoint's 403 in that shape.
    sb.jira.bulk_permission = False
    try:
        r = call(jira, "POST", "/rest/api/3/bulk/issues/fields", 403, json=_bulk_payload(["PAY-7"], 10330))
    finally:
        sb.jira.bulk_permission = True
    assert oa.load_spec("jira").response_schema("POST", "/rest/api/3/bulk/issues/delete", 403) is not None
    body = body_of(r)
    problems = oa.validate_response("jira", "POST", "/rest/api/3/bulk/issues/delete", 403, body)
    fail_if_problems(
        r, problems + ([] if body.get("errors") and body["errors"][0].get("message") else ["/errors: empty"])
    )
    # 404 for a task that does not exist: undocumented; an ErrorCollection like the operation's own example
    r = call(jira, "GET", "/rest/api/3/bulk/queue/99999", 404)
    assert error_conforms("jira", r)["errorMessages"]


# --------------------------------------------------------------- what `relais check --fix` calls
# A sandbox of their own: these tests create fields and options and change screens.

_SELECT = "com.atlassian.jira.plugin.system.customfieldtypes:select"
_SELECT_SEARCHER = "com.atlassian.jira.plugin.system.customfieldtypes:multiselectsearcher"
_CANNOT_SET = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."


@pytest.fixture
def fresh():
    """A sandbox as before relais (Sandbox(fresh=True)) and an httpx client on its Jira."""
    with Sandbox(seed=7, size="demo", fresh=True) as sandbox:
        tls = ssl.create_default_context(cafile=str(sandbox.ca_path))
        with vendor_client(sandbox, tls, "jira") as client:
            yield sandbox, client


def test_jira_create_custom_field_then_its_options(fresh):
    sb, jira = fresh
    names = [f["name"] for f in body_of(call(jira, "GET", "/rest/api/3/field", 200))]
    assert "Health" not in names, "the fresh sandbox has no Health field yet"
    r = call(
        jira,
        "POST",
        "/rest/api/3/field",
        201,
        json={"name": "Health", "type": _SELECT, "searcherKey": _SELECT_SEARCHER},
    )
    # the example's untranslatedName is not in the spec's FieldDetails (no additional properties)
    created = conforms("jira", r, example_ignore=("untranslatedName",))
    fid = created["id"]
    fail_if_problems(
        r,
        []
        if re.fullmatch(r"customfield_\d+", fid)
        else [f"/id: {fid!r}"]
        + ([] if created["schema"]["type"] == "option" else [f"/schema: {created['schema']!r}"]),
    )
    listed = [f for f in body_of(call(jira, "GET", "/rest/api/3/field", 200)) if f["id"] == fid]
    assert [f["name"] for f in listed] == ["Health"]
    # Jira's default context comes with the field (global, any issue type), without options
    r = call(jira, "GET", f"/rest/api/3/field/{fid}/context", 200)
    contexts = conforms("jira", r, example_ignore=(), all_items=True)["values"]
    assert [c["isGlobalContext"] for c in contexts] == [True]
    ctx = contexts[0]["id"]
    path = f"/rest/api/3/field/{fid}/context/{ctx}/option"
    assert conforms("jira", call(jira, "GET", path, 200))["values"] == []
    r = call(jira, "POST", path, 200, json={"options": [{"value": "On track"}, {"value": "At risk"}]})
    made = conforms("jira", r, example_ignore=("optionId",), all_items=True)["options"]
    assert [o["value"] for o in made] == ["On track", "At risk"] and len({o["id"] for o in made}) == 2
    listed_options = conforms("jira", call(jira, "GET", path, 200))["values"]
    assert [o["value"] for o in listed_options] == ["On track", "At risk"]
    # the spec's own examples for an option of a field without options, and of no field
    for bad_path, status in (
        ("/rest/api/3/field/customfield_10016/context/20016/option", 400),
        ("/rest/api/3/field/customfield_99999/context/20016/option", 404),
    ):
        r = call(jira, "POST", bad_path, status, json={"options": [{"value": "x"}]})
        body = error_conforms("jira", r)
        fail_if_problems(
            r, [] if body == oa.example_for("jira", "POST", bad_path, status) else [f"/: {body!r}"]
        )
    # without "Administer Jira": the spec lists the field's refusal under 400, the options' 403
    sb.jira.admin = False
    r = call(jira, "POST", "/rest/api/3/field", 400, json={"name": "Other", "type": _SELECT})
    error_conforms("jira", r)
    r = call(jira, "POST", path, 403, json={"options": [{"value": "Blocked"}]})
    body = error_conforms("jira", r)
    fail_if_problems(r, [] if body == oa.example_for("jira", "POST", path, 403) else [f"/: {body!r}"])


def test_jira_editmeta_follows_the_screens_and_add_to_default(fresh):
    sb, jira = fresh
    key = next(k for k in sb.jira if k.startswith("PAY-"))
    link = "customfield_10080"  # Briefing link: off the default screen before relais
    r = call(jira, "GET", f"/rest/api/3/issue/{key}/editmeta", 200)
    meta = conforms("jira", r)["fields"]
    problems = [
        f"/fields/{fid}: {sorted({'key', 'name', 'operations', 'required', 'schema'} - set(m))} missing"
        for fid, m in meta.items()
        if not {"key", "name", "operations", "required", "schema"} <= set(m)
    ]
    problems += [] if link not in meta and "customfield_10050" in meta else [f"/fields: {sorted(meta)}"]
    fail_if_problems(r, problems)
    # a field off the screen cannot be written, as Jira says it
    r = call(jira, "PUT", f"/rest/api/3/issue/{key}", 400, json={"fields": {link: "https://x.example/b"}})
    assert error_conforms("jira", r)["errors"] == {link: _CANNOT_SET.format(link)}
    # addToDefault: the default screen now has it, not a project's own screen (CORE's, a copy made
    # before); again is a 404 (the spec: "already present"), as is a field that does not exist
    core = next(k for k in sb.jira if k.startswith("CORE-"))
    sb.jira.own_screen("CORE")
    r = call(jira, "POST", f"/rest/api/3/screens/addToDefault/{link}", 200)
    conforms("jira", r)
    assert link in body_of(call(jira, "GET", f"/rest/api/3/issue/{key}/editmeta", 200))["fields"]
    assert link not in body_of(call(jira, "GET", f"/rest/api/3/issue/{core}/editmeta", 200))["fields"]
    call(jira, "PUT", f"/rest/api/3/issue/{key}", 204, json={"fields": {link: "https://x.example/b"}})
    call(jira, "PUT", f"/rest/api/3/issue/{core}", 400, json={"fields": {link: "https://x.example/b"}})
    error_conforms("jira", call(jira, "POST", f"/rest/api/3/screens/addToDefault/{link}", 404))
    error_conforms("jira", call(jira, "POST", "/rest/api/3/screens/addToDefault/customfield_99999", 404))
    sb.jira.admin = False  # "Administer Jira" is needed
    error_conforms("jira", call(jira, "POST", "/rest/api/3/screens/addToDefault/customfield_10094", 403))
    error_conforms("jira", call(jira, "GET", "/rest/api/3/issue/NOPE-1/editmeta", 404))


def test_jira_project_search_pages(sb, jira):
    """`relais init` lists the projects: PageBeanProject, paged by startAt until isLast."""
    r = call(jira, "GET", "/rest/api/3/project/search", 200, params={"maxResults": 2})
    first = conforms("jira", r, example_ignore=())
    assert first["isLast"] is False and first["nextPage"] and first["total"] == len(sb.org.teams) + 1
    keys = [p["key"] for p in first["values"]]
    start = 2
    while True:
        r = call(jira, "GET", "/rest/api/3/project/search", 200, params={"startAt": start, "maxResults": 2})
        page = conforms("jira", r)
        keys += [p["key"] for p in page["values"]]
        start += len(page["values"])
        if page["isLast"]:
            break
    assert keys == sorted([t.project_key for t in sb.org.teams] + ["FB"])
    r = call(jira, "GET", "/rest/api/3/project/search", 200, params={"expand": "lead", "maxResults": 100})
    leads = {p["key"]: p["lead"]["accountId"] for p in conforms("jira", r)["values"]}
    assert leads["PAY"] == sb.org.person(sb.org.team("payments").pm).jira_account_id


def test_jira_issue_types_and_statuses(jira):
    r = call(jira, "GET", "/rest/api/3/issuetype", 200)
    types = conforms("jira", r, example_ignore=("entityId", "scope"))
    assert {"Epic", "Story", "Bug", "Feedback"} <= {t["name"] for t in types}
    r = call(jira, "GET", "/rest/api/3/status", 200)
    statuses = conforms("jira", r, example_ignore=())
    assert {s["name"]: s["statusCategory"]["key"] for s in statuses}["Done"] == "done"


def test_jira_users_search(sb, jira):
    r = call(jira, "GET", "/rest/api/3/users/search", 200, params={"maxResults": 3})
    users = conforms("jira", r, example_ignore=("key", "name"))
    assert len(users) == 3
    r = call(jira, "GET", "/rest/api/3/users/search", 200, params={"startAt": 3, "maxResults": 1000})
    users += conforms("jira", r)
    assert len(users) == len(sb.org.people) + 1  # each once: the second page starts at startAt
    emails = {u["accountId"]: u.get("emailAddress") for u in users}
    assert emails == {p.jira_account_id: p.email for p in [*sb.org.people, sb.org.bot]}
