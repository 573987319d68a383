"""What a Jira admin configures on the site: the custom fields, their options, the edit screens.

One :class:`Catalogue` per tenant (``sb.jira.catalogue``), so that ``POST /field``, ``POST
/field/{id}/context/{ctx}/option`` and ``POST /screens/addToDefault/{id}`` change what the other
routes serve (``GET /field``, the contexts and options, ``GET /issue/{id}/editmeta``, what a
write accepts). Jira Cloud, as the platform spec says it:

- ``POST /field`` (Administer Jira) creates a custom field ``customfield_<next number>`` with
  Jira's default context (global, any issue type) and no option; it is on **no screen**: a write
  to it is "cannot be set" until it is added to one. The spec lists a caller without the
  permission under 400; so does the sandbox (``sb.jira.admin = False``).
- ``POST /field/{id}/context/{ctx}/option`` (Administer Jira: 403 "Only Jira administrators can
  manage custom field options.") appends options, each with a new id; a value the context already
  has is a 400.
- ``POST /screens/addToDefault/{id}`` (Administer Jira: 403) adds the field to the default tab of
  the **default screen**; a field already there, or no field, is a 404 (the spec).
- A project edits issues on one screen: the teams' projects on the default screen; the FB project
  on a screen of its own that holds the feedback fields and not Health (as the fields' contexts
  and the FB workflow have it). ``sb.jira.catalogue.own_screen("PAY")`` gives a project a screen
  of its own (a copy of the default), which ``addToDefault`` no longer reaches.
- ``GET /issue/{id}/editmeta``: the fields on the issue's project's screen, each as
  ``FieldMetadata``; a write to a field that is not there answers 400 "Field '…' cannot be set.
  It is not on the appropriate screen, or unknown." (:mod:`sandbox.jira.write`).

A field created through the API reads, writes and records changes by its type (single select,
user picker, text or URL, number) like the built-in families of :mod:`sandbox.jira.families`;
JQL does not name it (a limit of the sandbox).
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlsplit

from ..org import Org
from . import options as jo
from .fieldcontexts import select_options
from .fields import EDITABLE, FEEDBACK_FIELDS, FEEDBACK_PROJECT_KEY, FIELDS, HEALTH, NAVIGABLE_IDS, field_def

PLUGIN = "com.atlassian.jira.plugin.system.customfieldtypes:"
#: A created field's plugin type → (schema type, the searchers the spec allows for it).
TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "select": ("option", ("multiselectsearcher",)),
    "userpicker": ("user", ("userpickergroupsearcher",)),
    "textfield": ("string", ("textsearcher",)),
    "url": ("string", ("exacttextsearcher",)),
    "float": ("number", ("exactnumber", "numberrange")),
}
DEFAULT_SCREEN = "1"  # Jira's "Default Screen"
NOT_ADMIN_FIELD = "Only Jira administrators can create custom fields."
NOT_ADMIN_OPTIONS = "Only Jira administrators can manage custom field options."
NOT_ADMIN_SCREENS = "Only Jira administrators can manage screens."
CANNOT_SET = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."


class CatalogueError(Exception):
    """An answer other than 2xx: ``status`` and Jira's message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Catalogue:
    def __init__(self, org: Org) -> None:
        self.org = org
        self.fields: list[dict[str, Any]] = copy.deepcopy(FIELDS)
        self.options: dict[str, dict[str, str]] = select_options(org)  # field id -> option id -> value
        self.created: set[str] = set()  # fields made through POST /field (typed by their schema)
        self.admin = True  # the API user has "Administer Jira"
        self.screens: dict[str, set[str]] = {
            DEFAULT_SCREEN: set(EDITABLE) - set(FEEDBACK_FIELDS),
            FEEDBACK_PROJECT_KEY: set(EDITABLE) - {HEALTH},
        }
        self.project_screen: dict[str, str] = {FEEDBACK_PROJECT_KEY: FEEDBACK_PROJECT_KEY}
        numbers = [int(f["id"].rsplit("_", 1)[1]) for f in FIELDS if f.get("custom")]
        self._next_field = max(numbers) + 1
        self._next_option = 1 + max(int(o) for opts in self.options.values() for o in opts)

    # -- reads ---------------------------------------------------------------------------------
    def field(self, field_id: str) -> dict[str, Any] | None:
        return next((f for f in self.fields if f["id"] == field_id), None)

    def name(self, field_id: str) -> str:
        f = self.field(field_id)
        return f["name"] if f else field_id

    def ids(self) -> list[str]:
        """What a ``fields=*all`` read may return (``issuekey`` is never a value)."""
        return [f["id"] for f in self.fields if f["id"] != "issuekey"]

    def navigable(self) -> list[str]:
        return [f for f in NAVIGABLE_IDS if self.field(f)] + sorted(self.created)

    def screen_of(self, project: str) -> set[str]:
        return self.screens[self.project_screen.get(project, DEFAULT_SCREEN)]

    def on_screen(self, project: str, field_id: str) -> bool:
        return field_id in self.screen_of(project) and self.field(field_id) is not None

    def editable_anywhere(self) -> set[str]:
        return {f for screen in self.screens.values() for f in screen if self.field(f)}

    def editmeta(self, base: str, project: str) -> dict[str, Any]:
        """``IssueUpdateMetadata``: the fields on the project's screen."""
        out: dict[str, Any] = {}
        for f in self.fields:
            if not self.on_screen(project, f["id"]):
                continue
            # /field lists parent without a schema; FieldMetadata requires one
            schema = f.get("schema") or {"type": "issuelink", "system": f["id"]}
            meta: dict[str, Any] = {
                "required": f["id"] in ("summary", "issuetype"),
                "schema": schema,
                "name": f["name"],
                "key": f["id"],
                "operations": ["add", "set", "remove"] if schema.get("type") == "array" else ["set"],
            }
            options = self.options.get(f["id"])
            if options is not None:
                meta["allowedValues"] = [
                    {"self": f"{base}/rest/api/3/customFieldOption/{oid}", "value": v, "id": oid}
                    for oid, v in options.items()
                ]
            out[f["id"]] = meta
        return {"fields": out}

    # -- what an admin does --------------------------------------------------------------------
    def create_field(self, body: Any) -> dict[str, Any]:
        if not self.admin:
            raise CatalogueError(400, NOT_ADMIN_FIELD)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
            raise CatalogueError(400, "The custom field name must be specified.")
        kind = str(body.get("type") or "")
        plugin = kind.removeprefix(PLUGIN)
        if not kind.startswith(PLUGIN) or plugin not in TYPES:
            raise CatalogueError(400, f"The custom field type '{kind}' is not supported.")
        schema_type, searchers = TYPES[plugin]
        searcher = body.get("searcherKey")
        if searcher is not None and str(searcher).removeprefix(PLUGIN) not in searchers:
            raise CatalogueError(400, f"The searcher '{searcher}' is not valid for the field type '{kind}'.")
        number = self._next_field
        self._next_field += 1
        fid, name = f"customfield_{number}", body["name"].strip()
        schema = {"type": schema_type, "custom": kind, "customId": number}
        field = field_def(
            fid, name, [f"cf[{number}]", name], schema, custom=True, searchable=searcher is not None
        )
        self.fields.append(field)
        self.created.add(fid)
        if schema_type == "option":
            self.options[fid] = {}
        return copy.deepcopy(field)

    def add_options(self, field_id: str, body: Any) -> dict[str, Any]:
        if not self.admin:
            raise CatalogueError(403, NOT_ADMIN_OPTIONS)
        options = self.options.get(field_id)
        if self.field(field_id) is None:
            raise CatalogueError(404, "The custom field was not found.")
        if options is None:
            raise CatalogueError(400, "The custom field doesn't support options.")
        wanted = body.get("options") if isinstance(body, dict) else None
        if not isinstance(wanted, list) or not wanted:
            raise CatalogueError(400, "The options must be specified.")
        values = [o.get("value") if isinstance(o, dict) else None for o in wanted]
        for value in values:
            if not isinstance(value, str) or not value.strip():
                raise CatalogueError(400, "The option value must be specified.")
            if value in options.values() or values.count(value) > 1:
                raise CatalogueError(400, f"The option '{value}' already exists.")
        created = []
        for value in values:
            oid = str(self._next_option)
            self._next_option += 1
            options[oid] = str(value)
            created.append({"id": oid, "value": value, "disabled": False})
        return {"options": created}

    def add_to_default(self, field_id: str) -> None:
        if not self.admin:
            raise CatalogueError(403, NOT_ADMIN_SCREENS)
        screen = self.screens[DEFAULT_SCREEN]
        if self.field(field_id) is None or field_id in screen:
            raise CatalogueError(404, f"The field '{field_id}' was not found or is already on the screen.")
        screen.add(field_id)

    # -- the sandbox's own switches -------------------------------------------------------------
    def own_screen(self, project: str) -> None:
        """Give ``project`` an edit screen of its own, a copy of the default screen."""
        self.screens[project] = set(self.screens[DEFAULT_SCREEN])
        self.project_screen[project] = project

    def remove_field(self, field_id: str) -> None:
        self.fields = [f for f in self.fields if f["id"] != field_id]
        self.options.pop(field_id, None)
        for screen in self.screens.values():
            screen.discard(field_id)

    # -- a created field's values, by its type ---------------------------------------------------
    def schema_type(self, field_id: str) -> str:
        return ((self.field(field_id) or {}).get("schema") or {}).get("type", "")

    def render(self, renderer: Any, rec: dict[str, Any], fid: str) -> Any:
        value = rec.get(fid)
        kind = self.schema_type(fid)
        if kind == "option":
            return jo.render(renderer.base, self.options.get(fid, {}), value)
        if kind == "user":
            return renderer.user(value)
        return value

    def set_value(self, state: Any, rec: dict[str, Any], fid: str, value: Any, human: bool) -> str | None:
        kind = self.schema_type(fid)
        if kind == "option":
            return jo.set_option(rec, fid, self.options.get(fid, {}), value, human)
        if value is None or value == "":
            rec[fid] = None
            return None
        if kind == "user":
            if isinstance(value, str) and human:
                value = {"accountId": value}
            if not isinstance(value, dict) or value.get("accountId") not in state.renderer().users:
                return "Specified user does not exist or you do not have required permissions"
            rec[fid] = str(value["accountId"])
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return "Operation value must be a number"
            rec[fid] = float(value)
        else:
            if not isinstance(value, str):
                return "Operation value must be a string"
            custom = ((self.field(fid) or {}).get("schema") or {}).get("custom", "")
            if custom.endswith(":url"):
                parts = urlsplit(value)
                if parts.scheme not in ("http", "https") or not parts.netloc:
                    return "Not a valid URL"
            if len(value) > 255:
                return "The entered text is too long. It exceeds the allowed limit of 255 characters."
            rec[fid] = value
        return None

    def change_item(self, state: Any, fid: str, old: Any, new: Any) -> dict[str, Any]:
        name = self.name(fid)
        if self.schema_type(fid) == "option":
            return jo.change_item(fid, name, self.options.get(fid, {}), old, new)
        users = state.renderer().users
        text = {
            v: (users[v].name if v in users else v) if self.schema_type(fid) == "user" else v
            for v in (old, new)
        }
        return {
            "field": name,
            "fieldtype": "custom",
            "fieldId": fid,
            "from": old if self.schema_type(fid) == "user" else None,
            "fromString": None if old is None else str(text[old]),
            "to": new if self.schema_type(fid) == "user" else None,
            "toString": None if new is None else str(text[new]),
        }
