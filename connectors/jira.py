"""Jira Cloud connector (``jira`` 3.10, REST API v3).

Endpoints used:
  GET  /rest/api/3/serverInfo       must say ``deploymentType: Cloud`` — the
                                    library only takes its Cloud code paths
                                    (enhanced search) when it does
  GET  /rest/api/3/myself           the API user's time zone: JQL date
                                    literals are read in it
  GET  /rest/api/3/field            owned field names → ids, once per process
  GET  /rest/api/3/search/jql       enhanced search, ``nextPageToken`` paging
                                    (``/rest/api/3/search`` answers 410 Gone);
                                    ``read_items`` narrows it to named ids with
                                    ``reconcileIssues`` (read-after-write)
  GET  /rest/api/3/issue/{id}/worklog   the worklogs past the 20 search embeds
                                    (when balance.effort.jira reads worklogs)
  PUT  /rest/api/3/issue/{id}       owned fields only
  POST /rest/api/3/issue            follow-up tickets (sync.followups); never
                                    re-sent after an ambiguous failure
  bulk edit                         connectors.jira_bulk (its own list)

The library's private parts (session, URLs, server info, field cache) are
reached only through :mod:`connectors.jira_client`. The mapping — what is read
from an issue, and the body of each write — is :mod:`connectors.jira_map`.

Cursor: ``{"watermark": <the later of the max fields.updated seen and Jira's
clock when the search began (its Date header), UTC ISO>}``. The next pull
asks ``updated >= "<watermark − overlap>"`` in the user's zone, rounded down
to the minute (JQL has no seconds). Search is eventually consistent and
minute-precise, so the overlap re-reads a few minutes; the store drops
re-reads whose content did not change.

Known limits: deletions are invisible to search (a later sweep reconciles
them); ``notifyUsers=false`` is not sent (it needs admin rights, and is
ignored without them).

Reads: the fields of :data:`connectors.jira_map.BASE_FIELDS`, plus the owned
fields, story points and feedback fields by the ids resolved at connect
(:func:`connectors.jira_map.search_fields`).

Writes: the Jira fields of :data:`sync.owned.FIELDS` (vendor ``jira``) that the
config names (:func:`sync.owned.jira_fields`; ``python -m sync.owned`` prints
the table), and nothing else. Their shapes: the work class either into a
single-select custom field (by name, ``{"value": "RUN"}``) or as labels with a
managed prefix, added and removed through the ``update`` verb so that a
human's own labels are never touched; user pickers by ``accountId``; single
selects by value; text and URL fields as strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from connectors import base, jira_map, webhook
from connectors.base import (
    Page,
    PageGuard,
    SourceSettings,
    ca_bundle,
    checked,
    iso,
    parse_time,
    source_policy,
    watermark_after,
)
from connectors.errors import ConfigMismatchError, ForbiddenError, NotFoundError, RequestError
from connectors.jira_bulk import BULK_MAX, BULK_MIN, BulkOutcome, JiraBulkEdit
from connectors.jira_client import JiraClient
from connectors.jira_map import CREDENTIALS, describe_error
from connectors.policy import VendorPolicy
from connectors.spec import Problem, ReadEstimate, Secret, VendorSpec, refuse
from connectors.transport import PolicyAdapter
from sync.models import FieldChange, Quarantined, WorkItem
from sync.owned import jira_expected

SAFE_POSTS = (r"/search/jql$", r"/search/approximate-count$", r"/issue/bulkfetch$")


class JiraSourceSettings(SourceSettings, Protocol):
    """What the Jira connector reads of ``sources.jira``."""

    @property
    def jql(self) -> str: ...
    @property
    def feedback_jql(self) -> str | None: ...
    @property
    def feedback_fields(self) -> Any: ...  # a model: field role -> Jira field name (model_dump)
    @property
    def page_size(self) -> int: ...
    @property
    def bulk_edit(self) -> bool: ...


class JiraConnector:
    vendor = "jira"
    bulk_min, bulk_max = BULK_MIN, BULK_MAX  # issues per bulk edit (sync.apply groups them)

    def __init__(
        self,
        source: JiraSourceSettings,
        email: str,
        token: str,
        writeback: Any | None = None,
        *,
        effort: Any | None = None,
        pm_field: str | None = None,
        team_field: str | None = None,
        initiative_field: str | None = None,
        epic: Any | None = None,
        team_keys: Iterable[str] = (),
        projects: Iterable[str] = (),
        policy: VendorPolicy | None = None,
    ) -> None:
        self.source = source
        # Owned fields besides the work type: logical name -> (field name, the setting naming it);
        # what each must be is sync.owned's (jira_expected)
        self.field_names = {
            "pm": (pm_field, "writeback.jira.pm.field"),
            "team": (team_field, "writeback.jira.team.field"),
            "initiative": (initiative_field, "writeback.jira.initiative.field"),
            "health": (
                epic.health.field if epic and epic.health else None,
                "writeback.jira.epic.health.field",
            ),
            "briefing_link": (
                epic.briefing_link.field if epic and epic.briefing_link else None,
                "writeback.jira.epic.briefing_link.field",
            ),
        }
        self.team_keys = tuple(team_keys)  # the Team field's options (sync.owned.jira_expected)
        self.projects = tuple(dict.fromkeys(projects))  # teams.*.jira.projects: where relais writes
        self._options: dict[str, dict[str, str]] = {}  # select field id -> option id -> value (survey)
        self._refused: dict[str, str] = {}  # a fix tried (check --fix) -> why a person must do it
        self.feedback_fields: dict[
            str, str
        ] = {}  # origin/customer/tier/area -> field id, resolved at connect
        self.routing_fields: dict[str, str] = {}  # logical name -> field id, resolved at connect
        self.writeback = writeback  # settings.writeback.jira.work_type or None
        self.effort = effort  # settings.balance.effort.jira or None: read worklogs and story points
        self.policy = policy or source_policy("jira", source, describe_error, SAFE_POSTS)
        ca = ca_bundle(source)
        from jira import JIRA  # here, not at import: the settings read the registry without it

        jira = JIRA(
            server=source.url,
            basic_auth=(email, token),
            options={"rest_api_version": "3", "check_update": False, "verify": ca or True},
            get_server_info=False,  # done in connect(), once the policy adapter is mounted
            max_retries=0,  # the policy retries, honouring Retry-After
            timeout=source.timeout_seconds,
        )
        self.client = JiraClient(jira)  # the one place relais touches the library's private parts
        self.bulk = JiraBulkEdit(self.client) if source.bulk_edit else None
        self.client.mount(PolicyAdapter(self.policy, ca))
        self.tz: ZoneInfo | None = None
        self.work_type_field: str | None = None
        self.points_field: str | None = None
        self.pending_cursor: dict[str, Any] | None = None
        self._base_url = source.url.rstrip("/")
        self._surveyed = ""  # the site and account, once surveyed

    # -- setup ---------------------------------------------------------------
    def connect(self) -> str:
        """Connect, then refuse (one error listing every problem) while the site lacks something
        the config needs: :meth:`survey`'s problems."""
        summary, fields = self._connect_site()
        refuse("jira", self._survey(fields))
        if self.bulk is not None:
            for field_id, options in self._options.items():
                self.bulk.options[field_id] = {v: int(i) for i, v in options.items()}
        return summary

    def survey(self) -> list[Problem]:
        """Every problem at once (:class:`connectors.spec.Surveyor`): each owned field exists,
        has the right type and the options relais writes, and is on the edit screen of each
        project relais writes it in; the input fields exist."""
        self._surveyed, fields = self._connect_site()
        return self._survey(fields)

    def surveyed(self) -> str:
        return self._surveyed

    def _connect_site(self) -> tuple[str, list[dict[str, Any]]]:
        self.client.server_info()
        if self.client.deployment_type != "Cloud":
            raise ConfigMismatchError(
                "jira",
                f"{self.source.url} is not Jira Cloud (deploymentType="
                f"{self.client.deployment_type!r}); relais reads Jira Cloud's REST API v3",
            )
        me = self.client.myself()
        self.tz = ZoneInfo(me.get("timeZone") or "UTC")
        fields = self.client.fields()  # also seeds the library's field cache (connectors.jira_client)
        who = me.get("emailAddress") or me.get("displayName")
        return f"{who} on {self.source.url} (time zone {self.tz.key})", fields

    def _owned(self) -> list[tuple[str, str, str]]:
        """(logical field, the Jira field's name, the setting naming it) of every owned field."""
        out = []
        if self.writeback is not None and self.writeback.field:
            out.append(("work_type", self.writeback.field, "writeback.jira.work_type.field"))
        for name, (field_name, setting) in self.field_names.items():
            if field_name:
                out.append((name, field_name, setting))
        return out

    def _survey(self, fields: list[dict[str, Any]]) -> list[Problem]:
        problems: list[Problem] = []
        self.routing_fields, self.feedback_fields, self._options = {}, {}, {}
        self.work_type_field = self.points_field = None
        found: dict[str, tuple[str, str, str, tuple[str, ...], tuple[str, ...], str]] = {}
        for name, field_name, setting in self._owned():
            kind, options, on = jira_expected(name, self.team_keys)
            field_id = self._survey_field(fields, field_name, kind, options, setting, problems)
            if field_id is None:
                continue
            if name == "work_type":
                self.work_type_field = field_id
            else:
                self.routing_fields[name] = field_id
            # one field may be two owned ones (the initiative and the briefing link): written on both's kinds
            seen = found.get(field_id)
            found[field_id] = (field_name, kind, setting, options, (seen[4] if seen else ()) + on, name)
        for field_id, (field_name, _, setting, options, _, name) in found.items():
            if options:
                self._survey_options(field_id, field_name, options, setting, name, problems)
        self._survey_screens(found, problems)
        names = {f.get("name") for f in fields}
        if self.source.feedback_jql:
            for role, field_name in self.source.feedback_fields.model_dump().items():
                ids = [f["id"] for f in fields if f.get("name") == field_name]
                if ids:
                    self.feedback_fields[role] = ids[0]
                else:
                    hint = base.did_you_mean(field_name, (n for n in names if n))
                    problems.append(
                        Problem(
                            "jira",
                            f"sources.jira.feedback_fields.{role}",
                            f"no field named {field_name!r}{hint}: name the field feedback issues "
                            f"hold their {role} in",
                            "jira",
                        )
                    )
        if self.effort is not None and "story_points" in self.effort.measures:
            named = [f["id"] for f in fields if f.get("name") == self.effort.story_points_field]
            if named:
                self.points_field = named[0]
            else:
                hint = base.did_you_mean(self.effort.story_points_field, (n for n in names if n))
                problems.append(
                    Problem(
                        "jira",
                        "balance.effort.jira.story_points_field",
                        f"no field named {self.effort.story_points_field!r}{hint}",
                        "jira",
                    )
                )
        return problems

    def _survey_field(
        self,
        fields: list[dict[str, Any]],
        name: str,
        kind: str,
        options: tuple[str, ...],
        setting: str,
        problems: list[Problem],
    ) -> str | None:
        """The id of the owned custom field ``name`` of schema type ``kind``, or None (a problem
        added: missing, of another type, or several of that name)."""
        matches = [f for f in fields if f.get("name") == name and f.get("custom")]
        right = [f for f in matches if (f.get("schema") or {}).get("type") == kind]
        if len(right) == 1:
            return str(right[0]["id"])
        wanted = jira_map.field_to_create(name, kind, options)
        if not matches:
            # The nearest custom field of the right type that no other owned field names.
            of_kind = (
                f.get("name", "")
                for f in fields
                if f.get("custom") and (f.get("schema") or {}).get("type") == kind
            )
            hint = base.did_you_mean(name, of_kind, [n for _, n, _ in self._owned()])
            key = f"create:{name}"
            refused = self._refused.get(key)
            problems.append(
                Problem(
                    "jira",
                    setting,
                    f"no custom field {name!r}{hint}: create {wanted}"
                    + (f" ({jira_map.TEAM_VOCABULARY})" if setting.endswith("team.field") else ""),
                    "jira",
                    fix=None if refused else self._fix_create(key, name, kind),
                    admin=f"create {wanted} (relais could not: {refused})" if refused else f"create {wanted}",
                )
            )
            return None
        what = jira_map.kind_word(kind)
        if not right:
            actual = ", ".join(sorted({jira_map.field_kind(f) for f in matches}))
            problems.append(
                Problem(
                    "jira",
                    setting,
                    f"{name!r} is a {actual} field, not a {what} one: name a {what} field in the config, "
                    f"or rename {name!r} in Jira and create {wanted}",
                    "jira",
                    admin=f"rename the {actual} field {name!r} and create {wanted}",
                )
            )
            return None
        ids = ", ".join(f["id"] for f in right)
        problems.append(
            Problem(
                "jira",
                setting,
                f"several {what} fields are named {name!r} ({ids}): rename all but one in Jira",
                "jira",
                admin=f"rename all but one of the {what} fields named {name!r} ({ids})",
            )
        )
        return None

    def _survey_options(
        self,
        field_id: str,
        name: str,
        options: tuple[str, ...],
        setting: str,
        logical: str,
        problems: list[Problem],
    ) -> None:
        """The options of the field's contexts (Jira lists them to admins only: without the
        right, the check of the options is left to the writes)."""
        try:
            contexts = self.client.paged(f"field/{field_id}/context")
            have: dict[str, str] = {}
            for context in contexts:
                for option in self.client.paged(f"field/{field_id}/context/{context['id']}/option"):
                    if not option.get("disabled"):
                        have.setdefault(str(option["id"]), str(option["value"]))
        except (ForbiddenError, NotFoundError):
            return
        self._options[field_id] = have
        missing = [o for o in options if o not in have.values()]
        if not missing:
            return
        listed = ", ".join(missing)
        step = f"add the option(s) {listed} to the single-select field {name!r}"
        why = f" ({jira_map.TEAM_VOCABULARY})" if logical == "team" else ""
        usable = [c for c in contexts if c.get("isGlobalContext")] or contexts
        target: dict[str, Any] | None = usable[0] if usable else None
        key = f"options:{field_id}"
        refused = self._refused.get(key) or (None if target else "the field has no context")
        problems.append(
            Problem(
                "jira",
                setting,
                f"{name!r} lacks the option(s) {listed}: {step}{why}",
                "jira",
                fix=None
                if refused or target is None
                else self._fix_options(key, field_id, str(target["id"]), name, missing),
                admin=f"{step} (relais could not: {refused})" if refused else step,
            )
        )

    def _survey_screens(
        self,
        found: dict[str, tuple[str, str, str, tuple[str, ...], tuple[str, ...], str]],
        problems: list[Problem],
    ) -> None:
        """Each owned field on the edit screen of each project relais writes it in: Jira's edit
        metadata of one issue of each team's project (issues, epics) and of the feedback search."""
        where: list[tuple[str, str, tuple[str, ...]]] = [
            (f'project = "{p}" ORDER BY created DESC', p, ("issue", "epic")) for p in self.projects
        ]
        if self.source.feedback_jql:
            where.append((self.source.feedback_jql, "", ("feedback",)))
        for jql, project, kinds in where:
            wanted = [fid for fid, v in found.items() if set(v[4]) & set(kinds)]
            if not wanted:
                continue
            try:
                issues = self.client.search(jql, maxResults=1, fields=["project"]).get("issues") or []
            except RequestError as e:
                problems.append(
                    Problem("jira", "teams.*.jira.projects", f"cannot search project {project}: {e}", "jira")
                )
                continue
            if not issues:
                continue  # no issue yet: nothing relais would write there
            issue = issues[0]
            project = project or str(((issue.get("fields") or {}).get("project") or {}).get("key") or "")
            meta = self.client.get_json(f"issue/{issue['id']}/editmeta").get("fields") or {}
            for fid in wanted:
                if fid in meta:
                    continue
                name, _, setting, _, _, _ = found[fid]
                step = f"add {name!r} to the screen of {project}'s Edit Issue operation"
                tried = self._refused.get(f"screen:{fid}")
                problems.append(
                    Problem(
                        "jira",
                        setting,
                        f"{name!r} is not on the edit screen of project {project}: {step}",
                        "jira",
                        fix=None if tried else self._fix_screen(fid, name),
                        admin=f"{step} ({fid}; {tried})" if tried else f"{step} ({fid})",
                    )
                )

    # -- check --fix ---------------------------------------------------------------------------
    def _fix_create(self, key: str, name: str, kind: str) -> Callable[[], str]:
        def fix() -> str:
            # The fields as they are now: Jira lets two fields share a name, and relais could then
            # write neither — one created since the survey (another `check --fix`, an admin) is kept.
            there = [f["id"] for f in self.client.fields() if f.get("name") == name and f.get("custom")]
            if there:
                return f"found the custom field {name!r} ({', '.join(there)}), created meanwhile"
            try:
                made = self.client.post("field", jira_map.create_field_body(name, kind))
            except (RequestError, ForbiddenError) as e:
                self._refused[key] = f"Jira answered {e}; it takes a Jira admin"
                raise
            return f"created the {jira_map.kind_word(kind)} custom field {name!r} ({made.get('id')})"

        return fix

    def _fix_options(
        self, key: str, field_id: str, context_id: str, name: str, missing: list[str]
    ) -> Callable[[], str]:
        def fix() -> str:
            try:
                self.client.post(
                    f"field/{field_id}/context/{context_id}/option",
                    {"options": [{"value": v, "disabled": False} for v in missing]},
                )
            except (RequestError, ForbiddenError) as e:
                self._refused[key] = f"Jira answered {e}; it takes a Jira admin"
                raise
            return f"added the option(s) {', '.join(missing)} to {name!r}"

        return fix

    def _fix_screen(self, field_id: str, name: str) -> Callable[[], str]:
        """``POST /screens/addToDefault``: the default screen only. The next survey's edit metadata
        says which projects still lack the field (a screen of their own): those are an admin's."""
        key = f"screen:{field_id}"

        def fix() -> str:
            done = self._refused.get(key)
            if done is not None:  # another project's problem, same field: the same call
                if done.startswith("relais could not"):
                    raise ConfigMismatchError("jira", done)
                return f"{name!r} is on the default screen (added above)"
            self._refused[key] = "that project's screen is not the default screen, which relais added it to"
            try:
                self.client.post(f"screens/addToDefault/{field_id}", {})
            except NotFoundError:  # already there: the project has a screen of its own
                return f"{name!r} is already on the default screen"
            except (RequestError, ForbiddenError) as e:
                self._refused[key] = f"relais could not add it: Jira answered {e}; it takes a Jira admin"
                raise
            return f"added {name!r} to the default screen"

        return fix

    # -- pull ------------------------------------------------------------------
    def jql_for(self, cursor: dict[str, Any] | None, jql: str | None = None, key: str = "watermark") -> str:
        jql = f"({jql or self.source.jql})"
        watermark = parse_time((cursor or {}).get(key))
        if watermark is not None:
            since = (watermark - timedelta(minutes=self.source.overlap_minutes)).astimezone(self.tz)
            jql += f' AND updated >= "{since:%Y-%m-%d %H:%M}"'
        return jql + " ORDER BY updated ASC, id ASC"

    def streams(self) -> list[tuple[str, str, str]]:
        """(cursor key, JQL, item kind): the work issues, and the feedback issues if configured."""
        out = [("watermark", self.source.jql, "issue")]
        if self.source.feedback_jql:
            out.append(("feedback_watermark", self.source.feedback_jql, "feedback"))
        return out

    def _fields(self) -> list[str]:
        return jira_map.search_fields(self.mapping)

    def iter_pages(self, cursor: dict[str, Any] | None, now: datetime) -> Iterator[Page]:
        fields = self._fields()
        new_cursor = dict(cursor or {})
        for key, jql, kind in self.streams():
            watermark = parse_time((cursor or {}).get(key))
            read_at: list[datetime | None] = []
            for page in self._search(self.jql_for(cursor, jql, key), fields, kind, read_at=read_at):
                for item in page.items:
                    if watermark is None or item.updated > watermark:
                        watermark = min(item.updated, now)  # never past the sync start
                yield page
            watermark = watermark_after(watermark, read_at[0] if read_at else None)
            if watermark is not None:
                new_cursor[key] = iso(watermark)
        self.pending_cursor = new_cursor

    def estimate_read(self, now: datetime) -> ReadEstimate:
        """How many issues a full read returns, by ``POST /search/approximate-count`` per stream
        (one request each, no issue read): its pages at ``page_size`` (Jira serves at most 100
        issues a page when fields are asked for). The worklogs past the 20 a search embeds are
        per issue, not known before the issue is read: :mod:`sync.progress` extrapolates them."""
        items = requests = 0
        per_page = max(1, min(self.source.page_size, 100))
        for _, jql, _ in self.streams():
            count = int(self.client.post("search/approximate-count", {"jql": f"({jql})"}).get("count") or 0)
            items += count
            requests += max(1, -(-count // per_page))
        return ReadEstimate(items, requests, "approximate-count")

    def read_items(self, ids: Iterable[str]) -> tuple[Page, list[str]]:
        """Re-read the named issues now (a webhook said they changed); also the ids no longer in scope.

        Each stream's own JQL narrowed to these ids, rather than ``GET /issue``: the answer
        says whether an issue is work or feedback (or neither, any more), with the same
        fields as a pull. ``reconcileIssues`` makes search see the latest edit, which its
        index may not have yet (Jira's read-after-write escape hatch).
        """
        out, gone = Page(), []
        for ident in [str(int(i)) for i in ids]:  # numeric ids only: they go into JQL
            found = False
            for _, jql, kind in self.streams():
                try:
                    pages = list(
                        self._search(f"({jql}) AND id = {ident}", self._fields(), kind, [int(ident)])
                    )
                except RequestError:  # Jira answers 400 "does not exist" for a deleted id
                    break
                for page in pages:
                    found = found or bool(page.items or page.quarantined)
                    out.items += page.items
                    out.raw.update(page.raw)
                    out.quarantined += page.quarantined
            if not found:
                gone.append(ident)
        return out, gone

    def _search(
        self,
        jql: str,
        fields: list[str],
        kind: str,
        reconcile: list[int] | None = None,
        read_at: list[datetime | None] | None = None,
    ) -> Iterator[Page]:
        """The pages of one search; ``read_at`` receives Jira's clock when the first page was served."""
        guard = PageGuard("jira search")
        token: str | None = None
        while True:
            guard.next(token)
            data = self.client.search(
                jql,
                nextPageToken=token,
                maxResults=self.source.page_size,
                fields=list(fields),
                reconcileIssues=reconcile,
            )
            if read_at is not None and not read_at:
                read_at.append(self.policy.server_time())
            page = Page()
            mapping = self.mapping
            for raw in data.get("issues") or []:
                try:
                    self._complete_worklogs(raw)
                    item = checked(jira_map.to_item(raw, mapping, kind), jira_map.check)
                except (KeyError, TypeError, ValueError, AttributeError) as e:
                    page.quarantined.append(
                        Quarantined(
                            "jira",
                            str(raw.get("id", "?")) if isinstance(raw, dict) else "?",
                            f"unreadable issue payload ({type(e).__name__}: {e})",
                        )
                    )
                    continue
                page.items.append(item)
                page.raw[item.id] = raw
            yield page
            token = data.get("nextPageToken")
            if not token or data.get("isLast"):
                return

    def _complete_worklogs(self, raw: dict[str, Any]) -> None:
        """Search embeds at most 20 worklogs per issue; read the rest from the issue's worklog list."""
        wl = raw.get("fields", {}).get("worklog")
        if not isinstance(wl, dict) or wl.get("total", 0) <= len(wl.get("worklogs") or []):
            return
        logs: list[dict[str, Any]] = []
        guard = PageGuard(f"jira worklogs of {raw.get('key')}")
        while True:
            guard.next(str(len(logs)) if logs else None)
            data = self.client.get_json(
                f"issue/{raw['id']}/worklog", params={"startAt": len(logs), "maxResults": 5000}
            )
            batch = data.get("worklogs") or []
            logs.extend(batch)
            if not batch or len(logs) >= data.get("total", 0):
                break
        wl["worklogs"] = logs

    # -- mapping (connectors.jira_map) -----------------------------------------------
    @property
    def mapping(self) -> jira_map.JiraMapping:
        """What maps this site's issues: the field ids resolved at connect and the write-back."""
        wb = self.writeback
        return jira_map.JiraMapping(
            base_url=self._base_url,
            work_type=wb is not None,
            work_type_field=self.work_type_field,
            labels_prefix=wb.labels_prefix if wb is not None else None,
            routing_fields=self.routing_fields,
            feedback_fields=self.feedback_fields,
            points_field=self.points_field,
            worklogs=self.effort is not None and "worklog" in self.effort.measures,
        )

    def to_item(self, raw: dict[str, Any], kind: str = "issue") -> WorkItem:
        return jira_map.to_item(raw, self.mapping, kind)

    def write_body(self, item: WorkItem, changes: list[FieldChange]) -> dict[str, Any]:
        return jira_map.write_body(changes, self.mapping)

    def write(self, item: WorkItem, changes: list[FieldChange]) -> None:
        self.client.put(f"issue/{item.id}", self.write_body(item, changes))

    # -- bulk edit (connectors.jira_bulk) ------------------------------------------------
    def bulk_key(self, item: WorkItem, change: FieldChange) -> tuple[str, int] | None:
        """The bulk edit this change could ride in (one select field, one value), or None."""
        if self.bulk is None:
            return None
        field_id = (
            self.work_type_field
            if change.field == "work_type"
            else self.routing_fields.get(change.field)
            if change.field in ("health", "team")
            else None
        )
        return self.bulk.key(field_id, change.new)

    def write_bulk(self, items: list[WorkItem], key: tuple[str, int]) -> BulkOutcome:
        if self.bulk is None:  # bulk_key said None for every change: nothing comes here
            raise RuntimeError("jira: bulk edit is off (sources.jira.bulk_edit)")
        return self.bulk.edit([i.id for i in items], key)

    # -- follow-up tickets (sync.followups) ------------------------------------------
    def followup_fields(self, f: Any) -> dict[str, Any]:
        """The create body's fields for a follow-up: its Work type and Team set like relais' own writes."""
        return jira_map.followup_fields(f, self.mapping)

    def followup_owned(self, f: Any) -> dict[str, Any]:
        """The owned values a follow-up is created with (audited as relais' own)."""
        return jira_map.followup_owned(f, self.mapping)

    def create_followup(self, f: Any) -> tuple[str, str]:
        """POST /issue: never re-sent by the policy after an ambiguous failure (see sync.followups).
        Returns the new issue's (id, key)."""
        created = self.client.post("issue", {"fields": self.followup_fields(f)})
        return str(created["id"]), created["key"]

    #: Labels asked per search (JQL ``labels in (…)``); a search answers 100 issues a page.
    LABELS_PER_SEARCH = 50

    def find_issues_by_labels(self, labels: list[str]) -> dict[str, tuple[str, str]]:
        """label → (id, key) of the oldest issue carrying it, for the labels some issue carries
        (search is eventually consistent: a miss may be a lag)."""
        out: dict[str, tuple[str, str]] = {}
        wanted = list(dict.fromkeys(labels))
        for start in range(0, len(wanted), self.LABELS_PER_SEARCH):
            batch = wanted[start : start + self.LABELS_PER_SEARCH]
            quoted = ", ".join('"' + label.replace('"', "") + '"' for label in batch)
            for page in self._search_json(f"labels in ({quoted}) ORDER BY created ASC", ["labels"]):
                for issue in page:
                    for label in (issue.get("fields") or {}).get("labels") or ():
                        if label in batch and label not in out:
                            out[label] = (str(issue["id"]), issue["key"])
        return out

    def _search_json(self, jql: str, fields: list[str]) -> Iterator[list[dict[str, Any]]]:
        guard = PageGuard("jira search")
        token: str | None = None
        while True:
            guard.next(token)
            data = self.client.search(
                jql, nextPageToken=token, maxResults=self.source.page_size, fields=fields
            )
            yield data.get("issues") or []
            token = data.get("nextPageToken")
            if not token or data.get("isLast"):
                return

    def close(self) -> None:
        self.client.close()


def from_settings(settings: Any, secrets: Any) -> JiraConnector:
    """The Jira connector of these settings: the source, the owned fields it writes, the effort it reads."""
    src = settings.sources.jira
    assert src is not None and secrets.jira_email and secrets.jira_api_token  # resolve_secrets checked
    wb = settings.writeback.jira if settings.writeback else None
    return JiraConnector(
        src,
        secrets.jira_email,
        secrets.jira_api_token,
        wb.work_type if wb else None,
        effort=settings.balance.effort.jira if settings.balance else None,
        pm_field=wb.pm.field if wb and wb.pm else None,
        team_field=wb.team.field if wb and wb.team else None,
        initiative_field=wb.initiative.field if wb and wb.initiative else None,
        epic=wb.epic if wb else None,
        team_keys=tuple(settings.teams),
        projects=[p for team in settings.teams.values() for p in team.jira.projects],
    )


def receive_webhook(body: bytes, headers: Mapping[str, str], secret: str | None) -> webhook.Event:
    """A Jira Cloud admin webhook saved with a secret: ``X-Hub-Signature: sha256=<hex>``
    (WebSub's ``method=signature``; not ``X-Hub-Signature-256``). Delivery id:
    ``X-Atlassian-Webhook-Identifier`` (kept across retries). Only numeric issue ids are taken:
    they go into JQL.
    https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks"""
    if not webhook.verify_sha256_header(body, headers.get("X-Hub-Signature"), secret):
        raise webhook.refused()
    data = webhook.json_object(body)
    ident = str(webhook.object_of(data.get("issue")).get("id") or "")
    return webhook.Event(
        "jira",
        webhook.header(headers, "X-Atlassian-Webhook-Identifier") or "",
        str(data.get("webhookEvent") or ""),
        [ident] if ident.isascii() and ident.isdigit() else [],
    )


SPEC = VendorSpec(
    name="jira",
    title="Jira",
    credentials=CREDENTIALS,
    webhook=Secret("jira_webhook_secret", "JIRA_WEBHOOK_SECRET", "no webhook secret"),
    token_shapes=(r"\bATATT[A-Za-z0-9_=-]{8,}",),  # Atlassian API tokens (about 190 characters)
    lists_all=True,
    streams=lambda source: ["jira:issues"] + (["jira:feedback"] if source.feedback_jql else []),
    stream_of=lambda kind, database: "jira:feedback" if kind == "feedback" else "jira:issues",
    build=from_settings,
    receive=receive_webhook,
)
