"""The Jira feedback project (FB) relais reads through ``sources.jira.feedback_jql``, driven
through the real ``jira`` client over HTTPS.

Pins: the Feedback issue type and the Origin / Customer / Tier / Area fields (listing,
values, JQL, writes limited to FB), the seeded feedback (languages, variety, dates, no
worklogs or points, the Product Manager a person set), and that none of it leaks into
the teams' projects: ``project in (PAY, CORE, SUP)``, ``sb.jira.keys()`` and
``len(sb.jira)`` still see the 60 demo issues, drawn exactly as before.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Any

import pytest
from jira import JIRAError

from connectors.jira_map import field_text as _field_text
from sandbox import Sandbox
from sandbox.jira import data as jira_data
from sandbox.jira.feedback import FEEDBACK
from sandbox.jira.fields import AREA, BRIEFING_LINK, CUSTOMER, ORIGIN, PM, TEAM, TIER
from sandbox.org import build_org
from sandbox.seed import iter_dump
from sandbox.testing import FrozenClock
from sandbox.timeutil import UTC

START = datetime(2026, 11, 20, 9, 30, 42, 500000, tzinfo=UTC)
STAMP = "%Y-%m-%dT%H:%M:%S.%f%z"
NAMES = {"origin": "Origin", "customer": "Customer", "tier": "Tier", "area": "Area"}  # relais' defaults


def _feedback(
    jira: Any, jql: str = "project = FB ORDER BY key ASC", extra: tuple[str, ...] = ()
) -> list[dict]:
    # field names, as relais configures them: the client translates them to ids through GET /field
    fields = [
        "summary",
        "description",
        "issuetype",
        "project",
        "status",
        "created",
        "updated",
        "worklog",
        "Story Points",
        *NAMES.values(),
        *extra,
    ]
    page = jira.enhanced_search_issues(jql, maxResults=100, fields=fields, json_result=True)
    assert page["isLast"] is True
    return page["issues"]


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.casefold()) if not unicodedata.combining(c))


def test_the_feedback_fields_are_listed_and_found_by_name(jira):
    fields = {f["name"]: f for f in jira.fields() if f["custom"]}
    plugin = "com.atlassian.jira.plugin.system.customfieldtypes:"
    expected = {
        "Origin": (ORIGIN, "option", "select", "Dropdown"),
        "Customer": (CUSTOMER, "string", "textfield", "Short text"),
        "Tier": (TIER, "option", "select", "Dropdown"),
        "Area": (AREA, "option", "select", "Dropdown"),
    }
    for name, (fid, kind, custom, searcher) in expected.items():
        f = fields[name]
        number = int(fid.rsplit("_", 1)[1])
        assert (f["id"], f["key"], f["schema"]) == (
            fid,
            fid,
            {"type": kind, "custom": plugin + custom, "customId": number},
        )
        assert f["clauseNames"] == [f"cf[{number}]", name, f"{name}[{searcher}]"]
        assert f["navigable"] and f["searchable"] and f["orderable"]
    assert len([f for f in jira.fields() if f["name"] in expected]) == 4  # one field per name


def test_the_feedback_issues_through_the_client_with_the_four_fields(sb, jira):
    issues = _feedback(jira)
    assert [i["key"] for i in issues] == sb.jira.feedback_keys() == [f"FB-{n}" for n in range(1, 9)]
    assert sb.jira.feedback_plan.keys == sb.jira.feedback_keys()
    read = []
    for issue in issues:
        f = issue["fields"]
        assert f["issuetype"]["name"] == "Feedback" and f["issuetype"]["id"] == "10006"
        assert f["issuetype"]["hierarchyLevel"] == 0 and f["issuetype"]["subtask"] is False
        assert (f["project"]["key"], f["project"]["name"]) == ("FB", "Customer feedback")
        assert f["status"]["name"] in ("To Do", "In Progress")
        assert f["worklog"] == {"startAt": 0, "maxResults": 20, "total": 0, "worklogs": []}
        assert f["customfield_10016"] is None  # no story points
        assert f["description"]["type"] == "doc" and f["description"]["content"][0]["content"][0]["text"]
        created, updated = (datetime.strptime(f[k], STAMP) for k in ("created", "updated"))
        assert sb.org.anchor - timedelta(weeks=3) <= created < updated < sb.org.anchor
        for fid in (ORIGIN, TIER, AREA):
            assert set(f[fid]) == {"self", "value", "id"} and f[fid]["self"].endswith(
                f"/customFieldOption/{f[fid]['id']}"
            )
        assert isinstance(f[CUSTOMER], str)
        # as relais' connector reads them (connectors/jira.py)
        read.append(
            {
                name: _field_text(f[fid])
                for name, fid in (("origin", ORIGIN), ("customer", CUSTOMER), ("tier", TIER), ("area", AREA))
            }
        )
    assert [
        (i["fields"]["summary"], r["origin"], r["customer"], r["tier"], r["area"])
        for i, r in zip(issues, read)
    ] == [row[:1] + row[2:6] for row in FEEDBACK]
    assert {i["fields"]["status"]["name"] for i in issues} == {"To Do", "In Progress"}
    assert {r["origin"] for r in read} == {"Sales", "Support", "Account management"}
    assert {r["tier"] for r in read} == {"SMB", "Mid-market", "Enterprise"}
    assert len({r["area"] for r in read}) == 7 and len({r["customer"] for r in read}) == 8
    assert [r for r in read if (r["origin"], r["tier"]) == ("Support", "Enterprise")] == [
        {"origin": "Support", "customer": "Globex", "tier": "Enterprise", "area": "API"}
    ]
    titles = [_fold(i["fields"]["summary"]) for i in issues]
    assert {"facture envoyee deux fois au client", "export csv incomplet"} <= set(titles)  # French
    assert {"invoice shows the wrong vat", "sso with azure ad"} <= set(titles)  # and English
    created = [i["fields"]["created"] for i in issues]
    assert created == sorted(created, key=lambda s: datetime.strptime(s, STAMP))  # FB-1 is the oldest


def test_the_main_jql_still_sees_the_teams_issues_only(sb, jira):
    teams = jira.enhanced_search_issues(
        "project in (PAY, CORE, SUP)", maxResults=100, fields=["project"], json_result=True
    )
    assert teams["isLast"] is True and len(teams["issues"]) == 60 + 6  # the 60 seeded issues and 6 epics
    assert {i["fields"]["project"]["key"] for i in teams["issues"]} == {"PAY", "CORE", "SUP"}
    assert sorted(i["key"] for i in teams["issues"]) == sorted(sb.jira.keys())
    assert len(sb.jira) == len(sb.jira.keys()) == 66 and not set(sb.jira.keys()) & set(
        sb.jira.feedback_keys()
    )
    by_type = jira.enhanced_search_issues(
        "issuetype = Feedback ORDER BY key ASC", maxResults=100, fields=["summary"], json_result=True
    )["issues"]
    assert [i["key"] for i in by_type] == sb.jira.feedback_keys()
    project = jira.project("FB")
    assert (project.key, project.name, project.projectTypeKey) == ("FB", "Customer feedback", "business")
    assert project.raw["insight"]["totalIssueCount"] == 8


def test_the_teams_issues_are_drawn_exactly_as_before():
    org = build_org(7, "demo", START)
    with Sandbox(seed=7, clock=FrozenClock(START)) as sb:
        built, _ = jira_data.build_issues(org)
        # the teams' issues, epics aside, are as built; a share of them gained only a parent (an epic)
        issues = [sb.jira.get_record(k) for k in sb.jira if k not in sb.jira.epic_keys()]
        assert [{k: v for k, v in rec.items() if k != "parent"} for rec in issues] == built
        assert {rec["parent"] for rec in issues if "parent" in rec} <= {
            sb.jira.get_record(k)["id"] for k in sb.jira.epic_keys()
        }
        first = sb.jira.get_record("FB-1")
        assert int(first["id"]) == 10001 + len(built)  # after the teams' issues
    dumped = list(iter_dump(org))
    assert sum('"project": "FB"' in line for line in dumped) == 8  # the fingerprint covers them
    with Sandbox(seed=7, clock=FrozenClock(START)) as again:
        assert [again.jira.get_record(k) for k in again.jira.feedback_keys()] == [
            sb.jira.get_record(k) for k in sb.jira.feedback_keys()
        ]


def test_one_feedback_issue_has_the_pm_a_person_set(sb, jira):
    plan = sb.jira.feedback_plan
    chloe, bruno = sb.org.person("chloe"), sb.org.person("bruno")
    assert (plan.human_pm, plan.human, plan.human_value) == ("FB-8", "chloe", "bruno")
    issues = _feedback(jira, extra=("Product Manager", "Team", "Briefing link"))
    for issue in issues:
        f = issue["fields"]
        assert f[TEAM] is None and f[BRIEFING_LINK] is None  # no team owns FB: relais routes them
        if issue["key"] != plan.human_pm:
            assert f[PM] is None
    routed = next(i for i in issues if i["key"] == plan.human_pm)
    assert (
        routed["fields"]["summary"] == "Dashboard slow on Mondays"
    )  # the rules would give it to the fallback
    assert (routed["fields"][PM]["accountId"], routed["fields"][PM]["displayName"]) == (
        bruno.jira_account_id,
        bruno.name,
    )
    histories = jira.issue(plan.human_pm, expand="changelog").raw["changelog"]["histories"]
    assert len(histories) == 1
    assert histories[0]["id"] == "10401" and histories[0]["author"]["accountId"] == chloe.jira_account_id
    assert histories[0]["items"] == [
        {
            "field": "Product Manager",
            "fieldtype": "custom",
            "fieldId": PM,
            "from": None,
            "fromString": None,
            "to": bruno.jira_account_id,
            "toString": bruno.name,
        }
    ]
    f = routed["fields"]
    assert (
        datetime.strptime(f["created"], STAMP)
        < datetime.strptime(histories[0]["created"], STAMP)
        < datetime.strptime(f["updated"], STAMP)
    )
    hits = jira.enhanced_search_issues('"Product Manager" is not EMPTY', fields=["summary"], json_result=True)
    assert [i["key"] for i in hits["issues"]] == [plan.human_pm]


@pytest.mark.parametrize(
    "jql, keys",
    [
        ("Origin = Support AND Tier = Enterprise", ["FB-4"]),
        ("Area in (billing, Search) ORDER BY key ASC", ["FB-1", "FB-2", "FB-3"]),
        ("cf[10092] = 10312 ORDER BY key ASC", ["FB-4", "FB-6", "FB-8"]),  # Tier = Enterprise, by option id
        ('Customer ~ "globex"', ["FB-4"]),
        ("Customer !~ globex AND Origin = Support ORDER BY key ASC", ["FB-1", "FB-5"]),
        ("project = FB AND Origin is EMPTY", []),
        ('Area is not EMPTY AND status = "In Progress" ORDER BY key ASC', ["FB-2", "FB-4", "FB-8"]),
    ],
)
def test_jql_on_the_feedback_fields(jira, jql, keys):
    hits = jira.enhanced_search_issues(jql, fields=["summary"], json_result=True)["issues"]
    assert [i["key"] for i in hits] == keys


@pytest.mark.parametrize(
    "jql, message",
    [
        ("Area = Marketing", "The option 'Marketing' for field 'Area' does not exist."),
        ("Customer = Globex", "The operator '=' is not supported by the 'Customer' field."),
        ("Tier ~ Enterprise", "The operator '~' is not supported by the 'Tier' field."),
    ],
)
def test_bad_jql_on_the_feedback_fields_is_a_400(jira, jql, message):
    with pytest.raises(JIRAError) as err:
        jira.enhanced_search_issues(jql, json_result=True)
    assert err.value.status_code == 400 and err.value.response.json()["errorMessages"] == [message]


def test_relais_routes_a_feedback_issue_and_the_changelog_names_the_api_user(sb, jira, clock):
    alice = sb.org.person("alice")
    clock.advance(minutes=4)
    link = "https://app.notion.com/p/Instant-refunds-42d7176f"
    jira.issue("FB-1").update(
        fields={PM: {"accountId": alice.jira_account_id}, TEAM: {"value": "payments"}, BRIEFING_LINK: link}
    )
    raw = sb.jira.get_issue("FB-1")
    f = raw["fields"]
    assert (f[PM]["accountId"], f[TEAM]["value"], f[BRIEFING_LINK]) == (
        alice.jira_account_id,
        "payments",
        link,
    )
    assert f["updated"] == "2026-11-20T10:34:42.500+0100"
    history = raw["changelog"]["histories"][0]
    assert history["author"]["accountId"] == sb.org.bot.jira_account_id
    assert {i["fieldId"] for i in history["items"]} == {PM, TEAM, BRIEFING_LINK}
    assert [
        i["key"]
        for i in jira.enhanced_search_issues(
            "project = FB AND Team = payments", fields=["summary"], json_result=True
        )["issues"]
    ] == ["FB-1"]


def test_feedback_fields_are_written_on_fb_issues_only(sb, jira):
    jira.issue("FB-3").update(
        fields={ORIGIN: {"value": "Support"}, TIER: {"id": "10312"}, CUSTOMER: "Hooli EU"}
    )
    f = sb.jira.get_issue("FB-3")["fields"]
    assert (f[ORIGIN]["value"], f[TIER]["value"], f[CUSTOMER]) == ("Support", "Enterprise", "Hooli EU")
    items = {i["fieldId"]: i for i in sb.jira.get_issue("FB-3")["changelog"]["histories"][0]["items"]}
    assert (items[ORIGIN]["field"], items[ORIGIN]["fromString"], items[ORIGIN]["toString"]) == (
        "Origin",
        "Sales",
        "Support",
    )
    assert (items[CUSTOMER]["from"], items[CUSTOMER]["fromString"], items[CUSTOMER]["toString"]) == (
        None,
        "Hooli",
        "Hooli EU",
    )
    # a person in the UI: plain values; the project lead is the default author
    sb.jira.edit_issue("FB-3", {AREA: "API"})
    history = sb.jira.get_issue("FB-3")["changelog"]["histories"][0]
    assert history["author"]["accountId"] == sb.org.person("chloe").jira_account_id
    assert [(i["field"], i["toString"]) for i in history["items"]] == [("Area", "API")]
    # the teams' projects do not have these fields on their screens
    pay = sb.jira.get_record("PAY-1")
    with pytest.raises(JIRAError) as err:
        jira.issue("PAY-1").update(fields={AREA: {"value": "Billing"}})
    assert err.value.response.json()["errors"] == {
        AREA: f"Field '{AREA}' cannot be set. It is not on the appropriate screen, or unknown."
    }
    assert sb.jira.get_record("PAY-1") == pay
    assert jira.issue("PAY-1", fields=f"{AREA},{CUSTOMER}").raw["fields"] == {AREA: None, CUSTOMER: None}


@pytest.mark.parametrize(
    "fields, bad, message",
    [
        ({ORIGIN: {"value": "Marketing"}}, ORIGIN, "Option value 'Marketing' is not valid"),
        ({TIER: {"value": "enterprise"}}, TIER, "Option value 'enterprise' is not valid"),  # exact, like Jira
        ({AREA: {"id": "10200"}}, AREA, "Option id '10200' is not valid"),
        ({AREA: "Billing"}, AREA, "Could not find valid 'id' or 'value' in the Parent Option object."),
        ({CUSTOMER: {"value": "Hooli"}}, CUSTOMER, "Operation value must be a string"),
        (
            {CUSTOMER: "x" * 256},
            CUSTOMER,
            "The entered text is too long. It exceeds the allowed limit of 255 characters.",
        ),
    ],
)
def test_bad_feedback_writes_are_400_and_change_nothing(refused_update, fields, bad, message):
    assert refused_update("FB-2", fields) == {"errorMessages": [], "errors": {bad: message}}


def test_a_created_feedback_issue_is_read_by_the_feedback_jql_only(sb, jira):
    created = jira.create_issue(
        fields={
            "project": {"key": "FB"},
            "issuetype": {"name": "Feedback"},
            "summary": "Relevé mensuel en PDF",
            ORIGIN: {"value": "Sales"},
            CUSTOMER: "Soylent",
            TIER: {"value": "SMB"},
        },
        prefetch=False,
    )
    assert created.key == "FB-9"
    assert sb.jira.feedback_keys()[-1] == "FB-9" and "FB-9" not in sb.jira and len(sb.jira) == 60 + 6
    issue = _feedback(jira, "key = FB-9")[0]["fields"]
    assert (_field_text(issue[ORIGIN]), issue[CUSTOMER], _field_text(issue[TIER]), issue[AREA]) == (
        "Sales",
        "Soylent",
        "SMB",
        None,
    )
    assert issue["issuetype"]["name"] == "Feedback"
