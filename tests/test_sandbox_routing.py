"""What relais' routing reads and writes in the sandbox, through the real ``jira`` and
``notion-client`` libraries over HTTPS.

Pins: the Jira Product Manager / Team / Briefing link fields (listing, values,
validation, JQL, changelog authors), the seeded tickets without a Team and the
one a person routed, the feedback pages written for routing (languages, empty
Teams, explicit briefings, the PM a person set), Notion people/relation/text
writes and their validation, and ``sb.config(..., routing=True)``.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from jira import JIRAError
from notion_client import APIResponseError
from notion_client.helpers import collect_paginated_api

from sandbox import Sandbox
from sandbox.jira.fields import BRIEFING_LINK, PM, TEAM, expected_work_type
from sandbox.timeutil import UTC

START = datetime(2026, 11, 20, 9, 30, 42, 500000, tzinfo=UTC)
STAMP = "%Y-%m-%dT%H:%M:%S.%f%z"


def _text(value: str) -> dict[str, Any]:
    return {"rich_text": [{"text": {"content": value}}]}


def _plain(prop: dict[str, Any]) -> str:
    return "".join(t["plain_text"] for t in prop[prop["type"]])


def _select(prop: dict[str, Any]) -> str | None:
    return (prop["select"] or {}).get("name")


# =========================================================================== Jira


def test_the_routing_fields_are_listed_and_the_client_finds_them_by_name(jira):
    fields = {f["id"]: f for f in jira.fields()}
    assert (fields[PM]["name"], fields[PM]["schema"]) == (
        "Product Manager",
        {
            "type": "user",
            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:userpicker",
            "customId": 10060,
        },
    )
    assert (fields[TEAM]["name"], fields[TEAM]["schema"]) == (
        "Team",
        {
            "type": "option",
            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select",
            "customId": 10070,
        },
    )
    assert (fields[BRIEFING_LINK]["name"], fields[BRIEFING_LINK]["schema"]) == (
        "Briefing link",
        {
            "type": "string",
            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:url",
            "customId": 10080,
        },
    )
    assert all(
        f["custom"] and f["navigable"] and f["searchable"] and f"cf[{f['id'][12:]}]" in f["clauseNames"]
        for f in (fields[PM], fields[TEAM], fields[BRIEFING_LINK])
    )
    # the client translates names to ids through GET /field, as relais does
    page = jira.enhanced_search_issues(
        "project = PAY", maxResults=3, fields=["Product Manager", "Team"], json_result=True
    )
    assert all(set(i["fields"]) == {PM, TEAM} for i in page["issues"])


def test_every_seeded_issue_has_its_team_but_five_support_run_tickets(sb, jira):
    plan = sb.jira.routing_plan
    assert plan.unowned == ["SUP-3", "SUP-5", "SUP-6", "SUP-8", "SUP-16"]
    assert (plan.human_team, plan.human, plan.human_value) == ("SUP-18", "farid", "support")
    issues = jira.enhanced_search_issues(
        "project in (PAY, CORE, SUP) AND issuetype != Epic",
        maxResults=100,
        fields=["project", "issuetype", "labels", PM, TEAM, BRIEFING_LINK],
        json_result=True,
    )["issues"]
    assert len(issues) == 60  # the epics carry Briefing links: tests/test_sandbox_briefings.py
    teams = {t.project_key: t.slug for t in sb.org.teams}
    for issue in issues:
        f = issue["fields"]
        assert f[PM] is None and f[BRIEFING_LINK] is None
        if issue["key"] in plan.unowned:
            assert f[TEAM] is None
            assert expected_work_type(f["issuetype"]["name"], f["labels"]) == "RUN"
        else:
            assert f[TEAM]["value"] == teams[f["project"]["key"]], issue["key"]
            assert set(f[TEAM]) == {"self", "value", "id"}
    empty = jira.enhanced_search_issues(
        "Team is EMPTY ORDER BY key ASC", fields=["summary"], json_result=True
    )
    # the five, and the FB project's feedback, which no team owns yet
    assert sorted(i["key"] for i in empty["issues"]) == sorted(plan.unowned + sb.jira.feedback_keys())
    assert [
        i["key"]
        for i in jira.enhanced_search_issues(
            "cf[10070] = payments AND project = SUP", json_result=True, fields=["summary"]
        )["issues"]
    ] == []


def test_the_team_a_person_set_is_in_the_changelog_under_their_name(sb, jira):
    key = sb.jira.routing_plan.human_team
    issue = jira.issue(key, expand="changelog")
    histories = issue.raw["changelog"]["histories"]
    assert len(histories) == 1
    history = histories[0]
    assert history["author"]["accountId"] == sb.org.person("farid").jira_account_id
    assert history["author"]["displayName"] == sb.org.person("farid").name
    assert history["items"] == [
        {
            "field": "Team",
            "fieldtype": "custom",
            "fieldId": TEAM,
            "from": None,
            "fromString": None,
            "to": "10202",
            "toString": "support",
        }
    ]
    created, updated = (datetime.strptime(issue.raw["fields"][k], STAMP) for k in ("created", "updated"))
    assert created <= datetime.strptime(history["created"], STAMP) <= updated
    assert issue.raw["fields"][TEAM]["value"] == "support"
    # the same entry through the paged changelog endpoint
    page = jira._get_json(f"issue/{key}/changelog")
    assert page["total"] == 1 and page["values"][0]["author"]["accountId"] == history["author"]["accountId"]


def test_relais_writes_pm_team_and_link_and_the_changelog_names_the_api_user(sb, jira, clock):
    alice = sb.org.person("alice")
    clock.advance(minutes=5)
    jira.issue("SUP-3").update(
        fields={
            PM: {"accountId": alice.jira_account_id},
            TEAM: {"value": "payments"},
            BRIEFING_LINK: "https://app.notion.com/p/Instant-refunds-42d7176f",
        }
    )
    raw = sb.jira.get_issue("SUP-3")
    f = raw["fields"]
    assert {k: f[PM][k] for k in ("accountId", "displayName", "emailAddress", "active", "accountType")} == {
        "accountId": alice.jira_account_id,
        "displayName": alice.name,
        "emailAddress": alice.email,
        "active": True,
        "accountType": "atlassian",
    }
    assert (f[TEAM]["value"], f[TEAM]["id"]) == ("payments", "10200")
    assert f[BRIEFING_LINK] == "https://app.notion.com/p/Instant-refunds-42d7176f"
    assert f["updated"] == "2026-11-20T10:35:42.500+0100"
    history = raw["changelog"]["histories"][0]
    assert history["author"]["accountId"] == sb.org.bot.jira_account_id
    items = {i["fieldId"]: i for i in history["items"]}
    assert (items[PM]["field"], items[PM]["to"], items[PM]["toString"]) == (
        "Product Manager",
        alice.jira_account_id,
        alice.name,
    )
    assert (items[TEAM]["from"], items[TEAM]["to"], items[TEAM]["toString"]) == (None, "10200", "payments")
    assert (
        items[BRIEFING_LINK]["toString"] == f[BRIEFING_LINK] and items[BRIEFING_LINK]["fieldtype"] == "custom"
    )
    # by option id, and clearing
    jira.issue("SUP-3").update(fields={TEAM: {"id": "10201"}, PM: None})
    f = sb.jira.get_issue("SUP-3")["fields"]
    assert f[TEAM]["value"] == "core" and f[PM] is None
    hits = jira.enhanced_search_issues(
        f'"Product Manager" = {alice.jira_account_id} AND project = SUP', json_result=True, fields=["summary"]
    )["issues"]
    assert hits == []


def test_a_person_editing_in_the_ui_is_the_changelog_author(sb, jira):
    bruno = sb.org.person("bruno")
    sb.jira.edit_issue(
        "SUP-5", {TEAM: "core", PM: bruno.jira_account_id}, author_account_id=bruno.jira_account_id
    )
    history = sb.jira.get_issue("SUP-5")["changelog"]["histories"][0]
    assert history["author"]["accountId"] == bruno.jira_account_id
    assert {i["fieldId"]: i["toString"] for i in history["items"]} == {TEAM: "core", PM: bruno.name}
    hits = jira.enhanced_search_issues(
        f"cf[10060] = {bruno.jira_account_id} AND Team in (core, support)",
        json_result=True,
        fields=["summary"],
    )["issues"]
    assert [i["key"] for i in hits] == ["SUP-5"]


@pytest.mark.parametrize(
    "fields, bad, message",
    [
        (
            {PM: {"accountId": "5b10ac8d0000000000000000"}},
            PM,
            "Specified user does not exist or you do not have required permissions",
        ),
        ({PM: "alice"}, PM, "Specified user does not exist or you do not have required permissions"),
        ({TEAM: {"value": "marketing"}}, TEAM, "Option value 'marketing' is not valid"),
        (
            {TEAM: {"value": "Payments"}},
            TEAM,
            "Option value 'Payments' is not valid",
        ),  # the options are team keys
        ({TEAM: {"id": "10100"}}, TEAM, "Option id '10100' is not valid"),
        ({TEAM: "payments"}, TEAM, "Could not find valid 'id' or 'value' in the Parent Option object."),
        ({BRIEFING_LINK: "notion page 42"}, BRIEFING_LINK, "Not a valid URL"),
        ({BRIEFING_LINK: {"url": "https://x.example"}}, BRIEFING_LINK, "Not a valid URL"),
    ],
)
def test_bad_routing_writes_are_400_and_change_nothing(refused_update, fields, bad, message):
    assert refused_update("SUP-6", fields) == {"errorMessages": [], "errors": {bad: message}}


def test_unknown_team_in_jql_is_a_400(jira):
    with pytest.raises(JIRAError) as err:
        jira.enhanced_search_issues("Team = marketing", json_result=True)
    assert (
        err.value.status_code == 400
        and "The option 'marketing' for field 'Team' does not exist." in err.value.text
    )


def test_a_created_issue_has_no_team_until_someone_sets_it(sb, jira):
    issue = jira.create_issue(
        project="SUP", summary="Umbrella: facture introuvable", issuetype={"name": "Support"}
    )
    assert sb.jira.get_issue(issue.key)["fields"][TEAM] is None
    created = jira.create_issue(
        project="SUP", summary="Export CSV cassé", issuetype={"name": "Bug"}, **{TEAM: {"value": "core"}}
    )
    assert sb.jira.get_issue(created.key)["fields"][TEAM]["value"] == "core"


# =========================================================================== Notion


def test_the_feedback_data_source_has_the_routing_properties(sb, notion):
    props = notion.data_sources.retrieve(data_source_id=sb.notion.data_source_ids["feedback"])["properties"]
    types = {name: p["type"] for name, p in props.items()}
    assert types == {
        "Name": "title",
        "Team": "select",
        "Origin": "select",
        "Customer": "rich_text",
        "Tier": "select",
        "Area": "select",
        "Tags": "multi_select",
        "Work type": "select",
        "Briefing": "relation",
        "PM": "people",
        "Routed by": "rich_text",
        "Details": "rich_text",
    }
    assert props["Briefing"]["relation"]["data_source_id"] == sb.notion.data_source_ids["briefings"]
    assert {"Search", "Exports", "Billing", "API"} <= {o["name"] for o in props["Area"]["select"]["options"]}
    assert [o["name"] for o in props["Origin"]["select"]["options"]] == [
        "Sales",
        "Support",
        "Account management",
    ]
    assert [o["name"] for o in props["Team"]["select"]["options"]] == ["Payments", "Core", "Support"]


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.casefold()) if not unicodedata.combining(c))


def test_seeded_feedback_is_varied_for_routing(sb, notion):
    pages = collect_paginated_api(
        notion.data_sources.query,
        data_source_id=sb.notion.data_source_ids["feedback"],
        sorts=[{"timestamp": "created_time", "direction": "ascending"}],
    )
    assert len(pages) == 14
    props = [p["properties"] for p in pages]
    titles = {_plain(p["Name"]) for p in props}
    assert {
        "Facture en double pour ACME",
        "FACTURATION: montant erroné",
        "Refund took 3 weeks",
        "Search is slow on large accounts",
        "API rate limit too low",
        "Export CSV cassé",
    } <= titles
    assert sum("factur" in _fold(t) for t in titles) == 2  # "Facture", "FACTURATION": one stem
    assert all(_plain(p["Details"]) and _plain(p["Customer"]) for p in props)
    assert {_select(p["Origin"]) for p in props} == {"Sales", "Support", "Account management"}
    assert {_select(p["Tier"]) for p in props} == {"Enterprise", "Growth", "Starter"}
    assert len({_select(p["Area"]) for p in props}) >= 8
    assert sum(_select(p["Team"]) is None for p in props) == 5  # a third: relais routes them
    assert all(_plain(p["Routed by"]) == "" for p in props)
    # two point at a briefing already, each of their own team
    linked = [p for p in props if p["Briefing"]["relation"]]
    assert len(linked) == 2
    for p in linked:
        briefing = notion.pages.retrieve(page_id=p["Briefing"]["relation"][0]["id"])
        assert _select(briefing["properties"]["Team"]) == _select(p["Team"])


def test_one_feedback_page_was_routed_by_a_person(sb, notion):
    chloe = sb.org.person("chloe")
    routed = [
        pid
        for pid in sb.notion.page_ids("feedback", include_trashed=True)
        if sb.notion.get_page(pid)["properties"]["PM"]["people"]
    ]
    assert len(routed) == 1
    page = notion.pages.retrieve(page_id=routed[0])
    assert page["properties"]["PM"]["people"] == [
        {
            "object": "user",
            "id": chloe.notion_user_id,
            "name": chloe.name,
            "avatar_url": None,
            "type": "person",
            "person": {"email": chloe.email},
        }
    ]
    assert page["last_edited_by"] == {"object": "user", "id": chloe.notion_user_id}
    assert _select(page["properties"]["Team"]) == "Support"
    assert _plain(page["properties"]["Name"]) == "Remboursement non reçu"  # a billing rule would say Payments
    assert _plain(page["properties"]["Routed by"]) == ""


def test_relais_writes_pm_briefing_and_routed_by(sb, notion, clock):
    feedback = sb.notion.data_source_ids["feedback"]
    flt = {"property": "Team", "select": {"is_empty": True}}
    target = collect_paginated_api(notion.data_sources.query, data_source_id=feedback, filter=flt)[0]
    briefing = sb.notion.page_ids("briefings")[4]
    alice = sb.org.person("alice")
    clock.advance(minutes=3)
    page = notion.pages.update(
        page_id=target["id"],
        properties={
            "PM": {"people": [{"id": alice.notion_user_id}]},
            "Team": {"select": {"name": "Payments"}},
            "Briefing": {"relation": [{"id": briefing}]},
            "Routed by": _text("billing (relais.yaml:124)"),
        },
    )
    p = page["properties"]
    assert [u["id"] for u in p["PM"]["people"]] == [alice.notion_user_id]
    assert p["PM"]["people"][0]["name"] == alice.name
    assert p["Briefing"]["relation"] == [{"id": briefing}] and p["Briefing"]["has_more"] is False
    assert _plain(p["Routed by"]) == "billing (relais.yaml:124)"
    assert page["last_edited_by"]["id"] == sb.org.bot.notion_user_id
    assert page["last_edited_time"] == "2026-11-20T09:33:00.000Z"
    unrouted = collect_paginated_api(
        notion.data_sources.query,
        data_source_id=feedback,
        filter={"property": "PM", "people": {"is_empty": True}},
    )
    assert target["id"] not in {q["id"] for q in unrouted} and len(unrouted) == 12


@pytest.mark.parametrize(
    "properties, message",
    [
        ({"PM": {"people": [{"id": "00000000-0000-4000-8000-000000000000"}]}}, "Could not find user"),
        ({"PM": {"people": [{"name": "Alice"}]}}, "PM is expected to be people."),
        ({"PM": {"select": {"name": "alice"}}}, "PM is expected to be people."),
        ({"Briefing": {"relation": [{"id": "feedback-page"}]}}, "could not find page"),
        ({"Routed by": {"rich_text": "billing"}}, "Routed by is expected to be rich_text."),
    ],
)
def test_bad_routing_writes_are_validation_errors_and_change_nothing(sb, notion, properties, message):
    page_id = sb.notion.page_ids("feedback")[1]
    if "Briefing" in properties:  # a page that exists, but in the feedback data source, not the briefings one
        properties = {"Briefing": {"relation": [{"id": sb.notion.page_ids("feedback")[0]}]}}
    before = sb.notion.get_page(page_id)
    with pytest.raises(APIResponseError) as err:
        notion.pages.update(page_id=page_id, properties={**properties, "Team": {"select": {"name": "Core"}}})
    assert err.value.status == 400 and err.value.code == "validation_error"
    assert message in str(err.value)
    assert sb.notion.get_page(page_id) == before


def test_feedback_created_by_a_test_has_the_routing_properties_and_rounded_stamps(sb, notion, clock):
    clock.set(datetime(2026, 11, 20, 14, 47, 31, 250000, tzinfo=UTC))
    briefing = sb.notion.page_ids("briefings")[0]
    farid = sb.org.person("farid")
    page_id = sb.notion.create_page(
        "feedback",
        {
            "Name": {"title": [{"text": {"content": "Facturé deux fois en novembre"}}]},
            "Details": _text("Le client Hooli a été prélevé deux fois."),
            "Customer": _text("Hooli"),
            "Origin": {"select": {"name": "Support"}},
            "Tier": {"select": {"name": "Enterprise"}},
            "Area": {"select": {"name": "Billing"}},
            "PM": {"people": [{"id": farid.notion_user_id}]},
            "Briefing": {"relation": [{"id": briefing}]},
        },
        creator_user_id=farid.notion_user_id,
    )
    page = notion.pages.retrieve(page_id=page_id)
    assert page["created_time"] == page["last_edited_time"] == "2026-11-20T14:47:00.000Z"
    assert page["created_by"] == page["last_edited_by"] == {"object": "user", "id": farid.notion_user_id}
    p = page["properties"]
    assert _plain(p["Name"]) == "Facturé deux fois en novembre" and _select(p["Team"]) is None
    assert [u["id"] for u in p["PM"]["people"]] == [farid.notion_user_id]
    assert p["Briefing"]["relation"] == [{"id": briefing}] and _plain(p["Routed by"]) == ""
    since = {"timestamp": "created_time", "created_time": {"on_or_after": "2026-11-20T14:47:00Z"}}
    found = notion.data_sources.query(data_source_id=sb.notion.data_source_ids["feedback"], filter=since)
    assert [q["id"] for q in found["results"]] == [page_id]
    with pytest.raises(ValueError):
        sb.notion.create_page("feedback", {"PM": {"people": [{"id": "nobody"}]}})


# =========================================================================== config


def test_config_with_routing_adds_the_route_section_and_its_writebacks(sb, tmp_path):
    plain = sb.config(str(tmp_path / "relais.db"))
    config = yaml.safe_load(sb.config_yaml(str(tmp_path / "relais.db"), routing=True))
    assert list(config) == [k for k in plain if k != "writeback"] + ["route", "writeback"]
    assert list(sb.config(str(tmp_path / "r.db"), balance=True, routing=True))[-3:] == [
        "balance",
        "route",
        "writeback",
    ]
    assert config["writeback"]["jira"] == {
        **plain["writeback"]["jira"],
        "pm": {"field": "Product Manager"},
        "team": {"field": "Team"},
        "initiative": {"field": "Briefing link"},
    }
    assert config["writeback"]["notion"] == {
        **plain["writeback"]["notion"],
        "routing": {"database": "feedback"},
    }
    assert config["sources"]["jira"].pop("feedback_jql") == "project = FB"  # the FB project's feedback issues
    assert {k: v for k, v in config.items() if k not in ("route", "writeback")} == {
        k: v for k, v in plain.items() if k != "writeback"
    }
    route = config["route"]
    assert list(route) == ["feedback", "maintenance"]
    assert route["feedback"][-1] == {"fallback": "chloe"} and route["maintenance"][-1] == {"fallback": "core"}
    teams, people = set(config["teams"]), set(config["people"])
    for section, targets in (("feedback", teams | people), ("maintenance", teams)):
        rules = route[section][:-1]
        assert all(set(r) <= {"name", "when", "to"} and r["to"] in targets and r["when"] for r in rules)
    assert sb.config(str(tmp_path / "relais.db")) == plain  # asking for it changed nothing


def test_the_routing_config_is_accepted_by_relais(sb, tmp_path):
    from sync.settings import load_settings

    path = Path(tmp_path / "relais.yaml")
    path.write_text(sb.config_yaml(str(tmp_path / "relais.db"), balance=True, routing=True), encoding="utf-8")
    settings = load_settings(path)
    assert [r.name for r in settings.route.feedback_rules] == [
        "billing",
        "enterprise support",
        "search and API",
        "single sign-on",
        "CSV exports",
    ]
    assert settings.route.feedback_fallback == "chloe" and settings.route.maintenance_fallback == "core"
    assert (
        settings.writeback.jira.pm.field == "Product Manager" and settings.writeback.jira.team.field == "Team"
    )
    assert settings.writeback.jira.initiative.field == "Briefing link"
    assert settings.writeback.notion.routing.database == "feedback"


def test_a_smaller_org_gets_a_route_section_it_can_satisfy(tmp_path):
    with Sandbox(seed=3, size={"teams": 2, "people_per_team": 1, "issues": 20, "feedback": 6}) as small:
        route = small.config(str(tmp_path / "relais.db"), routing=True)["route"]
        assert [r["to"] for r in route["feedback"][:-1]] == ["payments", "core", "core"]
        assert route["feedback"][-1] == {"fallback": "alice"}
        assert route["maintenance"][-1] == {"fallback": "core"}
        assert small.jira.routing_plan.unowned  # the last team's RUN tickets, all without a Team
