"""Each fact has one home, and what derives from it agrees with it.

The vendors, their secrets and their token shapes are the connectors' specs
(``connectors.registry``); the rule conditions are ``sync.rules.CONDITIONS``.
These tests hold every view of them to their home, so that adding a vendor or
a condition in one place and forgetting another fails here, not in production.
"""

from __future__ import annotations

import pytest

from connectors import registry
from connectors.spec import BulkWriter, NoteTaker, RowCreator, TicketFiler
from sync import rules
from sync.settings import Secrets
from sync.settings._daemon import Intervals, Webhooks
from sync.settings._rules import When, check_vocabulary
from sync.settings._secretlike import SOURCE_VARIABLE, WEBHOOK_VARIABLE, variable_for_value
from sync.settings._secrets import SECRET_VARIABLES
from sync.settings._sources import Sources


def test_the_config_has_one_source_one_webhook_and_one_interval_per_vendor_in_the_registry():
    assert tuple(Sources.model_fields) == registry.NAMES
    assert set(Webhooks.model_fields) == set(registry.NAMES)
    assert set(Intervals.model_fields) == set(registry.NAMES)  # each source has its own timer


def test_every_secret_variable_and_attribute_comes_from_a_vendor_spec():
    specs = [s for v in registry.VENDORS for s in v.secrets()]
    assert set(SECRET_VARIABLES) == {s.variable for s in specs} and len(SECRET_VARIABLES) == len(specs)
    assert {a for a, _ in Secrets().items()} == {s.attribute for s in specs}
    assert {v.name: v.credentials[-1].variable for v in registry.VENDORS} == SOURCE_VARIABLE
    assert {v.name: v.webhook.variable for v in registry.VENDORS} == WEBHOOK_VARIABLE
    with pytest.raises(TypeError):
        Secrets(github_token="x")  # a secret no vendor declares


@pytest.mark.parametrize(
    ("pasted", "variable"),
    [
        # made-up values of each vendor's shape, built here so that none reads as a real token
        ("ATATT" + "EXAMPLE" * 4, "JIRA_API_TOKEN"),
        ("ntn_" + "EXAMPLE" * 4, "NOTION_TOKEN"),
        ("u+" + "EXAMPLE" * 4, "PAGERDUTY_TOKEN"),
    ],
)
def test_a_pasted_token_is_recognised_by_its_vendors_shape(pasted, variable):
    assert variable_for_value(pasted) == variable


def test_the_rule_conditions_have_one_vocabulary():
    assert set(When.model_fields) == set(rules.CONDITIONS)
    # a condition added to the model but not to the rules (or the reverse) is refused at load
    extra = type("Widened", (When,), {"__annotations__": {"assignee": "str | None"}, "assignee": None})
    with pytest.raises(RuntimeError, match="assignee"):
        check_vocabulary(extra)


def test_capabilities_are_protocols_the_connectors_meet():
    from connectors.jira import JiraConnector
    from connectors.notion import NotionConnector
    from connectors.pagerduty import PagerDutyConnector

    held = {
        cls.__name__: {p.__name__ for p in (BulkWriter, RowCreator, TicketFiler, NoteTaker) if _meets(cls, p)}
        for cls in (JiraConnector, NotionConnector, PagerDutyConnector)
    }
    assert held == {
        "JiraConnector": {"BulkWriter", "TicketFiler"},
        "NotionConnector": {"RowCreator"},
        "PagerDutyConnector": {"NoteTaker"},
    }


def _meets(cls: type, protocol: type) -> bool:
    """Whether the class has every member of ``protocol`` (what isinstance checks on an instance)."""
    members = {n for n in dir(protocol) if not n.startswith("_")} | set(
        getattr(protocol, "__annotations__", {})
    )
    return all(hasattr(cls, m) for m in members)
