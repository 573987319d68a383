"""Notion JSON in relais' terms, with no client: pages to work items, owned values to properties.

Plain functions of a payload (page objects as ``GET /v1/pages/{id}`` and
``POST /v1/data_sources/{id}/query`` return them, Notion-Version 2025-09-03)
plus a :class:`NotionMapping` for one configured database: the property names
the settings give, the owned properties (:func:`sync.owned.notion_properties`)
and, once :class:`connectors.notion.NotionConnector` has connected, the
properties' types from the data source's schema. The connector does the I/O and
calls these; tests feed them recorded payloads directly.

Reads (``page.properties``): the title, status, tags and team properties, the
feedback properties (origin, customer, tier, area), every ``rich_text``
property relais does not own (as the item's text), the owned properties (as
``owned``, never as inputs) and, on briefings, the delivery inputs named by
``briefings:``.

Writes (``PATCH /v1/pages/{id}`` and ``POST /v1/pages`` ``properties``,
:func:`write_properties`): only the owned properties of the database, in the
write shape of each property's type (:func:`write_value`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from connectors.base import check_status_category, parse_time
from connectors.spec import Secret
from sync.models import WorkItem

#: The integration's token (VendorSpec.credentials): its error messages name it.
CREDENTIALS = (Secret("notion_token", "NOTION_TOKEN", "no integration token"),)

#: Configured database key -> the kind of its items.
KINDS = {"briefings": "briefing", "feedback": "feedback", "scorecard": "scorecard"}
#: What a briefing says about its delivery: logical name -> the ``briefings:`` setting naming it.
INPUTS = {
    "epic": "epic_property",
    "target_date": "target_date",
    "depends_on": "depends_on",
    "validated_by": "validated_by",
    "impact": "impact",
    "effort": "effort",
    "security": "security",
}


@dataclass(frozen=True)
class NotionMapping:
    """What maps the pages of one configured database (``sources.notion.databases.<database>``)."""

    database: str  # briefings | feedback | scorecard
    #: read property role (title, status, tags, team, origin, tier, area, customer) -> its name
    properties: Mapping[str, str] = field(default_factory=dict)
    #: logical owned field -> property name (sync.owned.notion_properties)
    owned: Mapping[str, str] = field(default_factory=dict)
    #: property name -> its type, from the data source's schema (known once connected)
    types: Mapping[str, str] = field(default_factory=dict)
    #: briefings only: logical delivery input -> property name
    inputs: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("properties", "owned", "types", "inputs"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    @property
    def kind(self) -> str:
        return KINDS.get(self.database, self.database)


def check(item: WorkItem) -> None:
    """What a Notion item's own values must be (connectors.base.checked): no status category."""
    check_status_category(item, frozenset())


def to_item(raw: dict[str, Any], m: NotionMapping) -> WorkItem:
    """One page of the mapping's database as a work item."""
    props: dict[str, Any] = raw["properties"]
    names = m.properties
    owned = {name: prop_value(props.get(prop)) for name, prop in m.owned.items()}
    if "pm" in owned:  # one PM: the first person of the people property
        owned["pm"] = owned["pm"][0] if owned["pm"] else None
    # What relais writes never feeds what it decides (an echo loop otherwise: "Routed by"
    # names a rule, and a text rule could match it; a Team relais set would become the
    # item's team). A value a person put in an owned property is still seen, as `owned`.
    mine = set(m.owned.values())
    title_prop = props.get(names.get("title", "")) or next(
        (p for p in props.values() if p.get("type") == "title"), None
    )
    text = " ".join(
        plain_text(p.get("rich_text"))
        for name, p in props.items()
        if p.get("type") == "rich_text" and name not in mine
    )
    tags = prop_value(props.get(names.get("tags", ""))) or ()
    title = prop_value(title_prop) or ""
    team = names.get("team", "")
    return WorkItem(
        source="notion",
        id=raw["id"],
        key=title or raw["id"],
        kind=m.kind,
        title=title,
        text=text.strip(),
        url=raw.get("url"),
        updated=parse_time(raw["last_edited_time"]),  # type: ignore[arg-type]  # checked() rejects None
        created=parse_time(raw.get("created_time")) or parse_time(raw["last_edited_time"]),  # type: ignore[arg-type]
        status=prop_value(props.get(names.get("status", ""))),
        labels=tuple(tags) if isinstance(tags, tuple) else (),
        team=None if team in mine else prop_value(props.get(team)),
        database=m.database,
        owned=owned,
        origin=text_or_none(props.get(names.get("origin", ""))),
        tier=text_or_none(props.get(names.get("tier", ""))),
        area=text_or_none(props.get(names.get("area", ""))),
        customer=text_or_none(props.get(names.get("customer", ""))),
        natural_key=owned.get("key") if m.database == "scorecard" else None,
        inputs=inputs(props, m) if m.database == "briefings" else {},
    )


def inputs(props: dict[str, Any], m: NotionMapping) -> dict[str, Any]:
    """What a briefing says about its delivery, by logical name (``briefings:`` names the properties)."""
    return {name: prop_value(props.get(prop)) for name, prop in m.inputs.items() if prop in props}


def write_properties(values: dict[str, Any], m: NotionMapping) -> dict[str, Any]:
    """The ``properties`` of a page update or create setting these owned values, and nothing else."""
    out = {}
    for name, value in values.items():
        if name not in m.owned:
            raise ValueError(f"notion: no write mapping for owned field {name!r} in {m.database}")
        prop = m.owned[name]
        out[prop] = write_value(m.types[prop], value)
    return out


# -- property values -----------------------------------------------------------------------------
def plain_text(rich: list[dict[str, Any]] | None) -> str:
    return "".join(part.get("plain_text", "") for part in rich or [])


def prop_value(prop: dict[str, Any] | None) -> Any:
    """The human value of one property, for the types relais reads."""
    if not prop:
        return None
    kind = prop.get("type")
    value = prop.get(kind)  # type: ignore[arg-type]
    if kind in ("title", "rich_text"):
        return plain_text(value)
    if kind in ("select", "status"):
        return value.get("name") if value else None
    if kind == "multi_select":
        return tuple(v.get("name", "") for v in value or [])
    if kind == "date":
        return value.get("start") if value else None
    if kind in ("people", "relation"):
        return tuple(v.get("id") for v in value or [] if isinstance(v, dict))
    return value


def text_or_none(prop: dict[str, Any] | None) -> str | None:
    value = prop_value(prop)
    return value if isinstance(value, str) and value else None


def write_value(kind: str, value: Any) -> dict[str, Any]:
    """A value in Notion's write shape for a property of type ``kind``."""
    if kind in ("title", "rich_text"):
        text = str(value or "")[:2000]  # Notion's limit for one text object
        return {kind: [{"text": {"content": text}}] if text else []}
    if kind in ("select", "status"):
        return {kind: {"name": value} if value else None}
    if kind == "date":
        return {"date": {"start": value} if value else None}
    if kind == "number":
        return {"number": value}
    if kind in ("people", "relation"):
        ids = (value,) if isinstance(value, str) else tuple(value or ())
        return {kind: [{"id": i} for i in ids]}
    raise ValueError(f"relais does not write {kind} properties")


# -- errors --------------------------------------------------------------------------------------
def describe_error(status: int, headers: Mapping[str, str], body: bytes) -> tuple[str, str | None]:
    """An error answer as (what to tell the operator, Notion's request id)."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return (body[:200].decode("utf-8", "replace").strip() or "no body"), None
    if not isinstance(data, dict):
        return f"HTTP {status}", None
    message = f"{data.get('code', 'error')}: {data.get('message', '')}".strip()
    if status == 401:
        message += f" — check {CREDENTIALS[0].variable} (an internal integration secret)"
    if status == 404:
        message += " — is the database shared with the integration?"
    return message, data.get("request_id")
