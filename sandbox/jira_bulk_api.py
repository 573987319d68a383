"""Routes of custom field contexts/options (mixed into ``JiraApp``), what relais' bulk edits read.

- ``GET /rest/api/3/field/{fieldId}/context`` and ``…/context/{contextId}/option``
  (:mod:`sandbox.jira_fieldcontexts`); errors are ErrorCollections, as the spec's examples.
"""

from __future__ import annotations

from typing import Any

from . import jira_fieldcontexts as fc
from .server import Request, Response
from .vendor import BadRequest


class BulkRoutes:
    state: Any

    def bulk_routes(self, r: Any) -> None:
        r.add("GET", "/rest/api/3/field/{field_id}/context", self.field_contexts)
        r.add("GET", "/rest/api/3/field/{field_id}/context/{context_id}/option", self.context_options)

    def field_contexts(self, request: Request, field_id: str) -> Response:
        try:
            page = fc.contexts_page(field_id, request.arg("startAt"), request.arg("maxResults"),
                                    request.arg("isGlobalContext"), request.arg("isAnyIssueType"),
                                    request.args("contextId"))
        except fc.ContextError as exc:
            raise BadRequest(exc.status, str(exc)) from None
        return Response.json(200, page)

    def context_options(self, request: Request, field_id: str, context_id: str) -> Response:
        try:
            page = fc.options_page(self.state.org, field_id, context_id, request.arg("startAt"),
                                   request.arg("maxResults"), request.arg("optionId"))
        except fc.ContextError as exc:
            raise BadRequest(exc.status, str(exc)) from None
        return Response.json(200, page)
