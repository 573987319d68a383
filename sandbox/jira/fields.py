"""The Jira tenant's vocabulary: fields, their ids and names, options, statuses, types, projects.

What the fake and the seed generators share, and nothing that draws from an RNG. The catalogue
follows ``jira-cloud-platform-openapi.json`` (FieldDetails). Custom fields come in families
(:mod:`sandbox.jira.families` says how each family reads, writes and searches):

- ``customfield_10050`` "Work type" (RUN, BUILD, IMPROVE) and ``customfield_10016`` "Story
  Points", on every issue.
- relais' routing, on every issue: ``customfield_10060`` "Product Manager" (a single user
  picker: a user of the org), ``customfield_10070`` "Team" (a single select whose options are
  the org's team keys, option ids ``10200 + i``), ``customfield_10080`` "Briefing link" (a URL).
- the FB project's feedback, on that project's screens only (like a field context limited to
  one project: elsewhere they read ``null`` and a write is Jira's "cannot be set"):
  ``customfield_10090`` "Origin" (Sales, Support, Account management; options ``10300…``),
  ``customfield_10091`` "Customer" (short text, 255 characters at most), ``customfield_10092``
  "Tier" (SMB, Mid-market, Enterprise; ``10310…``), ``customfield_10093`` "Area" (Billing,
  Search, API, Exports, Security, Onboarding, Dashboard; ``10320…``).
- ``customfield_10094`` "Health" (On track, At risk, Off track, Blocked; options ``10330…``),
  relais' initiative status on epics, on the teams' projects like Work type.

Issue type ``Epic`` is ``hierarchyLevel`` 1, every other type 0 (:data:`HIERARCHY`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..org import Org

WORK_TYPE = "customfield_10050"
STORY_POINTS = "customfield_10016"
WORK_TYPE_OPTIONS = {"10100": "RUN", "10101": "BUILD", "10102": "IMPROVE"}
WORK_TYPE_IDS = {v: k for k, v in WORK_TYPE_OPTIONS.items()}

# name -> (id, statusCategory id, key, colorName, category name)
STATUSES = {
    "To Do": ("10000", 2, "new", "blue-gray", "To Do"),
    "In Progress": ("3", 4, "indeterminate", "yellow", "In Progress"),
    "In Review": ("10001", 4, "indeterminate", "yellow", "In Progress"),
    "Done": ("10002", 3, "done", "green", "Done"),
}
ISSUE_TYPES = {  # name -> (id, description, avatarId); hierarchy levels in HIERARCHY
    "Epic": ("10000", "A big user story that needs to be broken down.", 10307),  # relais' initiatives
    "Story": ("10001", "Functionality or a feature expressed as a user goal.", 10315),
    "Task": ("10002", "A small, distinct piece of work.", 10318),
    "Bug": ("10004", "A problem or error.", 10303),
    "Support": ("10005", "A request from a customer or a colleague.", 10320),
    "Feedback": ("10006", "What a customer told sales, support or account management.", 10311),  # FB only
}
# projectCategory (id, name, description): the teams' projects, and the feedback project
PRODUCT_CATEGORY = ("10000", "Product", "Product engineering teams")
CUSTOMER_CATEGORY = ("10001", "Customer", "What customers ask for, before a team takes it")
PRIORITIES = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
PRIORITY_RANK = {name: int(pid) for name, pid in PRIORITIES.items()}


def field_def(
    fid: str,
    name: str,
    clauses: list[str],
    schema: dict[str, Any] | None = None,
    *,
    custom: bool = False,
    orderable: bool = True,
    navigable: bool = True,
    searchable: bool = True,
) -> dict[str, Any]:
    """A field as ``GET /rest/api/3/field`` lists it (``FieldDetails``); an admin's new custom
    field too (:mod:`sandbox.jira.catalogue`)."""
    field: dict[str, Any] = {
        "id": fid,
        "key": fid,
        "name": name,
        "custom": custom,
        "orderable": orderable,
        "navigable": navigable,
        "searchable": searchable,
        "clauseNames": clauses,
    }
    if schema is not None:
        field["schema"] = schema
    return field


def _system(
    fid: str, name: str, kind: str | None, clauses: list[str], items: str = "", **flags: bool
) -> dict[str, Any]:
    """A system field; its schema's type is ``kind`` (an ``array`` of ``items``), None for none."""
    schema = None if kind is None else {"type": kind, **({"items": items} if items else {}), "system": fid}
    return field_def(fid, name, clauses, schema, **flags)


EPIC = "Epic"
HIERARCHY = {EPIC: 1}  # issuetype name -> hierarchyLevel; others 0
WRONG_HIERARCHY = "Given parent work item does not belong to appropriate hierarchy."

# The feedback project: no relais team owns it (apart from the teams' projects, 10000 + team index).
FEEDBACK_PROJECT_KEY = "FB"
FEEDBACK_PROJECT_NAME = "Customer feedback"
FEEDBACK_PROJECT_ID = "10900"
FEEDBACK_ISSUE_TYPE = "Feedback"

# relais' routing
PM = "customfield_10060"
TEAM = "customfield_10070"
BRIEFING_LINK = "customfield_10080"
ROUTING_FIELDS = (PM, TEAM, BRIEFING_LINK)
FIRST_TEAM_OPTION = 10200

# the FB project's feedback
ORIGIN = "customfield_10090"
CUSTOMER = "customfield_10091"
TIER = "customfield_10092"
AREA = "customfield_10093"
FEEDBACK_FIELDS = (ORIGIN, CUSTOMER, TIER, AREA)
FEEDBACK_SELECTS: dict[str, dict[str, str]] = {  # field id -> option id -> value
    ORIGIN: {str(10300 + i): v for i, v in enumerate(["Sales", "Support", "Account management"])},
    TIER: {str(10310 + i): v for i, v in enumerate(["SMB", "Mid-market", "Enterprise"])},
    AREA: {
        str(10320 + i): v
        for i, v in enumerate(["Billing", "Search", "API", "Exports", "Security", "Onboarding", "Dashboard"])
    },
}
TEXT_LIMIT = 255  # a short text field's characters

# relais' initiative status, on epics
HEALTH = "customfield_10094"
HEALTH_OPTIONS = {str(10330 + i): v for i, v in enumerate(["On track", "At risk", "Off track", "Blocked"])}


def team_options(org: Org) -> dict[str, str]:
    """Option id → team key."""
    return {str(FIRST_TEAM_OPTION + i): t.slug for i, t in enumerate(org.teams)}


_PLUGIN = "com.atlassian.jira.plugin.system.customfieldtypes:"


def _custom(fid: str, name: str, searcher: str, kind: str, plugin: str) -> dict[str, Any]:
    """A custom field of the ``plugin`` type (its schema's type is ``kind``), searched by ``searcher``."""
    number = fid.rsplit("_", 1)[1]
    clauses = [f"cf[{number}]", name, f"{name}[{searcher}]"]
    return field_def(
        fid, name, clauses, {"type": kind, "custom": _PLUGIN + plugin, "customId": int(number)}, custom=True
    )


ROUTING_FIELD_DEFS = [
    _custom(PM, "Product Manager", "User Picker (single user)", "user", "userpicker"),
    _custom(TEAM, "Team", "Dropdown", "option", "select"),
    _custom(BRIEFING_LINK, "Briefing link", "URL Field", "string", "url"),
]
FEEDBACK_FIELD_DEFS = [
    _custom(ORIGIN, "Origin", "Dropdown", "option", "select"),
    _custom(CUSTOMER, "Customer", "Short text", "string", "textfield"),
    _custom(TIER, "Tier", "Dropdown", "option", "select"),
    _custom(AREA, "Area", "Dropdown", "option", "select"),
]
HEALTH_FIELD_DEFS = [
    _custom(HEALTH, "Health", "Dropdown", "option", "select"),
]

FIELDS: list[dict[str, Any]] = [
    _system("issuekey", "Key", None, ["id", "issue", "issuekey", "key"], orderable=False, searchable=False),
    _system("summary", "Summary", "string", ["summary"]),
    _system("description", "Description", "string", ["description"]),
    _system("issuetype", "Issue Type", "issuetype", ["issuetype", "type"]),
    _system("project", "Project", "project", ["project"], orderable=False),
    _system("status", "Status", "status", ["status"], orderable=False),
    _system("priority", "Priority", "priority", ["priority"]),
    _system("labels", "Labels", "array", ["labels"], items="string"),
    _system("components", "Components", "array", ["component"], items="component"),
    _system("assignee", "Assignee", "user", ["assignee"]),
    _system("reporter", "Reporter", "user", ["reporter"]),
    _system("created", "Created", "datetime", ["created", "createdDate"], orderable=False),
    _system("updated", "Updated", "datetime", ["updated", "updatedDate"], orderable=False),
    _system("resolution", "Resolution", "resolution", ["resolution"]),
    _system("resolutiondate", "Resolved", "datetime", ["resolutiondate", "resolved"], orderable=False),
    _custom(STORY_POINTS, "Story Points", "Number", "number", "float"),
    # Not navigable: ``*navigable`` leaves it out, ``*all`` or naming it brings it in.
    _system("worklog", "Log Work", "array", [], items="worklog", navigable=False),
    _custom(WORK_TYPE, "Work type", "Dropdown", "option", "select"),
    *ROUTING_FIELD_DEFS,  # Product Manager, Team, Briefing link (relais' routing)
    *FEEDBACK_FIELD_DEFS,  # Origin, Customer, Tier, Area (the FB project's feedback)
    # As Jira Cloud lists them: parent has no schema and is not "searchable", yet JQL knows `parent`.
    _system("parent", "Parent", None, ["parent"], orderable=False, searchable=False),
    _system("issuelinks", "Linked Issues", "array", [], items="issuelinks"),
    *HEALTH_FIELD_DEFS,  # Health (relais' initiative status, on epics)
]
FIELD_IDS = [f["id"] for f in FIELDS if f["id"] != "issuekey"]
NAVIGABLE_IDS = [f["id"] for f in FIELDS if f["id"] != "issuekey" and f["navigable"]]
EMBEDDED_WORKLOGS = 20  # search and issue bodies carry at most this many; the rest via /issue/{id}/worklog
FIELD_NAMES = {f["id"]: f["name"] for f in FIELDS}
EDITABLE = {
    "summary",
    "description",
    "issuetype",
    "priority",
    "labels",
    "components",
    "assignee",
    "reporter",
    STORY_POINTS,
    WORK_TYPE,
    *ROUTING_FIELDS,
    *FEEDBACK_FIELDS,
    "parent",
    HEALTH,
}


def expected_work_type(issuetype: str, labels: Iterable[str]) -> str:
    """What the example config's classify rules decide (used to seed right/wrong values)."""
    labels = set(labels)
    if issuetype in ("Bug", "Support") or labels & {"maintenance", "ops"}:
        return "RUN"
    if labels & {"tech-debt", "tooling", "training"}:
        return "IMPROVE"
    return "BUILD"


def adf(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    paragraphs = list(text.split("\n\n"))
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": p}] if p else []} for p in paragraphs
        ],
    }


def adf_text(doc: Any) -> str | None:
    """Plain text of an ADF document (what the sandbox stores)."""
    if doc is None:
        return None
    if isinstance(doc, str):
        return doc
    parts: list[str] = []
    for block in doc.get("content", []):
        parts.append(
            "".join(node.get("text", "") for node in block.get("content", []) if isinstance(node, dict))
        )
    return "\n\n".join(parts)


def select_fields(
    tokens: list[str] | None,
    default: str,
    known: list[str] | None = None,
    navigable: list[str] | None = None,
) -> list[str] | None:
    """Resolve a ``fields`` parameter (``*all``, ``*navigable``, ``-x``, ids) to field ids
    (``known``/``navigable``: the site's fields, :mod:`sandbox.jira.catalogue`).

    Returns None when only ``id``/``key`` were asked for; unknown ids are
    ignored, as Jira does.
    """
    field_ids = FIELD_IDS if known is None else known
    navigable_ids = NAVIGABLE_IDS if navigable is None else navigable
    if not tokens:
        tokens = [default]
    include: list[str] = []
    exclude: set[str] = set()
    everything = False
    for token in tokens:
        token = token.strip()
        if not token:
            continue
        if token == "*all":
            everything = True
        elif token == "*navigable":
            include += [f for f in navigable_ids if f not in include]
        elif token.startswith("-"):
            exclude.add(token[1:])
        elif token in field_ids and token not in include:
            include.append(token)
    if everything:
        include = list(field_ids)
    elif exclude and not include:
        include = list(navigable_ids)  # "-x" alone means "navigable fields except x"
    elif not include:
        return None
    return [f for f in include if f not in exclude]
