"""Jira JSON in relais' terms, with no client: issues to work items, owned-field changes to bodies.

Plain functions of a payload (the shapes of ``jira-cloud-platform-openapi.json``
and of responses recorded from Jira Cloud) plus a :class:`JiraMapping`: what
:class:`connectors.jira.JiraConnector` resolved at connect (field ids) and the
write-back settings. The connector does the I/O and calls these; tests feed
them recorded payloads directly.

Reads (``IssueBean.fields``): summary, status and its category, issuetype,
project, labels, components, priority, created, updated, resolutiondate,
description (ADF), parent, issuelinks, worklog; the owned fields
(:mod:`sync.owned`, vendor ``jira``), story points and the feedback fields by
the ids in the mapping.

Writes (``PUT /issue/{id}`` bodies, :func:`write_body`): the owned fields of
:mod:`sync.owned` whose ids the mapping holds — a single select as
``{"value": …}``, a user picker as ``{"accountId": …}``, a text or URL field
as a string — and the work type either in its single select or as managed
labels (``update.labels`` add/remove, so a person's own labels are never
touched). Follow-up issues (:func:`followup_fields`) are created with the
work type and the team set the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from connectors.base import check_status_category, parse_time
from connectors.spec import Secret
from sync import owned as owned_fields
from sync.models import FieldChange, WorkItem

#: The account relais reads and writes as (VendorSpec.credentials): its error messages name them.
CREDENTIALS = (
    Secret("jira_email", "JIRA_EMAIL", "no account email"),
    Secret("jira_api_token", "JIRA_API_TOKEN", "no API token"),
)

#: The issue fields every search asks for; the mapping adds the ids it resolved.
BASE_FIELDS = (
    "summary",
    "status",
    "issuetype",
    "project",
    "labels",
    "components",
    "priority",
    "created",
    "updated",
    "resolutiondate",
    "description",
    "parent",
    "issuelinks",
)
EPIC = "Epic"
#: Owned fields read only on the kinds of issue they are written on (sync.owned). The PM and the
#: team are read on every issue: a Team someone set decides the issue's team, wherever it is.
ONLY_ON = {name: owned_fields.written_on("jira", name) for name in ("initiative", "health", "briefing_link")}
#: Owned fields held as plain strings (a text or URL field).
TEXT_FIELDS = ("initiative", "briefing_link")


#: Jira's status categories, which relais decides on; anything else is an item it cannot read as meant.
STATUS_CATEGORIES = frozenset({"new", "indeterminate", "done", "undefined"})


def check(item: WorkItem) -> None:
    """What a Jira item's own values must be (connectors.base.checked)."""
    check_status_category(item, STATUS_CATEGORIES)


def _frozen(d: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(d or {}))


@dataclass(frozen=True)
class JiraMapping:
    """What maps an issue on one site: its URL and the field ids resolved at connect."""

    base_url: str  # https://example.atlassian.net, no trailing slash
    #: writeback.jira.work_type is configured: the work type is read (and may be written).
    work_type: bool = False
    work_type_field: str | None = None  # its single-select field id, or None: managed labels
    labels_prefix: str | None = None  # the managed labels' prefix ("relais-")
    #: logical owned name (pm, team, initiative, health, briefing_link) -> field id
    routing_fields: Mapping[str, str] = field(default_factory=dict)
    #: feedback attribute (origin, customer, tier, area) -> field id
    feedback_fields: Mapping[str, str] = field(default_factory=dict)
    points_field: str | None = None  # story points field id
    worklogs: bool = False  # read worklogs (balance.effort.jira measures them)

    def __post_init__(self) -> None:
        object.__setattr__(self, "routing_fields", _frozen(self.routing_fields))
        object.__setattr__(self, "feedback_fields", _frozen(self.feedback_fields))


def search_fields(m: JiraMapping) -> list[str]:
    """The ``fields`` a search asks for: what :func:`to_item` reads, and nothing else."""
    fields = list(BASE_FIELDS) + [
        f
        for f in (m.work_type_field, m.points_field, *m.routing_fields.values(), *m.feedback_fields.values())
        if f
    ]
    if m.worklogs:
        fields.append("worklog")
    return fields


def to_item(raw: dict[str, Any], m: JiraMapping, kind: str = "issue") -> WorkItem:
    """One issue (``IssueBean`` with ``fields``) as a work item of ``kind`` (issue or feedback;
    an issue of type Epic becomes an epic)."""
    f = raw["fields"]
    if not isinstance(f.get("labels") or [], list):  # a string would become one label per letter
        raise ValueError(f"labels: expected a list, got {str(f['labels'])[:40]!r}")
    labels = tuple(f.get("labels") or ())
    prefix = m.labels_prefix if m.work_type else None
    owned: dict[str, Any] = {}
    if m.work_type:
        if m.work_type_field:
            value = f.get(m.work_type_field)
            owned["work_type"] = value.get("value") if isinstance(value, dict) else None
        elif prefix:
            managed = sorted(lb[len(prefix) :] for lb in labels if lb.startswith(prefix))
            owned["work_type"] = ",".join(managed) or None
    issuetype = (f.get("issuetype") or {}).get("name")
    if kind == "issue" and issuetype == EPIC:
        kind = "epic"
    for name, fid in m.routing_fields.items():
        if kind not in ONLY_ON.get(name, (kind,)):
            continue
        value = f.get(fid)
        if name in TEXT_FIELDS:
            owned[name] = value or None  # a URL field holds a plain string
        else:
            owned[name] = (
                (value.get("accountId") if name == "pm" else value.get("value"))
                if isinstance(value, dict)
                else None
            )
    if prefix:  # our own labels never feed classification (that would be an echo loop)
        labels = tuple(lb for lb in labels if not lb.startswith(prefix))
    status = f.get("status") or {}
    feedback: dict[str, Any] = (
        {name: field_text(f.get(fid)) for name, fid in m.feedback_fields.items()}
        if kind == "feedback"
        else {}
    )
    return WorkItem(
        source="jira",
        id=str(raw["id"]),
        key=raw["key"],
        kind=kind,
        title=f.get("summary") or "",
        text=adf_text(f.get("description")).strip(),
        url=f"{m.base_url}/browse/{raw['key']}",
        updated=parse_time(f["updated"]),  # type: ignore[arg-type]  # checked() rejects None
        created=parse_time(f.get("created")) or parse_time(f["updated"]),  # type: ignore[arg-type]
        status=status.get("name"),
        status_category=(status.get("statusCategory") or {}).get("key"),
        project=(f.get("project") or {}).get("key"),
        issuetype=issuetype,
        parent=(f.get("parent") or {}).get("key"),
        links=issue_links(f.get("issuelinks")),
        labels=labels,
        components=tuple(c.get("name", "") for c in f.get("components") or ()),
        priority=(f.get("priority") or {}).get("name"),
        resolved=parse_time(f.get("resolutiondate")),
        worklogs=tuple(
            (parse_time(w["started"]), float(w["timeSpentSeconds"]))  # type: ignore[misc]
            for w in (f.get("worklog") or {}).get("worklogs") or ()
        ),
        points=float(f[m.points_field]) if m.points_field and f.get(m.points_field) is not None else None,
        owned=owned,
        **feedback,
    )


def write_body(changes: list[FieldChange], m: JiraMapping) -> dict[str, Any]:
    """The ``PUT /issue/{id}`` body setting these owned-field changes, and nothing else."""
    body: dict[str, Any] = {}
    for ch in changes:
        if ch.field in TEXT_FIELDS and ch.field in m.routing_fields:
            url = ch.new[0] if isinstance(ch.new, tuple) else ch.new
            body.setdefault("fields", {})[m.routing_fields[ch.field]] = url or None
            continue
        if ch.field in m.routing_fields:
            key = "accountId" if ch.field == "pm" else "value"
            body.setdefault("fields", {})[m.routing_fields[ch.field]] = {key: ch.new} if ch.new else None
            continue
        if ch.field != "work_type":
            raise ValueError(f"jira: no write mapping for owned field {ch.field!r}")
        if m.work_type_field:
            body.setdefault("fields", {})[m.work_type_field] = {"value": ch.new} if ch.new else None
        else:
            prefix = m.labels_prefix
            if prefix is None:
                raise ValueError("jira: the work type has neither a field nor a labels prefix to go in")
            ops = [{"remove": prefix + old} for old in (ch.old or "").split(",") if old]
            if ch.new:
                ops.append({"add": prefix + ch.new})
            body.setdefault("update", {})["labels"] = ops
    return body


def followup_fields(f: Any, m: JiraMapping) -> dict[str, Any]:
    """The ``POST /issue`` body's fields for a follow-up (sync.followups.Followup): its work type
    and team set like relais' own writes."""
    labels = list(f.labels)
    fields: dict[str, Any] = {
        "project": {"key": f.project},
        "issuetype": {"name": f.issuetype},
        "summary": f.summary,
        "description": {
            "type": "doc",
            "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": f.description}]}],
        },
    }
    if m.work_type_field:
        fields[m.work_type_field] = {"value": f.work_type}
    elif m.work_type and m.labels_prefix:
        labels.append(m.labels_prefix + f.work_type)
    if "team" in m.routing_fields:
        fields[m.routing_fields["team"]] = {"value": f.team}
    fields["labels"] = labels
    return fields


def followup_owned(f: Any, m: JiraMapping) -> dict[str, Any]:
    """The owned values a follow-up is created with (audited as relais' own)."""
    out: dict[str, Any] = {}
    if m.work_type_field or (m.work_type and m.labels_prefix):
        out["work_type"] = f.work_type
    if "team" in m.routing_fields:
        out["team"] = f.team
    return out


# -- field values --------------------------------------------------------------------------------
def field_text(value: Any) -> str | None:
    """A select ({"value": …}), a text field, or rich text (ADF) as plain text."""
    if isinstance(value, dict) and "value" in value:
        return value["value"] or None
    text = adf_text(value).strip() if isinstance(value, (dict, list)) else (value or "")
    return text or None


def issue_links(links: Any) -> tuple[tuple[str, str, str, str | None], ...]:
    """Jira's ``issuelinks`` as (type, how it reads from this issue, other key, other status category).

    A link shows on each of its two issues: the one that "is blocked by" sees the other
    as ``inwardIssue`` with the type's ``inward`` phrase, the blocker as ``outwardIssue``
    with the ``outward`` phrase ("blocks")."""
    out = []
    for link in links or ():
        kind = link.get("type") or {}
        side = "inward" if "inwardIssue" in link else "outward"
        other = link.get(f"{side}Issue") or {}
        status = ((other.get("fields") or {}).get("status") or {}).get("statusCategory") or {}
        out.append((kind.get("name") or "", kind.get(side) or "", other["key"], status.get("key")))
    return tuple(out)


def adf_text(node: Any) -> str:
    """Flatten Atlassian Document Format (v3 rich text) to plain text."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        inner = " ".join(adf_text(c) for c in node.get("content") or [])
        return inner
    if isinstance(node, list):
        return " ".join(adf_text(c) for c in node)
    return ""


# -- errors --------------------------------------------------------------------------------------
def describe_error(status: int, headers: Mapping[str, str], body: bytes) -> tuple[str, str | None]:
    """An error answer as (what to tell the operator, Jira's request id)."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return (body[:200].decode("utf-8", "replace").strip() or "no body"), None
    msgs = list(data.get("errorMessages") or []) if isinstance(data, dict) else []
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, dict):
        msgs += [f"{k}: {v}" for k, v in errors.items()]
    elif isinstance(errors, list):  # the bulk endpoints: {"errors": [{"message": …}]}
        msgs += [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors]
    request_id = next((v for k, v in headers.items() if k.lower() == "x-arequestid"), None)
    if status == 401:
        msgs.insert(
            0,
            f"authentication failed: check {' and '.join(c.variable for c in CREDENTIALS)} "
            "(an API token from id.atlassian.com, for that email)",
        )
    return ("; ".join(str(m) for m in msgs) or f"HTTP {status}"), request_id


# -- relais check: what an owned field must be, and how to say what is missing ---------------------
_PLUGIN = "com.atlassian.jira.plugin.system.customfieldtypes:"
#: schema type → (how people call such a field, the plugin and searcher ``POST /field`` creates)
FIELD_KINDS = {
    "option": ("single-select", "select", "multiselectsearcher"),
    "user": ("user-picker", "userpicker", "userpickergroupsearcher"),
    "string": ("URL", "url", "exacttextsearcher"),
}
TEAM_VOCABULARY = (
    "Jira's Team options are the team keys of `teams:`; Notion's Team select holds the team names"
)


def kind_word(kind: str) -> str:
    """How the Jira UI names a field of this schema type ("single-select")."""
    return "text or URL" if kind == "string" else FIELD_KINDS.get(kind, (kind,))[0]


def field_to_create(name: str, kind: str, options: tuple[str, ...]) -> str:
    """``a single-select custom field 'Health' with options On track, At risk``."""
    what = f"a {FIELD_KINDS.get(kind, (kind,))[0]} custom field {name!r}"
    return f"{what} with options {', '.join(options)}" if options else what


def create_field_body(name: str, kind: str) -> dict[str, Any]:
    """``POST /field``: the custom field relais needs (``CustomFieldDefinitionJsonBean``)."""
    _, plugin, searcher = FIELD_KINDS[kind]
    return {
        "name": name,
        "type": _PLUGIN + plugin,
        "searcherKey": _PLUGIN + searcher,
        "description": "Written by relais",
    }


def field_kind(f: Mapping[str, Any]) -> str:
    """What a listed field is, in the UI's words (for a field of the wrong type)."""
    schema = f.get("schema") or {}
    custom = str(schema.get("custom") or "").removeprefix(_PLUGIN)
    words = {
        "textfield": "short text",
        "textarea": "paragraph",
        "float": "number",
        "multiselect": "multi-select",
    }
    return words.get(custom) or kind_word(str(schema.get("type") or "unknown"))
