"""Jira JSON as Jira Cloud writes it, rendered from the compact records on every read.

Shapes follow ``jira-cloud-platform-openapi.json`` (IssueBean, StatusDetails, Priority,
IssueTypeDetails, UserDetails, Worklog, PageOfChangelogs); timestamps are in the API user's
time zone, as Jira Cloud writes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..org import Org
from ..timeutil import jira_format
from . import links as jl
from .catalogue import Catalogue
from .families import BY_FIELD
from .fields import (
    CUSTOMER_CATEGORY,
    EMBEDDED_WORKLOGS,
    FEEDBACK_PROJECT_ID,
    FEEDBACK_PROJECT_KEY,
    FEEDBACK_PROJECT_NAME,
    HIERARCHY,
    ISSUE_TYPES,
    PRIORITIES,
    PRODUCT_CATEGORY,
    STATUSES,
    WORK_TYPE,
    adf,
)
from .worklogs import time_spent


class Renderer:
    """Turns compact records into Jira JSON for one base URL and time zone."""

    def __init__(
        self,
        org: Org,
        base_url: str,
        tz: Any,
        project_stats: dict[str, tuple[int, datetime | None]] | None = None,
        records: dict[str, dict[str, Any]] | None = None,
        links: jl.Links | None = None,
        catalogue: Catalogue | None = None,
    ):
        """``records`` (id -> record) and ``links``: the tenant's, for parents and links, which
        show the other issue's current values."""
        self.org = org
        self.base = base_url.rstrip("/")
        self.tz = tz
        self.project_stats = project_stats or {}
        self.records = records or {}
        self.links = links or jl.Links()
        self.catalogue = catalogue or Catalogue(org)  # the site's fields and options
        self.users = {p.jira_account_id: p for p in [*org.people, org.bot]}
        # key -> (id, name, category): the teams' projects and the feedback project nobody owns
        self.projects = {t.project_key: (t.project_id, t.name, PRODUCT_CATEGORY) for t in org.teams}
        self.projects[FEEDBACK_PROJECT_KEY] = (FEEDBACK_PROJECT_ID, FEEDBACK_PROJECT_NAME, CUSTOMER_CATEGORY)
        self.component_ids = {
            (t.project_key, c): str(10100 + 10 * i + j)
            for i, t in enumerate(org.teams)
            for j, c in enumerate(t.components)
        }

    def time(self, dt: datetime | None) -> str | None:
        return jira_format(dt, self.tz) if dt else None

    def user(self, account_id: str | None) -> dict[str, Any] | None:
        if account_id is None:
            return None
        person = self.users.get(account_id)
        name = person.name if person else "Former user"
        return {
            "self": f"{self.base}/rest/api/3/user?accountId={account_id}",
            "accountId": account_id,
            "emailAddress": person.email if person else None,
            "avatarUrls": {
                s: f"https://avatar.example/{account_id}?s={s[:2]}"
                for s in ("48x48", "24x24", "16x16", "32x32")
            },
            "displayName": name,
            "active": person is not None,
            "timeZone": str(self.tz),
            "accountType": "atlassian",
        }

    def project(self, key: str) -> dict[str, Any]:
        pid, name, (cid, cname, cdesc) = self.projects[key]
        count, last = self.project_stats.get(key, (0, None))
        return {
            "self": f"{self.base}/rest/api/3/project/{pid}",
            "id": pid,
            "key": key,
            "name": name,
            "projectTypeKey": "software" if cid == PRODUCT_CATEGORY[0] else "business",
            "simplified": False,
            "style": "classic",
            "avatarUrls": {
                s: f"{self.base}/rest/api/3/universal_avatar/view/type/project/avatar/10400?size={s}"
                for s in ("48x48", "24x24", "16x16", "32x32")
            },
            "projectCategory": {
                "self": f"{self.base}/rest/api/3/projectCategory/{cid}",
                "id": cid,
                "name": cname,
                "description": cdesc,
            },
            "insight": {"totalIssueCount": count, "lastIssueUpdateTime": self.time(last)},
        }

    def status(self, name: str) -> dict[str, Any]:
        sid, cat_id, cat_key, color, cat_name = STATUSES[name]
        return {
            "self": f"{self.base}/rest/api/3/status/{sid}",
            "description": "",
            "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
            "name": name,
            "id": sid,
            "statusCategory": {
                "self": f"{self.base}/rest/api/3/statuscategory/{cat_id}",
                "id": cat_id,
                "key": cat_key,
                "colorName": color,
                "name": cat_name,
            },
        }

    def option(self, option_id: str | None) -> dict[str, Any] | None:
        if option_id is None:
            return None
        return {
            "self": f"{self.base}/rest/api/3/customFieldOption/{option_id}",
            "value": self.catalogue.options.get(WORK_TYPE, {}).get(option_id, option_id),
            "id": option_id,
        }

    def field_value(self, rec: dict[str, Any], fid: str) -> Any:
        if fid == "issuetype":
            tid, desc, avatar = ISSUE_TYPES[rec["issuetype"]]
            return {
                "self": f"{self.base}/rest/api/3/issuetype/{tid}",
                "id": tid,
                "description": desc,
                "iconUrl": f"{self.base}/rest/api/2/universal_avatar/view/type/issuetype/avatar/{avatar}",
                "name": rec["issuetype"],
                "subtask": False,
                "avatarId": avatar,
                "hierarchyLevel": HIERARCHY.get(rec["issuetype"], 0),
            }
        if fid == "project":
            return self.project(rec["project"])
        if fid == "status":
            return self.status(rec["status"])
        if fid == "priority":
            pid = PRIORITIES[rec["priority"]]
            return {
                "self": f"{self.base}/rest/api/3/priority/{pid}",
                "name": rec["priority"],
                "id": pid,
                "iconUrl": f"{self.base}/images/icons/priorities/{rec['priority'].lower()}.svg",
            }
        if fid == "components":
            return [
                {
                    "self": f"{self.base}/rest/api/3/component/{self.component_ids.get((rec['project'], c), '10000')}",
                    "id": self.component_ids.get((rec["project"], c), "10000"),
                    "name": c,
                }
                for c in rec["components"]
            ]
        if fid in ("assignee", "reporter"):
            return self.user(rec[fid])
        if fid in ("created", "updated", "resolutiondate"):
            return self.time(rec[fid])
        if fid == "resolution":
            if rec["status"] != "Done":
                return None
            return {
                "self": f"{self.base}/rest/api/3/resolution/10000",
                "id": "10000",
                "description": "Work has been completed on this issue.",
                "name": "Done",
            }
        if fid == "description":
            return adf(rec["description"])
        if fid == "labels":
            return list(rec["labels"])
        if fid == WORK_TYPE:
            return self.option(rec[WORK_TYPE])
        family = BY_FIELD.get(fid)
        if family is not None:
            return family.render(self, rec, fid)
        if fid in self.catalogue.created:
            return self.catalogue.render(self, rec, fid)
        if fid == "parent":
            parent = self.records.get(rec.get("parent") or "")
            return jl.linked_issue(self, parent) if parent else None
        if fid == "issuelinks":
            return jl.issuelinks(self, rec, self.links, self.records)
        if fid == "worklog":
            logs = rec.get("worklogs") or []
            return {
                "startAt": 0,
                "maxResults": EMBEDDED_WORKLOGS,
                "total": len(logs),
                "worklogs": [self.worklog(rec, w) for w in logs[:EMBEDDED_WORKLOGS]],
            }
        return rec.get(fid)

    def worklog(self, rec: dict[str, Any], w: dict[str, Any]) -> dict[str, Any]:
        """A ``Worklog`` (no ``visibility``: the sandbox's worklogs are not restricted)."""
        return {
            "self": f"{self.base}/rest/api/3/issue/{rec['id']}/worklog/{w['id']}",
            "author": self.user(w["author"]),
            "updateAuthor": self.user(w.get("update_author") or w["author"]),
            "comment": adf(w["comment"]),
            "created": self.time(w["created"]),
            "updated": self.time(w["updated"]),
            "started": self.time(w["started"]),
            "timeSpent": time_spent(w["seconds"]),
            "timeSpentSeconds": w["seconds"],
            "id": w["id"],
            "issueId": rec["id"],
        }

    def changelog(self, rec: dict[str, Any]) -> dict[str, Any]:
        histories = [self.history(h) for h in reversed(rec["changelog"])]
        return {"startAt": 0, "maxResults": len(histories), "total": len(histories), "histories": histories}

    def history(self, h: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": h["id"],
            "author": self.user(h["author"]),
            "created": self.time(h["created"]),
            "items": [dict(item) for item in h["items"]],
        }

    def issue(self, rec: dict[str, Any], field_ids: list[str] | None, expand: set[str]) -> dict[str, Any]:
        """``field_ids`` None means no ``fields`` object at all (search's default ``id``)."""
        bean: dict[str, Any] = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": rec["id"],
            "self": f"{self.base}/rest/api/3/issue/{rec['id']}",
            "key": rec["key"],
        }
        if field_ids is not None:
            # An issue without a parent has no `parent` key at all, as in Jira Cloud.
            bean["fields"] = {
                fid: self.field_value(rec, fid) for fid in field_ids if fid != "parent" or rec.get("parent")
            }
        if "names" in expand:
            bean["names"] = {fid: self.catalogue.name(fid) for fid in (field_ids or [])}
        if "changelog" in expand:
            bean["changelog"] = self.changelog(rec)
        return bean
