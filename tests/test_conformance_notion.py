"""The sandbox's Notion held to Notion's own material, every endpoint relais uses, over real HTTPS
(how each call is checked, and what a failure means: tests/conformance_support.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

# The shared fixtures (its __all__): pytest finds a fixture by its name in the module.
from conformance_support import *  # noqa: F403
from conformance_support import (
    body_of,
    call,
    data_source_schema,
    fail_if_problems,
    notion_conforms,
    ns,
    page_matches_schema,
    vendor_client,
)


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
        fail_if_problems(r, problems)


def test_notion_query_filter_and_cursor(notion, notion_ids):
    for key, dsid in notion_ids["data_source"].items():
        schema = data_source_schema(notion, dsid)
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
                problems += page_matches_schema(p, schema, f"/results/{i}")
                if p.get("parent", {}).get("data_source_id") != dsid:
                    problems.append(
                        f"/results/{i}/parent: {p.get('parent')!r} (a row's parent is its data source)"
                    )
            fail_if_problems(r, problems)
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
        data_source_schema(notion, dsid), relais_config["writeback"]["notion"]["work_type"]["property"]
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
    fail_if_problems(r, problems)
    # clearing the select
    r = call(
        notion, "PATCH", f"/v1/pages/{notion_page['id']}", 200, json={"properties": {name: {"select": None}}}
    )
    assert notion_conforms(r, "page")["properties"][name]["select"] is None


def test_notion_invalid_status_is_400(notion, notion_ids, notion_page):
    # Unknown select names create an option; unknown *status* names are rejected.
    dsid = notion_ids["data_source"]["briefings"]
    status = next((n for n, p in data_source_schema(notion, dsid).items() if p["type"] == "status"), None)
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
    schema = data_source_schema(notion, dsid)
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
            fail_if_problems(r, problems)
        else:
            body = notion_conforms(r, "property_item")
            fail_if_problems(
                r,
                []
                if (body.get("id"), body.get("type")) == (pid, prop["type"])
                else [f"/: id/type {body.get('id')!r}/{body.get('type')!r} != {pid!r}/{prop['type']!r}"],
            )


def test_notion_create_page(notion, notion_ids):
    dsid = notion_ids["data_source"]["feedback"]
    schema = data_source_schema(notion, dsid)
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
    problems = page_matches_schema(body, schema, "")
    if body["properties"][title]["title"][0].get("plain_text") != "conformance check":
        problems.append(f"/properties/{title}/title/0/plain_text: not echoed")
    fail_if_problems(r, problems)
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
    fail_if_problems(r, problems)


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
        page_matches_schema(body["results"][0], data_source_schema(notion, dsid), "/results/0")
        if body["results"]
        else []
    )
    fail_if_problems(r, problems)
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
    schema = data_source_schema(notion, dsid)
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
    problems = page_matches_schema(body, schema, "")
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
    fail_if_problems(r, problems)
    pid = schema["PM"]["id"]
    r = call(notion, "GET", f"/v1/pages/{page['id']}/properties/{pid}", 200)
    items = notion_conforms(r, "list")
    fail_if_problems(
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
    schema = data_source_schema(notion, dsid)
    page_id = sb.initiatives.role("validated").page_id
    r = call(notion, "GET", f"/v1/pages/{page_id}", 200)
    body = notion_conforms(r, "page")
    p = body["properties"]
    problems = page_matches_schema(body, schema, "")
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
    fail_if_problems(r, problems)
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
    problems = page_matches_schema(body, schema, "")
    got = (
        p["Health"]["select"]["name"],
        p["Progress"]["number"],
        p["Forecast"]["date"]["start"],
        p["Security critical"]["checkbox"],
        p["Priority score"]["number"],
    )
    if got != ("At risk", 40, "2026-12-04", True, 1.67):
        problems.append(f"/properties: {got!r}")
    fail_if_problems(r, problems)
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
    with vendor_client(sb, tls, "notion", token="ntn_000000000000000000000000000000000000000000000") as bad:
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


def test_notion_update_data_source(sb, notion, notion_ids):
    """PATCH /v1/data_sources/{id} (data-sources.ts, UpdateDataSourceBodyParameters; recorded in
    test_data_sources_update.yaml): properties created, a select's options replaced by the list
    sent (ids kept for those sent by id), a number format set, a property renamed and removed, the
    title changed; a refused update is a 400 validation_error and changes nothing. What it adds,
    it removes: the module's other tests see the schema they expect."""
    dsid = notion_ids["data_source"]["feedback"]
    path = f"/v1/data_sources/{dsid}"
    name = f"Conformance {uuid.uuid4().hex[:6]}"
    number = f"{name} n"
    r = call(
        notion,
        "PATCH",
        path,
        200,
        json={
            "properties": {
                name: {
                    "type": "select",
                    "select": {"options": [{"name": "a"}, {"name": "b", "color": "red"}]},
                },
                number: {"number": {"format": "number"}},
            }
        },
    )
    props = notion_conforms(r, "data_source")["properties"]
    options = props[name]["select"]["options"]
    assert props[name]["type"] == "select" and [o["name"] for o in options] == ["a", "b"]
    assert options[1]["color"] == "red" and props[number]["number"] == {"format": "number"}

    # Notion replaces the options with the list sent: those sent by id keep it, the rest are new.
    sent = [{"id": o["id"]} for o in options] + [{"name": "c"}]
    r = call(notion, "PATCH", path, 200, json={"properties": {name: {"select": {"options": sent}}}})
    after = notion_conforms(r, "data_source")["properties"][name]["select"]["options"]
    assert [(o["id"], o["name"]) for o in after[:2]] == [(o["id"], o["name"]) for o in options]
    assert after[2]["name"] == "c" and after[2]["id"] not in {o["id"] for o in options}

    r = call(notion, "PATCH", path, 200, json={"properties": {number: {"number": {"format": "percent"}}}})
    assert notion_conforms(r, "data_source")["properties"][number]["number"] == {"format": "percent"}
    page = body_of(call(notion, "POST", f"{path}/query", 200, json={"page_size": 1}))["results"][0]
    assert page["properties"][number] == {"id": props[number]["id"], "type": "number", "number": None}

    for refused in (
        {number: {"number": {"format": "percentage"}}},  # not a number format
        {"Second title": {"title": {}}},  # a data source has one title
        {"No such property": {"name": "Renamed"}},  # renaming what is not there
        {name: "select"},  # not a configuration
    ):
        r = call(notion, "PATCH", path, 400, json={"properties": refused})
        assert notion_conforms(r, "error")["code"] == "validation_error", refused
    assert data_source_schema(notion, dsid)[number]["number"] == {"format": "percent"}

    renamed = f"{name} renamed"
    r = call(notion, "PATCH", path, 200, json={"properties": {props[name]["id"]: {"name": renamed}}})
    props_now = notion_conforms(r, "data_source")["properties"]
    assert name not in props_now and props_now[renamed]["id"] == props[name]["id"]
    r = call(notion, "PATCH", path, 200, json={"properties": {renamed: None, number: None}})
    props_now = notion_conforms(r, "data_source")["properties"]
    assert renamed not in props_now and number not in props_now

    # the title, as recorded
    before = body_of(call(notion, "GET", path, 200))["title"]
    title = [{"type": "text", "text": {"content": "Updated DataSource"}}]
    r = call(notion, "PATCH", path, 200, json={"title": title})
    assert notion_conforms(r, "data_source")["title"][0]["plain_text"] == "Updated DataSource"
    restore = [{"type": "text", "text": {"content": "".join(t["plain_text"] for t in before)}}]
    call(notion, "PATCH", path, 200, json={"title": restore})

    r = call(notion, "PATCH", f"/v1/data_sources/{uuid.uuid4()}", 404, json={"properties": {}})
    assert notion_conforms(r, "error")["code"] == "object_not_found"


def test_notion_database_not_shared_is_404(sb, notion, notion_ids):
    """A database the integration was not given answers as Notion does: 404 object_not_found."""
    database_id = notion_ids["database"]["scorecard"]
    sb.notion.unshare(database_id)
    try:
        r = call(notion, "GET", f"/v1/databases/{database_id}", 404)
        assert notion_conforms(r, "error")["code"] == "object_not_found"
        r = call(notion, "GET", f"/v1/data_sources/{notion_ids['data_source']['scorecard']}", 404)
        assert notion_conforms(r, "error")["code"] == "object_not_found"
    finally:
        sb.notion.unshare(database_id, shared=True)
    call(notion, "GET", f"/v1/databases/{database_id}", 200)


def test_notion_search_data_sources(sb, notion, notion_ids):
    """`relais init` finds the databases shared with the integration: POST /v1/search filtered to
    data sources, as recorded (test_search.yaml: type page_or_data_source), paged by start_cursor."""
    body = {"filter": {"property": "object", "value": "data_source"}, "page_size": 2}
    r = call(notion, "POST", "/v1/search", 200, json=body)
    first = notion_conforms(r, "list")
    assert first["type"] == "page_or_data_source" and first["page_or_data_source"] == {}
    assert first["has_more"] is True and first["next_cursor"]
    r = call(notion, "POST", "/v1/search", 200, json={**body, "start_cursor": first["next_cursor"]})
    second = notion_conforms(r, "list")
    assert second["has_more"] is False and second["next_cursor"] is None
    found = first["results"] + second["results"]
    problems = [
        f"/results/{i}/object: {d['object']!r}" for i, d in enumerate(found) if d["object"] != "data_source"
    ]
    by_id = {d["id"]: d for d in found}
    for key, dsid in notion_ids["data_source"].items():
        if dsid not in by_id:
            problems.append(f"data source {key} ({dsid}) not found")
            continue
        same = call(notion, "GET", f"/v1/data_sources/{dsid}", 200).json()
        same.pop("request_id", None)
        if by_id[dsid] != same:
            problems.append(f"data source {key}: search renders it unlike GET /v1/data_sources/{{id}}")
        if by_id[dsid]["parent"] != {"type": "database_id", "database_id": notion_ids["database"][key]}:
            problems.append(f"data source {key}: parent {by_id[dsid]['parent']!r}")
    fail_if_problems(r, problems)


def test_notion_search_by_title_and_pages(notion):
    r = call(notion, "POST", "/v1/search", 200, json={"query": "SCORECARD"})
    body = notion_conforms(r, "list")
    assert [d["object"] for d in body["results"]] == ["data_source"]
    r = call(
        notion,
        "POST",
        "/v1/search",
        200,
        json={"filter": {"property": "object", "value": "page"}, "page_size": 3},
    )
    body = notion_conforms(r, "list")
    assert len(body["results"]) == 3 and {d["object"] for d in body["results"]} == {"page"}
    r = call(notion, "POST", "/v1/search", 400, json={"filter": {"property": "object", "value": "database"}})
    body = notion_conforms(r, "error")
    assert body["code"] == "validation_error"
