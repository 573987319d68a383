"""The sandbox (loopback HTTPS fakes of Jira Cloud, Notion, PagerDuty) checked against
the vendors' own material, over real HTTPS with plain httpx — every endpoint relais
uses, success and the main error statuses.

For each call: the status code, the body against the vendor schema
(tests/spec/openapi.py; for Notion also the recorded real objects and Notion's
generated TypeScript types, tests/spec/notion_shapes.py), and the key set against
the vendor's example / recorded object.  Where the vendor spec is wrong or unusable
for a path, the comment says so and the next best check is used; nothing is skipped.

A failure here means the sandbox drifted from the real API: fix the sandbox, not the
check (unless the vendor material itself is shown to be wrong — then add an erratum
in tests/spec/openapi.py with the vendor's own evidence).
"""

from __future__ import annotations

import copy
import re
import ssl
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sandbox import Sandbox

try:  # `tests` is a package in some layouts, a plain rootdir in others
    from tests.spec import notion_shapes as ns
    from tests.spec import openapi as oa
except ImportError:  # pragma: no cover
    from spec import notion_shapes as ns
    from spec import openapi as oa

NOTION_VERSION = "2025-09-03"
PD_ACCEPT = "application/vnd.pagerduty+json;version=2"
TIMEOUT = httpx.Timeout(10.0)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=7, size="demo") as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def tls(sb) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(sb.ca_path))


def _client(sb, tls, vendor: str, *, token: str | None = None) -> httpx.Client:
    env = sb.env
    if vendor == "jira":
        return httpx.Client(
            base_url=sb.urls["jira"],
            verify=tls,
            timeout=TIMEOUT,
            auth=(env["JIRA_EMAIL"], token or env["JIRA_API_TOKEN"]),
            headers={"Accept": "application/json"},
        )
    if vendor == "notion":
        return httpx.Client(
            base_url=sb.urls["notion"],
            verify=tls,
            timeout=TIMEOUT,
            headers={
                "Authorization": f"Bearer {token or env['NOTION_TOKEN']}",
                "Notion-Version": NOTION_VERSION,
            },
        )
    if vendor == "pagerduty":
        return httpx.Client(
            base_url=sb.urls["pagerduty"],
            verify=tls,
            timeout=TIMEOUT,
            headers={
                "Authorization": f"Token token={token or env['PAGERDUTY_TOKEN']}",
                "Accept": PD_ACCEPT,
            },
        )
    raise ValueError(vendor)


@pytest.fixture(scope="module")
def jira(sb, tls) -> Iterator[httpx.Client]:
    with _client(sb, tls, "jira") as c:
        yield c


@pytest.fixture(scope="module")
def notion(sb, tls) -> Iterator[httpx.Client]:
    with _client(sb, tls, "notion") as c:
        yield c


@pytest.fixture(scope="module")
def pd(sb, tls) -> Iterator[httpx.Client]:
    with _client(sb, tls, "pagerduty") as c:
        yield c


@pytest.fixture(scope="module")
def relais_config(sb) -> dict:
    """The relais configuration the sandbox hands out (names of the written fields)."""
    return sb.config("unused-state.db")


@pytest.fixture(autouse=True)
def _no_leftover_faults(sb):
    yield
    sb.faults.clear()


# --------------------------------------------------------------------------- helpers


def call(client: httpx.Client, method: str, path: str, expect: int, **kw: Any) -> httpx.Response:
    r = client.request(method, path, **kw)
    assert r.status_code == expect, (
        f"{method} {path}: HTTP {r.status_code}, expected {expect}\n{r.text[:800]}"
    )
    return r


def body_of(r: httpx.Response) -> Any:
    if not r.content:
        return None
    try:
        return r.json()
    except ValueError:
        pytest.fail(f"{r.request.method} {r.request.url.path}: body is not JSON: {r.text[:300]!r}")


def _fail(r: httpx.Response, problems: list[str]) -> None:
    if problems:
        head = f"{r.request.method} {r.request.url.raw_path.decode()} -> {r.status_code}: {len(problems)} problem(s)"
        pytest.fail(head + "\n  " + "\n  ".join(problems), pytrace=False)


def conforms(
    vendor: str,
    r: httpx.Response,
    *,
    example_ignore: tuple[str, ...] | None = None,
    all_items: bool = False,
    extra: list[str] | None = None,
) -> Any:
    """Schema check (+ key set against the vendor example when ``example_ignore`` is
    given).  Returns the decoded body."""
    body = body_of(r)
    method, path = r.request.method, r.request.url.path
    problems = list(extra or [])
    problems += oa.validate_response(vendor, method, path, r.status_code, body, r.headers.get("content-type"))
    if example_ignore is not None:
        example = oa.example_for(vendor, method, path, r.status_code)
        assert example is not None, f"no vendor example for {method} {path} {r.status_code}"
        problems += [
            f"{p}: missing (the vendor's example has it)"
            for p in oa.missing_keys(example, body, example_ignore, all_items=all_items)
        ]
    _fail(r, problems)
    return body


def error_conforms(vendor: str, r: httpx.Response, *, extra: list[str] | None = None) -> Any:
    body = body_of(r)
    problems = list(extra or [])
    ct = r.headers.get("content-type", "")
    if "json" not in ct:
        problems.append(f"Content-Type {ct!r} is not JSON")
    problems += oa.validate_error_body(vendor, r.status_code, body)
    _fail(r, problems)
    return body


def notion_conforms(r: httpx.Response, kind: str, *, extra: list[str] | None = None) -> Any:
    body = body_of(r)
    problems = list(extra or [])
    problems += ns.check_notion_response(
        r.request.method,
        r.request.url.path,
        r.status_code,
        body,
        r.headers.get("content-type"),
        expect_kind=kind,
    )
    _fail(r, problems)
    return body


# =========================================================================== Jira

JIRA_FIELDS = [
    "summary",
    "status",
    "issuetype",
    "project",
    "labels",
    "components",
    "priority",
    "created",
    "updated",
    "resolutiondate",
    "description",
]

# The vendor's search/issue examples list an arbitrary set of fields (watcher,
# attachment, worklog… and "updated": 1); real Jira returns exactly the requested
# fields, so the example's `fields` is not a key-set reference — only `project`
# (requested, and a stable shape) is compared inside `fields`.
_JIRA_ISSUE_FIELD_IGNORE = (
    "watcher",
    "attachment",
    "sub-tasks",
    "comment",
    "issuelinks",
    "worklog",
    "timetracking",
    "description",
    "updated",
)


def _component(ref: str) -> dict:
    return oa.load_spec("jira").schema_for_ref(f"#/components/schemas/{ref}")


def _jira_field_values(issue: dict) -> list[str]:
    """The spec types IssueBean.fields as free-form; the values real Jira embeds are
    the same resources the spec describes elsewhere, so check them against those
    component schemas (next best check)."""
    f = issue.get("fields") or {}
    where = f"/issues/{issue.get('key')}/fields"
    problems: list[str] = []
    for name, ref in (
        ("status", "StatusDetails"),
        ("issuetype", "IssueTypeDetails"),
        ("priority", "Priority"),
    ):
        if f.get(name) is not None:
            problems += [
                f"{where}/{name}{e[1:] if e.startswith('/:') else e}"
                for e in oa.validate_against(_component(ref), f[name])
            ]
    status = f.get("status") or {}
    if "statusCategory" in status:
        problems += [
            f"{where}/status/statusCategory{e[1:] if e.startswith('/:') else e}"
            for e in oa.validate_against(_component("StatusCategory"), status["statusCategory"])
        ]
        if status["statusCategory"].get("key") not in ("new", "indeterminate", "done", "undefined"):
            problems.append(
                f"{where}/status/statusCategory/key: {status['statusCategory'].get('key')!r} "
                "is not a Jira status category key (new/indeterminate/done)"
            )
    for comp in f.get("components") or []:
        problems += [
            f"{where}/components{e[1:] if e.startswith('/:') else e}"
            for e in oa.validate_against(_component("ComponentJsonBean"), comp)
        ]
    if "labels" in f and not (isinstance(f["labels"], list) and all(isinstance(x, str) for x in f["labels"])):
        problems.append(f"{where}/labels: not a list of strings: {f['labels']!r}")
    for ts in ("created", "updated", "resolutiondate"):
        value = f.get(ts)
        # Real Jira: 2023-06-24T19:24:50.000+0000 (ms, offset without colon)
        if value is not None and not re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}", str(value)
        ):
            problems.append(f"{where}/{ts}: {value!r} is not Jira's 2023-06-24T19:24:50.000+0000 format")
    desc = f.get("description")
    if desc is not None and not (
        isinstance(desc, dict) and desc.get("type") == "doc" and desc.get("version") == 1
    ):
        problems.append(
            f"{where}/description: API v3 returns Atlassian Document Format "
            f"({{'type': 'doc', 'version': 1, ...}}), got {str(desc)[:80]!r}"
        )
    return problems


def test_jira_server_info(jira):
    r = call(jira, "GET", "/rest/api/3/serverInfo", 200)
    body = conforms(
        "jira",
        r,
        example_ignore=(
            # "displayUrl*" are instance-specific (custom domains, linked Confluence /
            # Service Management); not every Cloud site has them.
            "displayUrl",
            "displayUrlConfluence",
            "displayUrlServicedeskHelpCenter",
        ),
    )
    assert body["deploymentType"] == "Cloud"


def test_jira_myself(jira):
    r = call(jira, "GET", "/rest/api/3/myself", 200)
    body = conforms(
        "jira",
        r,
        example_ignore=(
            # The spec marks User.key/name "no longer available" (GDPR user-privacy
            # migration); real Cloud responses do not carry them.
            "key",
            "name",
        ),
    )
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
    _fail(r, problems)


def _jira_search_checks(r: httpx.Response, requested: list[str]) -> dict:
    body = conforms(
        "jira",
        r,
        example_ignore=tuple("/issues/*/fields/" + k for k in _JIRA_ISSUE_FIELD_IGNORE),
        all_items=True,
    )
    problems: list[str] = []
    for issue in body.get("issues", []):
        extra = set(issue.get("fields", {})) - set(requested)
        if extra:
            problems.append(
                f"/issues/{issue.get('key')}/fields: unrequested fields {sorted(extra)} "
                "(real Jira returns only the requested fields)"
            )
        problems += _jira_field_values(issue)
        if not str(issue.get("id", "")).isdigit():
            problems.append(f"/issues/{issue.get('key')}/id: {issue.get('id')!r} is not a numeric string")
    if body.get("isLast") is False and not body.get("nextPageToken"):
        problems.append("/nextPageToken: missing while isLast is false")
    if body.get("isLast") is True and "nextPageToken" in body:
        problems.append("/nextPageToken: present on the last page (real Jira omits it)")
    _fail(r, problems)
    return body


@pytest.fixture(scope="module")
def jira_project(jira) -> str:
    # real /search/jql refuses unbounded JQL (400), hence the restriction
    r = call(
        jira,
        "GET",
        "/rest/api/3/search/jql",
        200,
        params={"jql": "created >= -36500d ORDER BY key ASC", "maxResults": 1, "fields": "project"},
    )
    issues = body_of(r)["issues"]
    assert issues, "sandbox has no Jira issues"
    return issues[0]["fields"]["project"]["key"]


def test_jira_search_jql_get_and_next_page(jira, jira_project):
    jql = f"project = {jira_project} ORDER BY updated ASC, id ASC"
    params = {"jql": jql, "maxResults": 3, "fields": ",".join(JIRA_FIELDS)}
    r = call(jira, "GET", "/rest/api/3/search/jql", 200, params=params)
    first = _jira_search_checks(r, JIRA_FIELDS)
    assert len(first["issues"]) == 3 and first.get("isLast") is False and first.get("nextPageToken")
    r = call(
        jira, "GET", "/rest/api/3/search/jql", 200, params={**params, "nextPageToken": first["nextPageToken"]}
    )
    second = _jira_search_checks(r, JIRA_FIELDS)
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
        page = _jira_search_checks(r, JIRA_FIELDS)
        seen += [i["id"] for i in page["issues"]]
        token = page.get("nextPageToken")
        if page.get("isLast") or not token:
            break
    assert page.get("isLast") is True
    assert len(seen) == len(set(seen))


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
    body = conforms("jira", r, example_ignore=tuple("/fields/" + k for k in _JIRA_ISSUE_FIELD_IGNORE))
    _fail(r, _jira_field_values(body))
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
    _fail(r, problems)

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
    _fail(
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
    with _client(sb, tls, "jira", token="not-the-token") as bad:
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
        problems += [
            f"{at}{e[1:] if e.startswith('/:') else e}" for e in oa.validate_against(_component("Worklog"), w)
        ]
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
    _fail(r, _worklog_checks("/worklogs", body["worklogs"], issue_id))
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
    r = call(
        jira,
        "GET",
        "/rest/api/3/search/jql",
        200,
        params={"jql": f"key = {jira_busy_issue['key']}", "fields": ",".join(requested)},
    )
    body = _jira_search_checks(r, requested)
    issue = body["issues"][0]
    # IssueBean.fields is free-form in the spec: the embedded value is a PageOfWorklogs.
    embedded = issue["fields"]["worklog"]
    problems = [
        f"/issues/0/fields/worklog{e[1:] if e.startswith('/:') else e}"
        for e in oa.validate_against(_component("PageOfWorklogs"), embedded)
    ]
    problems += _worklog_checks("/issues/0/fields/worklog/worklogs", embedded["worklogs"], issue["id"])
    _fail(r, problems)
    assert (embedded["startAt"], embedded["maxResults"], len(embedded["worklogs"])) == (0, 20, 20)
    assert embedded["total"] == jira_busy_issue["fields"]["worklog"]["total"] > 20
    r = call(
        jira, "GET", f"/rest/api/3/issue/{issue['key']}", 200, params={"fields": "project,worklog,updated"}
    )
    single = conforms("jira", r, example_ignore=tuple("/fields/" + k for k in _JIRA_ISSUE_FIELD_IGNORE))
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
    _fail(r, problems)
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
    r = call(
        jira,
        "GET",
        "/rest/api/3/search/jql",
        200,
        params={
            "jql": f"key in ({key}, {sb.jira.routing_plan.unowned[1]}) ORDER BY key ASC",
            "fields": ",".join(requested),
        },
    )
    body = _jira_search_checks(r, requested)
    issue = next(i for i in body["issues"] if i["key"] == key)
    f = issue["fields"]
    where = f"/issues/{key}/fields"
    # IssueBean.fields is free-form: a user-picker value is the spec's User, an option carries self/value/id.
    problems = [
        f"{where}/{ids['Product Manager']}{e[1:] if e.startswith('/:') else e}"
        for e in oa.validate_against(_component("User"), f[ids["Product Manager"]])
    ]
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
    _fail(r, problems)

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
    _fail(
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
    _fail(r, problems)


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
    problems += oa.validate_against(_component("PageBeanChangelog"), stripped)
    example = oa.example_for("jira", "GET", f"/rest/api/3/issue/{key}/changelog", 200)
    assert example is not None
    problems += [
        f"{p}: missing (the vendor's example has it)"
        for p in oa.missing_keys(example, body, ("nextPage",), all_items=True)
    ]
    for i, history in enumerate(body["values"]):
        problems += [
            f"/values/{i}/author{e[1:] if e.startswith('/:') else e}"
            for e in oa.validate_against(_component("UserDetails"), history["author"])
        ]
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
    _fail(r, problems)


def test_jira_search_feedback_issues_with_their_fields(sb, jira):
    fields = body_of(call(jira, "GET", "/rest/api/3/field", 200))
    ids = {f["name"]: f["id"] for f in fields if f.get("custom") and f.get("name") in _FEEDBACK_FIELDS}
    requested = [*JIRA_FIELDS, *ids.values()]
    r = call(
        jira,
        "GET",
        "/rest/api/3/search/jql",
        200,
        params={"jql": "project = FB ORDER BY key ASC", "maxResults": 100, "fields": ",".join(requested)},
    )
    body = _jira_search_checks(r, requested)  # IssueTypeDetails (Feedback), StatusDetails, Priority, ADF…
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
        problems += [
            f"{where}/project{e[1:] if e.startswith('/:') else e}"
            for e in oa.validate_against(_component("ProjectCategory"), f["project"]["projectCategory"])
        ]
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
            problems += [
                f"{where}/{fid}{e[1:] if e.startswith('/:') else e}"
                for e in oa.validate_against(_component("CustomFieldOption"), option)
            ]
            if not (isinstance(option_id, str) and option_id.isdigit() and option.get("value")):
                problems.append(f"{where}/{fid}: {value!r} (an option value carries self/value/id)")
    _fail(r, problems)


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
    _fail(r, problems)


# --------------------------------------------------------------- initiatives (epics, parents, issue links)

# The linked issue's issuetype in the vendor's GET /issueLink example carries `entityId` and `scope`:
# those belong to team-managed projects' issue types; the sandbox's projects are company-managed
# (`simplified: false`), whose types have neither. Its priority carries `description` and
# `statusColor`, which GET /priority returns; inside an issue Jira embeds the short Priority
# (self, iconUrl, name, id), checked against the Priority schema by _linked_issue_checks.
_LINKED_ISSUE_IGNORE = ("entityId", "scope", "description", "statusColor")


def _linked_issue_checks(where: str, linked: dict) -> list[str]:
    problems = [
        f"{where}{e[1:] if e.startswith('/:') else e}"
        for e in oa.validate_against(_component("LinkedIssue"), linked)
    ]
    if set(linked) != {"id", "key", "self", "fields"}:
        problems.append(f"{where}: keys {sorted(linked)} (a linked issue shows id, key, self, fields)")
    for name, ref in (
        ("status", "StatusDetails"),
        ("issuetype", "IssueTypeDetails"),
        ("priority", "Priority"),
    ):
        problems += [
            f"{where}/fields/{name}{e[1:] if e.startswith('/:') else e}"
            for e in oa.validate_against(_component(ref), (linked.get("fields") or {}).get(name))
        ]
    return problems


def test_jira_search_with_parent_and_issuelinks(sb, jira):
    blocked = sb.jira.epic_plan.role("blocked")
    requested = [*JIRA_FIELDS, "parent", "issuelinks"]
    r = call(
        jira,
        "GET",
        "/rest/api/3/search/jql",
        200,
        params={
            "jql": f"key in ({blocked.child}, {blocked.other}, {blocked.epic}) ORDER BY key ASC",
            "fields": ",".join(requested),
        },
    )
    body = _jira_search_checks(r, requested)
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
        problems += [
            f"{where}/0{e[1:] if e.startswith('/:') else e}"
            for e in oa.validate_against(_component("IssueLink"), {**link, other_end: link[end]})
        ]
        problems += _linked_issue_checks(f"{where}/0/{end}", link[end])
        if not (
            str(link.get("id", "")).isdigit()
            and str(link.get("self", "")).endswith(f"/issueLink/{link['id']}")
        ):
            problems.append(f"{where}/0: id/self {link.get('id')!r} {link.get('self')!r}")
    _fail(r, problems)


def test_jira_issue_link_create_get_delete(jira):
    r = call(jira, "GET", "/rest/api/3/issueLinkType", 200)
    types = conforms("jira", r, example_ignore=(), all_items=True)["issueLinkTypes"]
    by_name = {t["name"]: t for t in types}
    _fail(
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
    _fail(r, problems)
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
    r = call(
        jira,
        "POST",
        "/rest/api/3/issue",
        201,
        json={
            "fields": {
                "project": {"key": "CORE"},
                "issuetype": {"name": "Task"},
                "summary": "Follow-up: conformance",
                "labels": ["incident-follow-up"],
                "description": {
                    "type": "doc",
                    "version": 1,
                    "content": [
                        {"type": "paragraph", "content": [{"type": "text", "text": "From incident #1021."}]}
                    ],
                },
            }
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
    _fail(r, problems)
    r = call(
        jira,
        "POST",
        "/rest/api/3/issue",
        400,
        json={
            "fields": {
                "project": {"key": "CORE"},
                "issuetype": {"name": "Task"},
                "summary": "bad health",
                "customfield_10094": {"value": "Fine"},
            }
        },
    )
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
    _fail(r, problems)


# --------------------------------------------------------------- bulk edit (relais' batched writes)

_HEALTH, _HEALTH_CONTEXT = "customfield_10094", "20094"


def test_jira_field_contexts_and_options(jira):
    r = call(jira, "GET", f"/rest/api/3/field/{_HEALTH}/context", 200)
    body = conforms("jira", r, example_ignore=(), all_items=True)
    _fail(
        r, [] if [c["id"] for c in body["values"]] == [_HEALTH_CONTEXT] else [f"/values: {body['values']!r}"]
    )
    r = call(jira, "GET", f"/rest/api/3/field/{_HEALTH}/context/{_HEALTH_CONTEXT}/option", 200)
    body = conforms("jira", r, example_ignore=(), all_items=True)
    _fail(
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
    _fail(
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
            _fail(r, [] if body == oa.example_for("jira", "GET", path, status) else [f"/: {body!r}"])


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
    _fail(r, [] if set(body_of(r)) == {"taskId"} else [f"/: {body_of(r)!r} (only a taskId)"])
    r = call(jira, "GET", f"/rest/api/3/bulk/queue/{task}", 200)
    queued = conforms("jira", r)
    _fail(
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
    _fail(r, problems)


def test_jira_bulk_edit_400_403_and_unknown_task(sb, jira):
    # 400: BulkOperationErrorResponse (the spec's schema and example for this operation)
    bad = {**_bulk_payload(["PAY-7"], 10330), "selectedActions": ["priority"]}
    r = call(jira, "POST", "/rest/api/3/bulk/issues/fields", 400, json=bad)
    body = conforms("jira", r, example_ignore=())
    _fail(
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
    _fail(
        r, problems + ([] if body.get("errors") and body["errors"][0].get("message") else ["/errors: empty"])
    )
    # 404 for a task that does not exist: undocumented; an ErrorCollection like the operation's own example
    r = call(jira, "GET", "/rest/api/3/bulk/queue/99999", 404)
    assert error_conforms("jira", r)["errorMessages"]


# =========================================================================== PagerDuty


def _pd_list_checks(r: httpx.Response, key: str, *, total: bool) -> dict:
    # every item against the example (log entries are heterogeneous: first one only)
    body = conforms("pagerduty", r, example_ignore=_PD_IGNORE.get(key, ()), all_items=key != "log_entries")
    problems = []
    for k in ("limit", "offset", "more"):
        if k not in body:
            problems.append(f"/{k}: missing (classic pagination envelope)")
    if total and not isinstance(body.get("total"), int):
        problems.append(f"/total: {body.get('total')!r} — must be an integer when total=true")
    if not total and body.get("total") is not None:
        problems.append(f"/total: {body.get('total')!r} — real PagerDuty sends null unless total=true")
    _fail(r, problems)
    return body


# Keys of the vendor example that legitimately depend on the request:
_PD_IGNORE = {
    "incidents": (
        # listed in the include[] enum of GET /incidents and /incidents/{id}: an
        # include-on-request detail (relais does not ask for it)
        "conference_bridge",
    ),
    # The example's first entry is a trigger; only triggers carry event_details, and the newest
    # entry of the account may be an acknowledge or a resolve. Triggers are checked in full below.
    "log_entries": ("event_details",),
    "services": (),
    "priorities": (),
}


def test_pd_abilities(pd):
    r = call(pd, "GET", "/abilities", 200)
    body = conforms("pagerduty", r, example_ignore=())
    assert body["abilities"]


def test_pd_incidents_total_and_include(pd):
    params = {
        "total": "true",
        "limit": 5,
        "include[]": ["services", "assignees", "priorities"],
        "time_zone": "UTC",
        "date_range": "all",
    }
    r = call(pd, "GET", "/incidents", 200, params=params)
    body = _pd_list_checks(r, "incidents", total=True)
    assert body["incidents"], "sandbox has no incidents"
    problems = []
    for i, inc in enumerate(body["incidents"]):
        if (inc.get("service") or {}).get("type") != "service":
            problems.append(
                f"/incidents/{i}/service/type: {inc.get('service', {}).get('type')!r} — "
                "include[]=services returns full service objects (type 'service')"
            )
        if inc.get("type") != "incident":
            problems.append(f"/incidents/{i}/type: {inc.get('type')!r}")
    _fail(r, problems)
    # without include[] the service is a reference
    r = call(pd, "GET", "/incidents", 200, params={"limit": 2, "date_range": "all"})
    body = _pd_list_checks(r, "incidents", total=False)
    _fail(
        r,
        [
            f"/incidents/{i}/service/type: {inc['service'].get('type')!r}, expected 'service_reference'"
            for i, inc in enumerate(body["incidents"])
            if inc["service"].get("type") != "service_reference"
        ],
    )


@pytest.fixture(scope="module")
def pd_incident(pd) -> dict:
    r = call(
        pd, "GET", "/incidents", 200, params={"limit": 1, "statuses[]": ["triggered"], "date_range": "all"}
    )
    incidents = body_of(r)["incidents"]
    if not incidents:
        incidents = body_of(call(pd, "GET", "/incidents", 200, params={"limit": 1, "date_range": "all"}))[
            "incidents"
        ]
    assert incidents, "sandbox has no incidents"
    return incidents[0]


def test_pd_get_incident(pd, pd_incident):
    r = call(pd, "GET", f"/incidents/{pd_incident['id']}", 200)
    body = conforms("pagerduty", r, example_ignore=_PD_IGNORE["incidents"])
    assert body["incident"]["id"] == pd_incident["id"]


def test_pd_unknown_incident_is_404(pd):
    r = call(pd, "GET", "/incidents/PNOSUCH1", 404)
    error_conforms("pagerduty", r)
    conforms("pagerduty", r)


def test_pd_log_entries_include_incidents(pd):
    r = call(
        pd,
        "GET",
        "/log_entries",
        200,
        params={
            "include[]": ["incidents"],
            "limit": 10,
            "time_zone": "UTC",
            "is_overview": "true",
            "total": "true",
        },
    )
    body = _pd_list_checks(r, "log_entries", total=True)
    assert body["log_entries"], "sandbox has no log entries"
    problems = []
    for i, entry in enumerate(body["log_entries"]):
        if not str(entry.get("type", "")).endswith("_log_entry"):
            problems.append(f"/log_entries/{i}/type: {entry.get('type')!r} is not a *_log_entry type")
        inc = entry.get("incident") or {}
        if inc.get("type") != "incident":
            problems.append(
                f"/log_entries/{i}/incident/type: {inc.get('type')!r} — include[]=incidents "
                "returns full incidents (type 'incident')"
            )
    example = oa.example_for("pagerduty", "GET", "/log_entries", 200)["log_entries"][0]
    triggers = [(i, e) for i, e in enumerate(body["log_entries"]) if e["type"] == example["type"]]
    if not triggers:
        problems.append(
            f"/log_entries: no {example['type']} among {len(body['log_entries'])} entries to compare"
        )
    for i, entry in triggers:
        problems += [
            f"/log_entries/{i}{p}: missing (the vendor's example has it)"
            for p in oa.missing_keys(example, entry, _PD_IGNORE["incidents"])
        ]
    _fail(r, problems)


def test_pd_services(pd):
    r = call(pd, "GET", "/services", 200, params={"limit": 25, "total": "true"})
    body = _pd_list_checks(r, "services", total=True)
    assert body["services"]


def test_pd_priorities(pd):
    r = call(pd, "GET", "/priorities", 200)
    body = _pd_list_checks(r, "priorities", total=False)
    assert body["priorities"]


def test_pd_wrong_token_is_401(sb, tls):
    with _client(sb, tls, "pagerduty", token="y_NbAkKc66ryYTWUXYEu") as bad:
        r = call(bad, "GET", "/incidents", 401)
    error_conforms("pagerduty", r)
    conforms("pagerduty", r)


def test_pd_rate_limit_fault_is_429(sb, pd):
    sb.faults.add("pagerduty", 429, count=1, path=r"^/incidents$")
    r = call(pd, "GET", "/incidents", 429)
    error_conforms("pagerduty", r)
    conforms("pagerduty", r)
    call(pd, "GET", "/incidents", 200, params={"limit": 1})  # count=1: next one passes


def test_pd_put_incident_and_note(pd, pd_incident, sb):
    headers = {"From": sb.env["PAGERDUTY_FROM"]}
    iid = pd_incident["id"]
    r = call(
        pd,
        "PUT",
        f"/incidents/{iid}",
        200,
        headers=headers,
        json={"incident": {"type": "incident_reference", "status": "acknowledged"}},
    )
    body = conforms("pagerduty", r, example_ignore=_PD_IGNORE["incidents"])
    inc = body["incident"]
    assert inc["status"] == "acknowledged"
    assert inc["acknowledgements"], "an acknowledged incident lists its acknowledgement"
    assert inc["last_status_change_at"] >= pd_incident["last_status_change_at"]
    # relais finds changed incidents through /log_entries since its cursor
    since = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    entries = body_of(
        call(
            pd,
            "GET",
            "/log_entries",
            200,
            params={"since": since, "time_zone": "UTC", "is_overview": "true", "limit": 100},
        )
    )["log_entries"]
    assert any(
        e["type"] == "acknowledge_log_entry" and (e.get("incident") or {}).get("id") == iid for e in entries
    ), "no acknowledge_log_entry for the acknowledged incident in /log_entries"
    r = call(
        pd,
        "POST",
        f"/incidents/{iid}/notes",
        200,
        headers=headers,
        json={"note": {"content": "relais conformance note"}},
    )
    body = conforms("pagerduty", r, example_ignore=())
    assert body["note"]["content"] == "relais conformance note"


def test_pd_list_notes(pd, sb):
    """What relais reads before writing a follow-up note (notes are not paginated)."""
    iid = sb.pagerduty.incident_ids()[-1]  # Core's follow-up incident, resolved
    r = call(pd, "GET", f"/incidents/{iid}/notes", 200)
    assert conforms("pagerduty", r)["notes"] == []
    call(
        pd,
        "POST",
        f"/incidents/{iid}/notes",
        200,
        headers={"From": sb.env["PAGERDUTY_FROM"]},
        json={"note": {"content": "Follow-up: CORE-24"}},
    )
    r = call(pd, "GET", f"/incidents/{iid}/notes", 200)
    body = conforms("pagerduty", r, example_ignore=(), all_items=True)
    _fail(r, [] if [n["content"] for n in body["notes"]] == ["Follow-up: CORE-24"] else [f"/notes: {body!r}"])
    r = call(pd, "GET", "/incidents/PNOSUCH1/notes", 404)
    error_conforms("pagerduty", r)
    # no From header: PagerDuty refuses the write
    error_conforms(
        "pagerduty", call(pd, "POST", f"/incidents/{iid}/notes", 400, json={"note": {"content": "x"}})
    )


# =========================================================================== Notion


def _scorecard_properties(team: str, monday: str, run: float, level: str) -> dict:
    text = lambda value: [{"type": "text", "text": {"content": value}}]  # noqa: E731
    return {
        "Name": {"title": text(f"{team} — week of {monday}")},
        "Key": {"rich_text": text(f"{team.lower()}/{monday}")},
        "Team": {"select": {"name": team}},
        "Period": {"date": {"start": monday}},
        "RUN %": {"number": run},
        "BUILD %": {"number": round(0.9 - run, 2)},
        "IMPROVE %": {"number": 0.1},
        "RUN hours": {"number": 38.5},
        "Incidents": {"number": 2},
        "Urgent requests": {"number": 0},
        "Level": {"select": {"name": level}},
        "Alerts": {"rich_text": text("RUN above 50% two weeks running" if level != "ok" else "")},
    }


def _create_scorecard_row(notion, dsid: str, properties: dict) -> dict:
    schema = _schema(notion, dsid)
    r = call(
        notion,
        "POST",
        "/v1/pages",
        200,
        json={"parent": {"type": "data_source_id", "data_source_id": dsid}, "properties": properties},
    )
    body = notion_conforms(r, "page")
    problems = _page_matches_schema(body, schema, "")
    for name, value in properties.items():
        kind = schema[name]["type"]
        got = body["properties"][name][kind]
        want = value[kind]
        if kind in ("title", "rich_text"):
            got, want = "".join(t["plain_text"] for t in got), "".join(t["text"]["content"] for t in want)
        elif kind == "select":
            got, want = (got or {}).get("name"), want["name"]
        elif kind == "date":
            got, want = (got or {}).get("start"), want["start"]
        if got != want:
            problems.append(f"/properties/{name}/{kind}: {got!r}, written {want!r}")
    _fail(r, problems)
    return body


@pytest.fixture(scope="module")
def scorecard_rows(sb, notion) -> list[dict]:
    """The scorecard starts empty: relais fills it. Six rows written the way relais
    writes them, so the generic checks below also cover the scorecard's rows."""
    dsid = sb.notion.data_source_ids["scorecard"]
    rows = []
    for team, runs in (("Payments", (0.2, 0.25)), ("Core", (0.7, 0.8)), ("Support", (0.4, 0.45))):
        for monday, run in zip(("2026-11-02", "2026-11-09"), runs):
            level = "alert" if run > 0.5 and monday == "2026-11-09" else "ok"
            rows.append(_create_scorecard_row(notion, dsid, _scorecard_properties(team, monday, run, level)))
    return rows


@pytest.fixture(scope="module")
def notion_ids(sb, scorecard_rows) -> dict[str, dict[str, str]]:
    return {"database": dict(sb.notion.database_ids), "data_source": dict(sb.notion.data_source_ids)}


def test_notion_users_me(notion):
    r = call(notion, "GET", "/v1/users/me", 200)
    body = notion_conforms(r, "user")
    assert body["type"] == "bot"


def test_notion_database_and_data_source(notion, notion_ids):
    for key, dbid in notion_ids["database"].items():
        r = call(notion, "GET", f"/v1/databases/{dbid}", 200)
        body = notion_conforms(r, "database")
        ds = [d["id"] for d in body["data_sources"]]
        assert ds == [notion_ids["data_source"][key]], (key, ds)
    for key, dsid in notion_ids["data_source"].items():
        r = call(notion, "GET", f"/v1/data_sources/{dsid}", 200)
        body = notion_conforms(r, "data_source")
        problems = []
        titles = [n for n, p in body["properties"].items() if p.get("type") == "title"]
        if len(titles) != 1:
            problems.append(f"/properties: {len(titles)} title properties (a data source has exactly one)")
        for name, prop in body["properties"].items():
            if prop.get("name") != name:
                problems.append(f"/properties/{name}/name: {prop.get('name')!r} (must echo the key)")
            if prop.get("type") not in prop:
                problems.append(f"/properties/{name}/{prop.get('type')}: missing type-named config")
        if body["parent"].get("database_id") != notion_ids["database"][key]:
            problems.append(
                f"/parent: {body['parent']!r} does not point to database {notion_ids['database'][key]}"
            )
        _fail(r, problems)


def _schema(notion, dsid) -> dict:
    return body_of(call(notion, "GET", f"/v1/data_sources/{dsid}", 200))["properties"]


def _page_matches_schema(page: dict, schema: dict, where: str) -> list[str]:
    """A page's property values must line up with its data source's schema (same
    names, same ids, same types) — real Notion guarantees it."""
    problems = []
    for name, prop in schema.items():
        value = page.get("properties", {}).get(name)
        if value is None:
            problems.append(f"{where}/properties/{name}: missing (every schema property has a value object)")
            continue
        if value.get("id") != prop.get("id") or value.get("type") != prop.get("type"):
            problems.append(
                f"{where}/properties/{name}: id/type {value.get('id')!r}/{value.get('type')!r} "
                f"!= schema {prop.get('id')!r}/{prop.get('type')!r}"
            )
    extra = set(page.get("properties", {})) - set(schema)
    if extra:
        problems.append(f"{where}/properties: not in the data source schema: {sorted(extra)}")
    return problems


def test_notion_query_filter_and_cursor(notion, notion_ids):
    for key, dsid in notion_ids["data_source"].items():
        schema = _schema(notion, dsid)
        r = call(notion, "POST", f"/v1/data_sources/{dsid}/query", 200, json={"page_size": 100})
        everything = notion_conforms(r, "list")
        pages = everything["results"]
        while everything.get("has_more"):
            everything = body_of(
                call(
                    notion,
                    "POST",
                    f"/v1/data_sources/{dsid}/query",
                    200,
                    json={"page_size": 100, "start_cursor": everything["next_cursor"]},
                )
            )
            pages += everything["results"]
        assert len(pages) >= 4, f"{key}: too few pages to exercise paging"
        stamps = sorted(p["last_edited_time"] for p in pages)
        since = stamps[len(stamps) // 2]
        expected = {p["id"] for p in pages if p["last_edited_time"] >= since}

        body = {
            "filter": {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": since}},
            "sorts": [{"timestamp": "last_edited_time", "direction": "ascending"}],
            "page_size": 2,
        }
        got: list[dict] = []
        cursor = None
        for _ in range(500):
            r = call(
                notion,
                "POST",
                f"/v1/data_sources/{dsid}/query",
                200,
                json={**body, **({"start_cursor": cursor} if cursor else {})},
            )
            page = notion_conforms(r, "list")
            problems = []
            if page["type"] != "page_or_data_source":
                problems.append(f"/type: {page['type']!r}, expected 'page_or_data_source'")
            if len(page["results"]) > 2:
                problems.append(f"/results: {len(page['results'])} results for page_size=2")
            if page["has_more"] != (page["next_cursor"] is not None):
                problems.append(f"/next_cursor: {page['next_cursor']!r} with has_more={page['has_more']}")
            for i, p in enumerate(page["results"]):
                problems += _page_matches_schema(p, schema, f"/results/{i}")
                if p.get("parent", {}).get("data_source_id") != dsid:
                    problems.append(
                        f"/results/{i}/parent: {p.get('parent')!r} (a row's parent is its data source)"
                    )
            _fail(r, problems)
            got += page["results"]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
        assert {p["id"] for p in got} == expected, (
            f"{key}: filter on_or_after {since} returned the wrong rows"
        )
        assert [p["last_edited_time"] for p in got] == sorted(p["last_edited_time"] for p in got)
        assert len(got) == len({p["id"] for p in got}), "cursor paging repeated rows"


@pytest.fixture(scope="module")
def notion_page(notion, notion_ids) -> dict:
    dsid = notion_ids["data_source"]["briefings"]
    body = body_of(call(notion, "POST", f"/v1/data_sources/{dsid}/query", 200, json={"page_size": 1}))
    assert body["results"], "briefings data source is empty"
    return body["results"][0]


def test_notion_get_page(notion, notion_page):
    r = call(notion, "GET", f"/v1/pages/{notion_page['id']}", 200)
    body = notion_conforms(r, "page")
    assert body["id"] == notion_page["id"]


def _select_property(schema: dict, name: str) -> tuple[str, dict]:
    prop = schema.get(name)
    assert prop and prop["type"] == "select" and prop["select"].get("options"), (
        f"no select property {name!r} with options in the data source (relais writes it)"
    )
    return name, prop


def _notion_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_notion_patch_page(notion, notion_ids, notion_page, relais_config):
    dsid = notion_ids["data_source"]["briefings"]
    name, prop = _select_property(
        _schema(notion, dsid), relais_config["writeback"]["notion"]["work_type"]["property"]
    )
    current = (notion_page["properties"][name]["select"] or {}).get("id")
    option = next(o for o in prop["select"]["options"] if o["id"] != current)
    r = call(
        notion,
        "PATCH",
        f"/v1/pages/{notion_page['id']}",
        200,
        json={"properties": {name: {"select": {"name": option["name"]}}}},
    )
    body = notion_conforms(r, "page")
    # Notion stamps the edit, rounded down to the minute (format checked by the shape)
    edited = _notion_time(body["last_edited_time"])
    now = datetime.now(UTC)
    assert edited >= _notion_time(notion_page["last_edited_time"])
    assert now - timedelta(minutes=2) <= edited <= now, (body["last_edited_time"], now)
    value = body["properties"][name]["select"]
    problems = []
    if value is None or value.get("name") != option["name"] or value.get("id") != option["id"]:
        problems.append(f"/properties/{name}/select: {value!r}, expected option {option!r}")
    if value and value.get("color") != option.get("color"):
        problems.append(
            f"/properties/{name}/select/color: {value.get('color')!r} != option color {option.get('color')!r}"
        )
    _fail(r, problems)
    # clearing the select
    r = call(
        notion, "PATCH", f"/v1/pages/{notion_page['id']}", 200, json={"properties": {name: {"select": None}}}
    )
    assert notion_conforms(r, "page")["properties"][name]["select"] is None


def test_notion_invalid_status_is_400(notion, notion_ids, notion_page):
    # Unknown select names create an option; unknown *status* names are rejected.
    dsid = notion_ids["data_source"]["briefings"]
    status = next((n for n, p in _schema(notion, dsid).items() if p["type"] == "status"), None)
    assert status, "briefings has no status property"
    r = call(
        notion,
        "PATCH",
        f"/v1/pages/{notion_page['id']}",
        400,
        json={"properties": {status: {"status": {"name": "No such status " + uuid.uuid4().hex[:6]}}}},
    )
    body = notion_conforms(r, "error")
    assert body["code"] == "validation_error"


def test_notion_page_property_items(notion, notion_ids, notion_page):
    dsid = notion_ids["data_source"]["briefings"]
    schema = _schema(notion, dsid)
    paginated = {"title", "rich_text", "relation", "people", "rollup"}
    for prop in schema.values():
        pid = prop["id"]
        r = call(notion, "GET", f"/v1/pages/{notion_page['id']}/properties/{pid}", 200)
        if prop["type"] in paginated:
            # real Notion: a paginated list of property_item objects
            body = notion_conforms(r, "list")
            problems = [] if body.get("type") == "property_item" else [f"/type: {body.get('type')!r}"]
            pi = body.get("property_item") or {}
            if pi.get("id") != pid or pi.get("type") != prop["type"]:
                problems.append(f"/property_item: {pi!r} does not describe property {pid!r} ({prop['type']})")
            _fail(r, problems)
        else:
            body = notion_conforms(r, "property_item")
            _fail(
                r,
                []
                if (body.get("id"), body.get("type")) == (pid, prop["type"])
                else [f"/: id/type {body.get('id')!r}/{body.get('type')!r} != {pid!r}/{prop['type']!r}"],
            )


def test_notion_create_page(notion, notion_ids):
    dsid = notion_ids["data_source"]["feedback"]
    schema = _schema(notion, dsid)
    title = next(n for n, p in schema.items() if p["type"] == "title")
    r = call(
        notion,
        "POST",
        "/v1/pages",
        200,
        json={
            "parent": {"type": "data_source_id", "data_source_id": dsid},
            "properties": {title: {"title": [{"type": "text", "text": {"content": "conformance check"}}]}},
        },
    )
    body = notion_conforms(r, "page")
    problems = _page_matches_schema(body, schema, "")
    if body["properties"][title]["title"][0].get("plain_text") != "conformance check":
        problems.append(f"/properties/{title}/title/0/plain_text: not echoed")
    _fail(r, problems)
    # and it is then retrievable
    notion_conforms(call(notion, "GET", f"/v1/pages/{body['id']}", 200), "page")


def test_notion_scorecard_data_source(notion, notion_ids, relais_config):
    dsid = notion_ids["data_source"]["scorecard"]
    r = call(notion, "GET", f"/v1/data_sources/{dsid}", 200)
    body = notion_conforms(r, "data_source")
    props = body["properties"]
    types = {name: prop["type"] for name, prop in props.items()}
    expected = {
        "Name": "title",
        "Key": "rich_text",
        "Team": "select",
        "Period": "date",
        "RUN %": "number",
        "BUILD %": "number",
        "IMPROVE %": "number",
        "RUN hours": "number",
        "Incidents": "number",
        "Urgent requests": "number",
        "Level": "select",
        "Alerts": "rich_text",
        "Notes": "rich_text",
    }
    problems = [
        f"/properties/{n}/type: {types.get(n)!r}, expected {t!r}"
        for n, t in expected.items()
        if types.get(n) != t
    ]
    teams = sorted(t["notion"]["team"] for t in relais_config["teams"].values())
    if sorted(o["name"] for o in props["Team"]["select"]["options"]) != teams:
        problems.append(f"/properties/Team/select/options: not the teams {teams}")
    if [o["name"] for o in props["Level"]["select"]["options"]] != ["ok", "watch", "alert", "survival"]:
        problems.append("/properties/Level/select/options: not ok, watch, alert, survival")
    if body["parent"] != {"type": "database_id", "database_id": notion_ids["database"]["scorecard"]}:
        problems.append(f"/parent: {body['parent']!r}")
    _fail(r, problems)


def test_notion_query_scorecard_by_key(notion, notion_ids, scorecard_rows):
    dsid = notion_ids["data_source"]["scorecard"]
    target = scorecard_rows[3]
    key = target["properties"]["Key"]["rich_text"][0]["plain_text"]
    r = call(
        notion,
        "POST",
        f"/v1/data_sources/{dsid}/query",
        200,
        json={"filter": {"property": "Key", "rich_text": {"equals": key}}, "page_size": 10},
    )
    body = notion_conforms(r, "list")
    problems = (
        _page_matches_schema(body["results"][0], _schema(notion, dsid), "/results/0")
        if body["results"]
        else []
    )
    _fail(r, problems)
    assert [p["id"] for p in body["results"]] == [target["id"]] and body["has_more"] is False


def test_notion_patch_scorecard_row(notion, notion_ids, scorecard_rows):
    row = scorecard_rows[0]
    r = call(
        notion,
        "PATCH",
        f"/v1/pages/{row['id']}",
        200,
        json={
            "properties": {
                "RUN %": {"number": 0.55},
                "Level": {"select": {"name": "watch"}},
                "Period": {"date": {"start": "2026-11-02"}},
                "Alerts": {
                    "rich_text": [{"type": "text", "text": {"content": "More than 3 urgent requests"}}]
                },
            }
        },
    )
    body = notion_conforms(r, "page")
    p = body["properties"]
    assert (p["RUN %"]["number"], p["Level"]["select"]["name"], p["Period"]["date"]["start"]) == (
        0.55,
        "watch",
        "2026-11-02",
    )
    assert p["Key"] == row["properties"]["Key"], "a property not written must not change"
    r = call(
        notion,
        "PATCH",
        f"/v1/pages/{row['id']}",
        400,
        json={"properties": {"Period": {"date": {"start": "last monday"}}}},
    )
    assert notion_conforms(r, "error")["code"] == "validation_error"


def test_notion_patch_feedback_routing(sb, notion, notion_ids):
    """What relais writes on a routed feedback page: a people value, a relation to a
    briefing and a rich text — and the 400 for a user that does not exist."""
    dsid = notion_ids["data_source"]["feedback"]
    schema = _schema(notion, dsid)
    kinds = {"PM": "people", "Briefing": "relation", "Routed by": "rich_text"}
    assert {n: schema[n]["type"] for n in kinds} == kinds
    page = body_of(
        call(
            notion,
            "POST",
            f"/v1/data_sources/{dsid}/query",
            200,
            json={"filter": {"property": "PM", "people": {"is_empty": True}}, "page_size": 1},
        )
    )["results"][0]
    briefing = body_of(
        call(
            notion,
            "POST",
            f"/v1/data_sources/{notion_ids['data_source']['briefings']}/query",
            200,
            json={"page_size": 1},
        )
    )["results"][0]["id"]
    pm = sb.org.person("bruno")
    r = call(
        notion,
        "PATCH",
        f"/v1/pages/{page['id']}",
        200,
        json={
            "properties": {
                "PM": {"people": [{"object": "user", "id": pm.notion_user_id}]},
                "Briefing": {"relation": [{"id": briefing}]},
                "Routed by": {
                    "rich_text": [{"type": "text", "text": {"content": "search and API (relais.yaml:131)"}}]
                },
            }
        },
    )
    body = notion_conforms(r, "page")
    p = body["properties"]
    problems = _page_matches_schema(body, schema, "")
    people = p["PM"]["people"]
    if [(u.get("object"), u.get("id")) for u in people] != [("user", pm.notion_user_id)]:
        problems.append(f"/properties/PM/people: {people!r}")
    elif not {"name", "avatar_url", "type"} <= set(people[0]) or people[0].get("type") != "person":
        problems.append(
            f"/properties/PM/people/0: {people[0]!r} (a known person: name, avatar_url, type, person)"
        )
    if p["Briefing"]["relation"] != [{"id": briefing}] or p["Briefing"].get("has_more") is not False:
        problems.append(f"/properties/Briefing: {p['Briefing']!r}")
    if "".join(t["plain_text"] for t in p["Routed by"]["rich_text"]) != "search and API (relais.yaml:131)":
        problems.append(f"/properties/Routed by: {p['Routed by']!r}")
    for name in ("Name", "Team", "Customer"):
        if p[name] != page["properties"][name]:
            problems.append(f"/properties/{name}: changed by a write that did not name it")
    _fail(r, problems)
    pid = schema["PM"]["id"]
    r = call(notion, "GET", f"/v1/pages/{page['id']}/properties/{pid}", 200)
    items = notion_conforms(r, "list")
    _fail(
        r,
        []
        if [i["people"]["id"] for i in items["results"]] == [pm.notion_user_id]
        else [f"/results: {items['results']!r}"],
    )
    r = call(
        notion,
        "PATCH",
        f"/v1/pages/{page['id']}",
        400,
        json={"properties": {"PM": {"people": [{"id": str(uuid.uuid4())}]}}},
    )
    assert notion_conforms(r, "error")["code"] == "validation_error"


def test_notion_briefing_with_the_status_properties(sb, notion, notion_ids):
    """A seeded briefing carries a date, multi-selects, numbers and a checkbox; relais writes
    a select, rich texts, numbers and dates. Page objects against the recorded shapes and
    Notion's TS types (which type each property value), the date against the recorded date."""
    dsid = notion_ids["data_source"]["briefings"]
    schema = _schema(notion, dsid)
    page_id = sb.initiatives.role("validated").page_id
    r = call(notion, "GET", f"/v1/pages/{page_id}", 200)
    body = notion_conforms(r, "page")
    p = body["properties"]
    problems = _page_matches_schema(body, schema, "")
    recorded = next(d for d in _recorded_dates() if "time_zone" in d)
    if set(p["Target date"]["date"] or {}) != set(recorded):
        problems.append(
            f"/properties/Target date/date: {p['Target date']['date']!r}, recorded keys {sorted(recorded)}"
        )
    kinds = {
        "Depends on": "multi_select",
        "Validated by": "multi_select",
        "Impact": "number",
        "Effort": "number",
        "Security critical": "checkbox",
        "Health": "select",
        "Last synced": "date",
    }
    problems += [f"/properties/{n}/type: {p[n]['type']!r}" for n, k in kinds.items() if p[n]["type"] != k]
    if [o["name"] for o in p["Validated by"]["multi_select"]] != [
        o["name"] for o in p["Depends on"]["multi_select"]
    ]:
        problems.append("/properties/Validated by: the validated briefing's dependency is not validated")
    _fail(r, problems)
    r = call(
        notion,
        "PATCH",
        f"/v1/pages/{page_id}",
        200,
        json={
            "properties": {
                "Health": {"select": {"name": "At risk"}},
                "Progress": {"number": 40},
                "Open incidents": {"number": 1},
                "Forecast": {"date": {"start": "2026-12-04"}},
                "Last synced": {"date": {"start": "2026-11-20T10:00:00Z"}},
                "Health reason": {
                    "rich_text": [{"type": "text", "text": {"content": "Due today, 1 of 2 children done"}}]
                },
                "Dependencies": {"rich_text": [{"type": "text", "text": {"content": "1 of 1 validated"}}]},
                "Priority score": {"number": 1.67},
                "Security critical": {"checkbox": True},
            }
        },
    )
    body = notion_conforms(r, "page")
    p = body["properties"]
    problems = _page_matches_schema(body, schema, "")
    got = (
        p["Health"]["select"]["name"],
        p["Progress"]["number"],
        p["Forecast"]["date"]["start"],
        p["Security critical"]["checkbox"],
        p["Priority score"]["number"],
    )
    if got != ("At risk", 40, "2026-12-04", True, 1.67):
        problems.append(f"/properties: {got!r}")
    _fail(r, problems)
    r = call(
        notion,
        "PATCH",
        f"/v1/pages/{page_id}",
        400,
        json={"properties": {"Security critical": {"checkbox": "true"}}},
    )
    assert notion_conforms(r, "error")["code"] == "validation_error"


def _recorded_dates() -> list[dict]:
    """Every date object in the recorded Notion responses."""
    found: list[dict] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("date"), dict) and "start" in node["date"]:
                found.append(node["date"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for interaction in ns.recorded_interactions():
        walk(interaction.body)
    assert found, "no date object in the recorded cassettes"
    return found


def test_notion_wrong_token_is_401(sb, tls):
    with _client(sb, tls, "notion", token="ntn_000000000000000000000000000000000000000000000") as bad:
        r = call(bad, "GET", "/v1/users/me", 401)
    body = notion_conforms(r, "error")
    assert body["code"] == "unauthorized"


def test_notion_unknown_page_is_404(notion):
    r = call(notion, "GET", f"/v1/pages/{uuid.uuid4()}", 404)
    body = notion_conforms(r, "error")
    assert body["code"] == "object_not_found"


def test_notion_rate_limit_is_429(sb, notion):
    # Notion: 429 `rate_limited`, and clients must respect Retry-After (seconds).
    sb.faults.add("notion", 429, count=1, path=r"^/v1/users/me$", retry_after=2)
    r = call(notion, "GET", "/v1/users/me", 429)
    body = notion_conforms(r, "error")
    assert body["code"] == "rate_limited"
    assert r.headers.get("Retry-After") == "2"
    call(notion, "GET", "/v1/users/me", 200)  # count=1: the next one passes

    # the sandbox's own limiter (not a fault) answers the same way
    bucket = sb.buckets["notion"]
    rate, burst = bucket.rate, bucket.burst
    sb.set_rate_limit("notion", 0.5, burst=1)
    try:
        call(notion, "GET", "/v1/users/me", 200)
        r = call(notion, "GET", "/v1/users/me", 429)
    finally:
        sb.set_rate_limit("notion", rate, burst)
    body = notion_conforms(r, "error")
    assert body["code"] == "rate_limited"
    assert (r.headers.get("Retry-After") or "").isdigit(), r.headers


# =========================================================================== the checks bite


def test_checks_catch_a_broken_item_served_by_the_sandbox(sb, jira, pd, notion, jira_project, notion_ids):
    """The sandbox's own `bad_item` fault (one list item loses a key relais reads)
    must be caught by the very checks the tests above rely on — proof that they are
    not vacuous against real sandbox output."""
    fail = pytest.fail.Exception
    sb.faults.add("jira", "bad_item", count=1, path=r"/search/jql$")
    r = call(
        jira,
        "GET",
        "/rest/api/3/search/jql",
        200,
        params={"jql": f"project = {jira_project}", "maxResults": 5, "fields": ",".join(JIRA_FIELDS)},
    )
    with pytest.raises(fail, match=r"/issues/\d+/fields: missing"):
        _jira_search_checks(r, JIRA_FIELDS)

    sb.faults.add("pagerduty", "bad_item", count=1, path=r"^/incidents$")
    r = call(pd, "GET", "/incidents", 200, params={"limit": 5, "date_range": "all"})
    with pytest.raises(fail, match=r"/incidents/\d+/service: missing"):
        _pd_list_checks(r, "incidents", total=False)

    dsid = notion_ids["data_source"]["briefings"]
    sb.faults.add("notion", "bad_item", count=1, path=r"/query$")
    r = call(notion, "POST", f"/v1/data_sources/{dsid}/query", 200, json={"page_size": 5})
    with pytest.raises(fail, match=r"/results/\d+/properties: missing"):
        notion_conforms(r, "list")
