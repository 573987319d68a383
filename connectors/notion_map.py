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

from connectors.base import check_status_category, did_you_mean, parse_time
from connectors.spec import Secret
from sync import owned as owned_fields
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
    #: number property name -> its number format ("number", "percent"…), from the schema
    formats: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("properties", "owned", "types", "inputs", "formats"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    @property
    def kind(self) -> str:
        return KINDS.get(self.database, self.database)

    def as_fraction(self, field_name: str) -> bool:
        """Whether the owned percentage ``field_name`` goes into a Percent-formatted number, which
        shows 0.494 as 49.4 %: relais then writes (and reads) the fraction, not the points."""
        prop = self.owned.get(field_name)
        return field_name in PERCENT_FIELDS and prop is not None and self.formats.get(prop) == "percent"


#: The owned fields that hold a percentage (sync.owned: ``percent``).
PERCENT_FIELDS = owned_fields.percent_fields()


def to_fraction(points: Any) -> Any:
    """49.4 (points) → 0.494, for a Percent-formatted number."""
    return (
        round(points / 100, 6)
        if isinstance(points, (int, float)) and not isinstance(points, bool)
        else points
    )


def to_points(fraction: Any) -> Any:
    """0.494 from a Percent-formatted number → 49.4, the points relais computes and compares."""
    if isinstance(fraction, (int, float)) and not isinstance(fraction, bool):
        return round(fraction * 100, 4)
    return fraction


def check(item: WorkItem) -> None:
    """What a Notion item's own values must be (connectors.base.checked): no status category."""
    check_status_category(item, frozenset())


def to_item(raw: dict[str, Any], m: NotionMapping) -> WorkItem:
    """One page of the mapping's database as a work item."""
    props: dict[str, Any] = raw["properties"]
    names = m.properties
    owned = {name: prop_value(props.get(prop)) for name, prop in m.owned.items()}
    for name in PERCENT_FIELDS & owned.keys():
        if m.as_fraction(name):
            owned[name] = to_points(owned[name])
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
        out[prop] = write_value(m.types[prop], to_fraction(value) if m.as_fraction(name) else value)
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


# -- what `relais check` holds a database to (connectors.notion.NotionConnector.survey) -----------
#: The ``briefings:`` inputs: setting -> the property types relais reads as meant.
BRIEFING_INPUT_TYPES: dict[str, tuple[str, ...]] = {
    "epic_property": ("rich_text", "url", "title"),
    "target_date": ("date",),
    "depends_on": ("multi_select",),
    "validated_by": ("multi_select",),
    "impact": ("number",),
    "effort": ("number",),
    "security": ("checkbox",),
}
#: The ``sources.notion.properties`` relais reads: role -> (the databases it is read on, the
#: property types it reads as meant). The title falls back to the database's title property.
READ_TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "status": (("briefings",), ("status", "select")),
    "tags": (("briefings", "feedback"), ("multi_select",)),
    "team": (("briefings", "feedback"), ("select", "status", "rich_text")),
    "origin": (("feedback",), ("select", "status", "rich_text")),
    "tier": (("feedback",), ("select", "status", "rich_text")),
    "area": (("feedback",), ("select", "status", "rich_text")),
    "customer": (("feedback",), ("rich_text", "select", "title")),
}
#: The number formats a percentage may have: Percent (relais writes 0.494) or Number (49.4).
PERCENT_FORMATS = ("percent", "number")


@dataclass(frozen=True)
class Lack:
    """One thing a database lacks for the config (the connector makes it a Problem)."""

    setting: str
    message: str  # one line: what is wrong, then exactly what to create or change
    update: dict[str, Any] | None = None  # the data source update's ``properties`` that fixes it
    did: str = ""  # what that update does, for `check --fix`'s report


def _label(kind: str) -> str:
    return owned_fields.NOTION_TYPE_NAMES.get(kind, kind)


def _kinds(kinds: tuple[str, ...]) -> str:
    return " or ".join(_label(k) for k in kinds)


@dataclass(frozen=True)
class Expected:
    """What one property relais writes must be: its entry in sync.owned and the options it needs."""

    entry: owned_fields.Owned
    options: tuple[str, ...]  # the select options (TEAM_NAMES resolved)

    def config(self, briefings_source: str | None) -> dict[str, Any] | None:
        """The property configuration that creates it, or None when the API cannot (a second
        title; a relation with no briefings data source to point to)."""
        kind = self.entry.accepts[0]
        if kind == "title" or (kind == "relation" and not briefings_source):
            return None
        body: dict[str, Any] = {}
        if kind in ("select", "multi_select"):
            body = {"options": [{"name": o} for o in self.options]}
        elif kind == "number":
            body = {"format": "percent" if self.entry.percent else "number"}
        elif kind == "relation":
            body = {"data_source_id": briefings_source, "type": "single_property", "single_property": {}}
        return {"type": kind, kind: body}

    def describe(self, prop: str) -> str:
        """'a select property 'Team mode' with options ok, watch, alert, survival'."""
        kind = self.entry.accepts[0]
        text = f"a {_label(kind)} property {prop!r}"
        if self.options and kind in ("select", "multi_select"):
            text += f" with options {', '.join(self.options)}"
        if self.entry.percent:
            text += " with number format Percent"
        if kind == "relation":
            text += " to the briefings database"
        return text


def expected(entry: owned_fields.Owned, team_names: tuple[str, ...]) -> Expected:
    options = team_names if entry.options == owned_fields.TEAM_NAMES else entry.options
    return Expected(entry, options)


def owned_lacks(
    database: str,
    schema: Mapping[str, Any],
    owned: Mapping[str, Expected],
    names: Mapping[str, str],
    *,
    taken: set[str],
    briefings_source: str | None,
) -> list[Lack]:
    """Every property relais writes on ``database`` that is missing, of the wrong type, short of
    select options, or a percentage with a number format that is neither Percent nor Number.

    ``owned``: logical field -> what it must be; ``names``: logical field -> property name;
    ``taken``: the names relais reads or writes something else in (no did-you-mean to them)."""
    out: list[Lack] = []
    for name, want in owned.items():
        prop, entry = names[name], want.entry
        setting = entry.setting
        have = schema.get(prop)
        if have is None:
            hint = did_you_mean(prop, schema, taken)
            config = want.config(briefings_source)
            if entry.accepts[0] == "title":
                title = next((n for n, p in schema.items() if p.get("type") == "title"), "?")
                fix_text = f"rename its title property {title!r} to {prop!r}, or set {setting}: {title}"
            else:
                fix_text = f"create {want.describe(prop)}"
            out.append(
                Lack(
                    setting,
                    f"the {database} database has no property {prop!r}{hint}: {fix_text}",
                    {prop: config} if config is not None else None,
                    f"created {want.describe(prop)} in the {database} database",
                )
            )
            continue
        kind = have.get("type", "?")
        if kind not in entry.accepts:
            out.append(
                Lack(
                    setting,
                    f"{prop!r} in the {database} database is a {_label(kind)} property; relais writes "
                    f"a {_kinds(entry.accepts)} there: make it {want.describe(prop)}",
                )
            )
            continue
        if kind == "select" and want.options:
            present = [o for o in (have.get("select") or {}).get("options") or [] if isinstance(o, dict)]
            missing = [o for o in want.options if o not in {p.get("name") for p in present}]
            if missing:
                kept = [{k: o[k] for k in ("id", "name", "color") if k in o} for o in present]
                listed = ", ".join(missing)
                out.append(
                    Lack(
                        setting,
                        f"the select {prop!r} in the {database} database lacks the option(s) {listed}: "
                        f"add them",
                        {prop: {"select": {"options": kept + [{"name": o} for o in missing]}}},
                        f"added the option(s) {listed} to {prop!r} in the {database} database",
                    )
                )
        if kind == "relation" and briefings_source:
            target = (have.get("relation") or {}).get("data_source_id")
            if target and target != briefings_source:
                out.append(
                    Lack(
                        setting,
                        f"{prop!r} in the {database} database is a relation to another database; "
                        f"relais writes a relation to the briefings database there: make it "
                        f"{want.describe(prop)}",
                    )
                )
        if kind == "number" and entry.percent:
            fmt = (have.get("number") or {}).get("format") or "number"
            if fmt not in PERCENT_FORMATS:
                out.append(
                    Lack(
                        setting,
                        f"{prop!r} in the {database} database has number format {fmt}: "
                        f"set its number format to Percent",
                        {prop: {"number": {"format": "percent"}}},
                        f"set the number format of {prop!r} in the {database} database to Percent",
                    )
                )
    return out


def input_lacks(
    database: str,
    schema: Mapping[str, Any],
    inputs: Mapping[str, tuple[str, tuple[str, ...]]],
    taken: set[str],
) -> list[Lack]:
    """Every property relais only reads on ``database`` (``inputs``: setting -> (property name,
    the types read as meant)) that is missing or of another type. Never fixed: a person decides
    what it holds."""
    out: list[Lack] = []
    for setting, (prop, kinds) in inputs.items():
        have = schema.get(prop)
        if have is None:
            hint = did_you_mean(prop, schema, taken - {prop})
            out.append(
                Lack(
                    setting,
                    f"the {database} database has no property {prop!r}{hint}: create a "
                    f"{_kinds(kinds)} property {prop!r} (relais reads it; people fill it in)",
                )
            )
        elif have.get("type") not in kinds:
            out.append(
                Lack(
                    setting,
                    f"{prop!r} in the {database} database is a {_label(str(have.get('type')))} "
                    f"property; relais reads a {_kinds(kinds)} there",
                )
            )
    return out
