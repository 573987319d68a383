"""What relais' initiative status reads and writes in Jira, through the real ``jira`` client over HTTPS.

Pins: the Epic issue type (hierarchy level 1) and the seeded epics, their children's ``parent``,
``issuelinks`` (direction, the other issue's current status, navigable), ``POST``/``GET``/``DELETE
/issueLink`` with their ``updated`` and changelog, JQL on ``parent``/``issuetype``/``labels``/Health,
the Health field, the Briefing link on epics, issue creation with relais' fields (and the search
lag), and the ``lost`` fault: an issue created although the client saw only a network error.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from jira import JIRAError

from sandbox.jira.fields import BRIEFING_LINK, HEALTH, TEAM, WORK_TYPE, expected_work_type
from sandbox.timeutil import UTC

START = datetime(2026, 11, 20, 9, 30, 42, 500000, tzinfo=UTC)
STAMP = "%Y-%m-%dT%H:%M:%S.%f%z"
LINK_FIELDS = ["summary", "status", "issuetype", "parent", "issuelinks"]


def search(jira: Any, jql: str, fields: list[str]) -> list[dict[str, Any]]:
    page = jira.enhanced_search_issues(jql, maxResults=100, fields=fields, json_result=True)
    assert page["isLast"] is True
    return page["issues"]


def keys(jira: Any, jql: str) -> list[str]:
    return [i["key"] for i in search(jira, jql, ["summary"])]


def stamp(value: str) -> datetime:
    return datetime.strptime(value, STAMP)


# =========================================================================== epics


def test_epics_are_one_level_up_two_per_team_after_every_earlier_issue(sb, jira):
    epics = search(
        jira,
        "issuetype = Epic ORDER BY key ASC",
        ["summary", "issuetype", "project", "status", "resolutiondate", "Team"],
    )
    assert [e["key"] for e in epics] == ["CORE-22", "CORE-23", "PAY-20", "PAY-21", "SUP-21", "SUP-22"]
    assert sorted(e["key"] for e in epics) == sorted(sb.jira.epic_keys())
    assert sorted(int(e["id"]) for e in epics) == list(range(10069, 10075))  # after FB-8 (10068)
    for epic in epics:
        f = epic["fields"]
        assert {k: f["issuetype"][k] for k in ("id", "name", "hierarchyLevel", "subtask")} == {
            "id": "10000",
            "name": "Epic",
            "hierarchyLevel": 1,
            "subtask": False,
        }
        assert f["project"]["key"] == epic["key"].split("-")[0]
        assert f[TEAM]["value"] == {"PAY": "payments", "CORE": "core", "SUP": "support"}[f["project"]["key"]]
        assert (f["resolutiondate"] is not None) is (f["status"]["name"] == "Done")
    others = search(jira, "issuetype != Epic AND project = PAY", ["issuetype"])
    assert {i["fields"]["issuetype"]["hierarchyLevel"] for i in others} == {0}
    # an epic's summary is its briefing's feature
    for initiative in sb.initiatives.initiatives:
        if initiative.epic:
            assert sb.jira.get_record(initiative.epic)["summary"] == initiative.feature


def test_an_epics_status_follows_its_children(sb, jira):
    for key in sb.jira.epic_keys():
        children = search(jira, f"parent = {key}", ["status"])
        statuses = {c["fields"]["status"]["name"] for c in children}
        expected = "To Do" if statuses <= {"To Do"} else "Done" if statuses == {"Done"} else "In Progress"
        assert sb.jira.get_record(key)["status"] == expected, (key, statuses)
    plan = sb.jira.epic_plan
    assert (
        plan.role("empty").children == [] and sb.jira.get_record(plan.role("empty").epic)["status"] == "To Do"
    )
    done = sb.jira.get_record(plan.role("done").epic)
    assert done["status"] == "Done" and len(plan.role("done").children) >= 2
    assert done["resolutiondate"] >= max(
        sb.jira.get_record(c)["resolutiondate"] for c in plan.role("done").children
    )


# =========================================================================== parent


def test_children_show_their_epic_as_parent_with_its_current_values(sb, jira):
    plan = sb.jira.epic_plan
    child = plan.role("blocked").child
    issue = search(jira, f"key = {child}", LINK_FIELDS)[0]["fields"]
    epic = sb.jira.get_issue(plan.role("blocked").epic)
    parent = issue["parent"]
    assert set(parent) == {"id", "key", "self", "fields"} and set(parent["fields"]) == {
        "summary",
        "status",
        "priority",
        "issuetype",
    }
    assert (parent["id"], parent["key"]) == (epic["id"], epic["key"])
    assert parent["self"].endswith(f"/rest/api/3/issue/{epic['id']}")
    assert parent["fields"]["summary"] == epic["fields"]["summary"]
    assert parent["fields"]["issuetype"]["hierarchyLevel"] == 1
    # the parent's values are read when the child is: its status is the current one
    sb.jira.edit_issue(epic["key"], {"status": "In Review"})
    again = search(jira, f"key = {child}", ["parent"])[0]["fields"]["parent"]
    assert again["fields"]["status"]["name"] == "In Review"
    # an issue without a parent has no `parent` key at all, even when asked for it
    orphan = next(k for k in sb.jira if "parent" not in sb.jira.get_issue(k)["fields"])
    assert set(search(jira, f"key = {orphan}", ["summary", "parent"])[0]["fields"]) == {"summary"}


def test_every_team_has_children_and_they_are_build_or_improve_work(sb, jira):
    children = search(
        jira, f"parent in ({', '.join(sb.jira.epic_keys())})", ["project", "issuetype", "labels", "parent"]
    )
    assert {c["fields"]["project"]["key"] for c in children} == {"PAY", "CORE", "SUP"}
    for child in children:
        f = child["fields"]
        assert expected_work_type(f["issuetype"]["name"], f["labels"]) in ("BUILD", "IMPROVE"), child["key"]
        assert f["parent"]["key"].split("-")[0] == f["project"]["key"]  # an epic of the child's own project
    seeded = sorted(k for s in sb.jira.epic_plan.epics.values() for k in s.children)
    assert sorted(c["key"] for c in children) == seeded
    assert (
        0
        < len(seeded)
        < len(
            [
                k
                for k in sb.jira
                if k not in sb.jira.epic_keys()
                and expected_work_type(sb.jira.get_record(k)["issuetype"], sb.jira.get_record(k)["labels"])
                != "RUN"
            ]
        )
    )  # a share


def test_a_parent_is_written_like_jira_one_level_up_only(sb, jira, clock):
    epic = sb.jira.epic_plan.role("empty").epic
    clock.advance(minutes=2)
    jira.issue("PAY-5").update(fields={"parent": {"key": epic}})
    assert keys(jira, f"parent = {epic}") == ["PAY-5"]
    items = sb.jira.get_issue("PAY-5")["changelog"]["histories"][0]["items"]
    assert items == [
        {
            "field": "IssueParentAssociation",
            "fieldtype": "jira",
            "from": None,
            "fromString": None,
            "to": sb.jira.get_record(epic)["id"],
            "toString": epic,
        }
    ]
    for bad, value in (
        (epic, {"key": "PAY-20"}),
        ("PAY-6", {"key": "PAY-4"}),
    ):  # an epic under an epic; a bug
        with pytest.raises(JIRAError) as err:
            jira.issue(bad).update(fields={"parent": value})
        assert err.value.status_code == 400
        assert err.value.response.json()["errors"] == {
            "parent": "Given parent work item does not belong to appropriate hierarchy."
        }
    jira.issue("PAY-5").update(fields={"parent": None})
    assert keys(jira, f"parent = {epic}") == []


# =========================================================================== JQL


def test_jql_on_parent_issuetype_and_labels(sb, jira):
    blocked = sb.jira.epic_plan.role("blocked")
    assert sorted(keys(jira, f"parent = {blocked.epic}")) == sorted(blocked.children)
    epic_id = sb.jira.get_record(blocked.epic)["id"]
    assert sorted(keys(jira, f"parent = {epic_id}")) == sorted(blocked.children)  # by id too
    done = sb.jira.epic_plan.role("done")
    assert sorted(keys(jira, f'parent in ({blocked.epic}, "{done.epic}")')) == sorted(
        blocked.children + done.children
    )
    assert keys(jira, f"parent != {blocked.epic} AND parent = {done.epic} ORDER BY key ASC") == sorted(
        done.children, key=lambda k: int(k.split("-")[1])
    )
    orphans = keys(jira, "project = SUP AND parent is EMPTY AND issuetype != Epic")
    assert len(orphans) == 20 - len(
        [k for s in sb.jira.epic_plan.epics.values() for k in s.children if k.startswith("SUP-")]
    )
    assert keys(jira, "issuetype = Epic AND project = CORE ORDER BY key ASC") == ["CORE-22", "CORE-23"]
    assert keys(jira, "issuetype in (Epic, Feedback) AND project = FB") == keys(jira, "project = FB")
    roadmap = [k for k in sb.jira if "roadmap" in sb.jira.get_record(k)["labels"]]
    assert sorted(keys(jira, 'labels = "roadmap"')) == sorted(roadmap) and roadmap
    tooling = [k for k in sb.jira if {"tooling", "tech-debt"} & set(sb.jira.get_record(k)["labels"])]
    assert sorted(keys(jira, 'labels in (tooling, "tech-debt")')) == sorted(tooling) and tooling
    with pytest.raises(JIRAError) as err:
        keys(jira, "parent = PAY-999")
    assert err.value.status_code == 400
    assert "An issue with key 'PAY-999' does not exist for field 'parent'." in err.value.text


# =========================================================================== links


def test_a_blocked_child_shows_its_blocker_as_inward_issue_and_the_blocker_the_other_way(sb, jira):
    blocked = sb.jira.epic_plan.role("blocked")
    child = search(jira, f"key = {blocked.child}", LINK_FIELDS)[0]
    links = child["fields"]["issuelinks"]
    assert [(l["id"], l["type"]["name"], l["inwardIssue"]["key"]) for l in links] == [
        (blocked.link, "Blocks", blocked.other)
    ]
    link = links[0]
    assert link["type"] == {
        "id": "10000",
        "name": "Blocks",
        "inward": "is blocked by",
        "outward": "blocks",
        "self": f"{sb.urls['jira']}/rest/api/3/issueLinkType/10000",
    }
    assert (
        link["self"] == f"{sb.urls['jira']}/rest/api/3/issueLink/{blocked.link}"
        and "outwardIssue" not in link
    )
    other = link["inwardIssue"]
    assert set(other) == {"id", "key", "self", "fields"}
    assert set(other["fields"]) == {"summary", "status", "priority", "issuetype"}
    assert other["fields"]["status"]["statusCategory"]["key"] != "done"  # an open issue of another team
    assert other["key"].split("-")[0] != blocked.child.split("-")[0]
    seen_from_blocker = search(jira, f"key = {blocked.other}", ["issuelinks"])[0]["fields"]["issuelinks"]
    assert [(l["id"], l["outwardIssue"]["key"]) for l in seen_from_blocker] == [(blocked.link, blocked.child)]
    # the blocker's status in the link is read now, not when the link was made
    sb.jira.edit_issue(blocked.other, {"status": "Done"})
    again = search(jira, f"key = {blocked.child}", ["issuelinks"])[0]["fields"]["issuelinks"][0]
    assert again["inwardIssue"]["fields"]["status"]["name"] == "Done"


def test_issuelinks_are_navigable_and_relates_links_read_the_same_both_ways(sb, jira):
    assert "issuelinks" in search(jira, "key = SUP-12", ["*navigable"])[0]["fields"]
    assert "issuelinks" not in search(jira, "key = SUP-12", ["summary"])[0]["fields"]
    assert "issuelinks" in jira.issue("SUP-12").raw["fields"]  # GET /issue: all fields
    relates = [link for link in sb.jira.links.by_id.values() if link["type"] == "Relates"]
    assert relates, "a plain epic's first two children relate to each other"
    source, target = (sb.jira.get_record(relates[0][end])["key"] for end in ("source", "target"))
    a = search(jira, f"key = {source}", ["issuelinks"])[0]["fields"]["issuelinks"]
    b = search(jira, f"key = {target}", ["issuelinks"])[0]["fields"]["issuelinks"]
    assert [(l["type"]["inward"], l["type"]["outward"], l["outwardIssue"]["key"]) for l in a] == [
        ("relates to", "relates to", target)
    ]
    assert [(l["type"]["id"], l["inwardIssue"]["key"]) for l in b] == [("10003", source)]


def test_creating_and_deleting_a_link_like_relais_bumps_both_issues_and_their_changelogs(sb, jira, clock):
    before = {k: stamp(sb.jira.get_issue(k)["fields"]["updated"]) for k in ("CORE-1", "PAY-5")}
    clock.advance(minutes=3)
    answer = jira.create_issue_link("Blocks", "CORE-1", "PAY-5")  # inwardIssue CORE-1 blocks PAY-5
    assert answer.status_code == 201 and answer.content == b""
    pay5 = jira.issue("PAY-5", fields="issuelinks,updated").raw["fields"]
    assert [(l["type"]["name"], l["inwardIssue"]["key"]) for l in pay5["issuelinks"]] == [
        ("Blocks", "CORE-1")
    ]
    link_id = pay5["issuelinks"][0]["id"]
    link = jira.issue_link(link_id)
    assert (link.raw["inwardIssue"]["key"], link.raw["outwardIssue"]["key"], link.type.name) == (
        "CORE-1",
        "PAY-5",
        "Blocks",
    )
    for key in ("CORE-1", "PAY-5"):
        issue = sb.jira.get_issue(key)
        assert stamp(issue["fields"]["updated"]) > before[key]
        assert issue["fields"]["updated"] == "2026-11-20T10:33:42.500+0100"
        assert issue["changelog"]["histories"][0]["author"]["accountId"] == sb.org.bot.jira_account_id
    texts = {k: sb.jira.get_issue(k)["changelog"]["histories"][0]["items"] for k in ("CORE-1", "PAY-5")}
    assert texts["PAY-5"] == [
        {
            "field": "Link",
            "fieldtype": "jira",
            "from": None,
            "fromString": None,
            "to": "CORE-1",
            "toString": "This issue is blocked by CORE-1",
        }
    ]
    assert texts["CORE-1"][0]["toString"] == "This issue blocks PAY-5"
    # the same link again: answered 201, not made twice
    jira.create_issue_link("Blocks", "CORE-1", "PAY-5")
    assert len(jira.issue("PAY-5", fields="issuelinks").raw["fields"]["issuelinks"]) == 1
    clock.advance(minutes=1)
    assert jira.delete_issue_link(link_id).status_code == 204
    assert jira.issue("PAY-5", fields="issuelinks").raw["fields"]["issuelinks"] == []
    removed = sb.jira.get_issue("PAY-5")
    assert removed["fields"]["updated"] == "2026-11-20T10:34:42.500+0100"
    assert removed["changelog"]["histories"][0]["items"] == [
        {
            "field": "Link",
            "fieldtype": "jira",
            "from": "CORE-1",
            "fromString": "This issue is blocked by CORE-1",
            "to": None,
            "toString": None,
        }
    ]
    with pytest.raises(JIRAError) as gone:
        jira.issue_link(link_id)
    assert gone.value.status_code == 404


def test_a_link_request_jira_refuses(sb, jira):
    for args, status in (
        (("Depends", "CORE-1", "PAY-5"), 404),
        (("Blocks", "CORE-1", "PAY-999"), 404),
        (("Blocks", "CORE-1", "CORE-1"), 400),
    ):
        with pytest.raises(JIRAError) as err:
            jira.create_issue_link(*args)
        assert err.value.status_code == status, args
        assert err.value.response.json()["errorMessages"], args
    assert sb.jira.get_issue("CORE-1")["fields"]["issuelinks"] == []
    with pytest.raises(JIRAError) as err:
        jira.delete_issue_link("99999")
    assert err.value.status_code == 404


def test_link_and_unlink_helpers_act_like_a_person(sb, clock):
    clock.advance(minutes=1)
    link_id = sb.jira.link("SUP-5", "PAY-6", "Relates")
    assert [
        (l["id"], l["outwardIssue"]["key"]) for l in sb.jira.get_issue("SUP-5")["fields"]["issuelinks"]
    ] == [(link_id, "PAY-6")]
    history = sb.jira.get_issue("PAY-6")["changelog"]["histories"][0]
    assert history["author"]["accountId"] == sb.org.person("alice").jira_account_id  # PAY's PM, by default
    assert history["items"][0]["toString"] == "This issue relates to SUP-5"
    sb.jira.unlink(link_id)
    assert sb.jira.get_issue("PAY-6")["fields"]["issuelinks"] == []


def test_a_deleted_issue_takes_its_links_and_leaves_its_children_without_parent(sb, jira):
    blocked = sb.jira.epic_plan.role("blocked")
    sb.jira.delete_issue(blocked.other)
    assert sb.jira.get_issue(blocked.child)["fields"]["issuelinks"] == []
    sb.jira.delete_issue(blocked.epic)
    assert all("parent" not in sb.jira.get_issue(k)["fields"] for k in blocked.children)


# =========================================================================== Health and Briefing link


def test_health_is_listed_found_by_name_and_empty_when_seeded(sb, jira):
    fields = {f["id"]: f for f in jira.fields()}
    health = fields[HEALTH]
    assert (health["name"], health["custom"], health["schema"]) == (
        "Health",
        True,
        {
            "type": "option",
            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select",
            "customId": 10094,
        },
    )
    assert {"cf[10094]", "Health"} <= set(health["clauseNames"])
    assert (fields["parent"]["name"], fields["issuelinks"]["name"]) == ("Parent", "Linked Issues")
    epics = search(jira, "issuetype = Epic", ["Health", "summary"])  # the client maps the name to the id
    assert epics and all(
        set(e["fields"]) == {HEALTH, "summary"} and e["fields"][HEALTH] is None for e in epics
    )
    assert len(keys(jira, "Health is EMPTY AND project in (PAY, CORE, SUP)")) == len(sb.jira)


def test_relais_writes_health_and_the_briefing_link_on_an_epic(sb, jira, clock):
    epic = sb.jira.epic_plan.role("validated").epic
    url = sb.initiatives.role("validated").url
    clock.advance(minutes=5)
    jira.issue(epic).update(fields={HEALTH: {"value": "At risk"}, BRIEFING_LINK: url})
    f = jira.issue(epic, fields=f"{HEALTH},{BRIEFING_LINK},updated").raw["fields"]
    assert f[HEALTH] == {
        "self": f"{sb.urls['jira']}/rest/api/3/customFieldOption/10331",
        "value": "At risk",
        "id": "10331",
    }
    assert f[BRIEFING_LINK] == url and f["updated"] == "2026-11-20T10:35:42.500+0100"
    items = {i["fieldId"]: i for i in sb.jira.get_issue(epic)["changelog"]["histories"][0]["items"]}
    assert (
        items[HEALTH]["field"],
        items[HEALTH]["from"],
        items[HEALTH]["to"],
        items[HEALTH]["toString"],
    ) == ("Health", None, "10331", "At risk")
    assert keys(jira, 'Health = "At risk"') == [epic] == keys(jira, "cf[10094] in (10331, Blocked)")
    jira.issue(epic).update(fields={HEALTH: {"id": "10333"}})
    assert keys(jira, "Health = blocked") == [epic]  # JQL values are case-insensitive
    jira.issue(epic).update(fields={HEALTH: None})
    assert keys(jira, "Health is not EMPTY") == []


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("SUP-21", {"value": "Great"}, "Option value 'Great' is not valid"),
        ("SUP-21", {"value": "at risk"}, "Option value 'at risk' is not valid"),  # writes match exactly
        ("SUP-21", {"id": "10399"}, "Option id '10399' is not valid"),
        ("SUP-21", "On track", "Could not find valid 'id' or 'value' in the Parent Option object."),
        (
            "FB-1",
            {"value": "On track"},
            "Field 'customfield_10094' cannot be set. It is not on the appropriate screen, or unknown.",
        ),
    ],
)
def test_a_bad_health_write_is_an_error_collection_and_writes_nothing(refused_update, key, value, message):
    assert refused_update(key, {HEALTH: value}) == {"errorMessages": [], "errors": {HEALTH: message}}


def test_a_briefing_link_that_is_not_a_url_is_refused_on_an_epic(sb, jira):
    with pytest.raises(JIRAError) as err:
        jira.issue("PAY-21").update(fields={BRIEFING_LINK: "notion page 0f0f651d"})
    assert err.value.response.json()["errors"] == {BRIEFING_LINK: "Not a valid URL"}
    assert sb.jira.get_record("PAY-21")[BRIEFING_LINK] == sb.initiatives.role("empty").url


# =========================================================================== creating follow-ups


def _follow_up(label: str, **extra: Any) -> dict[str, Any]:
    return {
        "project": {"key": "CORE"},
        "summary": "Follow-up: Core Platform p99 latency above 2s",
        "issuetype": {"name": "Task"},
        "labels": ["incident-follow-up", label],
        "description": {
            "type": "doc",
            "version": 1,
            "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "Incident #1021 was resolved."}]}
            ],
        },
        WORK_TYPE: {"value": "RUN"},
        TEAM: {"value": "core"},
        BRIEFING_LINK: "https://app.notion.com/p/Q4-2027-SSO-for-enterprise-615887bc37ca4e7e9f1fa9eeba79e3f1",
        **extra,
    }


def test_a_created_follow_up_keeps_every_field_and_is_missing_from_search_at_first(sb, jira, clock):
    sb.jira.search_lag_seconds = 30
    created = jira.create_issue(fields=_follow_up("sync-1f3a"), prefetch=False)
    assert created.key == "CORE-24"  # after CORE's 21 issues and its epics CORE-22, CORE-23
    f = sb.jira.get_issue(created.key)["fields"]
    assert (f["summary"], f["issuetype"]["name"], f["labels"]) == (
        "Follow-up: Core Platform p99 latency above 2s",
        "Task",
        ["incident-follow-up", "sync-1f3a"],
    )
    assert f["description"]["content"][0]["content"][0]["text"] == "Incident #1021 was resolved."
    assert (f[WORK_TYPE]["value"], f[TEAM]["value"], f[BRIEFING_LINK]) == (
        "RUN",
        "core",
        _follow_up("")[BRIEFING_LINK],
    )
    assert f["reporter"]["accountId"] == sb.org.bot.jira_account_id
    assert keys(jira, 'labels = "sync-1f3a"') == []  # not indexed yet, like Jira Cloud's search
    clock.advance(seconds=31)
    assert keys(jira, 'labels = "sync-1f3a"') == [created.key]
    assert keys(jira, 'project = CORE AND labels in ("incident-follow-up")') == [created.key]


def test_a_follow_up_can_be_created_under_an_epic(sb, jira):
    epic = sb.jira.epic_plan.role("undeclared").epic
    created = jira.create_issue(fields=_follow_up("sync-77aa", parent={"key": epic}), prefetch=False)
    assert sb.jira.get_issue(created.key)["fields"]["parent"]["key"] == epic
    with pytest.raises(JIRAError) as err:
        jira.create_issue(fields=_follow_up("sync-77ab", parent={"key": "CORE-1"}), prefetch=False)
    assert err.value.response.json()["errors"] == {
        "parent": "Given parent work item does not belong to appropriate hierarchy."
    }


def test_a_lost_answer_leaves_the_issue_created_although_the_client_saw_a_failure(sb, jira):
    sb.faults.add("jira", "lost", count=1, method="POST", path=r"/rest/api/3/issue$")
    with pytest.raises(requests.exceptions.ConnectionError):
        jira.create_issue(fields=_follow_up("sync-9c2e"), prefetch=False)
    assert sb.count(vendor="jira", method="POST", path_prefix="/rest/api/3/issue", status=0) == 1
    # what relais must do before creating again: look for its natural key
    found = keys(jira, 'labels = "sync-9c2e"')
    assert found == ["CORE-24"] and "CORE-24" in sb.jira
    jira.create_issue(fields=_follow_up("sync-9c2f"), prefetch=False)  # the fault fired once only
    assert keys(jira, 'labels = "sync-9c2f"') == ["CORE-25"]


def test_epic_helpers_name_what_was_seeded(sb):
    plan = sb.jira.epic_plan
    assert sorted(plan.epics) == sorted(sb.jira.epic_keys())
    assert {s.role for s in plan.epics.values()} == {
        "blocked",
        "validated",
        "undeclared",
        "done",
        "empty",
        None,
    }
    for role in ("blocked", "validated", "undeclared"):
        seeded = plan.role(role)
        assert seeded.child in seeded.children and seeded.other and seeded.link in sb.jira.links.by_id
    with pytest.raises(KeyError):
        plan.role("late")
    assert timedelta(0) < sb.org.anchor - sb.jira.get_record(plan.role("done").epic)["resolutiondate"]
