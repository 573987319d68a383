"""Jira Cloud REST v3 routes (what ``jira`` 3.10.5 and relais call).

``serverInfo`` answers ``deploymentType: Cloud`` (the ``jira`` library only
takes its Cloud code paths, including ``enhanced_search_issues``, when it
does); ``/search`` answers 410 Gone like Cloud since 2025; ``/search/jql``
pages with ``nextPageToken`` and never returns ``total``.
"""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta
from typing import Any

from ..server import Request, Response
from ..timeutil import as_utc, jira_format
from ..vendor import BadRequest, VendorApp, error_json, route
from . import links as jl
from .bulk_api import BulkRoutes
from .discovery_api import DiscoveryRoutes
from .errors import FieldErrors, JQLError, NotFound
from .fields import select_fields
from .paging import page_bean
from .state import JiraState

REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
NOT_AUTHENTICATED = "Client must be authenticated to access this resource."


class JiraApp(BulkRoutes, DiscoveryRoutes, VendorApp[JiraState]):
    name = "jira"
    list_keys = ("issues", "values")

    def __init__(self, state: JiraState, email: str, token: str):
        self.email = email
        super().__init__(state, token)

    def handle(self, request: Request) -> Response:
        self.state.bulk.settle()  # a bulk edit whose moment has come lands before anything is read
        return super().handle(request)

    # -- vendor hooks ---------------------------------------------------------
    def error(self, status: int, message: str | None = None, **extra: Any) -> Response:
        errors = extra.get("errors") or {}
        messages = extra.get("messages") or ([] if errors else [message or self.phrase(status)])
        body: dict[str, Any] = {"errorMessages": messages, "errors": errors}
        if extra.get("bulk"):  # the bulk API's BulkOperationErrorResponse
            body = {"errors": [{"message": m} for m in messages]}
        headers = {"WWW-Authenticate": 'Basic realm="protected-area"'} if status == 401 else {}
        return error_json(status, body, headers, extra)

    def rate_limited(
        self, wait_seconds: int, limit: float, retry_after: str | None, fault: bool = False
    ) -> Response:
        reset = as_utc(self.state.clock()) + timedelta(seconds=wait_seconds)
        headers = {
            "X-RateLimit-Limit": str(int(limit)),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
            "RateLimit-Reason": "jira-burst-based",
        }
        if retry_after != "":
            headers["Retry-After"] = retry_after or str(wait_seconds)
        return Response.json(429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, headers)

    def corrupt_item(self, item: dict[str, Any]) -> None:
        item.pop("fields", None)

    def authenticate(self, request: Request) -> Response | None:
        header = request.header("Authorization") or ""
        if request.path.endswith("/serverInfo") and not header:
            return None  # serverInfo is readable anonymously
        if header.startswith("Basic "):
            try:
                email, _, token = base64.b64decode(header[6:]).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                email, token = "", ""
            if email == self.email and token == self.token:
                return None
        return self.error(401, NOT_AUTHENTICATED)

    # -- routes -------------------------------------------------------------
    @route("GET", "/rest/api/{version}/serverInfo")
    def server_info(self, request: Request, version: str) -> Response:
        now = self.state.clock()
        return Response.json(
            200,
            {
                "baseUrl": self.state.base_url,
                "displayUrl": self.state.base_url,
                "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": [1001, 0, 0],
                "deploymentType": "Cloud",
                "buildNumber": 100294,
                "buildDate": "2026-11-01T00:00:00.000+0000",
                "serverTime": jira_format(now, self.state.tz),
                "scmInfo": "2f3a7a5e0c9b6f0e1c1d5b7a8e9f0a1b2c3d4e5f",
                "serverTitle": "Jira",
                "defaultLocale": {"locale": "en_US"},
                "serverTimeZone": "Etc/UTC",
            },
        )

    @route("GET", "/rest/api/3/myself")
    def myself(self, request: Request) -> Response:
        bot = self.state.org.bot
        user = self.state.renderer().user(bot.jira_account_id) or {}
        user.update(
            {
                "displayName": bot.name,
                "emailAddress": bot.email,
                "timeZone": str(self.state.tz),
                "locale": "en_US",
                "groups": {"size": 1, "items": []},
                "applicationRoles": {"size": 1, "items": []},
                "expand": "groups,applicationRoles",
            }
        )
        return Response.json(200, user)

    @route("GET", "/rest/api/3/field")
    def fields(self, request: Request) -> Response:
        with self.state.lock:
            return Response.json(200, [dict(f) for f in self.state.catalogue.fields])

    @route("GET", "/rest/api/2/search")
    @route("POST", "/rest/api/2/search")
    @route("GET", "/rest/api/3/search")
    @route("POST", "/rest/api/3/search")
    def removed(self, request: Request) -> Response:
        return Response.json(410, {"errorMessages": [REMOVED], "errors": {}})

    @route("GET", "/rest/api/3/search/jql")
    @route("POST", "/rest/api/3/search/jql")
    def search(self, request: Request) -> Response:
        if request.method == "POST":
            body = self.body(request) or {}
            if not isinstance(body, dict):
                raise BadRequest(400, "Request body must be a JSON object.")
            jql = body.get("jql") or ""
            token = body.get("nextPageToken")
            max_results = body.get("maxResults")
            field_tokens = _split(body.get("fields"))
            expand = _split(body.get("expand"))
            reconcile = _split(body.get("reconcileIssues"))
        else:
            jql = request.arg("jql", "") or ""
            token = request.arg("nextPageToken")
            max_results = request.arg("maxResults")
            field_tokens = _split(request.args("fields"))
            expand = _split(request.args("expand"))
            reconcile = _split(request.args("reconcileIssues"))
        if len(reconcile) > 50:
            raise BadRequest(400, "reconcileIssues accepts at most 50 issue ids.")
        catalogue = self.state.catalogue
        field_ids = select_fields(field_tokens, "id", catalogue.ids(), catalogue.navigable())
        try:
            wanted = 50 if max_results in (None, "") else int(max_results)
        except (TypeError, ValueError):
            raise BadRequest(
                400, f"The value '{max_results}' is invalid for the 'maxResults' parameter."
            ) from None
        # Jira hands out at most 5000 ids per page, far fewer once fields are asked for.
        cap = 100 if field_ids else 5000
        wanted = max(1, min(wanted, cap))
        try:
            result = self.state.search(jql, token, wanted, field_ids, set(expand), frozenset(reconcile))
        except JQLError as exc:
            raise BadRequest(400, str(exc)) from None
        return Response.json(200, result)

    @route("POST", "/rest/api/3/search/approximate-count")
    def approximate_count(self, request: Request) -> Response:
        body = self.body(request) or {}
        try:
            with self.state.lock:
                count = len(self.state._run_query(str(body.get("jql") or ""), self.state.clock()))
        except JQLError as exc:
            raise BadRequest(400, str(exc)) from None
        return Response.json(200, {"count": count})

    def _find(self, key: str) -> dict[str, Any]:
        """The issue record for a key or id (the caller holds the state's lock), else Jira's 404."""
        try:
            return self.state.find(key)
        except NotFound:
            raise BadRequest(404, "Issue does not exist or you do not have permission to see it.") from None

    @route("GET", "/rest/api/3/issue/{key}")
    def get_issue(self, request: Request, key: str) -> Response:
        catalogue = self.state.catalogue
        field_ids = (
            select_fields(_split(request.args("fields")), "*all", catalogue.ids(), catalogue.navigable())
            or []
        )
        expand = set(_split(request.args("expand")))
        with self.state.lock:
            rec = self._find(key)
            return Response.json(200, self.state.renderer().issue(rec, field_ids, expand))

    @route("PUT", "/rest/api/3/issue/{key}")
    def put_issue(self, request: Request, key: str) -> Response:
        body = self.body(request)
        if not isinstance(body, dict):
            raise BadRequest(400, "Can not deserialize instance of IssueUpdateBean: expected a JSON object.")
        with self.state.lock:
            rec = self._find(key)
            try:
                self.state.apply(rec, body.get("fields") or {}, body.get("update") or {}, self.state.api_user)
            except FieldErrors as exc:
                raise BadRequest(400, "", errors=exc.errors, messages=exc.messages) from None
            if (request.arg("returnIssue") or "").lower() == "true":
                return Response.json(200, self.state.renderer().issue(rec, self.state.catalogue.ids(), set()))
        return Response.empty(204)

    @route("POST", "/rest/api/3/issue")
    def create_issue(self, request: Request) -> Response:
        body = self.body(request)
        if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
            raise BadRequest(400, "", errors={"project": "Specify a valid project ID or key"})
        with self.state.lock:
            try:
                created = self.state.create(body["fields"], body.get("update"), self.state.api_user)
            except FieldErrors as exc:
                raise BadRequest(400, "", errors=exc.errors, messages=exc.messages) from None
        return Response.json(201, created)

    @route("GET", "/rest/api/3/issue/{key}/changelog")
    def changelog(self, request: Request, key: str) -> Response:
        try:
            start = int(request.arg("startAt") or 0)
            size = min(100, int(request.arg("maxResults") or 100))
        except ValueError:
            raise BadRequest(400, "startAt and maxResults must be integers.") from None
        with self.state.lock:
            rec = self._find(key)
            renderer = self.state.renderer()
            histories = [renderer.history(h) for h in rec["changelog"]]  # oldest first on this endpoint
        base = f"{self.state.base_url}/rest/api/3/issue/{rec['id']}/changelog"
        return Response.json(
            200, page_bean(histories, start, size, base, "?maxResults={size}&startAt={start}")
        )

    @route("GET", "/rest/api/3/issue/{key}/worklog")
    def worklogs(self, request: Request, key: str) -> Response:
        """PageOfWorklogs: ``startAt``/``maxResults`` (default and cap 5000), oldest first;
        ``startedAfter``/``startedBefore`` are epoch milliseconds (after: inclusive)."""
        try:
            start = max(0, int(request.arg("startAt") or 0))
            size = max(0, min(5000, int(request.arg("maxResults") or 5000)))
            after = request.arg("startedAfter")
            before = request.arg("startedBefore")
            after_ms = int(after) if after not in (None, "") else None
            before_ms = int(before) if before not in (None, "") else None
        except ValueError:  # the spec lists non-numeric paging values under 404
            raise BadRequest(
                404, "startAt, maxResults, startedAfter and startedBefore must be numbers."
            ) from None
        with self.state.lock:
            rec = self._find(key)
            logs = [
                w
                for w in rec["worklogs"]
                if (after_ms is None or w["started"].timestamp() * 1000 >= after_ms)
                and (before_ms is None or w["started"].timestamp() * 1000 < before_ms)
            ]
            renderer = self.state.renderer()
            page = [renderer.worklog(rec, w) for w in logs[start : start + size]]
        return Response.json(
            200, {"startAt": start, "maxResults": size, "total": len(logs), "worklogs": page}
        )

    @route("GET", "/rest/api/3/issueLinkType")
    def link_types(self, request: Request) -> Response:
        """What ``jira.create_issue_link`` reads before every link it makes."""
        base = self.state.base_url
        return Response.json(200, {"issueLinkTypes": [jl.link_type(base, name) for name in jl.LINK_TYPES]})

    @route("GET", "/rest/api/3/issueLinkType/{type_id}")
    def link_type(self, request: Request, type_id: str) -> Response:
        name = next((n for n, (tid, _, _) in jl.LINK_TYPES.items() if tid == type_id), None)
        if name is None:
            raise BadRequest(404, f"No issue link type with id '{type_id}' found.")
        return Response.json(200, jl.link_type(self.state.base_url, name))

    @route("POST", "/rest/api/3/issueLink")
    def create_link(self, request: Request) -> Response:
        """201 with an empty body (the spec: "returns nothing"); ``inwardIssue`` blocks
        ``outwardIssue`` for a Blocks link (:mod:`sandbox.jira.links`). A comment is ignored."""
        body = self.body(request)
        if not isinstance(body, dict):
            raise BadRequest(
                400, "Can not deserialize instance of LinkIssueRequestJsonBean: expected a JSON object."
            )
        ends = {}
        with self.state.lock:
            try:
                kind = jl.type_name(body.get("type"))
                for end in ("inwardIssue", "outwardIssue"):
                    ref = body.get(end)
                    wanted = str(ref.get("key") or ref.get("id") or "") if isinstance(ref, dict) else ""
                    if not wanted:
                        raise jl.LinkError(400, f"The {end} is required.")
                    try:
                        ends[end] = self.state.find(wanted)
                    except NotFound:
                        raise jl.LinkError(
                            404, f"Issue '{wanted}' does not exist or you do not have permission to see it."
                        ) from None
                jl.add(self.state, kind, ends["inwardIssue"], ends["outwardIssue"], self.state.api_user)
            except jl.LinkError as exc:
                raise BadRequest(exc.status, str(exc)) from None
        return Response.empty(201)

    def _link_id(self, link_id: str) -> str:
        if not link_id.isdigit():
            raise BadRequest(400, f"The issue link ID '{link_id}' is invalid.")
        if link_id not in self.state.links.by_id:
            raise BadRequest(404, f"No issue link with id '{link_id}' exists.")
        return link_id

    @route("GET", "/rest/api/3/issueLink/{link_id}")
    def get_link(self, request: Request, link_id: str) -> Response:
        with self.state.lock:
            link = self.state.links.by_id[self._link_id(link_id)]
            return Response.json(200, jl.render_link(self.state.renderer(), link, self.state._records))

    @route("DELETE", "/rest/api/3/issueLink/{link_id}")
    def delete_link(self, request: Request, link_id: str) -> Response:
        with self.state.lock:
            jl.remove(self.state, self._link_id(link_id), self.state.api_user)
        return Response.empty(204)

    @route("GET", "/rest/api/3/project/{key}")
    def project(self, request: Request, key: str) -> Response:
        entry = self.state._projects.get(key.lower())
        if entry is None:
            raise BadRequest(404, f"No project could be found with key '{key}'.")
        return Response.json(200, self.state.renderer().project(entry[0]))


def _split(value: Any) -> list[str]:
    """``fields``/``expand`` come as comma strings, repeated params or JSON lists."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if item is None:
            continue
        out.extend(part.strip() for part in str(item).split(",") if part.strip())
    return out
