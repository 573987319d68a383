"""Jira field writes: validation of ``fields``/``update`` values and changelog items.

Messages are Jira Cloud's (``Option value 'X' is not valid``, ``Field 'x' cannot
be set. It is not on the appropriate screen, or unknown.``). ``human=True`` is
the UI path used by ``sb.jira.edit_issue``: it may also move ``status`` and
accepts plain names where the API wants objects.
"""

from __future__ import annotations

from typing import Any

from . import options as jo
from .families import BY_FIELD, CANNOT_SET
from .fields import (
    FIELD_NAMES,
    HIERARCHY,
    ISSUE_TYPES,
    PRIORITIES,
    STATUSES,
    STORY_POINTS,
    WORK_TYPE,
    WRONG_HIERARCHY,
    adf_text,
)


def update_field(state: Any, rec: dict[str, Any], fid: str, operations: Any, human: bool) -> str | None:
    if not isinstance(operations, list):
        return "Operation value must be an array of operations"
    for op in operations:
        if not isinstance(op, dict) or len(op) != 1:
            return "Each operation must be an object with one key: set, add, remove or edit"
        verb, value = next(iter(op.items()))
        if verb in ("set", "edit"):
            message = set_field(state, rec, fid, value, human)
        elif verb in ("add", "remove") and fid in ("labels", "components"):
            if fid == "labels":
                if not isinstance(value, str) or " " in value or not value:
                    return f"The label '{value}' contains spaces which is invalid."
                current = list(rec["labels"])
            else:
                name = component_name(state, rec, value)
                if name is None:
                    return f"Component name '{value}' is not valid"
                value, current = name, list(rec["components"])
            if verb == "add" and value not in current:
                current.append(value)
            elif verb == "remove" and value in current:
                current.remove(value)
            rec[fid] = current
            message = None
        else:
            return f"Field '{fid}' does not support operation '{verb}'"
        if message:
            return message
    return None


def component_name(state: Any, rec: dict[str, Any], value: Any) -> str | None:
    slug = state._team_of(rec)
    if slug is None:  # the feedback project has no components
        return None
    team = state.org.team(slug)
    ids = state.renderer().component_ids
    if isinstance(value, dict):
        if value.get("name") in team.components:
            return str(value["name"])
        for comp in team.components:
            if ids.get((team.project_key, comp)) == str(value.get("id")):
                return comp
    return None


def set_field(state: Any, rec: dict[str, Any], fid: str, value: Any, human: bool) -> str | None:
    if fid == "status" and human:
        name = value.get("name") if isinstance(value, dict) else value
        if name not in STATUSES:
            return f"Status '{name}' does not exist"
        if name == "Done" and rec["status"] != "Done":
            rec["resolutiondate"] = state.now()
        elif name != "Done":
            rec["resolutiondate"] = None
        rec["status"] = name
        return None
    if not state.catalogue.on_screen(rec["project"], fid):  # the project's screen (or no such field)
        return CANNOT_SET.format(fid)
    family = BY_FIELD.get(fid)
    if family is not None:
        return family.set_value(state, rec, fid, value, human)
    if fid in state.catalogue.created:
        return state.catalogue.set_value(state, rec, fid, value, human)
    if fid == "parent":
        return set_parent(state, rec, value)
    if fid == "summary":
        if not isinstance(value, str) or not value.strip():
            return "You must specify a summary of the issue."
        rec["summary"] = value
    elif fid == "description":
        if value is not None and not isinstance(value, dict) and not (human and isinstance(value, str)):
            return "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
        rec["description"] = adf_text(value)
    elif fid == "labels":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "Operation value must be an array of strings"
        bad = next((v for v in value if " " in v or not v), None)
        if bad is not None:
            return f"The label '{bad}' contains spaces which is invalid."
        rec["labels"] = list(dict.fromkeys(value))
    elif fid == "components":
        names = [component_name(state, rec, v) for v in (value or [])]
        if None in names:
            return f"Component name '{(value or [])[names.index(None)]}' is not valid"
        rec["components"] = names
    elif fid in ("priority", "issuetype"):
        table = PRIORITIES if fid == "priority" else {k: v[0] for k, v in ISSUE_TYPES.items()}
        if isinstance(value, str) and human:
            value = {"name": value}
        if not isinstance(value, dict):
            return f"Specify the {fid} by id or name"
        hit = next((n for n, i in table.items() if value.get("name") == n or str(value.get("id")) == i), None)
        if hit is None:
            return (
                f"Specify a valid '{fid}' id or name" if fid == "issuetype" else "Priority name is not valid"
            )
        rec[fid] = hit
    elif fid in ("assignee", "reporter"):
        if value is None:
            rec[fid] = None
        elif isinstance(value, dict) and value.get("accountId") in state.renderer().users:
            rec[fid] = value["accountId"]
        else:
            return "Specified user does not exist or you do not have required permissions"
    elif fid == STORY_POINTS:
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return "Operation value must be a number"
        rec[fid] = None if value is None else float(value)
    elif fid == WORK_TYPE:
        return jo.set_option(rec, fid, state.catalogue.options.get(WORK_TYPE, {}), value, human)
    return None


def change_items(state: Any, fid: str, before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    family = BY_FIELD.get(fid)
    created = fid in state.catalogue.created
    if (
        fid == "parent" or created or (family is not None and family.sparse)
    ):  # not on every record: absent reads as empty
        old, new = before.get(fid), after.get(fid)
        if old == new:
            return []
        if created:
            return [state.catalogue.change_item(state, fid, old, new)]
        if family is None:
            return [parent_item(state, old, new)]
        return [family.change_item(state, fid, old, new)]
    key = fid if fid in before else None
    if key is None or before[key] == after[key]:
        return []
    old, new = before[key], after[key]
    if family is not None:
        return [family.change_item(state, fid, old, new)]
    name = FIELD_NAMES.get(fid, fid)
    custom = fid.startswith("customfield_")
    item = {
        "field": name if custom else fid,
        "fieldtype": "custom" if custom else "jira",
        "fieldId": fid,
        "from": None,
        "fromString": None,
        "to": None,
        "toString": None,
    }
    users = state.renderer().users
    if fid == WORK_TYPE:
        item.update(
            {
                "from": old,
                "fromString": state.catalogue.options.get(WORK_TYPE, {}).get(old),
                "to": new,
                "toString": state.catalogue.options.get(WORK_TYPE, {}).get(new),
            }
        )
    elif fid in ("labels", "components"):
        item.update({"fromString": " ".join(old) or None, "toString": " ".join(new) or None})
    elif fid == "status":
        item.update({"from": STATUSES[old][0], "fromString": old, "to": STATUSES[new][0], "toString": new})
    elif fid in ("assignee", "reporter"):
        item.update(
            {
                "from": old,
                "fromString": users[old].name if old in users else None,
                "to": new,
                "toString": users[new].name if new in users else None,
            }
        )
    elif fid == "priority":
        item.update({"from": PRIORITIES[old], "fromString": old, "to": PRIORITIES[new], "toString": new})
    else:
        item.update(
            {"fromString": None if old is None else str(old), "toString": None if new is None else str(new)}
        )
    return [item]


# --------------------------------------------------------------------- parent
def set_parent(state: Any, rec: dict[str, Any], value: Any) -> str | None:
    if value is None:
        rec["parent"] = None
        return None
    if not isinstance(value, dict) or not (value.get("key") or value.get("id")):
        return "Specify the parent by id or key"
    try:
        parent = state.find(str(value.get("key") or value.get("id")))
    except KeyError:
        return f"Issue '{value.get('key') or value.get('id')}' does not exist or you do not have permission to see it."
    if HIERARCHY.get(parent["issuetype"], 0) != HIERARCHY.get(rec["issuetype"], 0) + 1:
        return WRONG_HIERARCHY
    rec["parent"] = parent["id"]
    return None


def parent_item(state: Any, old: str | None, new: str | None) -> dict[str, Any]:
    keys = {i: state._records[i]["key"] for i in (old, new) if i in state._records}
    return {
        "field": "IssueParentAssociation",
        "fieldtype": "jira",
        "from": old,
        "fromString": keys.get(old or ""),
        "to": new,
        "toString": keys.get(new or ""),
    }
