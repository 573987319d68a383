"""Jira data: the field catalogue, seeded issues, ADF, and the ``fields`` parameter.

Issues are stored as compact records (plain values, datetimes, account ids)
and rendered to the Cloud v3 ``IssueBean`` shape on every read
(:mod:`sandbox.jira_render`), so a 50,000-issue tenant stays small in memory
and every read sees current state. The catalogue follows
``jira-cloud-platform-openapi.json`` (FieldDetails).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from . import jira_epics as je
from . import jira_feedback as jf
from . import jira_routing as jr
from .org import Org
from .timeutil import floor_ms

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
ISSUE_TYPES = {  # name -> (id, description, avatarId); hierarchy levels in jira_epics.HIERARCHY
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


def _system(
    fid: str,
    name: str,
    schema: dict[str, Any] | None,
    clauses: list[str],
    orderable: bool = True,
    searchable: bool = True,
) -> dict[str, Any]:
    field: dict[str, Any] = {
        "id": fid,
        "key": fid,
        "name": name,
        "custom": False,
        "orderable": orderable,
        "navigable": True,
        "searchable": searchable,
        "clauseNames": clauses,
    }
    if schema is not None:
        field["schema"] = schema
    return field


FIELDS: list[dict[str, Any]] = [
    _system("issuekey", "Key", None, ["id", "issue", "issuekey", "key"], orderable=False, searchable=False),
    _system("summary", "Summary", {"type": "string", "system": "summary"}, ["summary"]),
    _system("description", "Description", {"type": "string", "system": "description"}, ["description"]),
    _system("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}, ["issuetype", "type"]),
    _system("project", "Project", {"type": "project", "system": "project"}, ["project"], orderable=False),
    _system("status", "Status", {"type": "status", "system": "status"}, ["status"], orderable=False),
    _system("priority", "Priority", {"type": "priority", "system": "priority"}, ["priority"]),
    _system("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}, ["labels"]),
    _system(
        "components",
        "Components",
        {"type": "array", "items": "component", "system": "components"},
        ["component"],
    ),
    _system("assignee", "Assignee", {"type": "user", "system": "assignee"}, ["assignee"]),
    _system("reporter", "Reporter", {"type": "user", "system": "reporter"}, ["reporter"]),
    _system(
        "created",
        "Created",
        {"type": "datetime", "system": "created"},
        ["created", "createdDate"],
        orderable=False,
    ),
    _system(
        "updated",
        "Updated",
        {"type": "datetime", "system": "updated"},
        ["updated", "updatedDate"],
        orderable=False,
    ),
    _system("resolution", "Resolution", {"type": "resolution", "system": "resolution"}, ["resolution"]),
    _system(
        "resolutiondate",
        "Resolved",
        {"type": "datetime", "system": "resolutiondate"},
        ["resolutiondate", "resolved"],
        orderable=False,
    ),
    {
        "id": STORY_POINTS,
        "key": STORY_POINTS,
        "name": "Story Points",
        "custom": True,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": ["cf[10016]", "Story Points", "Story Points[Number]"],
        "schema": {
            "type": "number",
            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float",
            "customId": 10016,
        },
    },
    # Not navigable: ``*navigable`` leaves it out, ``*all`` or naming it brings it in.
    _system(
        "worklog", "Log Work", {"type": "array", "items": "worklog", "system": "worklog"}, [], searchable=True
    )
    | {"navigable": False},
    {
        "id": WORK_TYPE,
        "key": WORK_TYPE,
        "name": "Work type",
        "custom": True,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": ["cf[10050]", "Work type", "Work type[Dropdown]"],
        "schema": {
            "type": "option",
            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select",
            "customId": 10050,
        },
    },
    *jr.FIELDS,  # Product Manager, Team, Briefing link (relais' routing)
    *jf.FIELDS,  # Origin, Customer, Tier, Area (the FB project's feedback)
    # As Jira Cloud lists them: parent has no schema and is not "searchable", yet JQL knows `parent`.
    {
        "id": "parent",
        "key": "parent",
        "name": "Parent",
        "custom": False,
        "orderable": False,
        "navigable": True,
        "searchable": False,
        "clauseNames": ["parent"],
    },
    _system(
        "issuelinks", "Linked Issues", {"type": "array", "items": "issuelinks", "system": "issuelinks"}, []
    ),
    *je.FIELDS,  # Health (relais' initiative status, on epics)
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
    *jr.ROUTING_FIELDS,
    *jf.FIELD_IDS,
    "parent",
    je.HEALTH,
}

_THINGS = [
    "refund",
    "invoice export",
    "login",
    "webhook retry",
    "search filter",
    "password reset",
    "card payment",
    "ticket assignment",
    "CSV import",
    "API pagination",
]
_CONDITIONS = [
    "the amount has three decimals",
    "the session expires",
    "two tabs are open",
    "the locale is fr-FR",
    "the payload exceeds 1 MB",
    "the customer has no email",
]
_CUSTOMERS = [
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark Retail",
    "Wayne Logistics",
    "Soylent",
    "Acme Travel",
]
_ACTIONS = [
    "download invoices",
    "reset 2FA",
    "export their data",
    "add a second admin",
    "change billing currency",
]
_FEATURES = [
    "instant refunds",
    "multi-currency invoices",
    "SSO for enterprise",
    "audit log export",
    "self-serve plan upgrades",
    "saved searches",
    "usage-based billing",
    "status page widget",
]
_TASKS = {
    "tech-debt": ["Remove legacy {x} client", "Split the {x} god module", "Delete dead {x} feature flags"],
    "tooling": ["Automate {x} release notes", "Add a CLI to replay {x} events", "Lint {x} migrations in CI"],
    "maintenance": ["Upgrade {x} to Python 3.12", "Rotate {x} certificates", "Patch {x} base image CVEs"],
}


def expected_work_type(issuetype: str, labels: Iterable[str]) -> str:
    """What the example config's classify rules decide (used to seed right/wrong values)."""
    labels = set(labels)
    if issuetype in ("Bug", "Support") or labels & {"maintenance", "ops"}:
        return "RUN"
    if labels & {"tech-debt", "tooling", "training"}:
        return "IMPROVE"
    return "BUILD"


def build_issues(org: Org) -> tuple[list[dict[str, Any]], Any]:
    """Seeded issues, oldest first, with their worklogs, and the worklog plan
    (:class:`sandbox.jira_worklogs.Plan`)."""
    from .jira_worklogs import seed_worklogs

    records = list(_seeded_issues(org))
    plan = seed_worklogs(org, records)
    jr.seed_routing(org, records)  # after the worklogs: a person's edit lies before the final `updated`
    return records, plan


def iter_issues(org: Org) -> Iterator[dict[str, Any]]:
    """Seeded issues, oldest first, as compact records (worklogs included)."""
    yield from build_issues(org)[0]


def _seeded_issues(org: Org) -> Iterator[dict[str, Any]]:
    rng = org.rng("jira")
    n = org.counts["issues"]
    span = (org.anchor - org.start).total_seconds() - 3600
    counters: dict[str, int] = {}
    created_offsets = sorted(rng.random() * span for _ in range(n))
    for i in range(n):
        team = org.teams[rng.randrange(len(org.teams))]
        members = org.members(team.slug) or org.people
        counters[team.project_key] = counters.get(team.project_key, 0) + 1
        issuetype = rng.choices(["Bug", "Support", "Story", "Task"], [25, 15, 35, 25])[0]
        component = rng.choice(team.components)
        labels: list[str] = []
        if issuetype == "Bug":
            summary = f"{component}: {rng.choice(_THINGS)} fails when {rng.choice(_CONDITIONS)}"
            if rng.random() < 0.3:
                labels.append("customer")
        elif issuetype == "Support":
            summary = f"{rng.choice(_CUSTOMERS)} cannot {rng.choice(_ACTIONS)}"
        elif issuetype == "Story":
            summary = f"{rng.choice(['Ship', 'Add', 'Launch', 'Build'])} {rng.choice(_FEATURES)}"
            labels.append("roadmap")
        else:
            label = rng.choice(["tech-debt", "tooling", "maintenance", "tech-debt"])
            labels.append(label)
            summary = rng.choice(_TASKS[label]).format(x=component)
        created = floor_ms(org.start + timedelta(seconds=created_offsets[i]))
        life = (org.anchor - created).total_seconds()
        updated = floor_ms(created + timedelta(seconds=rng.random() * life * 0.9))
        status = rng.choices(list(STATUSES), [20, 25, 10, 45])[0]
        resolved = None
        if status == "Done":
            resolved = updated
        points = None
        if issuetype in ("Story", "Task") or rng.random() < 0.3:
            points = float(rng.choice([1, 2, 3, 5, 8, 13])) if rng.random() < 0.85 else None
        work_type = None
        if i % 12 == 3:
            work_type = WORK_TYPE_IDS[expected_work_type(issuetype, labels)]
        elif i == 7:  # one deliberately wrong value so a demo has a correction to make
            right = expected_work_type(issuetype, labels)
            work_type = WORK_TYPE_IDS["BUILD" if right != "BUILD" else "RUN"]
        yield {
            "id": str(10001 + i),
            "key": f"{team.project_key}-{counters[team.project_key]}",
            "project": team.project_key,
            "issuetype": issuetype,
            "summary": summary,
            "description": f"{summary}.\n\nReported against {component}." if rng.random() < 0.8 else None,
            "status": status,
            "priority": rng.choices(list(PRIORITIES), [5, 20, 45, 20, 10])[0],
            "labels": labels,
            "components": [component],
            "assignee": rng.choice(members).jira_account_id if rng.random() < 0.9 else None,
            "reporter": rng.choice(org.people).jira_account_id,
            "created": created,
            "updated": updated,
            "resolutiondate": resolved,
            STORY_POINTS: points,
            WORK_TYPE: work_type,
            "changelog": [],
        }


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


def select_fields(tokens: list[str] | None, default: str) -> list[str] | None:
    """Resolve a ``fields`` parameter (``*all``, ``*navigable``, ``-x``, ids) to field ids.

    Returns None when only ``id``/``key`` were asked for; unknown ids are
    ignored, as Jira does.
    """
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
            include += [f for f in NAVIGABLE_IDS if f not in include]
        elif token.startswith("-"):
            exclude.add(token[1:])
        elif token in FIELD_IDS and token not in include:
            include.append(token)
    if everything:
        include = list(FIELD_IDS)
    elif exclude and not include:
        include = list(NAVIGABLE_IDS)  # "-x" alone means "navigable fields except x"
    elif not include:
        return None
    return [f for f in include if f not in exclude]
