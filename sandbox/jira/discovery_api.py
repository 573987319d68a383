"""What ``relais init`` reads of a Jira site to propose a config (mixed into ``JiraApp``).

- ``GET /rest/api/3/project/search``: ``PageBeanProject`` (``startAt``/``maxResults``, default
  50, at most 100; ``isLast``, ``total``, ``nextPage``), ordered by key: the teams' projects
  and the feedback project; ``expand=lead`` adds each project's lead (a team's PM; the
  feedback project's is the first PM).
- ``GET /rest/api/3/issuetype``: every issue type (``IssueTypeDetails``), as issues carry them.
- ``GET /rest/api/3/status``: every status (``StatusDetails``).
- ``GET /rest/api/3/users/search``: the site's users (``User``), paged by ``startAt`` and
  ``maxResults`` (default 50); their ``emailAddress`` as the renderer shows it.

Read-only views of the vocabulary (:mod:`sandbox.jira.fields`) and the organisation.
"""

from __future__ import annotations

from typing import Any

from ..server import Request, Response
from ..vendor import BadRequest, route
from .fields import ISSUE_TYPES, STATUSES
from .paging import page_bean


class DiscoveryRoutes:
    state: Any

    @route("GET", "/rest/api/3/project/search")
    def project_search(self, request: Request) -> Response:
        start, size = _paging(request, default=50, cap=100)
        renderer = self.state.renderer()
        keys = sorted(renderer.projects)
        query = (request.arg("query") or "").casefold()
        if query:
            keys = [k for k in keys if query in k.casefold() or query in renderer.projects[k][1].casefold()]
        base = f"{self.state.base_url}/rest/api/3/project/search"
        body = page_bean(keys, start, size, base, "?startAt={start}&maxResults={size}")
        lead = "lead" in _split(request.args("expand"))
        body["values"] = [self._project(renderer, k, lead) for k in body["values"]]
        return Response.json(200, body)

    def _project(self, renderer: Any, key: str, lead: bool) -> dict[str, Any]:
        project: dict[str, Any] = renderer.project(key)
        if lead:
            org = self.state.org
            team = next((t for t in org.teams if t.project_key == key), org.teams[0])
            project["lead"] = renderer.user(org.person(team.pm).jira_account_id)
        return project

    @route("GET", "/rest/api/3/issuetype")
    def issue_types(self, request: Request) -> Response:
        renderer = self.state.renderer()
        return Response.json(
            200, [renderer.field_value({"issuetype": name}, "issuetype") for name in ISSUE_TYPES]
        )

    @route("GET", "/rest/api/3/status")
    def statuses(self, request: Request) -> Response:
        renderer = self.state.renderer()
        return Response.json(200, [renderer.status(name) for name in STATUSES])

    @route("GET", "/rest/api/3/users/search")
    def users_search(self, request: Request) -> Response:
        start, size = _paging(request, default=50, cap=1000)
        renderer = self.state.renderer()
        ids = [p.jira_account_id for p in [*self.state.org.people, self.state.org.bot]]
        return Response.json(200, [renderer.user(i) for i in ids[start : start + size]])


def _split(values: list[str]) -> list[str]:
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def _paging(request: Request, default: int, cap: int) -> tuple[int, int]:
    try:
        start = max(0, int(request.arg("startAt") or 0))
        size = int(request.arg("maxResults") or default)
    except ValueError:
        raise BadRequest(400, "startAt and maxResults must be integers.") from None
    return start, max(1, min(size, cap))
