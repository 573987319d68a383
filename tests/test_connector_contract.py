"""The contract every connector keeps (:class:`connectors.base.Connector`), checked on each vendor.

One suite, parametrised over the registry (:mod:`connectors.registry`): a new connector is
picked up by it. Each test builds the connectors as the engine does (from a config and the
resolved secrets) and runs them through the official clients against the live sandbox;
what a vendor holds is read back from the sandbox itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import write_config

from connectors.base import Connector, Page, checked
from connectors.registry import VENDORS
from connectors.spec import BulkWriter, NoteTaker, RowCreator, TicketFiler
from sandbox import Sandbox
from sync import owned
from sync.engine import build_connectors
from sync.models import FieldChange, WorkItem
from sync.settings import load_settings, resolve_secrets

NAMES = [v.name for v in VENDORS]


@pytest.fixture
def connectors(sandbox: Sandbox, tmp_path: Path) -> Iterator[dict[str, Any]]:
    settings = load_settings(write_config(sandbox, tmp_path))
    built = build_connectors(settings, resolve_secrets(settings, environ=sandbox.env))
    yield built
    for c in built.values():
        c.close()


@pytest.fixture(params=NAMES)
def vendor(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def connector(connectors: dict[str, Any], vendor: str) -> Any:
    c = connectors[vendor]
    c.connect()
    return c


def pull(c: Connector, cursor: dict[str, Any] | None = None) -> list[Page]:
    return list(c.iter_pages(cursor, datetime.now(UTC)))


def items_of(pages: list[Page]) -> dict[str, WorkItem]:
    return {i.id: i for p in pages for i in p.items}


# -- what each vendor's sandbox offers: an edit a person makes, an id that never existed -----------
def _edit_jira(sb: Sandbox, item: WorkItem) -> None:
    sb.jira.edit_issue(item.key, {"summary": item.title + " (edited)"})


def _edit_notion(sb: Sandbox, item: WorkItem) -> None:
    sb.notion.edit_page(item.id, {"Name": {"title": [{"text": {"content": item.title + " (edited)"}}]}})


def _edit_pagerduty(sb: Sandbox, item: WorkItem) -> None:
    sb.pagerduty.resolve(item.id)


EDIT: dict[str, Callable[[Sandbox, WorkItem], None]] = {
    "jira": _edit_jira,
    "notion": _edit_notion,
    "pagerduty": _edit_pagerduty,
}
EDITABLE: dict[str, Callable[[WorkItem], bool]] = {
    "jira": lambda i: True,
    "notion": lambda i: i.kind in ("briefing", "feedback"),
    "pagerduty": lambda i: i.status != "resolved",
}
UNKNOWN_ID = {"jira": "987654321", "notion": "0badc0de-0000-4000-8000-000000000000", "pagerduty": "PNOSUCH1"}
#: The paths a pull reads items from (where a broken item is served).
ITEM_PATHS = {"jira": r"/search/jql$", "notion": r"/query$", "pagerduty": r"^/incidents$"}
#: What each vendor's connector can do beyond the protocol.
CLAIMS = {
    "jira": {BulkWriter, TicketFiler},
    "notion": {RowCreator},
    "pagerduty": {NoteTaker},
}


# -- the pull ----------------------------------------------------------------------------------
def test_connect_returns_who_relais_is_connected_as(connectors: dict[str, Any], vendor: str):
    identity = connectors[vendor].connect()
    assert isinstance(identity, str) and identity.strip()


def test_a_first_pull_yields_checked_items_and_sets_the_cursor(connector: Any, vendor: str):
    assert connector.pending_cursor is None
    pages = pull(connector)
    assert pages and all(isinstance(p, Page) for p in pages)
    items = [i for p in pages for i in p.items]
    assert items, f"the demo sandbox holds {vendor} items"
    assert {i.source for i in items} == {vendor}
    assert all(checked(i) == i for i in items)
    assert all(i.id in p.raw for p in pages for i in p.items)  # the payload each came from
    assert len({i.id for i in items}) == len(items)  # once each
    assert isinstance(connector.pending_cursor, dict) and connector.pending_cursor


def test_a_second_pull_rereads_only_the_overlap_and_finds_nothing_new(connector: Any, vendor: str):
    first = items_of(pull(connector))
    cursor = connector.pending_cursor
    again = items_of(pull(connector, cursor))
    assert set(again) <= set(first)
    assert all(again[i] == first[i] for i in again)  # the same items, unchanged
    if vendor != "pagerduty":  # PagerDuty re-reads its open incidents each pull, by design
        assert len(again) < len(first)
    assert connector.pending_cursor is not None


def test_an_edit_after_a_pull_shows_in_the_next_one(sandbox: Sandbox, connector: Any, vendor: str):
    first = items_of(pull(connector))
    target = next(i for i in first.values() if EDITABLE[vendor](i))
    EDIT[vendor](sandbox, target)
    again = items_of(pull(connector, connector.pending_cursor))
    assert target.id in again and again[target.id] != target
    assert again[target.id].updated >= target.updated


def test_read_items_returns_known_ids_and_lists_unknown_ones_as_gone(connector: Any, vendor: str):
    first = items_of(pull(connector))
    known = sorted(first)[:3]
    page, gone = connector.read_items([*known, UNKNOWN_ID[vendor]])
    assert sorted(i.id for i in page.items) == known
    assert {i.id: i for i in page.items} == {i: first[i] for i in known}
    assert gone == [UNKNOWN_ID[vendor]]


def test_an_unreadable_item_is_quarantined_with_its_id_and_why(sandbox: Sandbox, connector: Any, vendor: str):
    sandbox.faults.add(vendor, "bad_item", count=1, path=ITEM_PATHS[vendor])
    pages = pull(connector)
    quarantined = [q for p in pages for q in p.quarantined]
    assert len(quarantined) == 1
    (q,) = quarantined
    assert q.source == vendor and q.id and q.id != "?"
    assert "unreadable" in q.reason and "payload" in q.reason
    assert q.id not in items_of(pages)


# -- writes ------------------------------------------------------------------------------------
OTHER = {"RUN": "BUILD", "BUILD": "IMPROVE", "IMPROVE": "RUN", None: "RUN"}


def _held(sb: Sandbox, vendor: str, item: WorkItem) -> dict[str, Any]:
    """What the tool holds for the item, as its API renders it, less what any edit moves
    (Jira's ``updated`` and its project's last-update time, Notion's last-edited properties)."""
    if vendor == "jira":
        fields = dict(sb.jira.get_issue(item.id)["fields"])
        fields.pop("updated")
        fields["project"] = {k: v for k, v in fields["project"].items() if k != "insight"}
        return fields
    props = sb.notion.get_page(item.id)["properties"]
    return {k: v for k, v in props.items() if v["type"] not in ("last_edited_time", "last_edited_by")}


def test_a_write_changes_only_the_owned_field_it_names(sandbox: Sandbox, connector: Any, vendor: str):
    if not any(f.vendor == vendor for f in owned.FIELDS):
        assert all(not i.owned for i in items_of(pull(connector)).values())
        with pytest.raises(NotImplementedError):
            connector.write(next(iter(items_of(pull(connector)).values())), [])
        return
    item = next(i for i in items_of(pull(connector)).values() if "work_type" in i.owned)
    new = OTHER[item.owned["work_type"]]
    before = _held(sandbox, vendor, item)
    connector.write(
        item, [FieldChange(vendor, item.id, item.key, "work_type", item.owned["work_type"], new, "t")]
    )
    after = _held(sandbox, vendor, item)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert changed == {_owned_name(connector, vendor, item)}
    page, gone = connector.read_items([item.id])
    (reread,) = page.items
    assert reread.owned["work_type"] == new and not gone
    assert replace(reread, owned=item.owned, updated=item.updated) == item  # nothing else moved


def _owned_name(connector: Any, vendor: str, item: WorkItem) -> str:
    if vendor == "jira":
        return str(connector.mapping.work_type_field)
    return connector.mapping(item.database).owned["work_type"]


# -- capabilities ------------------------------------------------------------------------------
def _signature(fn: Any) -> list[str]:
    return [p for p in inspect.signature(fn).parameters if p != "self"]


@pytest.mark.parametrize("capability", [BulkWriter, RowCreator, TicketFiler, NoteTaker])
def test_capabilities_are_the_ones_claimed_and_keep_the_protocols_signatures(
    connectors: dict[str, Any], vendor: str, capability: type
):
    c = connectors[vendor]
    assert isinstance(c, capability) == (capability in CLAIMS[vendor])
    if not isinstance(c, capability):
        return
    for name, member in vars(capability).items():
        if callable(member) and not name.startswith("_"):
            assert len(_signature(getattr(c, name))) == len(_signature(member)), f"{vendor}.{name}"
    for name in getattr(capability, "__annotations__", {}):
        assert isinstance(getattr(c, name), int), f"{vendor}.{name}"


def test_every_connector_keeps_the_connector_protocol(connectors: dict[str, Any], vendor: str):
    c = connectors[vendor]
    assert c.vendor == vendor
    for name in ("connect", "iter_pages", "read_items", "write", "close"):
        assert _signature(getattr(c, name)) == _signature(getattr(Connector, name)), name
