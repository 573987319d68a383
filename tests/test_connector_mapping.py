"""The vendors' payloads mapped to work items, and owned-field changes to write bodies, without a client.

The payloads are responses recorded from the live services (``shared/fixtures/*-recorded``,
their origin in each folder's SOURCE.md) and the examples of the vendors' OpenAPI specs;
where the two differ the recordings are the truth (``shared/research/api-realities.md``).
No sandbox, no socket: these pin :mod:`connectors.jira_map`, :mod:`connectors.notion_map`
and :mod:`connectors.pagerduty_map` alone.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from spec import fixtures_dir
from spec.notion_shapes import recorded
from spec.openapi import example_for

from connectors import jira_map, notion_map, pagerduty_map
from connectors.base import checked
from sync.models import FieldChange

#: What a connector catches around the mapping to quarantine an item instead of failing the pull.
UNREADABLE = (KeyError, TypeError, ValueError, AttributeError)


@cache
def _load(vendor: str, name: str) -> Any:
    return json.loads((fixtures_dir() / f"{vendor}-recorded" / name).read_text(encoding="utf-8"))


def load(vendor: str, name: str) -> Any:
    """A recorded response body (a fresh copy: the mapping must not depend on shared state)."""
    return copy.deepcopy(_load(vendor, name))


def change(field: str, old: Any, new: Any, source: str = "jira") -> FieldChange:
    return FieldChange(source, "1", "X-1", field, old, new, "classify[0] config/relais.yaml:3")  # type: ignore[arg-type]


# -- Jira ----------------------------------------------------------------------------------------
SITE = jira_map.JiraMapping(base_url="https://example.atlassian.net")
#: The recorded Cloud issue (COMPANYSA-35, JSM + Software site, 126 fields of which 86 custom).
CLOUD_ISSUE = "issue-expanded-renderedFields-names-transitions.json"


def test_a_recorded_cloud_issue_maps_field_by_field():
    item = checked(jira_map.to_item(load("jira", CLOUD_ISSUE), SITE))
    assert (item.source, item.id, item.key, item.kind) == ("jira", "21487", "COMPANYSA-35", "issue")
    assert item.title == "Testing summary XSOAR mirroring"
    assert item.text == "XSOAR description stam"  # ADF flattened
    assert item.url == "https://example.atlassian.net/browse/COMPANYSA-35"
    assert (item.status, item.status_category) == ("In Progress", "indeterminate")
    assert (item.project, item.issuetype, item.priority) == ("COMPANYSA", "Story", "Low")
    assert item.labels == ("Demisto", "XSOAR", "dummy-label", "dummy-label2", "xsoar-mirror")
    assert item.components == ("Almost-Done", "dummy-comp", "Integration", "New-Component")
    assert item.parent is None and item.resolved is None
    assert item.owned == {} and item.points is None and item.worklogs == ()


def test_jira_offsets_without_a_colon_are_read_as_utc():
    # Recorded "2023-03-01T11:34:49.730+0200" and "2023-04-20T00:51:21.562+0300" (not RFC 3339).
    item = jira_map.to_item(load("jira", CLOUD_ISSUE), SITE)
    assert item.created == datetime(2023, 3, 1, 9, 34, 49, 730000, tzinfo=UTC)
    assert item.updated == datetime(2023, 4, 19, 21, 51, 21, 562000, tzinfo=UTC)


def test_issue_links_read_from_this_issue_side():
    item = jira_map.to_item(load("jira", CLOUD_ISSUE), SITE)
    assert item.links == (
        ("Blocks", "is blocked by", "TSTPRD-6", "new"),
        ("Post-Incident Reviews", "reviews", "XSOAR-19", "new"),
    )


def test_story_points_and_owned_fields_come_from_the_ids_resolved_at_connect():
    raw = load("jira", CLOUD_ISSUE)
    mapping = jira_map.JiraMapping(
        base_url=SITE.base_url,
        points_field="customfield_10028",  # "Story Points": 1.0 in the recording
        # pm as a user picker (the assignee's shape); team on a JSM SLA field that answers
        # {errorMessage, i18nErrorMessage} on a non-service project: not a value.
        routing_fields={"pm": "assignee", "team": "customfield_10071"},
    )
    item = checked(jira_map.to_item(raw, mapping))
    assert item.points == 1.0
    assert item.owned == {"pm": raw["fields"]["assignee"]["accountId"], "team": None}


def test_managed_labels_hold_the_work_type_and_never_feed_classification():
    mapping = jira_map.JiraMapping(base_url=SITE.base_url, work_type=True, labels_prefix="xsoar-")
    item = jira_map.to_item(load("jira", CLOUD_ISSUE), mapping)
    assert item.owned == {"work_type": "mirror"}
    assert "xsoar-mirror" not in item.labels and "XSOAR" in item.labels


def test_a_classic_epic_is_an_epic_and_its_parent_link_error_object_is_ignored():
    (raw,) = load("jira", "issues-epic-classic-airbyte-trimmed.json")["issues"]
    assert raw["fields"]["customfield_10018"]["nonEditableReason"]["reason"] == "PLUGIN_LICENSE_ERROR"
    item = checked(jira_map.to_item(raw, SITE))
    assert (item.key, item.kind, item.issuetype) == ("TESTKEY13-1", "epic", "Epic")
    assert (item.title, item.text, item.status_category) == ("My Summary", "Test issue", "new")
    assert item.parent is None


def test_feedback_issues_keep_their_kind_and_read_the_feedback_fields():
    raw = load("jira", CLOUD_ISSUE)
    mapping = jira_map.JiraMapping(
        base_url=SITE.base_url, feedback_fields={"origin": "priority", "customer": "summary"}
    )
    item = jira_map.to_item(raw, mapping, "feedback")
    assert item.kind == "feedback"
    # A select-like object without "value" is not text; a plain string is.
    assert (item.origin, item.customer) == (None, "Testing summary XSOAR mirroring")


def test_a_recorded_search_page_maps_every_issue():
    page = load("jira", "search-page-anonymized-hack-jira-cfd.json")
    items = [checked(jira_map.to_item(raw, SITE)) for raw in page["issues"]]
    assert [i.key for i in items] == ["ISSUE-1", "ISSUE-2", "ISSUE-3"]
    assert {(i.status_category, i.issuetype, i.text) for i in items} == {("done", "Task", "")}
    assert items[0].resolved == datetime(2023, 11, 7, 8, 46, 8, 298000, tzinfo=UTC)


def test_the_specs_issue_example_is_unreadable_as_printed():
    # The spec's IssueBean example has "updated": 1; a connector quarantines such an issue.
    example = example_for("jira", "get", "/rest/api/3/issue/{issueIdOrKey}", 200)
    assert example["fields"]["updated"] == 1
    with pytest.raises(UNREADABLE):
        checked(jira_map.to_item(example, SITE))


def test_the_specs_search_example_with_a_real_timestamp_maps_its_links_and_worklogs():
    page = example_for("jira", "post", "/rest/api/3/search/jql", 200)
    raw = page["issues"][0]
    raw["fields"]["updated"] = "2021-01-18T23:45:00.000+0000"
    # The example lists worklogs bare; search embeds them in a PageOfWorklogs (as recorded).
    logs = raw["fields"]["worklog"]
    raw["fields"]["worklog"] = {"startAt": 0, "maxResults": 20, "total": len(logs), "worklogs": logs}
    item = checked(jira_map.to_item(raw, jira_map.JiraMapping(base_url=SITE.base_url, worklogs=True)))
    assert (item.id, item.key, item.title) == ("10002", "ED-1", "")
    assert item.text == "Main order flow broken"  # a v2-style plain string description
    assert item.links == (
        ("Dependent", "is depended by", "PR-2", None),
        ("Dependent", "depends on", "PR-3", None),
    )
    assert item.worklogs[0] == (datetime(2021, 1, 17, 12, 34, tzinfo=UTC), 12000.0)
    assert "worklog" in jira_map.search_fields(jira_map.JiraMapping(base_url="", worklogs=True))


def test_labels_sent_as_a_string_are_refused_not_split_into_letters():
    raw = load("jira", CLOUD_ISSUE)
    raw["fields"]["labels"] = "xsoar-mirror"
    with pytest.raises(ValueError, match="labels"):
        jira_map.to_item(raw, SITE)


WRITING = jira_map.JiraMapping(
    base_url=SITE.base_url,
    work_type=True,
    work_type_field="customfield_10100",
    routing_fields={
        "pm": "customfield_10200",
        "team": "customfield_10201",
        "initiative": "customfield_10202",
    },
)


def test_the_write_body_sets_only_the_changed_owned_fields_in_their_shapes():
    body = jira_map.write_body(
        [
            change("work_type", "BUILD", "RUN"),
            change("pm", None, "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"),
            change("team", "payments", None),
            change("initiative", None, ("https://example.notion.site/Checkout-2026",)),
        ],
        WRITING,
    )
    assert body == {
        "fields": {
            "customfield_10100": {"value": "RUN"},
            "customfield_10200": {"accountId": "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"},
            "customfield_10201": None,
            "customfield_10202": "https://example.notion.site/Checkout-2026",
        }
    }


def test_the_work_type_as_labels_is_added_and_removed_never_set():
    mapping = jira_map.JiraMapping(base_url=SITE.base_url, work_type=True, labels_prefix="relais-")
    body = jira_map.write_body([change("work_type", "BUILD", "RUN")], mapping)
    assert body == {"update": {"labels": [{"remove": "relais-BUILD"}, {"add": "relais-RUN"}]}}


def test_a_field_relais_does_not_own_has_no_write_mapping():
    with pytest.raises(ValueError, match="no write mapping for owned field 'summary'"):
        jira_map.write_body([change("summary", "a", "b")], WRITING)


# -- Notion --------------------------------------------------------------------------------------
PROPERTIES = {
    "title": "Name",
    "status": "Status",
    "tags": "Tags",
    "team": "Team",
    "origin": "Origin",
    "tier": "Tier",
    "area": "Area",
    "customer": "Customer",
}


def recorded_pages() -> list[dict[str, Any]]:
    """Every distinct page object in the recorded cassettes."""
    return list({p["id"] + p["last_edited_time"]: p for p in recorded("page")}.values())


def test_recorded_pages_map_with_their_title_property_found_by_type():
    # The recorded workspace pages name their title property "title", not the configured "Name".
    mapping = notion_map.NotionMapping(database="feedback", properties=PROPERTIES)
    pages = recorded_pages()
    assert len(pages) > 10
    for raw in pages:
        item = checked(notion_map.to_item(raw, mapping))
        title = "".join(t["plain_text"] for t in raw["properties"]["title"]["title"])
        assert (item.id, item.title, item.key) == (raw["id"], title, title or raw["id"])
        assert (item.kind, item.database, item.url) == ("feedback", "feedback", raw["url"])
        assert item.updated.tzinfo is not None and item.updated.second == 0  # rounded to the minute
        assert item.owned == {} and item.inputs == {} and item.labels == ()


def test_a_recorded_page_in_a_briefings_database_is_a_briefing():
    raw = next(p for p in recorded_pages() if p["id"] == "393abc1e-edcd-81e2-97ea-fad78f8ecc3a")
    item = notion_map.to_item(raw, notion_map.NotionMapping(database="briefings", properties=PROPERTIES))
    assert (item.kind, item.title) == ("briefing", "Test 2026-07-04 11:50:26.663519")
    assert item.created == item.updated == datetime(2026, 7, 4, 9, 50, tzinfo=UTC)


def _rich(text: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "text",
            "text": {"content": text, "link": None},
            "annotations": {"bold": False, "italic": False, "code": False, "color": "default"},
            "plain_text": text,
            "href": None,
        }
    ]


def briefing_page() -> dict[str, Any]:
    """A recorded page with property values in the shapes of Notion's property value object."""
    raw = copy.deepcopy(next(p for p in recorded_pages() if p["parent"]["type"] == "page_id"))
    raw["parent"] = {"type": "data_source_id", "data_source_id": "393abc1e-edcd-81a2-8d0b-000bae7f15dc"}
    raw["properties"] = {
        "Name": {"id": "title", "type": "title", "title": _rich("Checkout v2")},
        "Status": {"id": "s%3A1", "type": "status", "status": {"id": "x", "name": "In progress"}},
        "Tags": {"id": "t%3A1", "type": "multi_select", "multi_select": [{"id": "a", "name": "payments"}]},
        "Team": {"id": "m%3A1", "type": "select", "select": {"id": "b", "name": "checkout"}},
        "Summary": {"id": "r%3A1", "type": "rich_text", "rich_text": _rich("Faster checkout")},
        "Routed by": {"id": "r%3A2", "type": "rich_text", "rich_text": _rich("rule route[2]")},
        "Work type": {"id": "w%3A1", "type": "select", "select": {"id": "c", "name": "BUILD"}},
        "PM": {"id": "p%3A1", "type": "people", "people": [{"object": "user", "id": "u-1"}, {"id": "u-2"}]},
        "Target date": {"id": "d%3A1", "type": "date", "date": {"start": "2026-12-01", "end": None}},
        "Impact": {"id": "n%3A1", "type": "number", "number": 8},
        "Security": {"id": "c%3A1", "type": "checkbox", "checkbox": True},
    }
    return raw


BRIEFINGS = notion_map.NotionMapping(
    database="briefings",
    properties=PROPERTIES,
    owned={"work_type": "Work type", "pm": "PM", "routed_by": "Routed by"},
    types={"Work type": "select", "PM": "people", "Routed by": "rich_text", "Impact": "number"},
    inputs={"target_date": "Target date", "impact": "Impact", "security": "Security", "effort": "Effort"},
)


def test_owned_properties_are_read_as_owned_and_never_as_inputs():
    item = checked(notion_map.to_item(briefing_page(), BRIEFINGS))
    assert (item.title, item.status, item.labels, item.team) == (
        "Checkout v2",
        "In progress",
        ("payments",),
        "checkout",
    )
    assert item.owned == {"work_type": "BUILD", "pm": "u-1", "routed_by": "rule route[2]"}
    assert item.text == "Faster checkout"  # "Routed by" is relais' own: not text to classify
    assert item.inputs == {"target_date": "2026-12-01", "impact": 8, "security": True}


def test_a_team_property_relais_owns_is_not_the_items_team():
    mapping = notion_map.NotionMapping(database="feedback", properties=PROPERTIES, owned={"team": "Team"})
    item = notion_map.to_item(briefing_page(), mapping)
    assert item.team is None and item.owned == {"team": "checkout"}


def test_a_scorecard_row_carries_its_natural_key():
    raw = briefing_page()
    raw["properties"]["Key"] = {"id": "k", "type": "rich_text", "rich_text": _rich("payments/2026-W48")}
    mapping = notion_map.NotionMapping(database="scorecard", properties=PROPERTIES, owned={"key": "Key"})
    item = notion_map.to_item(raw, mapping)
    assert (item.kind, item.natural_key) == ("scorecard", "payments/2026-W48")


def test_notion_writes_only_owned_properties_in_their_types_shape():
    props = notion_map.write_properties({"work_type": "RUN", "pm": "u-3", "routed_by": "x" * 2500}, BRIEFINGS)
    assert props == {
        "Work type": {"select": {"name": "RUN"}},
        "PM": {"people": [{"id": "u-3"}]},
        "Routed by": {"rich_text": [{"text": {"content": "x" * 2000}}]},  # Notion's 2,000-character cap
    }
    assert notion_map.write_properties({"work_type": None}, BRIEFINGS) == {"Work type": {"select": None}}
    with pytest.raises(ValueError, match="no write mapping for owned field 'impact'"):
        notion_map.write_properties({"impact": 3}, BRIEFINGS)
    with pytest.raises(ValueError, match="does not write checkbox"):
        notion_map.write_value("checkbox", True)


# -- PagerDuty -----------------------------------------------------------------------------------
def recorded_incidents(name: str) -> list[dict[str, Any]]:
    body = load("pagerduty", name)
    return body["incidents"] if "incidents" in body else [body["incident"]]


def test_a_recorded_resolved_incident_without_updated_or_resolved_at():
    (raw,) = recorded_incidents("incident-single.json")
    assert "updated_at" not in raw and "resolved_at" not in raw and "priority" not in raw  # 2017 API
    item = checked(pagerduty_map.to_item(raw))
    assert (item.id, item.key, item.kind, item.title) == ("PLK5EK9", "#14", "incident", "BLAH")
    assert (item.status, item.status_category, item.urgency) == ("resolved", "done", "high")
    assert (item.service, item.team, item.priority) == ("P407C9R", None, None)
    assert item.url == "https://push-comedy-theater.pagerduty.com/incidents/PLK5EK9"
    assert item.created == datetime(2017, 5, 14, 2, 1, 58, tzinfo=UTC)
    # last_status_change_at stands in for both missing timestamps
    assert item.updated == item.resolved == datetime(2017, 5, 14, 6, 1, 58, tzinfo=UTC)


def test_an_acknowledged_incident_keeps_its_first_team_and_is_not_resolved():
    (raw,) = recorded_incidents("incident-merge-put.json")
    item = checked(pagerduty_map.to_item(raw))
    assert (item.key, item.status, item.status_category) == ("#19", "acknowledged", "open")
    assert (item.team, item.priority, item.resolved) == ("P1HE60B", None, None)  # "priority": null
    assert item.updated == datetime(2017, 5, 24, 2, 8, 27, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "count", "statuses"),
    [
        ("incidents-page-default.json", 18, {"resolved", "acknowledged", "triggered"}),
        ("incidents-page-2020-events-created.json", 6, {"triggered"}),
    ],
)
def test_every_incident_of_a_recorded_page_maps(name, count, statuses):
    raws = recorded_incidents(name)
    items = [checked(pagerduty_map.to_item(raw)) for raw in raws]
    assert len(items) == count
    assert [i.id for i in items] == [r["id"] for r in raws]
    assert [i.key for i in items] == [f"#{r['incident_number']}" for r in raws]
    assert {i.status for i in items} <= statuses
    assert all((i.resolved is not None) == (i.status == "resolved") for i in items)


def test_an_incident_with_a_blank_id_is_refused():
    # The scrubbed 2023 page blanked every id upstream: such an item is quarantined, not stored.
    for raw in recorded_incidents("incidents-page-more-true-2023-scrubbed.json"):
        with pytest.raises(ValueError, match="id: expected an id"):
            checked(pagerduty_map.to_item(raw))


def test_the_specs_incident_example_maps():
    raw = example_for("pagerduty", "get", "/incidents/{id}", 200)["incident"]
    item = checked(pagerduty_map.to_item(raw))
    assert (item.id, item.key, item.title) == ("PT4KHLK", "#1234", "The server is on fire.")
    assert (item.status, item.urgency, item.priority) == ("acknowledged", "high", "P2")
    assert (item.service, item.team) == ("PIJ90N7", "PQ9K7I8")
    assert item.updated == datetime(2015, 10, 6, 21, 40, 23, tzinfo=UTC)
