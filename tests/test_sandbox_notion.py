"""The fake Notion API (2025-09-03), driven through the real ``notion-client`` over HTTPS.

Pins: databases hold one data source, cursor paging without gaps or repeats,
trashed pages excluded, minute-rounded timestamps (and filters on them), the
10,000-result cap (through the ``query_cap`` knob), the 25-reference limit on
page objects, write validation, and the recorded error shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from notion_client import APIResponseError
from notion_client.helpers import collect_paginated_api

from sandbox import Sandbox
from sandbox.testing import http_client
from sandbox.timeutil import UTC

START = datetime(2026, 11, 20, 10, 15, 42, 500000, tzinfo=UTC)
VERSION = "2025-09-03"


def raw_client(sb: Sandbox, **headers: str) -> httpx.Client:
    return http_client(sb, "notion", headers={"Notion-Version": VERSION, **headers})


def test_each_database_has_exactly_one_data_source_with_its_own_id(sb, notion):
    for key, database_id in sb.notion.database_ids.items():
        database = notion.databases.retrieve(database_id=database_id)
        assert [d["id"] for d in database["data_sources"]] == [sb.notion.data_source_ids[key]]
        assert database["data_sources"][0]["id"] != database_id
        source = notion.data_sources.retrieve(data_source_id=database["data_sources"][0]["id"])
        assert source["parent"] == {"type": "database_id", "database_id": database_id}
        assert {"Name", "Team"} <= set(source["properties"])
        assert ("Work type" in source["properties"]) is (key != "scorecard")  # relais classifies those two
    feedback = notion.data_sources.retrieve(data_source_id=sb.notion.data_source_ids["feedback"])
    relation = feedback["properties"]["Briefing"]["relation"]
    assert relation["data_source_id"] == sb.notion.data_source_ids["briefings"]


def test_query_pages_through_every_live_page_once(sb, notion):
    source = sb.notion.data_source_ids["feedback"]
    pages = collect_paginated_api(notion.data_sources.query, data_source_id=source, page_size=4)
    ids = [p["id"] for p in pages]
    assert len(ids) == len(set(ids)) == len(sb.notion.page_ids("feedback")) == 14
    trashed = set(sb.notion.page_ids("feedback", include_trashed=True)) - set(ids)
    assert len(trashed) == 1  # the seeded trashed row is never listed
    assert all(p["parent"]["data_source_id"] == source and p["in_trash"] is False for p in pages)


def test_last_edited_time_is_rounded_down_to_the_minute_and_filters_see_the_rounded_value(sb, notion):
    source = sb.notion.data_source_ids["briefings"]
    page_id = sb.notion.page_ids("briefings")[0]
    sb.notion.edit_page(page_id, {"Epic": {"rich_text": [{"text": {"content": "PAY-7"}}]}})  # at 10:15:42.5
    assert notion.pages.retrieve(page_id=page_id)["last_edited_time"] == "2026-11-20T10:15:00.000Z"

    def edited_since(stamp: str) -> set[str]:
        flt = {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": stamp}}
        return {
            p["id"]
            for p in collect_paginated_api(notion.data_sources.query, data_source_id=source, filter=flt)
        }

    assert page_id in edited_since("2026-11-20T10:15:00Z")
    assert page_id not in edited_since("2026-11-20T10:15:30Z")  # same minute, later second: missed
    assert page_id in edited_since("2026-11-20T11:15:00+01:00")


def test_a_query_stops_at_the_result_cap_with_request_status_incomplete(sb, notion):
    sb.notion.query_cap = 5
    source = sb.notion.data_source_ids["feedback"]
    first = notion.data_sources.query(data_source_id=source, page_size=3)
    assert first["has_more"] is True and "request_status" not in first
    second = notion.data_sources.query(data_source_id=source, page_size=3, start_cursor=first["next_cursor"])
    assert len(second["results"]) == 2
    assert second["has_more"] is False and second["next_cursor"] is None
    assert second["request_status"] == {
        "type": "incomplete",
        "incomplete_reason": "query_result_limit_reached",
    }


def test_filters_and_sorts_on_properties(sb, notion):
    source = sb.notion.data_source_ids["feedback"]
    flt = {
        "and": [
            {"property": "Team", "select": {"equals": "Payments"}},
            {"property": "Customer", "rich_text": {"contains": "o"}},
        ]
    }
    pages = collect_paginated_api(
        notion.data_sources.query,
        data_source_id=source,
        filter=flt,
        sorts=[{"property": "Name", "direction": "ascending"}],
    )
    assert pages
    assert all(p["properties"]["Team"]["select"]["name"] == "Payments" for p in pages)
    names = [p["properties"]["Name"]["title"][0]["plain_text"].lower() for p in pages]
    assert names == sorted(names)
    with pytest.raises(APIResponseError) as bad:
        notion.data_sources.query(
            data_source_id=source, filter={"property": "Team", "multi_select": {"contains": "x"}}
        )
    assert bad.value.code == "validation_error"


def test_relations_show_25_on_the_page_and_the_rest_through_property_items(sb, notion):
    briefings = sb.notion.data_source_ids["briefings"]
    targets = [
        notion.pages.create(
            parent={"data_source_id": briefings},
            properties={"Name": {"title": [{"text": {"content": f"B{i}"}}]}},
        )["id"]
        for i in range(30)
    ]
    page_id = sb.notion.page_ids("feedback")[0]
    notion.pages.update(page_id=page_id, properties={"Briefing": {"relation": [{"id": t} for t in targets]}})
    value = notion.pages.retrieve(page_id=page_id)["properties"]["Briefing"]
    assert len(value["relation"]) == 25 and value["has_more"] is True
    items = collect_paginated_api(notion.pages.properties.retrieve, page_id=page_id, property_id=value["id"])
    assert [i["relation"]["id"] for i in items] == targets


def test_select_writes_add_options_but_unknown_status_is_refused(sb, notion):
    page_id = sb.notion.page_ids("briefings")[1]
    page = notion.pages.update(
        page_id=page_id,
        properties={
            "Tags": {"multi_select": [{"name": "q1-bet"}]},
            "Work type": {"select": {"name": "BUILD"}},
        },
    )
    assert page["properties"]["Work type"]["select"]["name"] == "BUILD"
    schema = notion.data_sources.retrieve(data_source_id=sb.notion.data_source_ids["briefings"])["properties"]
    assert "q1-bet" in [o["name"] for o in schema["Tags"]["multi_select"]["options"]]
    with pytest.raises(APIResponseError) as bad:
        notion.pages.update(page_id=page_id, properties={"Status": {"status": {"name": "Shipped"}}})
    assert bad.value.status == 400 and bad.value.code == "validation_error"
    with pytest.raises(APIResponseError) as bad:
        notion.pages.update(page_id=page_id, properties={"Colour": {"select": {"name": "red"}}})
    assert str(bad.value) == "Colour is not a property that exists."


def test_created_pages_appear_in_queries_and_trashed_ones_leave(sb, notion, clock):
    source = sb.notion.data_source_ids["feedback"]
    page = notion.pages.create(
        parent={"type": "data_source_id", "data_source_id": source},
        properties={
            "Name": {"title": [{"text": {"content": "Need an audit log"}}]},
            "Team": {"select": {"name": "Core"}},
        },
    )
    assert page["created_time"] == "2026-11-20T10:15:00.000Z"
    assert page["created_by"]["id"] == sb.org.bot.notion_user_id
    listed = {p["id"] for p in collect_paginated_api(notion.data_sources.query, data_source_id=source)}
    assert page["id"] in listed
    notion.pages.update(page_id=page["id"], in_trash=True)
    listed = {p["id"] for p in collect_paginated_api(notion.data_sources.query, data_source_id=source)}
    assert page["id"] not in listed
    with pytest.raises(APIResponseError):
        notion.pages.update(page_id=page["id"], properties={"Team": {"select": None}})


def test_errors_have_the_recorded_shape(sb):
    with raw_client(sb, Authorization="Bearer wrong") as c:
        body = c.get("/v1/users/me").json()
    assert set(body) == {"object", "status", "code", "message", "request_id"}
    assert (body["status"], body["code"], body["message"]) == (401, "unauthorized", "API token is invalid.")
    with raw_client(sb) as c:
        missing = c.get(f"/v1/pages/{'0' * 8}-0000-0000-0000-{'0' * 12}")
        assert (missing.status_code, missing.json()["code"]) == (404, "object_not_found")
        assert missing.json()["additional_data"]["integration_id"] == sb.org.bot.notion_user_id
        assert c.get("/v1/nowhere").json()["code"] == "invalid_request_url"
        unversioned = c.get("/v1/users/me", headers={"Notion-Version": ""})
        assert (unversioned.status_code, unversioned.json()["code"]) == (400, "missing_version")
        big = c.post(
            f"/v1/data_sources/{sb.notion.data_source_ids['feedback']}/query", json={"page_size": 101}
        )
        assert (big.status_code, big.json()["code"]) == (400, "validation_error")


# --------------------------------------------------------------- the balance scorecard (issue 3)
def _text(value: str) -> dict[str, Any]:
    return {"rich_text": [{"text": {"content": value}}]}


def _row(team: str, monday: str, run: float, level: str = "ok") -> dict[str, Any]:
    return {
        "Name": {"title": [{"text": {"content": f"{team} {monday}"}}]},
        "Key": _text(f"{team.lower()}/{monday}"),
        "Team": {"select": {"name": team}},
        "Period": {"date": {"start": monday}},
        "RUN %": {"number": run},
        "BUILD %": {"number": round(0.9 - run, 2)},
        "IMPROVE %": {"number": 0.1},
        "RUN hours": {"number": 40 * run},
        "Incidents": {"number": 1},
        "Urgent requests": {"number": 0},
        "Level": {"select": {"name": level}},
        "Alerts": _text(""),
    }


def test_the_scorecard_starts_empty_and_briefings_have_empty_balance_properties(sb, notion):
    scorecard = sb.notion.data_source_ids["scorecard"]
    assert sb.notion.page_ids("scorecard", include_trashed=True) == []
    assert notion.data_sources.query(data_source_id=scorecard)["results"] == []
    schema = notion.data_sources.retrieve(data_source_id=scorecard)["properties"]
    assert schema["Level"]["select"]["options"][0]["name"] == "ok" and schema["Notes"]["type"] == "rich_text"
    assert [o["name"] for o in schema["Team"]["select"]["options"]] == ["Payments", "Core", "Support"]
    briefings = collect_paginated_api(
        notion.data_sources.query, data_source_id=sb.notion.data_source_ids["briefings"]
    )
    assert len(briefings) == 8
    assert all(
        p["properties"]["Team RUN load"]["number"] is None and p["properties"]["Team mode"]["select"] is None
        for p in briefings
    )
    page = briefings[0]
    notion.pages.update(
        page_id=page["id"],
        properties={"Team RUN load": {"number": 0.62}, "Team mode": {"select": {"name": "alert"}}},
    )
    after = notion.pages.retrieve(page_id=page["id"])["properties"]
    assert (after["Team RUN load"]["number"], after["Team mode"]["select"]["name"]) == (0.62, "alert")
    assert {k: v for k, v in after.items() if k not in ("Team RUN load", "Team mode")} == {
        k: v for k, v in page["properties"].items() if k not in ("Team RUN load", "Team mode")
    }


def test_scorecard_rows_are_created_found_by_key_and_updated_through_the_client(sb, notion, clock):
    scorecard = sb.notion.data_source_ids["scorecard"]
    created = notion.pages.create(
        parent={"data_source_id": scorecard}, properties=_row("Core", "2026-11-09", 0.7)
    )
    notion.pages.create(
        parent={"database_id": sb.notion.database_ids["scorecard"]},
        properties=_row("Core", "2026-11-02", 0.6),
    )
    by_key = {"property": "Key", "rich_text": {"equals": "core/2026-11-09"}}
    found = notion.data_sources.query(data_source_id=scorecard, filter=by_key)["results"]
    assert [p["id"] for p in found] == [created["id"]]
    sb.notion.edit_page(created["id"], {"Notes": _text("we know: the migration")})  # a human's column
    clock.advance(minutes=3)
    updated = notion.pages.update(
        page_id=created["id"],
        properties={
            "RUN %": {"number": 0.72},
            "Level": {"select": {"name": "alert"}},
            "Alerts": _text("RUN above 50%"),
        },
    )
    props = updated["properties"]
    assert (props["RUN %"]["number"], props["Level"]["select"]["name"]) == (0.72, "alert")
    assert props["Notes"]["rich_text"][0]["plain_text"] == "we know: the migration"
    assert props["Period"]["date"] == {"start": "2026-11-09", "end": None, "time_zone": None}
    assert updated["last_edited_time"] == "2026-11-20T10:18:00.000Z"
    with pytest.raises(APIResponseError) as bad:
        notion.pages.update(page_id=created["id"], properties={"Period": {"date": {"start": "week 46"}}})
    assert bad.value.code == "validation_error"


@pytest.mark.parametrize(
    "flt, keys",
    [
        ({"property": "Key", "rich_text": {"equals": "core/2026-11-09"}}, ["core/2026-11-09"]),
        (
            {"property": "Key", "rich_text": {"contains": "2026-11-0"}},
            ["core/2026-11-02", "payments/2026-11-02", "core/2026-11-09", "payments/2026-11-09"],
        ),
        ({"property": "Key", "rich_text": {"equals": "core/2026-11"}}, []),
        (
            {"property": "Team", "select": {"equals": "Payments"}},
            ["payments/2026-11-02", "payments/2026-11-09", "payments/2026-11-16"],
        ),
        (
            {"property": "Period", "date": {"equals": "2026-11-09"}},
            ["core/2026-11-09", "payments/2026-11-09"],
        ),
        (
            {"property": "Period", "date": {"on_or_after": "2026-11-09"}},
            ["core/2026-11-09", "payments/2026-11-09", "payments/2026-11-16"],
        ),
        ({"property": "RUN %", "number": {"greater_than": 0.5}}, ["core/2026-11-02", "core/2026-11-09"]),
        (
            {"property": "RUN %", "number": {"less_than_or_equal_to": 0.2}},
            ["payments/2026-11-02", "payments/2026-11-16"],
        ),
        (
            {"property": "Incidents", "number": {"equals": 1}},
            [
                "core/2026-11-02",
                "payments/2026-11-02",
                "core/2026-11-09",
                "payments/2026-11-09",
                "payments/2026-11-16",
            ],
        ),
        (
            {
                "and": [
                    {"property": "Team", "select": {"equals": "Core"}},
                    {"property": "Level", "select": {"equals": "alert"}},
                ]
            },
            ["core/2026-11-09"],
        ),
        (
            {"property": "Notes", "rich_text": {"is_empty": True}},
            [
                "core/2026-11-02",
                "payments/2026-11-02",
                "core/2026-11-09",
                "payments/2026-11-09",
                "payments/2026-11-16",
            ],
        ),
    ],
)
def test_scorecard_filter_semantics(sb, notion, flt, keys):
    scorecard = sb.notion.data_source_ids["scorecard"]
    for team, monday, run in (
        ("Core", "2026-11-02", 0.6),
        ("Core", "2026-11-09", 0.7),
        ("Payments", "2026-11-02", 0.2),
        ("Payments", "2026-11-09", 0.3),
        ("Payments", "2026-11-16", 0.1),
    ):
        sb.notion.create_page("scorecard", _row(team, monday, run, "alert" if run >= 0.7 else "ok"))
    sorts = [{"property": "Period", "direction": "ascending"}, {"property": "Key", "direction": "ascending"}]
    pages = collect_paginated_api(
        notion.data_sources.query, data_source_id=scorecard, filter=flt, sorts=sorts
    )
    assert ["".join(t["plain_text"] for t in p["properties"]["Key"]["rich_text"]) for p in pages] == keys
