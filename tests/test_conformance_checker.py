"""Tests of the spec checker itself (tests/spec): it must accept the vendors' own
examples / real recorded responses, and it must REJECT deliberately broken copies —
otherwise a green sandbox conformance run would prove nothing."""

from __future__ import annotations

import copy
import json

import pytest

try:  # `tests` is a package in some layouts, a plain rootdir in others
    from tests.spec import notion_shapes as ns
    from tests.spec import openapi as oa
    from tests.spec.ts_types import NotionTypes, notion_types
except ImportError:  # pragma: no cover
    from spec import notion_shapes as ns
    from spec import openapi as oa
    from spec.ts_types import NotionTypes, notion_types


# --------------------------------------------------------------------------- loading / lookup


def test_shared_dir_is_overridable_and_fails_clearly(monkeypatch, tmp_path):
    try:
        from tests import spec as spec_pkg
    except ImportError:  # pragma: no cover
        import spec as spec_pkg
    real = spec_pkg.shared_dir()
    try:
        monkeypatch.setenv("RELAIS_SHARED", str(tmp_path / "nowhere"))
        spec_pkg.shared_dir.cache_clear()
        with pytest.raises(RuntimeError, match="RELAIS_SHARED=.*nowhere.*specs/"):
            spec_pkg.shared_dir()
        monkeypatch.setenv("RELAIS_SHARED", str(real))
        spec_pkg.shared_dir.cache_clear()
        assert spec_pkg.shared_dir() == real
        monkeypatch.delenv("RELAIS_SHARED")
        spec_pkg.shared_dir.cache_clear()
        default = (spec_pkg.REPO_ROOT / ".." / "shared").resolve()
        if (default / "specs").is_dir():
            assert spec_pkg.shared_dir() == default
        else:  # material only reachable through RELAIS_SHARED on this machine
            with pytest.raises(RuntimeError, match="beside the repo"):
                spec_pkg.shared_dir()
    finally:
        spec_pkg.shared_dir.cache_clear()


def test_specs_load_once_and_are_cached():
    for vendor in ("jira", "pagerduty", "notion"):
        assert oa.load_spec(vendor) is oa.load_spec(vendor)
    assert oa.load_spec("jira").openapi_version.startswith("3.0")
    assert oa.load_spec("notion").openapi_version.startswith("3.1")
    with pytest.raises(ValueError, match="unknown vendor"):
        oa.load_spec("servicenow")


@pytest.mark.parametrize(
    "vendor, method, concrete, template",
    [
        ("jira", "GET", "/rest/api/3/issue/EX-1", "/rest/api/3/issue/{issueIdOrKey}"),
        ("jira", "GET", "/rest/api/3/issue/10001?fields=summary", "/rest/api/3/issue/{issueIdOrKey}"),
        ("jira", "GET", "/rest/api/3/issue/picker", "/rest/api/3/issue/picker"),  # literal wins
        ("jira", "PUT", "/rest/api/3/issue/EX-1", "/rest/api/3/issue/{issueIdOrKey}"),
        ("jira", "GET", "/rest/api/3/search/jql?jql=project%3DEX", "/rest/api/3/search/jql"),
        ("pagerduty", "GET", "/incidents/Q1ABC", "/incidents/{id}"),
        ("pagerduty", "GET", "/incidents/types", "/incidents/types"),  # literal wins
        ("pagerduty", "POST", "/incidents/Q1ABC/notes", "/incidents/{id}/notes"),
        ("notion", "GET", "/v1/users/me", "/v1/users/me"),  # literal beats /v1/users/{user_id}
        ("notion", "GET", "/v1/pages/393abc1e-edcd-81f5-ae94-ec2d55fe98ed", "/v1/pages/{page_id}"),
        (
            "notion",
            "GET",
            "/v1/pages/393abc1e-edcd-81f5-ae94-ec2d55fe98ed/properties/a%3Db",
            "/v1/pages/{page_id}/properties/{property_id}",
        ),
        (
            "notion",
            "POST",
            "https://api.notion.com/v1/data_sources/abc/query",
            "/v1/data_sources/{data_source_id}/query",
        ),
    ],
)
def test_find_operation_matches_templates(vendor, method, concrete, template):
    assert oa.load_spec(vendor).find_operation(method, concrete).template == template


def test_unknown_operation_and_undocumented_status_are_lookup_errors():
    with pytest.raises(oa.SpecLookupError, match="no operation"):
        oa.load_spec("jira").find_operation("GET", "/rest/api/3/nonexistent/thing/here")
    with pytest.raises(oa.SpecLookupError, match="no operation"):
        oa.load_spec("pagerduty").find_operation("PATCH", "/incidents/Q1")  # method not in spec
    with pytest.raises(oa.SpecLookupError, match="documents no response 418"):
        oa.validate_response("pagerduty", "GET", "/incidents", 418, {})


def test_response_schema_is_self_contained_and_resolves_pagerduty_pointer_refs():
    schema = oa.load_spec("pagerduty").response_schema("GET", "/incidents/Q1", 404)
    # NotFound -> $ref "#/components/responses/Conflict/content/application~1json/schema"
    text = json.dumps(schema)
    assert "#/components" not in text
    assert all(ref.startswith("#/$defs/") for ref in _refs(schema))
    jira = oa.load_spec("jira").response_schema("GET", "/rest/api/3/search/jql", 200)
    assert "IssueBean" in jira["$defs"]
    assert all(ref[len("#/$defs/") :] in jira["$defs"] for ref in _refs(jira))


def _refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


# --------------------------------------------------------------------------- vendor examples

EXAMPLE_CASES = [
    ("jira", "GET", "/rest/api/3/search/jql", 200),
    ("jira", "POST", "/rest/api/3/search/jql", 200),
    ("jira", "GET", "/rest/api/3/field", 200),
    ("jira", "GET", "/rest/api/3/myself", 200),
    ("jira", "GET", "/rest/api/3/serverInfo", 200),
    ("jira", "GET", "/rest/api/3/issue/EX-1", 200),
    ("pagerduty", "GET", "/incidents", 200),
    ("pagerduty", "GET", "/log_entries", 200),
    ("pagerduty", "GET", "/incidents/PT4KHLK", 200),
    ("pagerduty", "PUT", "/incidents/PT4KHLK", 200),
    ("pagerduty", "POST", "/incidents/PT4KHLK/notes", 200),
    ("pagerduty", "GET", "/services", 200),
    ("pagerduty", "GET", "/priorities", 200),
    ("pagerduty", "GET", "/abilities", 200),
    ("notion", "GET", "/v1/users/me", 200),
]


@pytest.mark.parametrize("case", EXAMPLE_CASES, ids=lambda c: f"{c[0]} {c[1]} {c[2]}")
def test_vendor_example_validates_clean(case):
    example = oa.example_for(*case)
    assert example is not None, f"spec has no example for {case}"
    assert oa.validate_response(*case, example) == []
    oa.assert_conforms(*case, example)
    assert oa.missing_keys(example, example) == []


def _set(path, value):
    def mutate(body):
        node = body
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value

    return mutate


def _del(path):
    def mutate(body):
        node = body
        for p in path[:-1]:
            node = node[p]
        del node[path[-1]]

    return mutate


BROKEN_CASES = [
    # (case, mutation, expected error fragment)
    (EXAMPLE_CASES[0], _set(["issues"], {"not": "a list"}), "/issues: "),
    (EXAMPLE_CASES[0], _set(["isLast"], "true"), "/isLast: 'true' is not of type 'boolean'"),
    (EXAMPLE_CASES[0], _set(["nextPageToken"], None), "/nextPageToken: null is not of type 'string'"),
    (EXAMPLE_CASES[0], _set(["total"], 1), "('total' was unexpected)"),  # additionalProperties:false
    (EXAMPLE_CASES[0], _set(["issues", 0, "id"], 10068), "/issues/0/id: 10068 is not of type 'string'"),
    (EXAMPLE_CASES[2], _set([0, "custom"], "false"), "/0/custom: "),
    (EXAMPLE_CASES[3], _set(["active"], "yes"), "/active: "),
    (
        EXAMPLE_CASES[4],
        _set(["serverTime"], "yesterday"),
        "/serverTime: 'yesterday' is not a valid date-time",
    ),
    (EXAMPLE_CASES[6], _del(["incidents"]), "'incidents' is a required property"),
    (EXAMPLE_CASES[6], _set(["incidents", 0, "status"], "open"), "/incidents/0/status: 'open' is not one of"),
    (EXAMPLE_CASES[6], _set(["incidents", 0, "urgency"], "urgent"), "/incidents/0/urgency: "),
    (EXAMPLE_CASES[6], _set(["limit"], "1"), "/limit: '1' is not of type 'integer'"),
    (EXAMPLE_CASES[6], _set(["more"], None), "/more: null is not of type 'boolean'"),
    (EXAMPLE_CASES[7], _del(["log_entries"]), "'log_entries' is a required property"),
    (EXAMPLE_CASES[8], _del(["incident"]), "'incident' is a required property"),
    (EXAMPLE_CASES[8], _set(["incident", "incident_number"], "1234"), "/incident/incident_number: "),
    (EXAMPLE_CASES[10], _del(["note"]), "'note' is a required property"),
    (EXAMPLE_CASES[13], _set(["abilities"], "teams"), "/abilities: 'teams' is not of type 'array'"),
]


@pytest.mark.parametrize(
    "case, mutate, fragment",
    BROKEN_CASES,
    ids=[f"{c[0]}{c[2]}#{i}" for i, (c, _, _) in enumerate(BROKEN_CASES)],
)
def test_broken_copy_of_vendor_example_fails(case, mutate, fragment):
    broken = copy.deepcopy(oa.example_for(*case))
    mutate(broken)
    errors = oa.validate_response(*case, broken)
    assert any(fragment in e for e in errors), errors
    with pytest.raises(AssertionError) as info:
        oa.assert_conforms(*case, broken)
    assert fragment in str(info.value)


def test_assert_conforms_lists_every_error():
    case = ("pagerduty", "GET", "/incidents/PT4KHLK", 200)
    broken = copy.deepcopy(oa.example_for(*case))
    broken["incident"]["status"] = "open"
    broken["incident"]["urgency"] = 3
    broken["incident"]["incident_number"] = "x"
    with pytest.raises(AssertionError) as info:
        oa.assert_conforms(*case, broken)
    text = str(info.value)
    assert "spec violation(s)" in text
    for where in ("/incident/status", "/incident/urgency", "/incident/incident_number"):
        assert where in text


def test_no_body_documented_means_empty_body_and_content_type_is_checked():
    # Jira PUT /issue/{key} documents 204 (content {} schema) — an empty body is fine.
    assert oa.validate_response("jira", "PUT", "/rest/api/3/issue/EX-1", 204, None) == []
    # PagerDuty/Jira responses with no documented content must not carry a body.
    errs = oa.validate_response("jira", "GET", "/rest/api/3/myself", 401, {"oops": 1})
    assert errs and "documents no body" in errs[0]
    errs = oa.validate_response(
        "pagerduty", "GET", "/abilities", 200, {"abilities": []}, content_type="text/html"
    )
    assert any("not JSON" in e for e in errs)
    assert (
        oa.validate_response(
            "pagerduty",
            "GET",
            "/abilities",
            200,
            {"abilities": []},
            content_type="application/json; charset=utf-8",
        )
        == []
    )


# --------------------------------------------------------------------------- conversion details


def _toy_spec(openapi="3.0.2"):
    doc = {
        "openapi": openapi,
        "paths": {
            "/things/{id}": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {
                                "application/vnd.toy+json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                            }
                        }
                    }
                }
            },
        },
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "required": ["id", "secret", "when"],
                    "properties": {
                        "id": {"type": "string"},
                        "secret": {"type": "string", "writeOnly": True},
                        "label": {"type": "string", "nullable": True},
                        "color": {"type": "string", "enum": ["red", "blue"], "nullable": True},
                        "parent": {"$ref": "#/components/schemas/Thing", "nullable": True},
                        "kind": {
                            "oneOf": [
                                {"type": "object", "properties": {"a": {"type": "string"}}},
                                {"type": "object", "properties": {"b": {"type": "string"}}},
                            ],
                            "discriminator": {"propertyName": "t"},
                        },
                        "score": {"type": "number", "maximum": 10, "exclusiveMaximum": True},
                        "when": {"type": "string", "format": "date-time"},
                        "email": {"type": "string", "format": "email"},
                        "example": {"type": "integer", "example": "not-a-keyword-here"},
                    },
                    "example": {"id": "x"},
                },
            }
        },
    }
    return oa.Spec("toy", doc)


def test_openapi30_conversion_rules():
    spec = _toy_spec()
    validator = spec.validator("GET", "/things/1", 200)
    ok = {
        "id": "1",
        "when": "2026-07-04T09:08:00Z",
        "label": None,
        "color": None,
        "parent": None,
        "kind": {"a": "x", "b": "y"},  # matches both oneOf branches: fine
        "score": 9.5,
        "email": "not an email (format not enforced)",
        "example": 3,
    }
    assert oa.format_errors(validator.iter_errors(ok)) == []  # writeOnly 'secret' not required
    assert spec.media("GET", "/things/1", 200)[0] == "application/vnd.toy+json"
    bad = dict(
        ok,
        id=None,
        label=3,
        color="green",
        score=10,
        when="2026-07-04",
        parent={"when": "2026-07-04T09:08:00.000+0000"},
        example="x",
    )
    errors = oa.format_errors(validator.iter_errors(bad))
    joined = "\n".join(errors)
    for fragment in (
        "/id: null is not of type 'string'",
        "/label: 3",
        "/color: 'green'",
        "/score:",
        "/when: '2026-07-04' is not a valid date-time",
        "/parent: 'id' is a required property",
        "/example: 'x'",
    ):
        assert fragment in joined, errors
    # Jira-style offset without colon is accepted as date-time
    assert not any(e.startswith("/parent/when") for e in errors)


def test_openapi31_keeps_ref_siblings():
    doc = {
        "openapi": "3.1.0",
        "paths": {
            "/x": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/A", "required": ["b"]}
                                }
                            }
                        }
                    }
                }
            }
        },
        "components": {"schemas": {"A": {"type": "object", "required": ["a"]}}},
    }
    spec = oa.Spec("toy31", doc)
    errs = oa.format_errors(spec.validator("GET", "/x", 200).iter_errors({}))
    assert errs == ["/: 'a' is a required property", "/: 'b' is a required property"]


# --------------------------------------------------------------------------- errata


@pytest.mark.parametrize("erratum", oa.ERRATA, ids=lambda e: f"{e.vendor}:{e.target.rsplit('/', 1)[-1]}")
def test_each_erratum_is_still_needed(erratum):
    raw = oa.load_spec(erratum.vendor, errata=False)
    target = oa.resolve_pointer(raw.doc, erratum.target)
    assert isinstance(target, dict)
    if erratum.replace:
        assert target != erratum.merge, f"vendor spec fixed upstream, drop the erratum: {erratum.reason}"
    else:
        assert any(target.get(k) != v for k, v in erratum.merge.items()), (
            f"vendor spec fixed upstream, drop the erratum: {erratum.reason}"
        )
    assert erratum.evidence or erratum.proof, "an erratum needs the vendor's own evidence"
    if erratum.proof:
        where, value = erratum.proof
        assert value in oa.resolve_pointer(raw.doc, where), f"proof no longer holds: {where} lacks {value!r}"
    if erratum.evidence:
        method, path, status = erratum.evidence
        example = raw.example(method, path, status)
        raw_errors = oa.format_errors(raw.validator(method, path, status).iter_errors(example))
        assert raw_errors, "the vendor example no longer contradicts the raw schema"
        assert oa.validate_response(erratum.vendor, method, path, status, example) == []


def test_pagerduty_log_entry_errata_accept_real_shapes():
    example = oa.example_for("pagerduty", "GET", "/log_entries", 200)
    entry = copy.deepcopy(example["log_entries"][0])
    entry["type"] = "acknowledge_log_entry"
    incident = oa.example_for("pagerduty", "GET", "/incidents/PT4KHLK", 200)["incident"]
    entry["incident"] = incident  # include[]=incidents
    body = {**example, "log_entries": [entry]}
    assert oa.validate_response("pagerduty", "GET", "/log_entries", 200, body) == []
    raw = oa.load_spec("pagerduty", errata=False)
    assert oa.format_errors(raw.validator("GET", "/log_entries", 200).iter_errors(body))
    # …while a made-up type or a broken embedded incident still fails
    bad = copy.deepcopy(body)
    bad["log_entries"][0]["type"] = "acknowledged_log_entry"
    assert oa.validate_response("pagerduty", "GET", "/log_entries", 200, bad)
    bad = copy.deepcopy(body)
    bad["log_entries"][0]["incident"]["status"] = "open"
    assert oa.validate_response("pagerduty", "GET", "/log_entries", 200, bad)


# --------------------------------------------------------------------------- key sets


def test_missing_keys_recursive_lists_and_ignore():
    example = {"a": 1, "b": {"c": 2, "d": {"e": 3}}, "items": [{"x": 1, "y": 2}], "opt": {"k": 1}}
    actual = {"a": 1, "b": {"c": 2, "d": {}}, "items": [{"x": 1}, {"y": 2}], "opt": None}
    assert oa.missing_keys(example, actual) == ["/b/d/e", "/items/0/y"]
    assert oa.missing_keys(example, actual, all_items=True) == ["/b/d/e", "/items/0/y", "/items/1/x"]
    assert oa.missing_keys(example, actual, ignore=["e", "/items/*/y"]) == []
    assert oa.missing_keys(example, {}, ignore=["/b"]) == ["/a", "/items", "/opt"]
    assert oa.missing_keys([{"a": 1}], []) == []  # nothing to compare


def test_missing_keys_flags_a_sandboxy_incident():
    example = oa.example_for("pagerduty", "GET", "/incidents", 200)
    incident = copy.deepcopy(example["incidents"][0])
    for key in ("alert_counts", "incident_key", "html_url"):
        del incident[key]
    del incident["service"]["html_url"]
    missing = oa.missing_keys(example, {**example, "incidents": [incident]})
    assert sorted(missing) == [
        "/incidents/0/alert_counts",
        "/incidents/0/html_url",
        "/incidents/0/incident_key",
        "/incidents/0/service/html_url",
    ]


# --------------------------------------------------------------------------- error bodies


@pytest.mark.parametrize(
    "vendor, status, body",
    [
        ("jira", 400, {"errorMessages": [], "errors": {"customfield_10010": "Option id 'x' is not valid"}}),
        ("jira", 410, {"errorMessages": ["The requested API has been removed."], "errors": {}}),
        ("pagerduty", 404, {"error": {"message": "Not Found", "code": 2100}}),
        ("pagerduty", 400, {"error": {"message": "Invalid Input Provided", "code": 2001, "errors": ["x"]}}),
        (
            "notion",
            404,
            {
                "object": "error",
                "status": 404,
                "code": "object_not_found",
                "message": "Could not find page.",
                "request_id": "2bd770e5-493f-4acb-a967-5a986fd2c893",
            },
        ),
    ],
)
def test_vendor_error_bodies_accept_real_shapes(vendor, status, body):
    assert oa.validate_error_body(vendor, status, body) == []


@pytest.mark.parametrize(
    "vendor, status, body, fragment",
    [
        ("jira", 400, {"message": "bad"}, "'errorMessages' is a required property"),
        ("jira", 400, {"errorMessages": "bad", "errors": {}}, "/errorMessages: 'bad' is not of type 'array'"),
        ("pagerduty", 401, {"error": "Unauthorized"}, "/error: 'Unauthorized' is not of type 'object'"),
        ("pagerduty", 429, {"error": {"message": "Rate Limit Exceeded"}}, "'code' is a required property"),
        (
            "notion",
            429,
            {"object": "error", "status": 429, "code": "rate_limited", "message": "slow down"},
            "'request_id' is a required property",
        ),
        (
            "notion",
            404,
            {"object": "error", "status": 400, "code": "object_not_found", "message": "x", "request_id": "r"},
            "does not echo HTTP status 404",
        ),
    ],
)
def test_vendor_error_bodies_reject_broken_shapes(vendor, status, body, fragment):
    errors = oa.validate_error_body(vendor, status, body)
    assert any(fragment in e for e in errors), errors


# --------------------------------------------------------------------------- Notion: recorded shapes

NOTION_KINDS = ["page", "database", "data_source", "list", "user", "error", "property_item", "block"]


@pytest.mark.parametrize("kind", NOTION_KINDS)
def test_recorded_notion_objects_pass_their_own_shape_and_types(kind):
    objects = ns.recorded(kind)
    assert objects
    for obj in objects:
        assert ns.check_shape(kind, obj) == []
        if kind in ns.TS_TYPES or (kind == "list" and obj.get("type") in ns.TS_LIST_TYPES):
            assert ns.check_ts(obj) == [], obj


def test_recorded_notion_top_level_bodies_pass_full_check():
    checked = 0
    for rec in ns.recorded_interactions():
        kind = rec.body.get("object")
        if not rec.uri.startswith("https://api.notion.com/v1/") or kind not in NOTION_KINDS:
            continue
        if kind == "list" and rec.body.get("type") not in ns.TS_LIST_TYPES:
            continue
        path = rec.uri.split("api.notion.com", 1)[1]
        errors = [
            e
            for e in ns.check_notion_response(rec.method, path, rec.status, rec.body)
            if not e.startswith("(spec)")
        ]  # paths absent from the partial spec
        assert errors == [], (rec.cassette, rec.method, path)
        checked += 1
    assert checked > 150


def test_recorded_timestamp_formats_are_encoded():
    page = ns.reference_shape("page")
    assert page.keys["last_edited_time"].string_format() == "time:minute-Z"
    assert ns.reference_shape("data_source").keys["created_time"].string_format() == "time:minute-Z"
    assert ns.reference_shape("database").keys["last_edited_time"].string_format() == "time:ms-+00:00"
    assert ns.reference_shape("page").keys["id"].string_format() == "uuid"
    assert set(ns.reference_shape("error").required) == {"object", "status", "code", "message"}
    assert {"object", "results", "next_cursor", "has_more", "type"} <= set(
        ns.reference_shape("list").required
    )


def _recorded_page():
    return copy.deepcopy(
        next(
            r.body for r in ns.recorded_interactions() if r.body.get("object") == "page" and r.method == "GET"
        )
    )


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (_del(["is_locked"]), "/is_locked: missing"),
        (_del(["url"]), "/url: missing"),
        (_del(["request_id"]), "/request_id: missing"),
        (_set(["request_id"], "req-1"), "/request_id: 'req-1' is not a UUID"),
        (
            _set(["last_edited_time"], "2026-07-04T09:08:13.123Z"),
            "/last_edited_time: '2026-07-04T09:08:13.123Z' is not a timestamp rounded to the minute",
        ),
        (_set(["created_time"], "2026-07-04T09:08:00+00:00"), "/created_time: "),
        (
            _set(["id"], "393abc1eedcd81f5ae94ec2d55fe98ed"),
            "/id: '393abc1eedcd81f5ae94ec2d55fe98ed' is not a dashed lowercase UUID",
        ),
        (_set(["in_trash"], "false"), "/in_trash: string where real Notion has boolean"),
        (
            _set(["created_by"], "7775f3a3-893f-43fa-b625-460c61094c78"),
            "/created_by: string where real Notion has object",
        ),
        (_del(["parent", "type"]), "/parent/type: missing"),
    ],
)
def test_broken_notion_page_fails_shape(mutate, fragment):
    page = _recorded_page()
    mutate(page)
    errors = ns.check_shape("page", page, top_level=True)
    assert any(fragment in e for e in errors), errors


def test_broken_notion_database_list_error_fail_shape():
    db = copy.deepcopy(ns.recorded("database")[0])
    db["last_edited_time"] = "2026-07-04T09:08:00.000Z"  # page-style: real databases are ms +00:00
    del db["data_sources"]
    errors = ns.check_shape("database", db)
    assert any("/last_edited_time:" in e and "+00:00" in e for e in errors), errors
    assert "/data_sources: missing (every recorded real object has it)" in errors

    lst = copy.deepcopy(
        next(o for o in ns.recorded("list") if o.get("type") == "page_or_data_source" and o["results"])
    )
    del lst["has_more"]
    lst["next_cursor"] = 5
    del lst["results"][0]["last_edited_time"]
    errors = ns.check_shape("list", lst)
    assert "/has_more: missing (every recorded real object has it)" in errors
    assert any(e.startswith("/next_cursor: number where real Notion has") for e in errors), errors
    assert "/results/0/last_edited_time: missing (every recorded real object has it)" in errors
    lst = copy.deepcopy(next(o for o in ns.recorded("list") if o.get("type") == "page_or_data_source"))
    del lst["page_or_data_source"]
    assert "/page_or_data_source: missing (every recorded real object has it)" in ns.check_shape("list", lst)

    err = copy.deepcopy(ns.recorded("error")[0])
    del err["code"]
    assert "/code: missing (every recorded real object has it)" in ns.check_shape("error", err)
    assert ns.check_shape("error", {"message": "x"}) != []


def test_unrecorded_variants_only_need_common_keys():
    page = _recorded_page()
    # pages in a data source have a parent variant the cassettes never recorded
    page["parent"] = {
        "type": "data_source_id",
        "data_source_id": "b71e1213-3d03-46cb-b9c2-db9856a9f42d",
        "database_id": "e234cdc8-4ad2-4371-a97e-999a238bf8f5",
    }
    page["cover"] = {"type": "external", "external": {"url": "https://x"}}  # only null was recorded
    assert ns.check_shape("page", page, top_level=True) == []


def test_unrecorded_variant_does_not_inherit_type_named_keys():
    item = {
        "object": "property_item",
        "id": "vdhm",
        "type": "select",
        "select": {"id": "x", "name": "RUN", "color": "blue"},
    }
    assert ns.check_shape("property_item", item) == []
    assert ns.check_shape("property_item", {"object": "property_item", "type": "select", "select": None}) == [
        "/id: missing (every recorded real object has it)"
    ]
    recorded_title = ns.recorded("property_item")[0]
    assert recorded_title["type"] == "title"
    broken = {k: v for k, v in recorded_title.items() if k != "title"}
    assert ns.check_shape("property_item", broken) == ["/title: missing (every recorded real object has it)"]


def test_shape_of_signature():
    sig = ns.shape_of({"a": 1, "b": [{"c": None}, {"c": "x", "d": True}]}, {"a": 2.5}).signature()
    assert sig == {
        "types": ["object"],
        "keys": {
            "a": {"types": ["number"]},
            "b": {
                "types": ["array"],
                "optional": True,
                "items": {
                    "types": ["object"],
                    "keys": {
                        "c": {"types": ["null", "string"]},
                        "d": {"types": ["boolean"], "optional": True},
                    },
                },
            },
        },
    }


# --------------------------------------------------------------------------- Notion: TypeScript types


def test_ts_types_catch_what_cassettes_cannot():
    page = _recorded_page()
    del page["request_id"]
    page["parent"] = {
        "type": "data_source_id",
        "data_source_id": "b71e1213-3d03-46cb-b9c2-db9856a9f42d",
        "database_id": "e234cdc8-4ad2-4371-a97e-999a238bf8f5",
    }
    page["properties"] = {
        "Title": page["properties"]["title"],
        "Status": {"id": "a%3Db", "type": "status", "status": {"id": "1", "name": "Done", "color": "green"}},
        "Kind": {"id": "b", "type": "select", "select": None},
        "Owner": {
            "id": "c",
            "type": "people",
            "people": [{"object": "user", "id": "7775f3a3-893f-43fa-b625-460c61094c78"}],
        },
        "Links": {
            "id": "d",
            "type": "relation",
            "relation": [{"id": "e234cdc8-4ad2-4371-a97e-999a238bf8f5"}],
            "has_more": False,
        },
        "Due": {"id": "e", "type": "date", "date": {"start": "2026-07-04", "end": None, "time_zone": None}},
        "Score": {"id": "f", "type": "number", "number": 3},
        "Edited": {"id": "g", "type": "last_edited_time", "last_edited_time": "2026-07-04T09:08:00.000Z"},
    }
    assert ns.check_ts(page) == []
    broken = copy.deepcopy(page)
    broken["properties"]["Status"]["status"] = {"name": "Done"}
    broken["properties"]["Links"]["relation"] = [{"page_id": "x"}]
    broken["properties"]["Score"]["number"] = "3"
    broken["properties"]["Owner"]["people"] = ["7775f3a3"]
    errors = ns.check_ts(broken)
    for fragment in (
        "/properties/Status/status: 'id' is a required property",
        "/properties/Status/status: 'color' is a required property",
        "/properties/Links/relation/0: 'id' is a required property",
        "/properties/Score/number: '3' is not of type 'number'",
        "/properties/Owner/people/0: ",
    ):
        assert any(e.startswith(fragment) for e in errors), (fragment, errors)


def test_ts_query_results_use_full_page_type():
    lst = copy.deepcopy(
        next(o for o in ns.recorded("list") if o.get("type") == "page_or_data_source" and o["results"])
    )
    lst["results"][0] = {"object": "page", "id": lst["results"][0]["id"]}  # a PartialPageObjectResponse
    errors = ns.check_ts(lst)
    assert "/results/0: 'created_time' is a required property" in errors


def test_ts_parser_subset(tmp_path):
    (tmp_path / "a.ts").write_text(
        '// header\nimport type { B } from "./b"\n\n'
        'export type A = {\n  // comment\n  x: string\n  y?: number | null\n  z: "one" | "two"\n'
        "  w: Array<B>\n  v: B[]\n  m: Record<string, B>\n  e: Record<string, never>\n"
        '  "quoted-key": true\n  [key: string]: unknown\n}\n\n'
        "export const a = {\n  path: (p: A): string => `x/${p.x}`,\n} as const\n\n"
        'type Local =\n  | { t: "p"; p: string }\n  | { t: "q"; q: Blob }\n',
        encoding="utf-8",
    )
    (tmp_path / "b.ts").write_text(
        "export type B = { id: string } & ({ k: 1 } | { k: 2 })\n", encoding="utf-8"
    )
    types = NotionTypes(tmp_path)
    assert types.unknown == {"Blob"}
    a = types.defs["A"]
    assert a["required"] == ["x", "z", "w", "v", "m", "e", "quoted-key"]
    assert a["properties"]["z"] == {"enum": ["one", "two"]}
    assert a["properties"]["y"] == {"anyOf": [{"type": "number"}, {"type": "null"}]}
    assert a["properties"]["e"] == {"type": "object"}
    good = {
        "x": "s",
        "z": "one",
        "w": [{"id": "1", "k": 1}],
        "v": [],
        "m": {},
        "e": {"any": 1},
        "quoted-key": True,
    }
    assert types.validate("A", good) == []
    errors = types.validate("A", {**good, "z": "three", "w": [{"id": 1, "k": 3}], "y": "1"})
    assert '/z: \'three\' is not one of ["one", "two"]' in errors
    assert "/w/0/id: 1 is not of type 'string'" in errors
    assert any(e.startswith("/w/0/k") for e in errors)
    assert any(e.startswith("/y") for e in errors)


def test_ts_types_load_everything():
    types = notion_types()
    assert len(types.defs) > 700
    assert types.unknown <= {"Blob"}  # only DOM types used by upload *requests*
    for name in set(ns.TS_TYPES.values()) | set(ns.TS_LIST_TYPES.values()):
        types.schema(name)
