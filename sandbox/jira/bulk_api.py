"""Routes of the bulk edit API and of custom field contexts/options (mixed into ``JiraApp``).

- ``GET /rest/api/3/field/{fieldId}/context`` and ``…/context/{contextId}/option``
  (:mod:`sandbox.jira.fieldcontexts`); errors are ErrorCollections, as the spec's examples.
- ``POST /rest/api/3/bulk/issues/fields`` → 201 ``{"taskId"}`` (:mod:`sandbox.jira.bulk`); its
  400 and 403 bodies are ``BulkOperationErrorResponse`` (``{"errors": [{"message"}]}``): the spec
  gives that schema for this operation's 400/401 and its siblings' 403, and a real site answered a
  403 on this very endpoint in that shape.
- ``GET /rest/api/3/bulk/queue/{taskId}`` → ``BulkOperationProgress``; an unknown task is a 404
  and a refusal a 403, both ErrorCollections (the spec's own example error of this operation is an
  ErrorCollection).

Both bulk routes need the global permission "Make bulk changes" (``sb.jira.bulk_permission``).

And what a Jira admin configures (:mod:`sandbox.jira.catalogue`, its docstring says how each
answers): ``POST /rest/api/3/field``, ``POST …/context/{contextId}/option``, ``POST
/rest/api/3/screens/addToDefault/{fieldId}``, and ``GET /rest/api/3/issue/{key}/editmeta``.
"""

from __future__ import annotations

from typing import Any

from ..server import Request, Response
from ..vendor import BadRequest, route
from . import bulk as jb
from . import fieldcontexts as fc
from .catalogue import CatalogueError
from .errors import NotFound


class BulkRoutes:
    state: Any

    # what an admin configures (sandbox.jira.catalogue)
    @route("POST", "/rest/api/3/field")
    def create_field(self, request: Request) -> Response:
        body = request_json(self, request)
        with self.state.lock:
            return _catalogue(201, lambda: self.state.catalogue.create_field(body))

    @route("POST", "/rest/api/3/field/{field_id}/context/{context_id}/option")
    def create_options(self, request: Request, field_id: str, context_id: str) -> Response:
        body = request_json(self, request)
        with self.state.lock:
            if self.state.catalogue.field(field_id) is not None and context_id != fc.context_id(field_id):
                raise BadRequest(404, fc.CONTEXT_NOT_FOUND)
            return _catalogue(200, lambda: self.state.catalogue.add_options(field_id, body))

    @route("POST", "/rest/api/3/screens/addToDefault/{field_id}")
    def add_to_default(self, request: Request, field_id: str) -> Response:
        with self.state.lock:
            return _catalogue(200, lambda: self.state.catalogue.add_to_default(field_id) or {})

    @route("GET", "/rest/api/3/issue/{key}/editmeta")
    def editmeta(self, request: Request, key: str) -> Response:
        try:
            return Response.json(200, self.state.editmeta(key))
        except NotFound:
            raise BadRequest(404, "Issue does not exist or you do not have permission to see it.") from None

    @route("GET", "/rest/api/3/field/{field_id}/context")
    def field_contexts(self, request: Request, field_id: str) -> Response:
        return _page(
            fc.contexts_page,
            self.state.catalogue,
            field_id,
            request.arg("startAt"),
            request.arg("maxResults"),
            request.arg("isGlobalContext"),
            request.arg("isAnyIssueType"),
            request.args("contextId"),
        )

    @route("GET", "/rest/api/3/field/{field_id}/context/{context_id}/option")
    def context_options(self, request: Request, field_id: str, context_id: str) -> Response:
        return _page(
            fc.options_page,
            self.state.catalogue,
            field_id,
            context_id,
            request.arg("startAt"),
            request.arg("maxResults"),
            request.arg("optionId"),
        )

    @route("POST", "/rest/api/3/bulk/issues/fields")
    def bulk_edit(self, request: Request) -> Response:
        if not self.state.bulk_permission:
            raise BadRequest(403, jb.NO_PERMISSION, bulk=True)
        try:
            payload = request.json()
        except (ValueError, UnicodeDecodeError):
            raise BadRequest(400, jb.INVALID_PAYLOAD, bulk=True) from None
        try:
            catalogue = self.state.catalogue
            edit = jb.parse(
                payload,
                {f["id"]: f for f in catalogue.fields},
                catalogue.options,
                catalogue.editable_anywhere(),
            )
        except jb.BulkError as exc:
            raise BadRequest(400, "", messages=exc.messages, bulk=True) from None
        task_id = self.state.bulk.submit(edit, self.state.bulk_delay_seconds, self.state.api_user)
        return Response.json(201, {"taskId": task_id})

    @route("GET", "/rest/api/3/bulk/queue/{task_id}")
    def bulk_progress(self, request: Request, task_id: str) -> Response:
        if not self.state.bulk_permission:
            raise BadRequest(403, jb.NO_PERMISSION)
        body = self.state.bulk.progress(task_id)
        if body is None:
            raise BadRequest(404, f"The task with id '{task_id}' does not exist.")
        return Response.json(200, body)


def _page(build: Any, *args: Any) -> Response:
    """A page of field contexts or options, or the 4xx Jira answers for a bad request."""
    try:
        return Response.json(200, build(*args))
    except fc.ContextError as exc:
        raise BadRequest(exc.status, str(exc)) from None


def request_json(app: Any, request: Request) -> Any:
    return app.body(request)


def _catalogue(status: int, build: Any) -> Response:
    """What an admin's change answers, or Jira's 4xx for it."""
    try:
        return Response.json(status, build())
    except CatalogueError as exc:
        raise BadRequest(exc.status, str(exc)) from None
