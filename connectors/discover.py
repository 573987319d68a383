"""What ``relais init`` reads of each tool, as plain data: one ``discover_<vendor>`` per vendor.

Each builds the vendor's connector (so that discovery goes through the same official client,
TLS bundle, pacing and retries as a sync) from a :class:`Where` — the URL and CA bundle the
user gave, no config yet — and reads only what proposing a config needs:

Jira (REST v3)
  ``GET /serverInfo`` (must be Cloud), ``GET /myself`` (its time zone), ``GET /project/search?expand=lead``
  (paged), ``GET /issuetype``,
  ``GET /status``, ``GET /issueLinkType``, ``GET /field``, the contexts and options of each
  select custom field (``GET /field/{id}/context``, ``…/context/{id}/option``), and
  ``GET /users/search`` (paged; an email only where the user's privacy settings show it).
Notion (2025-09-03)
  ``POST /v1/search`` filtered to data sources (their database, title and properties in one
  answer), ``GET /v1/users`` (paged).
PagerDuty
  ``GET /services``, ``GET /teams``, ``GET /users`` (each paged by the client).

The private parts of the ``jira`` library stay in :mod:`connectors.jira_client`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.base import PageGuard
from connectors.errors import ConfigMismatchError

#: Discovery reads little; a gentle pace that every vendor's published limit allows.
REQUESTS_PER_SECOND = 3.0


@dataclass(frozen=True)
class Where:
    """The source settings a connector needs, before any config exists (its ``SourceSettings``)."""

    url: str
    ca_bundle: Path | None = None
    overlap_minutes: int = 0
    requests_per_second: float = REQUESTS_PER_SECOND
    timeout_seconds: float = 30.0
    # What the connectors' constructors read of their slice, unused by discovery:
    jql: str = ""
    feedback_jql: str | None = None
    feedback_fields: Any = None
    page_size: int = 100
    bulk_edit: bool = False
    databases: Any = None
    properties: Any = None
    services: Sequence[str] = ()
    from_email: str = ""
    first_sync_days: int = 1


@dataclass(frozen=True)
class Account:
    """A person in one tool: their id there, display name and email (None where hidden)."""

    id: str
    name: str
    email: str | None


# -- Jira --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JiraProject:
    key: str
    name: str
    id: str
    lead: str | None = None  # the project lead's account id


@dataclass(frozen=True)
class JiraContext:
    id: str
    name: str
    is_global: bool
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class JiraField:
    id: str
    name: str
    custom: bool
    type: str  # schema.type: "option", "user", "string", "number", "array"…; "" when none
    contexts: tuple[JiraContext, ...] = ()

    @property
    def options(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(o for c in self.contexts for o in c.options))


@dataclass
class JiraSite:
    url: str
    time_zone: str = "UTC"  # the API user's, from /myself
    projects: list[JiraProject] = field(default_factory=list)
    issue_types: list[str] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)  # name -> status category key
    link_types: list[str] = field(default_factory=list)
    fields: list[JiraField] = field(default_factory=list)
    users: list[Account] = field(default_factory=list)


def discover_jira(where: Where, email: str, token: str) -> JiraSite:
    from connectors.jira import JiraConnector

    connector = JiraConnector(where, email, token)  # Where meets its SourceSettings
    client = connector.client
    try:
        client.server_info()
        if client.deployment_type != "Cloud":
            raise ConfigMismatchError(
                "jira", f"{where.url} is not Jira Cloud; relais reads Jira Cloud's REST API v3"
            )
        site = JiraSite(url=where.url.rstrip("/"), time_zone=str(client.myself().get("timeZone") or "UTC"))
        site.projects = [
            JiraProject(
                str(p["key"]),
                str(p.get("name") or p["key"]),
                str(p.get("id") or ""),
                (p.get("lead") or {}).get("accountId"),
            )
            for p in client.paged("project/search", page_size=50, expand="lead")
        ]
        site.issue_types = list(dict.fromkeys(str(t["name"]) for t in client.get_json("issuetype")))
        site.statuses = {
            str(s["name"]): str((s.get("statusCategory") or {}).get("key") or "")
            for s in client.get_json("status")
        }
        site.link_types = [str(t["name"]) for t in client.get_json("issueLinkType").get("issueLinkTypes", [])]
        for f in client.fields():
            kind = str((f.get("schema") or {}).get("type") or "")
            items = str((f.get("schema") or {}).get("items") or "")
            contexts: tuple[JiraContext, ...] = ()
            if f.get("custom") and "option" in (kind, items):
                contexts = tuple(
                    JiraContext(
                        str(c["id"]),
                        str(c.get("name") or ""),
                        bool(c.get("isGlobalContext")),
                        tuple(
                            str(o["value"])
                            for o in client.paged(f"field/{f['id']}/context/{c['id']}/option")
                            if not o.get("disabled")
                        ),
                    )
                    for c in client.paged(f"field/{f['id']}/context")
                )
            site.fields.append(
                JiraField(str(f["id"]), str(f.get("name") or ""), bool(f.get("custom")), kind, contexts)
            )
        users: list[dict[str, Any]] = []
        guard = PageGuard("jira users")
        while True:  # a plain list, paged by startAt until a short page
            guard.next(str(len(users)) if users else None)
            batch = client.get_json("users/search", params={"startAt": len(users), "maxResults": 100})
            users.extend(batch)
            if len(batch) < 100:
                break
        site.users = [
            Account(str(u["accountId"]), str(u.get("displayName") or ""), u.get("emailAddress") or None)
            for u in users
            if u.get("accountType", "atlassian") == "atlassian" and u.get("active", True)
        ]
        return site
    finally:
        connector.close()


# -- Notion ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NotionProperty:
    name: str
    type: str  # "title", "select", "multi_select", "number", "date", "people", "relation"…
    options: tuple[str, ...] = ()  # of a select, multi-select or status


@dataclass
class NotionDatabase:
    id: str
    title: str
    data_sources: list[str] = field(default_factory=list)
    properties: dict[str, NotionProperty] = field(default_factory=dict)  # of its first data source


@dataclass
class NotionWorkspace:
    url: str
    databases: list[NotionDatabase] = field(default_factory=list)
    users: list[Account] = field(default_factory=list)


def _notion_all(call: Any, **kwargs: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    guard = PageGuard("notion list")
    while True:
        guard.next(cursor)
        data = call(**kwargs, **({"start_cursor": cursor} if cursor else {}), page_size=100)
        out.extend(data.get("results") or [])
        cursor = data.get("next_cursor")
        if not data.get("has_more") or not cursor:
            return out


def _plain_title(rich: Any) -> str:
    return "".join(str(t.get("plain_text") or "") for t in rich or [] if isinstance(t, dict))


def discover_notion(where: Where, token: str) -> NotionWorkspace:
    from connectors.notion import NotionConnector

    connector = NotionConnector(where, token)  # Where meets its SourceSettings
    try:
        found = NotionWorkspace(url=where.url.rstrip("/"))
        by_id: dict[str, NotionDatabase] = {}
        sources = _notion_all(connector.client.search, filter={"property": "object", "value": "data_source"})
        for ds in sources:
            parent = ds.get("parent") or {}
            dbid = str(parent.get("database_id") or "")
            if not dbid or ds.get("in_trash"):
                continue
            db = by_id.setdefault(dbid, NotionDatabase(dbid, _plain_title(ds.get("title"))))
            db.data_sources.append(str(ds["id"]))
            if len(db.data_sources) == 1:
                db.properties = {
                    name: NotionProperty(
                        name,
                        str(p.get("type") or ""),
                        tuple(
                            str(o.get("name"))
                            for o in ((p.get(str(p.get("type"))) or {}).get("options") or [])
                            if isinstance(o, dict)
                        ),
                    )
                    for name, p in (ds.get("properties") or {}).items()
                    if isinstance(p, dict)
                }
        found.databases = list(by_id.values())
        found.users = [
            Account(str(u["id"]), str(u.get("name") or ""), (u.get("person") or {}).get("email") or None)
            for u in _notion_all(connector.client.users.list)
            if u.get("type") == "person"
        ]
        return found
    finally:
        connector.close()


# -- PagerDuty ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PagerDutyService:
    id: str
    name: str
    teams: tuple[str, ...]  # team ids


@dataclass(frozen=True)
class PagerDutyTeam:
    id: str
    name: str


@dataclass
class PagerDutyAccount:
    url: str
    services: list[PagerDutyService] = field(default_factory=list)
    teams: list[PagerDutyTeam] = field(default_factory=list)
    users: list[Account] = field(default_factory=list)


def discover_pagerduty(where: Where, token: str) -> PagerDutyAccount:
    from connectors.pagerduty import PagerDutyConnector

    connector = PagerDutyConnector(where, token)  # Where meets its SourceSettings
    client = connector.client
    try:
        return PagerDutyAccount(
            url=where.url.rstrip("/"),
            services=[
                PagerDutyService(
                    str(s["id"]),
                    str(s.get("name") or s["id"]),
                    tuple(str(t["id"]) for t in s.get("teams") or []),
                )
                for s in client.iter_all("services")
            ],
            teams=[
                PagerDutyTeam(str(t["id"]), str(t.get("name") or t["id"])) for t in client.iter_all("teams")
            ],
            users=[
                Account(str(u["id"]), str(u.get("name") or ""), u.get("email") or None)
                for u in client.iter_all("users")
            ],
        )
    finally:
        connector.close()
