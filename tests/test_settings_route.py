"""The `route:` section, the feedback conditions and the routing write-backs: the parsed model and its checks.

The broken configs cover the main mistakes file by file; these tests cover what
the loader gives relais (targets, where lines, fallbacks…) and the edge cases.
"""

from __future__ import annotations

import json
import pickle
import textwrap
from pathlib import Path

import jsonschema
import pydantic
import pytest
import yaml
from settings_support import problems, write_config

from sync.settings import (
    NotionRouting,
    Route,
    RouteRule,
    SetMatch,
    TextMatch,
    When,
    load_settings,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config" / "relais.example.yaml"
SCHEMA = ROOT / "config" / "relais.schema.json"

BASE = """\
version: 1
timezone: UTC
sources:
  jira: {url: 'https://acme.atlassian.net', jql: 'project in (PAY, CORE)'}
  notion:
    databases:
      briefings: 0d3f8a5e5f694c1e9a542d1e0b7c9a01
      feedback: 6b1c4e2a8d7f4f3bb2a97c5d1e0f3b02
people:
  alice: {jira: 5b10ac8d82e05b22cc7d4ef5}
  bruno: {jira: 5b10ac8d82e05b22cc7d4ef6}
teams:
  payments: {pm: alice, jira: {projects: [PAY]}}
  core: {pm: bruno, jira: {projects: [CORE]}}
classify:
  - default: BUILD
"""
# Line 17 is the first line after BASE.
JQL = "jql: 'project in (PAY, CORE)'}"


def _with_feedback_jql(base: str, feedback_jql: str = "issuetype = Feedback") -> str:
    return base.replace(JQL, f"jql: 'project in (PAY, CORE)', feedback_jql: {feedback_jql}}}")


def _load(tmp_path: Path, extra: str, base: str = BASE):
    return load_settings(write_config(tmp_path, base + textwrap.dedent(extra)))


def _problems(tmp_path: Path, extra: str, base: str = BASE) -> list[str]:
    return problems(write_config(tmp_path, base + textwrap.dedent(extra)))


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


ROUTE = """\
route:
  feedback:
    - name: billing
      when: {text: {contains_any: [factur, invoice]}, origin: Sales}
      to: payments
      initiative: Refonte de la facturation
      when_survival: bruno
    - name: enterprise
      when: {tier: Enterprise, customer: [Acme, Globex], area: API}
      to: alice
    - fallback: bruno
  maintenance:
    - name: database
      when: {components: [database]}
      to: core
      when_survival: payments
    - fallback: core
"""


# ------------------------------------------------------------------ model ---


def test_route_rules_keep_order_targets_options_and_the_line_they_were_written_on(tmp_path):
    settings = _load(tmp_path, "balance: {}\n" + ROUTE)
    route, file = settings.route, tmp_path / "relais.yaml"

    billing, enterprise = route.feedback_rules
    assert (billing.name, billing.to, billing.initiative, billing.when_survival) == (
        "billing",
        "payments",
        "Refonte de la facturation",
        "bruno",
    )
    assert billing.when.text == TextMatch(contains_any=["factur", "invoice"])
    assert billing.when.origin == ["Sales"]
    assert (enterprise.to, enterprise.initiative, enterprise.when_survival) == ("alice", None, None)
    assert [r.where for r in route.feedback_rules] == [f"{file}:20", f"{file}:25"]
    assert (route.feedback_fallback, route.feedback_fallback_where) == ("bruno", f"{file}:28")

    (database,) = route.maintenance_rules
    assert (database.name, database.to, database.when_survival, database.where) == (
        "database",
        "core",
        "payments",
        f"{file}:30",
    )
    assert database.when.components == SetMatch(any=["database"])
    assert (route.maintenance_fallback, route.maintenance_fallback_where) == ("core", f"{file}:34")
    assert isinstance(billing, RouteRule)


def test_feedback_conditions_take_one_value_or_a_list(tmp_path):
    enterprise = _load(tmp_path, "balance: {}\n" + ROUTE).route.feedback_rules[1]
    assert (enterprise.when.tier, enterprise.when.customer, enterprise.when.area) == (
        ["Enterprise"],
        ["Acme", "Globex"],
        ["API"],
    )
    assert enterprise.when.conditions() == {
        "tier": ["Enterprise"],
        "area": ["API"],
        "customer": ["Acme", "Globex"],
    }


def test_feedback_conditions_work_in_classify_and_urgent_too(tmp_path):
    rules = "  - {name: sales, when: {origin: Sales}, then: BUILD}\n  - default: RUN\n"
    base = BASE.replace("  - default: BUILD\n", rules)
    settings = _load(
        tmp_path, "balance: {urgent: {when: {kind: feedback, tier: [Enterprise, Premium]}}}\n", base
    )
    assert settings.classify[0].when.origin == ["Sales"]
    assert settings.balance.urgent.when.tier == ["Enterprise", "Premium"]
    assert When(area="Search").area == ["Search"]


def test_a_list_may_be_left_out_and_then_has_no_rules_nor_fallback(tmp_path):
    route = _load(tmp_path, "route:\n  maintenance:\n    - fallback: core\n").route
    assert (route.feedback, route.feedback_rules, route.feedback_fallback, route.feedback_fallback_where) == (
        None,
        [],
        None,
        None,
    )
    assert (route.maintenance_rules, route.maintenance_fallback) == ([], "core")


def test_routing_is_off_without_a_route_section_or_with_an_empty_one(tmp_path):
    assert _load(tmp_path, "").route is None
    assert _load(tmp_path, "route:\n").route is None  # every entry commented out
    assert _problems(tmp_path, "route: {}\n") == [
        "17: route: expected `feedback:`, `maintenance:` or both (or leave `route` out)"
    ]


def test_routes_are_read_only_and_survive_pickling(tmp_path):
    settings = _load(tmp_path, "balance: {}\n" + ROUTE)
    rule = settings.route.feedback_rules[0]
    with pytest.raises(pydantic.ValidationError):
        rule.to = "core"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        rule.where = "elsewhere"  # type: ignore[misc]
    copy = pickle.loads(pickle.dumps(settings))
    assert copy.route.feedback_rules[0].where == rule.where
    assert copy.route.maintenance_fallback_where == settings.route.maintenance_fallback_where
    assert copy == settings


def test_a_route_built_in_code_checks_its_fallback_and_names_like_the_loader():
    route = Route(
        feedback=[{"name": "a", "when": {"origin": "Sales"}, "to": "payments"}, {"fallback": "bruno"}]
    )
    assert (route.feedback_rules[0].where, route.feedback_fallback, route.feedback_fallback_where) == (
        "relais.yaml:?",
        "bruno",
        "relais.yaml:?",
    )
    with pytest.raises(
        pydantic.ValidationError, match="the last entry must be `- fallback: <team or person>`"
    ):
        Route(feedback=[{"name": "a", "when": {"origin": "Sales"}, "to": "payments"}])
    with pytest.raises(pydantic.ValidationError, match="the last entry must be `- fallback: <team>`"):
        Route(maintenance=[])
    with pytest.raises(pydantic.ValidationError, match="duplicate rule name 'A'"):
        rule = {"name": "a", "when": {"origin": "Sales"}, "to": "payments"}
        Route(maintenance=[rule, {**rule, "name": "A"}, {"fallback": "core"}])


# ---------------------------------------------------------------- targets ---


def test_feedback_goes_to_a_team_or_a_person_and_maintenance_only_to_a_team(tmp_path):
    text = """\
        balance: {}
        route:
          feedback:
            - {name: a, when: {origin: Sales}, to: bruno, when_survival: core}
            - fallback: payments
          maintenance:
            - {name: b, when: {labels: db}, to: core, when_survival: alice}
            - fallback: alice
        """
    assert _problems(tmp_path, text) == [
        "23: route.maintenance[0].when_survival: 'alice' is a person: maintenance routes to a team "
        "(relais sets the ticket's team, so that the balance counts it); teams has: payments, core",
        "24: route.maintenance[1].fallback: 'alice' is a person: maintenance routes to a team "
        "(relais sets the ticket's team, so that the balance counts it); teams has: payments, core",
    ]


#: A route section relais refuses (targets, entry shapes, what it needs): (what is added to BASE, the base if not BASE, the problems).
REFUSED = [
    pytest.param(
        """\
        route:
          feedback:
            - {name: a, when: {origin: Sales}, to: zed}
            - fallback: alise
          maintenance:
            - fallback: xyz
        """,
        BASE,
        [
            "19: route.feedback[0].to: unknown target 'zed': not a team or a person; "
            "teams has: payments, core; people has: alice, bruno",
            "20: route.feedback[1].fallback: unknown target 'alise': not a team or a person (did you mean 'alice'?)",
            "22: route.maintenance[0].fallback: unknown target 'xyz': not a team; teams has: payments, core",
        ],
        id="an unknown target lists the teams and people when nothing is close",
    ),
    pytest.param(
        "route:\n  feedback:\n    - fallback: core\n  maintenance:\n    - fallback: core\n",
        BASE.replace("  bruno: {", "  core: {}\n  bruno: {"),
        [
            "20: route.feedback[0].fallback: ambiguous target 'core': both a team and a person; "
            "rename one of them so that every route says whom it means"
        ],
        id="a name both team and person is ambiguous for feedback only",
    ),
    pytest.param(
        "route:\n  feedback:\n    - {name: a, when: {team: paymnts}, to: core}\n    - fallback: core\n",
        BASE,
        ["19: route.feedback[0].when.team: unknown team 'paymnts' (did you mean 'payments'?)"],
        id="a route condition naming an unknown team",
    ),
    pytest.param(
        "route:\n  feedback:\n    - {name: a, when: {origin: Sales}, to: core, when_survival: alice}\n"
        "    - fallback: core\n",
        BASE,
        [
            "19: route.feedback[0].when_survival: when_survival applies while the target team is in survival "
            "mode, which the balance computes: add a `balance:` section (`balance: {}` uses the defaults), "
            "or remove when_survival"
        ],
        id="when_survival needs the balance",
    ),
    pytest.param(
        "route:\n  feedback:\n    - {name: a, when: {origin: Sales}, to: core}\n    - fallbak: bruno\n",
        BASE,
        ["20: route.feedback[1].fallbak: unknown key 'fallbak' (did you mean 'fallback'?)"],
        id="a misspelt fallback is one problem",
    ),
    pytest.param(
        """\
        route:
          feedback:
            - {name: a, when: {}, to: core, then: RUN}
            - {name: b, when: {origin: Sales}}
            - {fallback: core, name: c}
        """,
        BASE,
        [
            "19: route.feedback[0].when: a rule needs at least one condition (source, kind, project, issuetype, "
            "status, priority, urgency, service, team, origin, tier, area, customer, labels, components, title, "
            "text)",
            "19: route.feedback[0].then: unknown key 'then' (did you mean 'when'?)",
            "20: route.feedback[1].to: missing required key 'to'",
            "21: route.feedback[2].name: unknown key 'name'; expected one of: fallback",
        ],
        id="a route rule says what it expects",
    ),
    pytest.param(
        "route:\n  feedbak:\n    - fallback: core\nwriteback:\n  notion: {routing: {}}\n",
        BASE,
        ["18: route.feedbak: unknown key 'feedbak' (did you mean 'feedback'?)"],
        id="a misspelt list name is one problem",
    ),
    pytest.param(
        "route:\n  maintenance:\n    - fallback: core\n",
        BASE.replace("  jira: {url: 'https://acme.atlassian.net', jql: 'project in (PAY, CORE)'}\n", ""),
        [
            "17: route.maintenance: route.maintenance sets the team of Jira tickets: add sources.jira, "
            "or remove route.maintenance"
        ],
        id="route.maintenance needs jira",
    ),
]


@pytest.mark.parametrize(("extra", "base", "expected"), REFUSED)
def test_a_route_section_is_refused_with_its_problems(tmp_path, extra, base, expected):
    assert _problems(tmp_path, extra, base) == expected


def test_targets_are_not_checked_against_a_malformed_section(tmp_path):
    base = BASE.split("people:")[0] + "people: [alice]\nteams:" + BASE.split("teams:")[1]
    problems = _problems(tmp_path, "route:\n  feedback:\n    - fallback: nobody\n", base)
    assert [p.split(": ")[1] for p in problems] == ["people"]


# ---------------------------------------------------------------- sources ---


def test_feedback_jql_is_read_and_refuses_order_by(tmp_path):
    assert _load(tmp_path, "", _with_feedback_jql(BASE)).sources.jira.feedback_jql == "issuetype = Feedback"
    assert _load(tmp_path, "").sources.jira.feedback_jql is None
    ordered = _with_feedback_jql(BASE, "x = 1 order by key")
    assert _problems(tmp_path, "", ordered) == [
        "4: sources.jira.feedback_jql: jql must not contain ORDER BY: relais adds its own (by update time) "
        "to page reliably"
    ]


def test_notion_feedback_properties_have_defaults_and_can_be_renamed(tmp_path):
    base = BASE.replace("  notion:\n", "  notion:\n    properties: {origin: Source, pm: Owner}\n")
    properties = _load(tmp_path, "", base).sources.notion.properties
    assert (properties.origin, properties.pm) == ("Source", "Owner")
    assert (properties.customer, properties.tier, properties.area, properties.briefing) == (
        "Customer",
        "Tier",
        "Area",
        "Briefing",
    )


def test_route_feedback_needs_feedback_to_read(tmp_path):
    base = BASE.replace("      feedback: 6b1c4e2a8d7f4f3bb2a97c5d1e0f3b02\n", "")
    text = "route:\n  feedback:\n    - fallback: core\n"
    assert _problems(tmp_path, text, base) == [
        "17: route.feedback: route.feedback routes the feedback relais reads, and it reads none: add "
        "sources.notion.databases.feedback or sources.jira.feedback_jql, or remove route.feedback"
    ]
    assert _load(tmp_path, text, _with_feedback_jql(base)).route.feedback_fallback == "core"


# -------------------------------------------------------------- writeback ---


def test_routing_writebacks_default_their_names(tmp_path):
    text = ROUTE + "writeback:\n  jira: {pm: {}, team: {}}\n  notion: {routing: {}}\n"
    writeback = _load(tmp_path, "balance: {}\n" + text).writeback
    assert (writeback.jira.pm.field, writeback.jira.team.field, writeback.jira.work_type) == (
        "Product Manager",
        "Team",
        None,
    )
    routing = writeback.notion.routing
    assert (routing.database, routing.pm, routing.team, routing.initiative, routing.routed_by) == (
        "feedback",
        "PM",
        "Team",
        "Briefing",
        "Routed by",
    )


def test_jira_pm_needs_route_feedback_and_jira_team_needs_either_list(tmp_path):
    maintenance = "route:\n  maintenance:\n    - fallback: core\n"
    settings = _load(tmp_path, maintenance + "writeback:\n  jira: {team: {field: Owning team}}\n")
    assert settings.writeback.jira.team.field == "Owning team"
    assert _problems(tmp_path, maintenance + "writeback:\n  jira: {pm: {field: PM}}\n") == [
        "21: writeback.jira.pm: the PM written on feedback issues comes from route.feedback: "
        "add route.feedback, or remove writeback.jira.pm"
    ]
    assert _problems(tmp_path, "writeback:\n  jira: {team: {}}\n") == [
        "18: writeback.jira.team: the team written on tickets comes from route.maintenance or route.feedback: "
        "add route.maintenance or route.feedback, or remove writeback.jira.team"
    ]


def test_routing_writeback_needs_its_database(tmp_path):
    feedback = "route:\n  feedback:\n    - fallback: core\n"
    no_feedback_db = _with_feedback_jql(
        BASE.replace("      feedback: 6b1c4e2a8d7f4f3bb2a97c5d1e0f3b02\n", "")
    )
    assert _problems(tmp_path, feedback + "writeback:\n  notion: {routing: {}}\n", no_feedback_db) == [
        "20: writeback.notion.routing: sources.notion.databases has no `feedback`: add `feedback: <database id>` "
        "there, the Notion database of the feedback relais routes"
    ]
    assert _problems(tmp_path, feedback + "writeback:\n  notion: {routing: {database: feedbak}}\n") == [
        "21: writeback.notion.routing.database: unknown Notion database 'feedbak' (did you mean 'feedback'?)"
    ]
    base = BASE.replace(
        "      feedback:", "      scorecard: 3e7a9c1b4d2f4a8e9b6c5f0e1d2c3b03\n      feedback:"
    )
    assert _problems(
        tmp_path, feedback + "writeback:\n  notion: {routing: {database: scorecard}}\n", base
    ) == [
        "22: writeback.notion.routing.database: the routing is written on feedback pages; "
        "relais writes the scorecard database itself"
    ]


def test_two_routing_properties_cannot_share_a_name():
    with pytest.raises(pydantic.ValidationError, match="pm and routed_by both name the property 'Owner'"):
        NotionRouting(pm="Owner", routed_by="Owner")
    assert NotionRouting(database="Feedback").database == "Feedback"  # a database key, not a property


# ---------------------------------------------------------------- example ---


def _uncommented_example() -> str:
    """The example with its commented route section, feedback_jql and routing write-backs switched on."""
    out, in_route, in_routing = [], False, False
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        in_route = line == "# route:" or (in_route and line.startswith("#"))
        in_routing = line == "    # routing:" or (in_routing and line.startswith("    #   "))
        single = line.lstrip().startswith(("# feedback_jql:", "# pm: {field", "# team: {field"))
        if in_route or in_routing or single:
            line = line.replace("# ", "", 1)
        out.append(line)
    return "\n".join(out) + "\n"


def test_the_example_ships_with_routing_off():
    settings = load_settings(EXAMPLE)
    assert settings.route is None
    assert settings.sources.jira.feedback_jql is None
    assert (settings.writeback.jira.pm, settings.writeback.jira.team, settings.writeback.notion.routing) == (
        None,
        None,
        None,
    )
    assert settings.sources.notion.properties.briefing == "Briefing"


def test_the_example_route_section_loads_once_uncommented(tmp_path):
    text = _uncommented_example()
    path = tmp_path / "relais.yaml"
    path.write_text(text, encoding="utf-8")
    settings = load_settings(path)
    route = settings.route

    assert [(r.name, r.to) for r in route.feedback_rules] == [
        ("billing", "payments"),
        ("search and API", "core"),
        ("enterprise support", "bruno"),
        ("mobile app", "core"),
    ]
    billing = route.feedback_rules[0]
    assert billing.when.text == TextMatch(contains_any=["factur", "invoice", "refund", "rembours"])
    assert (billing.initiative, billing.when_survival) == ("Refonte de la facturation", "chloe")
    assert billing.where == f"{path}:{_line_of(text, '    - name: billing')}"
    assert route.feedback_rules[2].when.conditions() == {"origin": ["Support"], "tier": ["Enterprise"]}
    assert (route.feedback_fallback, route.feedback_fallback_where) == (
        "chloe",
        f"{path}:{_line_of(text, '    - fallback: chloe')}",
    )
    assert [(r.name, r.to) for r in route.maintenance_rules] == [
        ("database and infrastructure", "core"),
        ("payment providers", "payments"),
    ]
    assert route.maintenance_fallback == "support"
    assert settings.sources.jira.feedback_jql == "project = SUP AND issuetype = Feedback"
    assert (settings.writeback.jira.pm.field, settings.writeback.jira.team.field) == (
        "Product Manager",
        "Team",
    )
    assert settings.writeback.notion.routing == NotionRouting()

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(text))) == []
