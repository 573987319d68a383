"""The Jira tenant's state: issues, edits with changelog, token-paged search.

Thread-safe (one lock). ``sb.jira`` is an instance of :class:`JiraState`;
tests use ``edit_issue``/``create_issue``/``delete_issue``/``add_worklog``/``link``/``unlink``
to act like a person in the Jira UI, ``keys()`` for the teams' issues, epics included (what
the default config reads), ``epic_keys()`` for the epics and ``feedback_keys()`` for the FB
project's issues, and ``search_lag_seconds`` to make search eventually consistent (recently
updated issues are missing from search for that long, like Jira Cloud's search index).
``bulk_delay_seconds``/``bulk_permission``/``run_bulk`` steer the bulk edit API (:mod:`sandbox.jira.bulk`).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..org import Org
from ..timeutil import floor_ms
from ..vendor import VendorState
from . import bulk as jb
from . import links as jl
from .catalogue import DEFAULT_SCREEN, Catalogue
from .data import FIRST_ISSUE_ID
from .errors import FieldErrors, JQLError, NotFound
from .feedback import lead
from .fields import (
    BRIEFING_LINK,
    EPIC,
    FEEDBACK_FIELDS,
    FEEDBACK_PROJECT_ID,
    FEEDBACK_PROJECT_KEY,
    FEEDBACK_PROJECT_NAME,
    HEALTH,
    ROUTING_FIELDS,
    STORY_POINTS,
    TEAM,
    WORK_TYPE,
)
from .jql import Context, parse, sort_key
from .render import Renderer
from .worklogs import FIRST_WORKLOG_ID
from .write import change_items, set_field, update_field

if TYPE_CHECKING:  # the seed is built from this package's generators: only its type here
    from ..seed import Seed

TIMEZONE = "Europe/Paris"  # the API user's profile time zone, served by /myself


class JiraState(VendorState):
    vendor = "jira"

    def __init__(self, org: Org, clock: Callable[[], datetime], seed: Seed) -> None:
        """``seed``: the org's seeded records (:mod:`sandbox.seed`); the state takes its Jira part over."""
        super().__init__(org, clock)
        self.tz = ZoneInfo(TIMEZONE)
        self.search_lag_seconds = 0.0
        self.bulk_delay_seconds = 0.2  # how long after its POST a bulk edit lands (wall-clock)
        self.bulk_permission = True  # the API user's global "Make bulk changes"; False: the bulk API is a 403
        self.bulk = jb.Queue(self)  # bulk edit tasks (sandbox.jira.bulk)
        self.catalogue = Catalogue(org)  # custom fields, options, screens (sandbox.jira.catalogue)
        self._records: dict[str, dict[str, Any]] = {}
        self._by_key: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        self._stats: dict[str, tuple[int, datetime | None]] = {}
        self._snapshots: OrderedDict[str, list[str]] = OrderedDict()
        self._snapshot_ids = itertools.count(1)
        self._history_ids = itertools.count(10500)
        records = seed.issues
        self.worklog_plan = seed.worklog_plan  # sandbox.jira.worklogs.Plan
        self.routing_plan = seed.routing_plan  # which issues have no Team, whose Team a person set
        self.feedback_plan = seed.feedback_plan  # FB issues, whose PM a person set
        self.initiatives = seed.initiatives  # the briefings and their epics, shared with the Notion fake
        self.epic_plan = seed.epic_plan
        for rec in [*records, *seed.feedback, *seed.epics]:
            self._store(rec)
        for child, epic in seed.parents.items():
            self._records[child]["parent"] = epic
        self.links = jl.Links()
        for kind, source, target in seed.links:
            self.links.add(kind, source, target)
        self._next_id = FIRST_ISSUE_ID + len(self._records)
        self._worklog_ids = itertools.count(
            1 + max((int(w["id"]) for rec in records for w in rec["worklogs"]), default=FIRST_WORKLOG_ID - 1)
        )
        self._projects: dict[str, tuple[str, str, str]] = {}
        for team in org.teams:
            entry = (team.project_key, team.name, team.project_id)
            for alias in entry:
                self._projects[alias.lower()] = entry
        feedback_project = (FEEDBACK_PROJECT_KEY, FEEDBACK_PROJECT_NAME, FEEDBACK_PROJECT_ID)
        for alias in feedback_project:
            self._projects[alias.lower()] = feedback_project

    # ------------------------------------------------------------- the site's configuration
    @property
    def admin(self) -> bool:
        """Whether the API user has "Administer Jira": creating fields, options and adding a field
        to the default screen need it (False: those answer as Jira does without it)."""
        return self.catalogue.admin

    @admin.setter
    def admin(self, value: bool) -> None:
        self.catalogue.admin = value

    def own_screen(self, project: str) -> None:
        """Give ``project`` an edit screen of its own (a copy of the default screen): a field added
        to the default screen (``POST /screens/addToDefault``) does not reach it."""
        with self.lock:
            self.catalogue.own_screen(project)

    def editmeta(self, id_or_key: str) -> dict[str, Any]:
        """``GET /issue/{id}/editmeta``: the fields on the screen of the issue's project."""
        with self.lock:
            rec = self.find(id_or_key)
            return self.catalogue.editmeta(self.base_url, rec["project"])

    #: What ``as_before_relais`` takes away (the fields are the sandbox config's names).
    FRESH_REMOVED_FIELD = HEALTH  # "Health": relais' epic status, not yet created
    FRESH_OFF_SCREEN = BRIEFING_LINK  # "Briefing link": not on the default screen yet

    def as_before_relais(self) -> None:
        """The site before relais: no "Health" field, the Team field without the last team's key,
        and "Briefing link" off the default screen (the FB project's own screen keeps it)."""
        with self.lock:
            self.catalogue.remove_field(self.FRESH_REMOVED_FIELD)
            team = self.catalogue.options[TEAM]
            gone = list(team)[-1]
            del team[gone]
            self.catalogue.screens[DEFAULT_SCREEN].discard(self.FRESH_OFF_SCREEN)
            for rec in self._records.values():
                rec.pop(self.FRESH_REMOVED_FIELD, None)
                if rec.get(TEAM) == gone:
                    rec[TEAM] = None

    # ------------------------------------------------------------- helpers
    def _store(self, rec: dict[str, Any]) -> None:
        self._records[rec["id"]] = rec
        self._by_key[rec["key"]] = rec["id"]
        number = int(rec["key"].rsplit("-", 1)[1])
        self._counters[rec["project"]] = max(self._counters.get(rec["project"], 0), number)
        self._touch(rec, +1)

    def _touch(self, rec: dict[str, Any], delta: int) -> None:
        """Keep the per-project issue count and last update (``project.insight``) current."""
        count, last = self._stats.get(rec["project"], (0, None))
        last = rec["updated"] if last is None or rec["updated"] > last else last
        self._stats[rec["project"]] = (count + delta, last)

    def renderer(self) -> Renderer:
        return Renderer(
            self.org, self.base_url, self.tz, self._stats, self._records, self.links, self.catalogue
        )

    def find(self, id_or_key: str) -> dict[str, Any]:
        issue_id = id_or_key if id_or_key in self._records else self._by_key.get(id_or_key.upper())
        if issue_id is None:
            raise NotFound(id_or_key)
        return self._records[issue_id]

    def now(self) -> datetime:
        return floor_ms(self.clock())

    @property
    def api_user(self) -> str:
        return self.org.bot.jira_account_id

    def __len__(self) -> int:
        """The teams' issues, like :meth:`keys` (the FB project's are not counted)."""
        with self.lock:
            return sum(rec["project"] != FEEDBACK_PROJECT_KEY for rec in self._records.values())

    # ------------------------------------------------------------- reads
    def get_issue(self, id_or_key: str) -> dict[str, Any]:
        """The issue as ``GET /issue/{key}?expand=changelog`` returns it (a fresh copy)."""
        with self.lock:
            return self.renderer().issue(self.find(id_or_key), self.catalogue.ids(), {"changelog"})

    def get_record(self, id_or_key: str) -> dict[str, Any]:
        """The compact stored record (a deep copy)."""
        with self.lock:
            return copy.deepcopy(self.find(id_or_key))

    def keys(self) -> list[str]:
        """Keys of the teams' issues, epics included (what the default config's JQL reads), not the FB
        project's."""
        with self.lock:
            return [rec["key"] for rec in self._records.values() if rec["project"] != FEEDBACK_PROJECT_KEY]

    def __iter__(self) -> Iterator[str]:
        """The keys of :meth:`keys`, as a snapshot: the state may change while a caller iterates."""
        return iter(self.keys())

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is one of :meth:`keys`."""
        return key in self.keys()

    def field_values(self) -> dict[str, dict[str, Any]]:
        """Per issue key (the FB project's too), its custom fields and labels as stored: what a
        benchmark compares before and after a cycle, without copying worklogs or changelogs."""
        with self.lock:
            return {
                rec["key"]: {
                    k: copy.deepcopy(v)
                    for k, v in rec.items()
                    if k.startswith("customfield_") or k == "labels"
                }
                for rec in self._records.values()
            }

    def worklog_counts(self) -> dict[str, int]:
        """Per issue key, how many worklogs it has (search embeds 20; the rest is another read)."""
        with self.lock:
            return {rec["key"]: len(rec["worklogs"]) for rec in self._records.values()}

    def epic_keys(self) -> list[str]:
        """Keys of the epics (issue type Epic), in id order."""
        with self.lock:
            return [rec["key"] for rec in self._records.values() if rec["issuetype"] == EPIC]

    def feedback_keys(self) -> list[str]:
        """Keys of the FB project's feedback issues (``sources.jira.feedback_jql`` of ``routing=True``)."""
        with self.lock:
            return [rec["key"] for rec in self._records.values() if rec["project"] == FEEDBACK_PROJECT_KEY]

    # ------------------------------------------------------------- writes
    def edit_issue(
        self, id_or_key: str, fields: dict[str, Any], author_account_id: str | None = None
    ) -> None:
        """Change fields like a person in the UI (status included), bumping ``updated``."""
        with self.lock:
            rec = self.find(id_or_key)
            author = author_account_id or self._default_author(rec)
            self.apply(rec, fields, None, author, human=True)

    def add_worklog(
        self,
        id_or_key: str,
        seconds: int,
        started: datetime,
        author_account_id: str | None = None,
        comment: str | None = None,
    ) -> dict[str, Any]:
        """Log work like a person in the UI: bumps the issue's ``updated`` and records the
        ``timespent``/``WorklogId`` changelog items Jira writes. Returns the Worklog JSON."""
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 60:
            raise ValueError("timeSpentSeconds must be a whole number of seconds, at least 60")
        if started.tzinfo is None:
            raise ValueError("started must be an aware datetime")
        with self.lock:
            rec = self.find(id_or_key)
            author = author_account_id or self._default_author(rec)
            now = self.now()
            before = sum(w["seconds"] for w in rec["worklogs"])
            worklog = {
                "id": str(next(self._worklog_ids)),
                "author": author,
                "started": floor_ms(started),
                "seconds": seconds,
                "created": now,
                "updated": now,
                "comment": comment or "Work logged",
            }
            rec["worklogs"].append(worklog)
            rec["updated"] = now
            self._touch(rec, 0)
            spent = str(before + seconds)
            rec["changelog"].append(
                {
                    "id": str(next(self._history_ids)),
                    "author": author,
                    "created": now,
                    "items": [
                        {
                            "field": "timespent",
                            "fieldtype": "jira",
                            "fieldId": "timespent",
                            "from": str(before) if before else None,
                            "fromString": str(before) if before else None,
                            "to": spent,
                            "toString": spent,
                        },
                        {
                            "field": "WorklogId",
                            "fieldtype": "jira",
                            "from": None,
                            "fromString": None,
                            "to": worklog["id"],
                            "toString": worklog["id"],
                        },
                    ],
                }
            )
            return self.renderer().worklog(rec, worklog)

    def worklogs(self, id_or_key: str) -> list[dict[str, Any]]:
        """Every worklog of the issue as Jira renders it, oldest id first."""
        with self.lock:
            rec = self.find(id_or_key)
            renderer = self.renderer()
            return [renderer.worklog(rec, w) for w in rec["worklogs"]]

    def delete_issue(self, id_or_key: str) -> None:
        """Delete like Jira: the issue's links go with it, its children lose their parent."""
        with self.lock:
            rec = self.find(id_or_key)
            for link in self.links.of(rec["id"]):
                self.links.remove(link["id"])
            for other in self._records.values():
                if other.get("parent") == rec["id"]:
                    other["parent"] = None
            del self._records[rec["id"]]
            del self._by_key[rec["key"]]
            self._touch(rec, -1)

    def bulk_edited(self) -> int:
        """How many issue edits bulk edits have made (each issue of each finished task)."""
        self.bulk.settle()
        with self.lock:
            return sum(len(task.processed) for task in self.bulk.tasks.values())

    def run_bulk(self, task_id: str | None = None) -> None:
        """Land pending bulk edits now (one task or all), without waiting for ``bulk_delay_seconds``."""
        self.bulk.run(task_id)

    def link(
        self, inward_key: str, outward_key: str, kind: str = "Blocks", author_account_id: str | None = None
    ) -> str:
        """Link two issues like a person: ``inward_key`` is the source ("blocks"), ``outward_key`` the
        issue it blocks — the ends of ``POST /issueLink`` (see :mod:`sandbox.jira.links`). Returns
        the link id."""
        with self.lock:
            source, target = self.find(inward_key), self.find(outward_key)
            return jl.add(
                self,
                jl.type_name({"name": kind}),
                source,
                target,
                author_account_id or self._default_author(target),
            )

    def unlink(self, link_id: str, author_account_id: str | None = None) -> None:
        """Remove a link like a person (author: the blocked issue's project PM unless named)."""
        with self.lock:
            link = self.links.by_id.get(str(link_id))
            author = author_account_id or (
                self._default_author(self._records[link["target"]]) if link else ""
            )
            jl.remove(self, str(link_id), author)  # an unknown id: LinkError 404

    def create_issue(
        self,
        project: str,
        summary: str,
        issuetype: str = "Task",
        fields: dict[str, Any] | None = None,
        author_account_id: str | None = None,
    ) -> dict[str, str]:
        body = {"project": {"key": project}, "issuetype": {"name": issuetype}, "summary": summary}
        body.update(fields or {})
        with self.lock:
            return self.create(body, None, author_account_id or self.api_user, human=True)

    def _team_of(self, rec: dict[str, Any]) -> str | None:
        """The team owning the issue's project (None for the feedback project)."""
        return next((t.slug for t in self.org.teams if t.project_key == rec["project"]), None)

    def _default_author(self, rec: dict[str, Any]) -> str:
        """Who edits in the UI when a test names nobody: the project team's PM, or the FB lead."""
        slug = self._team_of(rec)
        person = self.org.person(self.org.team(slug).pm) if slug else lead(self.org)
        return person.jira_account_id

    def create(
        self, fields: dict[str, Any], update: dict[str, Any] | None, author: str, human: bool = False
    ) -> dict[str, str]:
        errors: dict[str, str] = {}
        project = fields.get("project") or {}
        team = None
        if isinstance(project, dict):
            wanted = str(project.get("key") or project.get("id") or "").lower()
            entry = self._projects.get(wanted)
            team = entry[0] if entry else None
        if team is None:
            errors["project"] = "Specify a valid project ID or key"
        if not fields.get("issuetype"):
            errors["issuetype"] = "Specify an issue type"
        if not fields.get("summary"):
            errors["summary"] = "You must specify a summary of the issue."
        if errors:
            raise FieldErrors(errors)
        assert team is not None  # else the project's error above
        number = self._counters.get(team, 0) + 1
        now = self.now()
        rec: dict[str, Any] = {
            "id": str(self._next_id),
            "key": f"{team}-{number}",
            "project": team,
            "issuetype": "Task",
            "summary": "",
            "description": None,
            "status": "To Do",
            "priority": "Medium",
            "labels": [],
            "components": [],
            "assignee": None,
            "reporter": author,
            "created": now,
            "updated": now,
            "resolutiondate": None,
            STORY_POINTS: None,
            WORK_TYPE: None,
            "changelog": [],
            "worklogs": [],
            **dict.fromkeys(ROUTING_FIELDS),
            **(dict.fromkeys(FEEDBACK_FIELDS) if team == FEEDBACK_PROJECT_KEY else {}),
        }
        rest = {k: v for k, v in fields.items() if k != "project"}
        self._validate_and_set(rec, rest, update or {}, human)
        rec["updated"] = now
        self._next_id += 1
        self._store(rec)
        return {"id": rec["id"], "key": rec["key"], "self": f"{self.base_url}/rest/api/3/issue/{rec['id']}"}

    def apply(
        self,
        rec: dict[str, Any],
        fields: dict[str, Any],
        update: dict[str, Any] | None,
        author: str,
        human: bool = False,
    ) -> None:
        """Validate then apply a write; record the changelog; always bump ``updated`` (like Jira)."""
        before = copy.deepcopy(rec)
        self._validate_and_set(rec, fields or {}, update or {}, human)
        items = [
            item for fid in self._edited(fields, update) for item in change_items(self, fid, before, rec)
        ]
        now = self.now()
        rec["updated"] = now
        self._touch(rec, 0)
        if items:
            rec["changelog"].append(
                {"id": str(next(self._history_ids)), "author": author, "created": now, "items": items}
            )

    @staticmethod
    def _edited(fields: dict[str, Any] | None, update: dict[str, Any] | None) -> list[str]:
        return list(dict.fromkeys([*(fields or {}), *(update or {})]))

    def _validate_and_set(
        self, rec: dict[str, Any], fields: dict[str, Any], update: dict[str, Any], human: bool
    ) -> None:
        errors: dict[str, str] = {}
        staged = copy.deepcopy(rec)
        for fid in set(fields) & set(update):
            errors[fid] = f"Field '{fid}' cannot appear in both 'fields' and 'update'"
        for values, write in ((fields, set_field), (update, update_field)):  # values, then operations
            for fid, value in values.items():
                if fid in errors:
                    continue
                message = write(self, staged, fid, value, human)
                if message:
                    errors[fid] = message
        if errors:
            raise FieldErrors(errors)
        rec.update(staged)

    # ------------------------------------------------------------- search
    def _context(self, now: datetime) -> Context:
        return Context(
            now=now,
            tz=self.tz,
            user_account_id=self.api_user,
            projects=self._projects,
            keys=self._by_key.keys(),
            ids=self._records.keys(),
            org=self.org,
            users=set(self.renderer().users),
            by_key=self._by_key,
        )

    def _run_query(self, jql: str, now: datetime, reconcile: frozenset[str] = frozenset()) -> list[str]:
        """Matching ids, sorted. Issues updated within ``search_lag_seconds`` are not indexed yet,
        except those named in ``reconcileIssues`` (Jira's read-after-write escape hatch)."""
        query = parse(jql, self._context(now))
        if not query.bounded:
            raise JQLError(
                "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
            )
        cutoff = now - timedelta(seconds=self.search_lag_seconds) if self.search_lag_seconds else None
        matches = [
            rec
            for rec in self._records.values()
            if (cutoff is None or rec["updated"] <= cutoff or rec["id"] in reconcile) and query.predicate(rec)
        ]
        order = query.order or [("id", True)]
        matches.sort(key=lambda rec: int(rec["id"]))  # final tie-breaker: id ascending
        for field, descending in reversed(order):
            matches.sort(key=sort_key(field), reverse=descending)
        return [rec["id"] for rec in matches]

    def search(
        self,
        jql: str,
        token: str | None,
        max_results: int,
        field_ids: list[str] | None,
        expand: set[str],
        reconcile: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        with self.lock:
            digest = hashlib.sha1(jql.encode("utf-8")).hexdigest()[:12]
            offset, ids = 0, None
            if token:
                try:
                    state = json.loads(base64.urlsafe_b64decode(token.encode() + b"==="))
                    offset, snapshot, token_digest = int(state["o"]), str(state["s"]), state["h"]
                except (ValueError, KeyError, TypeError):
                    raise JQLError("The provided next page token is invalid or expired.") from None
                if token_digest != digest:
                    raise JQLError("The provided next page token does not match the query.")
                ids = self._snapshots.get(snapshot)
            if ids is None:
                ids = self._run_query(jql, self.clock(), reconcile)
                snapshot = str(next(self._snapshot_ids))
                self._snapshots[snapshot] = ids
                while len(self._snapshots) > 64:
                    self._snapshots.popitem(last=False)
            page_ids = ids[offset : offset + max_results]
            renderer = self.renderer()
            issues = [
                renderer.issue(self._records[i], field_ids, expand) for i in page_ids if i in self._records
            ]
            result: dict[str, Any] = {"issues": issues}
            end = offset + len(page_ids)
            if end < len(ids):
                raw = json.dumps({"s": snapshot, "o": end, "h": digest}, separators=(",", ":")).encode()
                result["nextPageToken"] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
            result["isLast"] = end >= len(ids)
            if "names" in expand:
                result["names"] = {fid: self.catalogue.name(fid) for fid in (field_ids or [])}
            return result
