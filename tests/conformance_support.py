"""What the conformance tests of the sandbox share (tests/test_conformance_jira.py,
_notion.py, _pagerduty.py and _bite.py): one sandbox per test module, plain httpx clients
for the three vendors, and the checks, with the few vendor-specific ones that more than one
module runs.

For each call: the status code, the body against the vendor schema
(tests/spec/openapi.py; for Notion also the recorded real objects and Notion's
generated TypeScript types, tests/spec/notion_shapes.py), and the key set against
the vendor's example / recorded object.  Where the vendor spec is wrong or unusable
for a path, the comment says so and the next best check is used; nothing is skipped.

A failure means the sandbox drifted from the real API: fix the sandbox, not the
check (unless the vendor material itself is shown to be wrong — then add an erratum
in tests/spec/openapi.py with the vendor's own evidence).

A test module takes the fixtures (``__all__``) with a star import: pytest finds a fixture
by its name in the module. They are module-scoped, so each module has its own sandbox.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.jira_map import BASE_FIELDS
from sandbox import Sandbox

try:  # `tests` is a package in some layouts, a plain rootdir in others
    from tests.spec import notion_shapes as ns
    from tests.spec import openapi as oa
except ImportError:  # pragma: no cover
    from spec import notion_shapes as ns
    from spec import openapi as oa


__all__ = [
    "_no_leftover_faults",
    "jira",
    "jira_project",
    "notion",
    "notion_ids",
    "pd",
    "relais_config",
    "sb",
    "scorecard_rows",
    "tls",
]

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


def vendor_client(sb, tls, vendor: str, *, token: str | None = None) -> httpx.Client:
    env = sb.env
    auth = None
    if vendor == "jira":
        auth = (env["JIRA_EMAIL"], token or env["JIRA_API_TOKEN"])
        headers = {"Accept": "application/json"}
    elif vendor == "notion":
        headers = {
            "Authorization": f"Bearer {token or env['NOTION_TOKEN']}",
            "Notion-Version": NOTION_VERSION,
        }
    elif vendor == "pagerduty":
        headers = {"Authorization": f"Token token={token or env['PAGERDUTY_TOKEN']}", "Accept": PD_ACCEPT}
    else:
        raise ValueError(vendor)
    return httpx.Client(base_url=sb.urls[vendor], verify=tls, timeout=TIMEOUT, auth=auth, headers=headers)


@pytest.fixture(scope="module")
def jira(sb, tls) -> Iterator[httpx.Client]:
    with vendor_client(sb, tls, "jira") as c:
        yield c


@pytest.fixture(scope="module")
def notion(sb, tls) -> Iterator[httpx.Client]:
    with vendor_client(sb, tls, "notion") as c:
        yield c


@pytest.fixture(scope="module")
def pd(sb, tls) -> Iterator[httpx.Client]:
    with vendor_client(sb, tls, "pagerduty") as c:
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


def fail_if_problems(r: httpx.Response, problems: list[str]) -> None:
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
    fail_if_problems(r, problems)
    return body


def error_conforms(vendor: str, r: httpx.Response, *, extra: list[str] | None = None) -> Any:
    body = body_of(r)
    problems = list(extra or [])
    ct = r.headers.get("content-type", "")
    if "json" not in ct:
        problems.append(f"Content-Type {ct!r} is not JSON")
    problems += oa.validate_error_body(vendor, r.status_code, body)
    fail_if_problems(r, problems)
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
    fail_if_problems(r, problems)
    return body


# =========================================================================== Jira

#: The issue fields relais' searches ask for, less the hierarchy (parent, issuelinks), which
#: the initiatives tests ask for on their own.
JIRA_FIELDS = [f for f in BASE_FIELDS if f not in ("parent", "issuelinks")]

# The vendor's search/issue examples list an arbitrary set of fields (watcher,
# attachment, worklog… and "updated": 1); real Jira returns exactly the requested
# fields, so the example's `fields` is not a key-set reference — only `project`
# (requested, and a stable shape) is compared inside `fields`.
JIRA_ISSUE_FIELD_IGNORE = (
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


def jira_component(ref: str) -> dict:
    return oa.load_spec("jira").schema_for_ref(f"#/components/schemas/{ref}")


def jira_schema_problems(where: str, ref: str, value: Any) -> list[str]:
    """``value`` against the Jira component schema ``ref``; each problem placed under ``where``."""
    return [
        f"{where}{e[1:] if e.startswith('/:') else e}"
        for e in oa.validate_against(jira_component(ref), value)
    ]


def jira_field_values(issue: dict) -> list[str]:
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
            problems += jira_schema_problems(f"{where}/{name}", ref, f[name])
    status = f.get("status") or {}
    if "statusCategory" in status:
        problems += jira_schema_problems(
            f"{where}/status/statusCategory", "StatusCategory", status["statusCategory"]
        )
        if status["statusCategory"].get("key") not in ("new", "indeterminate", "done", "undefined"):
            problems.append(
                f"{where}/status/statusCategory/key: {status['statusCategory'].get('key')!r} "
                "is not a Jira status category key (new/indeterminate/done)"
            )
    for comp in f.get("components") or []:
        problems += jira_schema_problems(f"{where}/components", "ComponentJsonBean", comp)
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


def jira_search_checks(r: httpx.Response, requested: list[str]) -> dict:
    body = conforms(
        "jira",
        r,
        example_ignore=tuple("/issues/*/fields/" + k for k in JIRA_ISSUE_FIELD_IGNORE),
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
        problems += jira_field_values(issue)
        if not str(issue.get("id", "")).isdigit():
            problems.append(f"/issues/{issue.get('key')}/id: {issue.get('id')!r} is not a numeric string")
    if body.get("isLast") is False and not body.get("nextPageToken"):
        problems.append("/nextPageToken: missing while isLast is false")
    if body.get("isLast") is True and "nextPageToken" in body:
        problems.append("/nextPageToken: present on the last page (real Jira omits it)")
    fail_if_problems(r, problems)
    return body


def search_checked(jira, jql: str, requested: list[str], **params: Any) -> tuple[httpx.Response, dict]:
    """GET /search/jql for the ``requested`` fields; the answer passed through jira_search_checks."""
    params = {"jql": jql, **params, "fields": ",".join(requested)}
    r = call(jira, "GET", "/rest/api/3/search/jql", 200, params=params)
    return r, jira_search_checks(r, requested)


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


# =========================================================================== PagerDuty


def pd_list_checks(r: httpx.Response, key: str, *, total: bool) -> dict:
    # every item against the example (log entries are heterogeneous: first one only)
    body = conforms("pagerduty", r, example_ignore=PD_IGNORE.get(key, ()), all_items=key != "log_entries")
    problems = []
    for k in ("limit", "offset", "more"):
        if k not in body:
            problems.append(f"/{k}: missing (classic pagination envelope)")
    if total and not isinstance(body.get("total"), int):
        problems.append(f"/total: {body.get('total')!r} — must be an integer when total=true")
    if not total and body.get("total") is not None:
        problems.append(f"/total: {body.get('total')!r} — real PagerDuty sends null unless total=true")
    fail_if_problems(r, problems)
    return body


# Keys of the vendor example that legitimately depend on the request:
PD_IGNORE = {
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


# =========================================================================== Notion


def scorecard_properties(team: str, monday: str, run: float, level: str) -> dict:
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


def create_scorecard_row(notion, dsid: str, properties: dict) -> dict:
    schema = data_source_schema(notion, dsid)
    r = call(
        notion,
        "POST",
        "/v1/pages",
        200,
        json={"parent": {"type": "data_source_id", "data_source_id": dsid}, "properties": properties},
    )
    body = notion_conforms(r, "page")
    problems = page_matches_schema(body, schema, "")
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
    fail_if_problems(r, problems)
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
            rows.append(create_scorecard_row(notion, dsid, scorecard_properties(team, monday, run, level)))
    return rows


@pytest.fixture(scope="module")
def notion_ids(sb, scorecard_rows) -> dict[str, dict[str, str]]:
    return {"database": dict(sb.notion.database_ids), "data_source": dict(sb.notion.data_source_ids)}


def data_source_schema(notion, dsid) -> dict:
    return body_of(call(notion, "GET", f"/v1/data_sources/{dsid}", 200))["properties"]


def page_matches_schema(page: dict, schema: dict, where: str) -> list[str]:
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
