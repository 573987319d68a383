"""The families of custom fields relais reads and writes, and one table of how each behaves.

A family is a few fields that read, write, record a change and take JQL values the same way.
Rendering (:mod:`sandbox.jira.render`), writes and changelog items (:mod:`sandbox.jira.write`) and
JQL (:mod:`sandbox.jira.jql_eval`) look a field up in :data:`BY_FIELD` instead of asking each
family in turn; a new family is one more :class:`Family` in :data:`FAMILIES`.

- routing (Product Manager, Team, Briefing link): on every issue. A Product Manager is written
  ``{"accountId": …}`` (or ``null``) and must name a user of the org; Team is a single select
  of the org's team keys; Briefing link is an ``http(s)://`` URL of 255 characters at most.
- feedback (Origin, Customer, Tier, Area): on the FB project's screens only; Customer is a short
  text, the others single selects.
- health (Health): a single select on the teams' projects; an FB issue reads null and refuses it.

Work type and Story Points are on every issue and handled with the system fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from . import options as jo
from .errors import JQLError
from .fields import (
    BRIEFING_LINK,
    CUSTOMER,
    FEEDBACK_FIELDS,
    FEEDBACK_PROJECT_KEY,
    FEEDBACK_SELECTS,
    FIELD_NAMES,
    HEALTH,
    HEALTH_OPTIONS,
    PM,
    ROUTING_FIELDS,
    TEAM,
    TEXT_LIMIT,
    team_options,
)

CANNOT_SET = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."


# --------------------------------------------------------------------- routing
def render_routing(renderer: Any, rec: dict[str, Any], fid: str) -> Any:
    value = rec.get(fid)
    if value is None:
        return None
    if fid == PM:
        return renderer.user(value)
    if fid == TEAM:
        return jo.render(renderer.base, renderer.catalogue.options.get(TEAM, {}), value)
    return value


def set_routing(state: Any, rec: dict[str, Any], fid: str, value: Any, human: bool) -> str | None:
    """Validate and store one write; the message Jira answers with, or None."""
    if fid == PM:
        if value is None:
            rec[fid] = None
            return None
        if isinstance(value, str) and human:
            value = {"accountId": value}
        if not isinstance(value, dict) or value.get("accountId") not in state.renderer().users:
            return "Specified user does not exist or you do not have required permissions"
        rec[fid] = str(value["accountId"])
        return None
    if fid == TEAM:
        return jo.set_option(rec, fid, state.catalogue.options.get(TEAM, {}), value, human)
    # BRIEFING_LINK
    if value is None or value == "":
        rec[fid] = None
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 255:
        return "Not a valid URL"
    rec[fid] = value
    return None


def routing_change_item(
    team: jo.Options, fid: str, old: Any, new: Any, users: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The changelog item Jira records for a change of one of these fields (``team``: the Team
    field's options)."""
    name = FIELD_NAMES[fid]
    if fid == TEAM:
        return jo.change_item(fid, name, team, old, new)
    item = {
        "field": name,
        "fieldtype": "custom",
        "fieldId": fid,
        "from": None,
        "fromString": None,
        "to": None,
        "toString": None,
    }
    if fid == PM:
        users = users or {}
        item.update(
            {
                "from": old,
                "fromString": users[old].name if old in users else None,
                "to": new,
                "toString": users[new].name if new in users else None,
            }
        )
    else:
        item.update({"fromString": old, "toString": new})
    return item


def routing_jql(ctx: Any, fid: str, name: str, values: list[str | None]) -> list[Any]:
    """Clause values as stored: option ids for Team, account ids for Product Manager."""
    if fid == TEAM:
        return jo.jql_values(team_options(ctx.org), name, values)
    out: list[Any] = []
    for raw in values:
        if raw is None or fid == BRIEFING_LINK:
            out.append(raw)
        else:
            if raw not in ctx.users:
                raise JQLError(f"The value '{raw}' does not exist for the field '{name}'.")
            out.append(raw)
    return out


# --------------------------------------------------------------------- feedback
def render_feedback(renderer: Any, rec: dict[str, Any], fid: str) -> Any:
    value = rec.get(fid)
    return value if fid == CUSTOMER else jo.render(renderer.base, FEEDBACK_SELECTS[fid], value)


def set_feedback(state: Any, rec: dict[str, Any], fid: str, value: Any, human: bool) -> str | None:
    """Validate and store one write; the message Jira answers with, or None."""
    if rec["project"] != FEEDBACK_PROJECT_KEY:
        return CANNOT_SET.format(fid)
    if value is None or (fid == CUSTOMER and value == ""):
        rec[fid] = None
        return None
    if fid == CUSTOMER:
        if not isinstance(value, str):
            return "Operation value must be a string"
        if len(value) > TEXT_LIMIT:
            return f"The entered text is too long. It exceeds the allowed limit of {TEXT_LIMIT} characters."
        rec[fid] = value
        return None
    return jo.set_option(rec, fid, FEEDBACK_SELECTS[fid], value, human)


def feedback_change_item(fid: str, old: Any, new: Any) -> dict[str, Any]:
    """The changelog item Jira records for a change of one of these fields."""
    if fid != CUSTOMER:
        return jo.change_item(fid, FIELD_NAMES[fid], FEEDBACK_SELECTS[fid], old, new)
    return {
        "field": FIELD_NAMES[fid],
        "fieldtype": "custom",
        "fieldId": fid,
        "from": None,
        "fromString": old,
        "to": None,
        "toString": new,
    }


def feedback_jql(ctx: Any, fid: str, name: str, values: list[str | None]) -> list[Any]:
    """Clause values as stored: option ids for the selects, Customer's text trimmed."""
    if fid == CUSTOMER:
        return [None if raw is None else raw.strip() for raw in values]
    return jo.jql_values(FEEDBACK_SELECTS[fid], name, values)


# --------------------------------------------------------------------- health
def set_health(state: Any, rec: dict[str, Any], fid: str, value: Any, human: bool) -> str | None:
    """Validate and store a Health write; Jira's message, or None."""
    if rec["project"] == FEEDBACK_PROJECT_KEY:
        return CANNOT_SET.format(HEALTH)
    return jo.set_option(rec, HEALTH, state.catalogue.options.get(HEALTH, {}), value, human)


# --------------------------------------------------------------------- the table
@dataclass(frozen=True)
class Family:
    name: str
    fields: tuple[str, ...]
    render: Callable[[Any, dict[str, Any], str], Any]  # (renderer, record, field id) -> JSON value
    set_value: Callable[[Any, dict[str, Any], str, Any, bool], str | None]  # (state, rec, fid, value, human)
    change_item: Callable[[Any, str, Any, Any], dict[str, Any]]  # (state, fid, old, new) -> changelog item
    jql_values: Callable[[Any, str, str, list[str | None]], list[Any]]  # (ctx, fid, clause name, values)
    sparse: bool  # not on every record: an absent field reads as empty


FAMILIES: tuple[Family, ...] = (
    Family(
        "routing",
        ROUTING_FIELDS,
        render_routing,
        set_routing,
        lambda state, fid, old, new: routing_change_item(
            state.catalogue.options.get(TEAM, {}), fid, old, new, state.renderer().users
        ),
        routing_jql,
        sparse=False,
    ),
    Family(
        "feedback",
        FEEDBACK_FIELDS,
        render_feedback,
        set_feedback,
        lambda state, fid, old, new: feedback_change_item(fid, old, new),
        feedback_jql,
        sparse=True,
    ),
    Family(
        "health",
        (HEALTH,),
        lambda renderer, rec, fid: jo.render(
            renderer.base, renderer.catalogue.options.get(HEALTH, {}), rec.get(fid)
        ),
        set_health,
        lambda state, fid, old, new: jo.change_item(
            fid, FIELD_NAMES[fid], state.catalogue.options.get(HEALTH, {}), old, new
        ),
        lambda ctx, fid, name, values: jo.jql_values(HEALTH_OPTIONS, name, values),
        sparse=True,
    ),
)
BY_FIELD: dict[str, Family] = {fid: family for family in FAMILIES for fid in family.fields}
