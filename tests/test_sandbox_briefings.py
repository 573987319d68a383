"""The seeded initiatives as relais reads them: briefings through the real ``notion-client``, their
epics through the real ``jira`` client, over HTTPS.

Pins: the briefings' new properties (inputs a PM fills, outputs relais owns) and their validation,
every situation of sandbox/README.md's initiatives table (blocked, validated, undeclared, done,
empty, today, late, security critical, no epic), the two ways a pairing is carried (Briefing link
on the epic, Epic on the briefing), and that the pages' earlier values did not move.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from notion_client import APIResponseError
from notion_client.helpers import collect_paginated_api

from sandbox import Sandbox
from sandbox.initiatives import ROLES
from sandbox.jira.fields import BRIEFING_LINK
from sandbox.notion import data as notion_data
from sandbox.testing import FrozenClock
from sandbox.timeutil import UTC

START = datetime(2026, 11, 20, 10, 15, 42, 500000, tzinfo=UTC)
TODAY = date(2026, 11, 20)  # the anchor day, the same calendar day in Europe/Paris
INPUTS = {
    "Target date": "date",
    "Depends on": "multi_select",
    "Validated by": "multi_select",
    "Impact": "number",
    "Effort": "number",
    "Security critical": "checkbox",
}
OUTPUTS = {
    "Health": "select",
    "Health reason": "rich_text",
    "Progress": "number",
    "Forecast": "date",
    "Open incidents": "number",
    "Dependencies": "rich_text",
    "Undeclared dependencies": "rich_text",
    "Priority score": "number",
    "Last synced": "date",
}


def value(prop: dict[str, Any]) -> Any:
    """A property value as plain Python, the way relais reads it."""
    kind = prop["type"]
    raw = prop[kind]
    if kind in ("title", "rich_text"):
        return "".join(t["plain_text"] for t in raw)
    if kind in ("select", "status"):
        return raw and raw["name"]
    if kind == "multi_select":
        return [o["name"] for o in raw]
    if kind == "date":
        return raw and raw["start"]
    return raw


def briefings(sb: Sandbox, notion: Any) -> dict[str, dict[str, Any]]:
    pages = collect_paginated_api(
        notion.data_sources.query, data_source_id=sb.notion.data_source_ids["briefings"]
    )
    return {p["id"]: {name: value(prop) for name, prop in p["properties"].items()} for p in pages}


def epics(jira: Any) -> dict[str, dict[str, Any]]:
    found = jira.enhanced_search_issues(
        "issuetype = Epic",
        maxResults=100,
        json_result=True,
        fields=["summary", "status", "project", BRIEFING_LINK],
    )["issues"]
    return {e["key"]: e["fields"] for e in found}


def children(jira: Any, epic: str) -> list[dict[str, Any]]:
    return jira.enhanced_search_issues(
        f"parent = {epic}", maxResults=100, json_result=True, fields=["status", "project", "issuelinks"]
    )["issues"]


def text(content: str) -> dict[str, Any]:
    return {"rich_text": [{"type": "text", "text": {"content": content}}]}


# =========================================================================== schema


def test_the_briefings_data_source_has_the_inputs_and_the_outputs(sb, notion):
    source = notion.data_sources.retrieve(data_source_id=sb.notion.data_source_ids["briefings"])
    props = source["properties"]
    assert {n: props[n]["type"] for n in {**INPUTS, **OUTPUTS}} == {**INPUTS, **OUTPUTS}
    teams = ["Payments", "Core", "Support"]
    assert [o["name"] for o in props["Depends on"]["multi_select"]["options"]] == teams
    assert [o["name"] for o in props["Validated by"]["multi_select"]["options"]] == teams
    assert [(o["name"], o["color"]) for o in props["Health"]["select"]["options"]] == [
        ("On track", "green"),
        ("At risk", "yellow"),
        ("Off track", "orange"),
        ("Blocked", "red"),
    ]
    assert props["Progress"]["number"] == {"format": "number"}  # relais writes 0–100, not a fraction
    assert props["Epic"]["type"] == "rich_text"
    ids = [p["id"] for p in props.values()]
    assert len(ids) == len(set(ids))
    feedback = notion.data_sources.retrieve(data_source_id=sb.notion.data_source_ids["feedback"])
    assert not set(feedback["properties"]) & set(INPUTS)  # briefings only


# What the demo's briefings were before these properties existed (seed 7, 2026-11-20).
EARLIER_PROPERTY_IDS = {
    "Team": "vdhm",
    "Status": "NCLc",
    "Tags": "aTXj",
    "Owner": "EG8r",
    "Work type": "cQ7m",
    "Epic": "Ab7R",
    "Team RUN load": "W6LP",
    "Team mode": "p3Js",
}
EARLIER_PAGES = [
    ("9d30f478-da5b-4348-84d4-7da8e7314b8e", "Q4 2027 — SSO for enterprise", "Refined", "2026-11-13T01:13"),
    ("5ec549bb-45cd-4d45-8860-1d7abba155dd", "Q4 2027 — Instant refunds", "Refined", "2026-10-30T06:29"),
    ("71f6acc6-43ed-4377-aefe-f4353086c8b5", "Q4 2027 — Usage-based billing", "Draft", "2026-11-19T21:28"),
    ("615887bc-37ca-4e7e-9f1f-a9eeba79e3f1", "Q4 2027 — SSO for enterprise", "Refined", "2026-11-14T18:47"),
    ("f491483a-5cad-4f9a-99f6-bd5406cab356", "Q4 2027 — Saved searches", "Refined", "2026-11-02T23:58"),
    ("0f0f651d-1000-45cb-b5ed-09d1ae84ca8f", "Q3 2027 — Saved searches", "Refined", "2026-11-04T10:06"),
    (
        "42d7176f-158f-4b6f-a037-6a6bdf0448d4",
        "Q2 2027 — Self-serve plan upgrades",
        "Presented",
        "2026-11-18T02:57",
    ),
    ("91a9b318-724c-4803-b74c-4239e0a384f0", "Q2 2027 — Instant refunds", "Draft", "2026-10-23T00:17"),
]


def test_each_briefings_earlier_values_did_not_move(sb, notion):
    """The new values come from streams of their own: ids, times, titles, teams… are as drawn before."""
    schema = notion.data_sources.retrieve(data_source_id=sb.notion.data_source_ids["briefings"])["properties"]
    assert {name: schema[name]["id"] for name in EARLIER_PROPERTY_IDS} == EARLIER_PROPERTY_IDS
    pages = {
        p["id"]: p
        for p in collect_paginated_api(
            notion.data_sources.query, data_source_id=sb.notion.data_source_ids["briefings"]
        )
    }
    assert [
        (
            pid,
            value(pages[pid]["properties"]["Name"]),
            value(pages[pid]["properties"]["Status"]),
            pages[pid]["created_time"][:16],
        )
        for pid, *_ in EARLIER_PAGES
    ] == EARLIER_PAGES
    drawn = list(itertools.islice(notion_data.drawn_pages(sb.org), sb.org.counts["briefings"]))
    served = briefings(sb, notion)
    assert [p["id"] for p in drawn] == sb.notion.page_ids("briefings") == [pid for pid, *_ in EARLIER_PAGES]
    for page in drawn:
        got = served[page["id"]]
        for name in ("Name", "Team", "Status", "Tags", "Work type"):
            want = page["values"][name]
            assert got[name] == ("".join(want) if name == "Name" else want), (page["id"], name)
        record = sb.notion.get_page(page["id"])
        assert record["created_time"] == page["created"].strftime("%Y-%m-%dT%H:%M:00.000Z")


# =========================================================================== situations


def test_the_outputs_are_empty_on_every_seeded_briefing(sb, notion):
    for page_id, props in briefings(sb, notion).items():
        assert {name: props[name] for name in OUTPUTS} == {
            name: "" if kind == "rich_text" else None for name, kind in OUTPUTS.items()
        }, page_id


def test_a_pairing_is_carried_by_the_epics_briefing_link_or_by_the_briefings_epic(sb, notion, jira):
    pages, found = briefings(sb, notion), epics(jira)
    seen = set()
    for initiative in sb.initiatives.initiatives:
        page = pages[initiative.page_id]
        named_by = [k for k, f in found.items() if f[BRIEFING_LINK] == initiative.url]
        if initiative.epic is None:
            assert page["Epic"] == "" and named_by == []
            continue
        seen.add(initiative.via)
        if initiative.via == "briefing link":
            assert page["Epic"] == "" and named_by == [initiative.epic]
        else:
            assert page["Epic"] == initiative.epic and found[initiative.epic][BRIEFING_LINK] is None
        assert found[initiative.epic]["summary"] == page["Name"].split(" — ", 1)[1]
        assert (
            found[initiative.epic]["project"]["key"]
            == {"Payments": "PAY", "Core": "CORE", "Support": "SUP"}[page["Team"]]
        )
    assert seen == {"briefing link", "epic property"}
    linked = [p for p in sb.initiatives.initiatives if p.via == "briefing link"]
    # the URL an epic holds is the page's own URL, as Notion serves it
    assert notion.pages.retrieve(page_id=linked[0].page_id)["url"] == linked[0].url
    assert [i.page_id for i in sb.initiatives.without_epic()] == [
        "71f6acc6-43ed-4377-aefe-f4353086c8b5",
        "42d7176f-158f-4b6f-a037-6a6bdf0448d4",
    ]


def test_the_blocked_briefing_is_late_and_its_dependency_declared_but_not_validated(sb, notion, jira):
    initiative, seeded = sb.initiatives.role("blocked"), sb.jira.epic_plan.role("blocked")
    page = briefings(sb, notion)[initiative.page_id]
    partner = sb.org.team(initiative.partner)
    assert (page["Depends on"], page["Validated by"]) == ([partner.name], [])
    assert date.fromisoformat(page["Target date"]) < TODAY
    child = next(c for c in children(jira, initiative.epic) if c["key"] == seeded.child)
    assert child["fields"]["status"]["statusCategory"]["key"] != "done"
    blockers = [
        link["inwardIssue"]
        for link in child["fields"]["issuelinks"]
        if link["type"]["name"] == "Blocks" and "inwardIssue" in link
    ]
    assert [
        (b["key"].split("-")[0], b["fields"]["status"]["statusCategory"]["key"] != "done") for b in blockers
    ] == [(partner.project_key, True)]  # is blocked by an OPEN issue of the declared team


def test_the_validated_briefing_is_due_today_and_its_dependency_is_validated(sb, notion, jira):
    initiative, seeded = sb.initiatives.role("validated"), sb.jira.epic_plan.role("validated")
    page = briefings(sb, notion)[initiative.page_id]
    partner = sb.org.team(initiative.partner).name
    assert page["Depends on"] == page["Validated by"] == [partner]
    assert page["Target date"] == TODAY.isoformat()
    child = next(c for c in children(jira, initiative.epic) if c["key"] == seeded.child)
    [link] = child["fields"]["issuelinks"]
    assert (
        link["inwardIssue"]["key"] == seeded.other
        and link["inwardIssue"]["fields"]["status"]["name"] == "Done"
    )


def test_the_undeclared_briefing_has_a_child_linked_to_a_team_it_does_not_depend_on(sb, notion, jira):
    initiative, seeded = sb.initiatives.role("undeclared"), sb.jira.epic_plan.role("undeclared")
    page = briefings(sb, notion)[initiative.page_id]
    partner = sb.org.team(initiative.partner)
    assert partner.name not in page["Depends on"] and page["Depends on"] == []
    other_teams = {
        link[end]["key"].split("-")[0]
        for c in children(jira, initiative.epic)
        for link in c["fields"]["issuelinks"]
        for end in ("inwardIssue", "outwardIssue")
        if end in link
    }
    assert partner.project_key in other_teams and seeded.other.startswith(partner.project_key + "-")
    assert date.fromisoformat(page["Target date"]) > TODAY


def test_the_done_and_the_empty_epics_and_the_security_critical_briefing(sb, notion, jira):
    pages, found = briefings(sb, notion), epics(jira)
    done, empty = sb.initiatives.role("done"), sb.initiatives.role("empty")
    kids = children(jira, done.epic)
    assert kids and {c["fields"]["status"]["name"] for c in kids} == {"Done"}
    assert found[done.epic]["status"]["name"] == "Done"
    assert children(jira, empty.epic) == [] and found[empty.epic]["status"]["name"] == "To Do"
    assert [pid for pid, p in pages.items() if p["Security critical"]] == [empty.page_id]
    assert all(p["Security critical"] is False for pid, p in pages.items() if pid != empty.page_id)
    scored = [p for p in pages.values() if p["Impact"] is not None and p["Effort"] is not None]
    assert len(scored) >= 5 and all(p["Impact"] > 0 and p["Effort"] > 0 for p in scored)
    # only the blocked briefing is late; only the validated one is due today
    dates = {pid: p["Target date"] for pid, p in pages.items() if p["Target date"]}
    assert [pid for pid, d in dates.items() if date.fromisoformat(d) < TODAY] == [
        sb.initiatives.role("blocked").page_id
    ]
    assert [pid for pid, d in dates.items() if d == TODAY.isoformat()] == [
        sb.initiatives.role("validated").page_id
    ]


def test_every_role_is_seeded_once_and_named_by_the_helpers(sb):
    assert sorted(i.role for i in sb.initiatives.initiatives if i.role) == sorted(ROLES)
    for role in ROLES:
        initiative, seeded = sb.initiatives.role(role), sb.jira.epic_plan.role(role)
        assert seeded.epic == initiative.epic and initiative.page_id in sb.notion.page_ids("briefings")
    with pytest.raises(KeyError):
        sb.initiatives.role("cancelled")


def test_the_target_dates_follow_the_day_the_sandbox_starts():
    later = START + timedelta(days=3)
    with Sandbox(seed=7, size="demo", clock=FrozenClock(later)) as sb:
        page = sb.notion.get_page(sb.initiatives.role("validated").page_id)
        assert page["properties"]["Target date"]["date"]["start"] == (TODAY + timedelta(days=3)).isoformat()


# =========================================================================== writes


def test_relais_writes_every_output_and_reads_it_back(sb, notion, clock):
    page_id = sb.initiatives.role("blocked").page_id
    clock.advance(minutes=5)
    written = notion.pages.update(
        page_id=page_id,
        properties={
            "Health": {"select": {"name": "Blocked"}},
            "Health reason": text("SUP-12 is blocked by PAY-17 (Payments, In Progress)"),
            "Progress": {"number": 0},
            "Forecast": {"date": {"start": "2026-12-11"}},
            "Open incidents": {"number": 2},
            "Dependencies": text("0 of 1 validated"),
            "Undeclared dependencies": text(""),
            "Priority score": {"number": 1.6},
            "Last synced": {"date": {"start": "2026-11-20T10:20:42.500+00:00"}},
        },
    )
    got = {name: value(prop) for name, prop in written["properties"].items()}
    assert {name: got[name] for name in OUTPUTS} == {
        "Health": "Blocked",
        "Health reason": "SUP-12 is blocked by PAY-17 (Payments, In Progress)",
        "Progress": 0,
        "Forecast": "2026-12-11",
        "Open incidents": 2,
        "Dependencies": "0 of 1 validated",
        "Undeclared dependencies": "",
        "Priority score": 1.6,
        "Last synced": "2026-11-20T10:20:42.500+00:00",
    }
    assert written["properties"]["Health"]["select"]["color"] == "red"
    assert written["last_edited_time"] == "2026-11-20T10:20:00.000Z"
    assert written["last_edited_by"]["id"] == sb.org.bot.notion_user_id
    assert notion.pages.retrieve(page_id=page_id)["properties"] == written["properties"]
    found = notion.data_sources.query(
        data_source_id=sb.notion.data_source_ids["briefings"],
        filter={"property": "Health", "select": {"equals": "Blocked"}},
    )["results"]
    assert [p["id"] for p in found] == [page_id]


def test_a_person_fills_the_inputs_and_relais_queries_them(sb, notion):
    page_id = sb.initiatives.without_epic()[0].page_id
    sb.notion.edit_page(
        page_id,
        {
            "Depends on": {"multi_select": [{"name": "Core"}, {"name": "Payments"}]},
            "Validated by": {"multi_select": [{"name": "Core"}]},
            "Security critical": {"checkbox": True},
            "Impact": {"number": 5},
            "Effort": {"number": 13},
            "Target date": {"date": {"start": "2026-11-19"}},
        },
        editor_user_id=sb.org.person("chloe").notion_user_id,
    )
    page = briefings(sb, notion)[page_id]
    assert (
        page["Depends on"],
        page["Validated by"],
        page["Security critical"],
        page["Impact"],
        page["Effort"],
    ) == (["Core", "Payments"], ["Core"], True, 5, 13)
    dsid = sb.notion.data_source_ids["briefings"]
    critical = notion.data_sources.query(
        data_source_id=dsid, filter={"property": "Security critical", "checkbox": {"equals": True}}
    )["results"]
    assert sorted(p["id"] for p in critical) == sorted([page_id, sb.initiatives.role("empty").page_id])
    on_core = notion.data_sources.query(
        data_source_id=dsid, filter={"property": "Depends on", "multi_select": {"contains": "Core"}}
    )["results"]
    assert [p["id"] for p in on_core] == [page_id]
    late = notion.data_sources.query(
        data_source_id=dsid, filter={"property": "Target date", "date": {"before": TODAY.isoformat()}}
    )["results"]
    assert sorted(p["id"] for p in late) == sorted([page_id, sb.initiatives.role("blocked").page_id])
    sb.notion.edit_page(page_id, {"Security critical": {"checkbox": False}})
    assert briefings(sb, notion)[page_id]["Security critical"] is False


def test_a_created_briefing_has_its_checkbox_unticked_and_empty_outputs(sb, notion):
    created = notion.pages.create(
        parent={"data_source_id": sb.notion.data_source_ids["briefings"]},
        properties={"Name": {"title": [{"text": {"content": "Q1 2028 — Audit log export"}}]}},
    )
    props = {name: value(prop) for name, prop in created["properties"].items()}
    assert props["Security critical"] is False and props["Target date"] is None and props["Depends on"] == []
    assert props["Health"] is None and props["Progress"] is None


@pytest.mark.parametrize(
    "properties, message",
    [
        (
            {"Target date": {"date": {"start": "next friday"}}},
            "Target date.date.start should be a valid ISO 8601",
        ),
        ({"Forecast": {"date": "2026-12-11"}}, "Forecast is expected to be date."),
        ({"Security critical": {"checkbox": "yes"}}, "Security critical is expected to be checkbox."),
        ({"Progress": {"number": "40"}}, "Progress is expected to be number."),
        ({"Depends on": {"multi_select": {"name": "Core"}}}, "Depends on is expected to be multi_select."),
        ({"Health": {"select": {"name": "On track, mostly"}}}, "commas not allowed"),
        ({"Health reason": {"rich_text": "late"}}, "Health reason is expected to be rich_text."),
        ({"Impact": {"rich_text": []}}, "Impact is expected to be number."),
    ],
)
def test_a_bad_value_is_a_validation_error_and_writes_nothing(sb, notion, properties, message):
    page_id = sb.initiatives.role("validated").page_id
    before = sb.notion.get_page(page_id)
    valid = {} if "Health reason" in properties else {"Health reason": text("must not be saved")}
    with pytest.raises(APIResponseError) as err:
        notion.pages.update(page_id=page_id, properties={**valid, **properties})
    assert err.value.status == 400 and err.value.code == "validation_error"
    assert message in str(err.value)
    assert sb.notion.get_page(page_id) == before


@pytest.mark.parametrize("days", range(7), ids=lambda d: (START + timedelta(days=d)).strftime("%a"))
def test_the_documented_situations_hold_whatever_day_the_sandbox_starts(days):
    """sandbox/README.md names the pages, epics, children and links of each role."""
    with Sandbox(seed=7, size="demo", clock=FrozenClock(START + timedelta(days=days))) as sb:
        table = {
            role: (
                sb.initiatives.role(role).page_id[:8],
                sb.jira.epic_plan.role(role).epic,
                sb.jira.epic_plan.role(role).child,
                sb.jira.epic_plan.role(role).other,
                sb.jira.epic_plan.role(role).link,
            )
            for role in ROLES
        }
        assert table == {
            "blocked": ("9d30f478", "SUP-21", "SUP-12", "PAY-17", "10002"),
            "validated": ("5ec549bb", "SUP-22", "SUP-7", "PAY-15", "10003"),
            "undeclared": ("615887bc", "CORE-22", "CORE-18", "SUP-4", "10000"),
            "done": ("f491483a", "PAY-20", None, None, None),
            "empty": ("0f0f651d", "PAY-21", None, None, None),
        }
        assert sb.jira.epic_plan.role("done").children == ["PAY-1", "PAY-2"]
        assert sb.jira.epic_plan.epics["CORE-23"].children == ["CORE-2", "CORE-12"]
        assert [i.page_id[:8] for i in sb.initiatives.without_epic()] == ["71f6acc6", "42d7176f"]
        statuses = {
            k: sb.jira.get_record(k)["status"] for k in ("PAY-17", "PAY-15", "SUP-4", "SUP-12", "CORE-18")
        }
        assert statuses == {
            "PAY-17": "In Progress",
            "PAY-15": "Done",
            "SUP-4": "In Progress",
            "SUP-12": "To Do",
            "CORE-18": "To Do",
        }
        high = [
            i for i in map(sb.pagerduty.get_incident, sb.pagerduty.incident_ids()) if i["urgency"] == "high"
        ]
        recent = {
            i["service"]["summary"]
            for i in high
            if i["status"] == "resolved"
            and datetime.fromisoformat(i["resolved_at"].replace("Z", "+00:00"))
            >= sb.org.anchor - timedelta(days=7)
        }
        assert recent == {
            "Payments API",
            "Core Platform",
            "Support Portal",
        }  # each team has a follow-up to write
        assert [i["incident_number"] for i in high if i["status"] != "resolved"] == [1020]
