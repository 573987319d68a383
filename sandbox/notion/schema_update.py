"""``PATCH /v1/data_sources/{id}``'s ``properties``: a data source's schema changed the way Notion does.

The request shape is ``UpdateDataSourceBodyParameters`` of
``notion-api-endpoints/api-endpoints/data-sources.ts``: each key is a property's name or id; the
value is ``null`` (remove the property), ``{"name": …}`` (rename it), or a property configuration
(``{"type"?: T, T: {…}}``, with an optional ``name``) that creates the property when no property
has that name, and else updates it. A select's ``options`` replace the list it had: an option sent
by id or name keeps its id, one left out is removed (and so is its value on every page).

Everything is checked before anything changes: a refused update changes nothing (400
``validation_error``, messages in the shape of the recorded ones).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .schema import COLORS, Property, ValidationError, short_id

#: The types a configuration may name, and those relais' fake can hold values of.
TYPES = (
    "title",
    "rich_text",
    "number",
    "select",
    "multi_select",
    "status",
    "date",
    "people",
    "relation",
    "checkbox",
    "url",
)
#: Notion's number formats (developers.notion.com/reference/property-object#number).
NUMBER_FORMATS = (
    "number",
    "number_with_commas",
    "percent",
    "dollar",
    "australian_dollar",
    "canadian_dollar",
    "singapore_dollar",
    "euro",
    "pound",
    "yen",
    "ruble",
    "rupee",
    "won",
    "yuan",
    "real",
    "lira",
    "rupiah",
    "franc",
    "hong_kong_dollar",
    "new_zealand_dollar",
    "krona",
    "norwegian_krone",
    "mexican_peso",
    "rand",
    "new_taiwan_dollar",
    "danish_krone",
    "zloty",
    "baht",
    "forint",
    "koruna",
    "shekel",
    "chilean_peso",
    "philippine_peso",
    "dirham",
    "colombian_peso",
    "riyal",
    "ringgit",
    "leu",
    "argentine_peso",
    "uruguayan_peso",
    "peruvian_sol",
)


@dataclass
class SchemaChange:
    """What an update did, for the pages' values: the new schema, and the values to move or drop."""

    schema: dict[str, Property]
    renamed: dict[str, str] = field(default_factory=dict)  # old name -> new name
    cleared: set[str] = field(default_factory=set)  # properties whose values are gone (removed, retyped)
    options: dict[str, set[str]] = field(default_factory=dict)  # property -> option ids still there


def _where(key: str, *rest: str) -> str:
    return ".".join(["body.properties", key, *rest])


def _fail(where: str, expected: str, value: Any) -> ValidationError:
    return ValidationError(f"body failed validation: {where} should be {expected}, instead was `{value!r}`.")


def _kind_of(key: str, config: dict[str, Any]) -> str | None:
    declared = config.get("type")
    named = [t for t in TYPES if t in config]
    if declared is not None:
        if declared not in TYPES:
            raise _fail(_where(key, "type"), f"one of {', '.join(f'`{t}`' for t in TYPES)}", declared)
        if declared not in config:
            raise _fail(_where(key, declared), "defined", None)
        return str(declared)
    if len(named) > 1:
        raise ValidationError(f"body failed validation: {_where(key)} should have only one property type.")
    return named[0] if named else None


def _options(key: str, kind: str, prop: Property, body: Any, rng: random.Random) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        raise _fail(_where(key, kind), "an object", body)
    sent = body.get("options", None)
    if sent is None:
        return [dict(o) for o in prop.options]
    if not isinstance(sent, list):
        raise _fail(_where(key, kind, "options"), "an array", sent)
    out: list[dict[str, Any]] = []
    for i, option in enumerate(sent):
        where = _where(key, kind, "options", str(i))
        if not isinstance(option, dict) or not (option.get("name") or option.get("id")):
            raise _fail(where, "an object with a `name` or an `id`", option)
        known = prop.option(oid=option["id"]) if option.get("id") else None
        if option.get("id") and known is None:
            raise ValidationError(f'Invalid {kind} option id "{option["id"]}" for property "{prop.name}".')
        name = option.get("name", known["name"] if known else None)
        if not isinstance(name, str) or not name.strip():
            raise _fail(where + ".name", "a non-empty string", name)
        name = name.strip()
        if "," in name:
            raise ValidationError(f"Invalid {kind} option, commas not allowed: {name}")
        if len(name) > 100:
            raise ValidationError(f"{kind} option names must be at most 100 characters.")
        known = known or prop.option(name=name)
        color = option.get("color") or (known["color"] if known else rng.choice(COLORS))
        if color not in COLORS:
            raise _fail(where + ".color", f"one of {', '.join(f'`{c}`' for c in COLORS)}", color)
        if any(o["name"] == name for o in out):
            raise ValidationError(f"Duplicate {kind} option names are not allowed: {name}")
        out.append(
            {
                "id": known["id"] if known else short_id(rng),
                "name": name,
                "color": color,
                "description": option.get("description", known.get("description") if known else None),
            }
        )
    return out


def _configure(
    key: str, kind: str, prop: Property, body: Any, rng: random.Random, sources: Mapping[str, str]
) -> None:
    """Apply the ``kind`` configuration ``body`` to ``prop`` (a copy)."""
    if kind in ("select", "multi_select", "status"):
        prop.options = _options(key, kind, prop, body, rng)
        return
    if not isinstance(body, dict):
        raise _fail(_where(key, kind), "an object", body)
    if kind == "number":
        fmt = body.get("format", prop.number_format)
        if fmt not in NUMBER_FORMATS:
            raise _fail(_where(key, "number", "format"), "a valid number format", fmt)
        prop.number_format = fmt
    elif kind == "relation":
        target = body.get("data_source_id")
        if not isinstance(target, str):
            raise _fail(_where(key, "relation", "data_source_id"), "defined", target)
        if target not in sources:
            raise ValidationError(
                f"Could not find data_source with ID: {target}. Make sure the relevant pages and "
                f'databases are shared with your integration "relais".'
            )
        prop.relation = {"database_id": sources[target], "data_source_id": target}


def update_schema(
    schema: dict[str, Property], properties: Any, rng: random.Random, sources: Mapping[str, str]
) -> SchemaChange:
    """The schema after a data source update's ``properties`` (``sources``: the data sources the
    integration sees, data source id -> database id, for relations)."""
    if not isinstance(properties, dict):
        raise _fail("body.properties", "an object", properties)
    new = {name: copy.deepcopy(p) for name, p in schema.items()}
    change = SchemaChange(new)
    for key, config in properties.items():
        prop = new.get(key) or next((p for p in new.values() if p.id == key), None)
        if config is None:
            if prop is None:
                raise ValidationError(f"{key} is not a property that exists.")
            if prop.type == "title":
                raise ValidationError("Cannot delete the title property of a data source.")
            del new[prop.name]
            change.cleared.add(prop.name)
            continue
        if not isinstance(config, dict):
            raise _fail(_where(key), "an object or `null`", config)
        kind = _kind_of(key, config)
        name = config.get("name")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise _fail(_where(key, "name"), "a non-empty string", name)
        if prop is None:
            if kind is None:
                raise ValidationError(f"{key} is not a property that exists.")
            if kind == "title":
                raise ValidationError("Cannot create a second title property in a data source.")
            prop = Property(name or key, short_id(rng), kind)
            _configure(key, kind, prop, config[kind], rng, sources)
            if prop.name in new:
                raise ValidationError(f"A property named {prop.name} already exists.")
            new[prop.name] = prop
            continue
        if kind is not None:
            if kind != prop.type:
                if "title" in (kind, prop.type):
                    raise ValidationError("Cannot change the type of or to the title property.")
                prop.type, prop.options, prop.groups, prop.relation = kind, [], [], {}
                prop.number_format = "number"
                change.cleared.add(prop.name)
            _configure(key, kind, prop, config[kind], rng, sources)
            if kind in ("select", "multi_select", "status"):
                change.options[prop.name] = {o["id"] for o in prop.options}
        if name is not None and name.strip() != prop.name:
            name = name.strip()
            if name in new:
                raise ValidationError(f"A property named {name} already exists.")
            new = {(name if n == prop.name else n): p for n, p in new.items()}
            change.schema = new
            change.renamed[prop.name] = name
            prop.name = name
    change.schema = new
    return change
