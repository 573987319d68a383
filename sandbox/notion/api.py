"""Notion API routes under Notion-Version 2025-09-03 (what ``notion-client`` 3.1 calls).

Every body carries a ``request_id``; errors are ``{"object": "error", "status",
"code", "message", "request_id"}`` as recorded in the cassettes. A request
without ``Notion-Version`` is refused with ``missing_version``.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..server import Request, Response
from ..vendor import BadRequest, VendorApp, error_json, route
from .schema import PAGINATED, ValidationError, render_value
from .search import search
from .state import NotionNotFound, NotionState

CODES = {
    400: ("validation_error", "Invalid request."),
    401: ("unauthorized", "API token is invalid."),
    403: ("restricted_resource", "API token does not have access to this resource."),
    404: ("object_not_found", "Could not find the requested object."),
    405: ("invalid_request_url", "Invalid request URL."),
    409: ("conflict_error", "Conflict occurred while saving. Please try again."),
    429: ("rate_limited", "You have been rate limited. Please try again in a few minutes."),
    500: ("internal_server_error", "Unexpected error occurred."),
    502: ("bad_gateway", "Bad gateway."),
    503: ("service_unavailable", "Notion is unavailable, please try again later."),
    504: ("gateway_timeout", "Gateway timeout."),
    529: ("service_overload", "Notion is overloaded, please try again later."),
}


class NotionApp(VendorApp[NotionState]):
    name = "notion"
    list_keys = ("results",)

    # -- vendor hooks ---------------------------------------------------------
    def error(self, status: int, message: str | None = None, **extra: Any) -> Response:
        code, default = CODES.get(status, ("internal_server_error", self.phrase(status)))
        code = extra.get("code") or code
        body: dict[str, Any] = {
            "object": "error",
            "status": status,
            "code": code,
            "message": message or default,
        }
        if extra.get("additional_data"):
            body["additional_data"] = extra["additional_data"]
        body["request_id"] = str(uuid.uuid4())
        return error_json(status, body, {"x-notion-request-id": body["request_id"]}, extra)

    def rate_limited(
        self, wait_seconds: int, limit: float, retry_after: str | None, fault: bool = False
    ) -> Response:
        # Notion's 429 carries an integer Retry-After; a fault may ask for an http-date or none ("").
        return self.error(
            429, retry_after=str(wait_seconds) if retry_after is None else (retry_after or None)
        )

    def corrupt_item(self, item: dict[str, Any]) -> None:
        item.pop("properties", None)

    def authenticate(self, request: Request) -> Response | None:
        if (request.header("Authorization") or "") != f"Bearer {self.token}":
            return self.error(401)
        if not request.header("Notion-Version"):
            return self.error(
                400,
                "Notion-Version header failed validation: Notion-Version header should be "
                "defined, instead was `undefined`.",
                code="missing_version",
            )
        return None

    def not_found(self, request: Request) -> Response:
        return self.error(400, "Invalid request URL.", code="invalid_request_url")

    def handle(self, request: Request) -> Response:
        handler, _, known = self.router.match(request.method, request.path)
        if handler is None and known:
            return self.error(400, "Invalid request URL.", code="invalid_request_url")
        return super().handle(request)

    def ok(self, data: dict[str, Any]) -> Response:
        data["request_id"] = str(uuid.uuid4())
        return Response.json(200, data, {"x-notion-request-id": data["request_id"]})

    def missing(self, exc: NotionNotFound) -> BadRequest:
        return BadRequest(
            404,
            f"Could not find {exc.kind} with ID: {exc.object_id}. Make sure the relevant pages "
            f'and databases are shared with your integration "relais".',
            additional_data={"integration_id": self.state.org.bot.notion_user_id},
        )

    def run(self, fn: Any, *args: Any) -> Any:
        try:
            with self.state.lock:
                return fn(*args)
        except NotionNotFound as exc:
            raise self.missing(exc) from None
        except ValidationError as exc:
            raise BadRequest(400, str(exc), code="validation_error") from None

    def json_object(self, request: Request) -> dict[str, Any]:
        body = self.body(request)
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise BadRequest(
                400, "body failed validation: body should be an object.", code="validation_error"
            )
        return body

    # -- users ----------------------------------------------------------------
    @route("GET", "/v1/users/me")
    def users_me(self, request: Request) -> Response:
        return self.ok(self.state.renderer().bot())

    @route("GET", "/v1/users")
    def list_users(self, request: Request) -> Response:
        renderer = self.state.renderer()
        users = [renderer.person(p.notion_user_id) for p in self.state.org.people] + [renderer.bot()]
        return self.ok(
            {
                "object": "list",
                "results": users,
                "next_cursor": None,
                "has_more": False,
                "type": "user",
                "user": {},
            }
        )

    @route("GET", "/v1/users/{user_id}")
    def get_user(self, request: Request, user_id: str) -> Response:
        renderer = self.state.renderer()
        if user_id == self.state.org.bot.notion_user_id:
            return self.ok(renderer.bot())
        if user_id in renderer.users:
            return self.ok(renderer.person(user_id))
        raise self.missing(NotionNotFound("user", user_id))

    # -- databases and data sources ---------------------------------------------
    @route("GET", "/v1/databases/{database_id}")
    def get_database(self, request: Request, database_id: str) -> Response:
        source = self.run(self.state.database_source, database_id)
        with self.state.lock:
            return self.ok(self.state.renderer().database(source, self.state.schema_edited(source)))

    @route("GET", "/v1/data_sources/{data_source_id}")
    def get_data_source(self, request: Request, data_source_id: str) -> Response:
        source = self.run(self.state.source_of, data_source_id)
        with self.state.lock:
            return self.ok(self.state.renderer().data_source(source, self.state.schema_edited(source)))

    @route("PATCH", "/v1/data_sources/{data_source_id}")
    def update_data_source(self, request: Request, data_source_id: str) -> Response:
        body = self.json_object(request)
        source = self.run(self.state.update_data_source, data_source_id, body)
        with self.state.lock:
            return self.ok(self.state.renderer().data_source(source, self.state.schema_edited(source)))

    @route("POST", "/v1/data_sources/{data_source_id}/query")
    def query(self, request: Request, data_source_id: str) -> Response:
        body = self.json_object(request)
        only = set(request.args("filter_properties")) or None
        records, next_cursor, incomplete = self.run(self.state.query, data_source_id, body)
        with self.state.lock:
            renderer = self.state.renderer()
            results = [renderer.page(r, only) for r in records]
        data: dict[str, Any] = {
            "object": "list",
            "results": results,
            "next_cursor": next_cursor,
            "has_more": next_cursor is not None,
            "type": "page_or_data_source",
            "page_or_data_source": {},
        }
        if incomplete:
            data["request_status"] = {"type": "incomplete", "incomplete_reason": "query_result_limit_reached"}
        return self.ok(data)

    @route("POST", "/v1/search")  # what `relais init` reads (sandbox.notion.search)
    def search(self, request: Request) -> Response:
        return self.ok(self.run(search, self.state, self.json_object(request)))

    # -- pages ----------------------------------------------------------------
    @route("GET", "/v1/pages/{page_id}")
    def get_page(self, request: Request, page_id: str) -> Response:
        only = set(request.args("filter_properties")) or None
        rec = self.run(self.state.find, page_id)
        with self.state.lock:
            return self.ok(self.state.renderer().page(rec, only))

    @route("PATCH", "/v1/pages/{page_id}")
    def patch_page(self, request: Request, page_id: str) -> Response:
        body = self.json_object(request)
        rec = self.run(self.state.update, page_id, body, self.state.org.bot.notion_user_id)
        with self.state.lock:
            return self.ok(self.state.renderer().page(rec))

    @route("POST", "/v1/pages")
    def create_page(self, request: Request) -> Response:
        body = self.json_object(request)
        parent = body.get("parent") or {}
        if not isinstance(parent, dict):
            raise BadRequest(
                400, "body failed validation: body.parent should be an object.", code="validation_error"
            )
        dsid = parent.get("data_source_id")
        if dsid is None and parent.get("database_id"):
            # Allowed while the database has a single data source (2025-09-03 upgrade guide).
            source = self.run(self.state.database_source, parent["database_id"])
            dsid = self.state.data_source_ids[source]
        if dsid is None:
            raise BadRequest(
                400,
                "body failed validation: body.parent.data_source_id should be defined, instead was "
                "`undefined`.",
                code="validation_error",
            )
        rec = self.run(
            self.state.create, dsid, body.get("properties") or {}, self.state.org.bot.notion_user_id
        )
        with self.state.lock:
            return self.ok(self.state.renderer().page(rec))

    @route("GET", "/v1/pages/{page_id}/properties/{property_id}")
    def get_property(self, request: Request, page_id: str, property_id: str) -> Response:
        rec = self.run(self.state.find, page_id)
        with self.state.lock:
            schema = self.state.schemas[rec["source"]]
            prop = next((p for p in schema.values() if p.id == property_id or p.name == property_id), None)
            if prop is None:
                raise BadRequest(
                    404, f"Could not find property with ID: {property_id}.", code="object_not_found"
                )
            value = rec["values"].get(prop.name)
            renderer = self.state.renderer()
            if prop.type not in PAGINATED:
                item = render_value(prop, value, renderer.users)
                item.pop("has_more", None)
                return self.ok({"object": "property_item", **item})
            items = list(value or [])
        try:
            start = int(request.arg("start_cursor") or 0)
            size = int(request.arg("page_size") or 25)
        except ValueError:
            raise BadRequest(400, "The start_cursor provided is invalid.", code="validation_error") from None
        size = max(1, min(size, 100))
        chunk = items[start : start + size]
        more = start + size < len(items)
        results = [self._item(prop, entry, renderer.users) for entry in chunk]
        base = f"{self.state.base_url}/v1/pages/{rec['id']}/properties/{prop.id}"
        return self.ok(
            {
                "object": "list",
                "results": results,
                "next_cursor": str(start + size) if more else None,
                "has_more": more,
                "type": "property_item",
                "property_item": {
                    "id": prop.id,
                    "next_url": f"{base}?start_cursor={start + size}" if more else None,
                    "type": prop.type,
                    prop.type: {},
                },
            }
        )

    @staticmethod
    def _item(prop: Any, entry: Any, users: dict[str, Any]) -> dict[str, Any]:
        t = prop.type
        if t in ("title", "rich_text"):
            value: Any = render_value(prop, [entry], users)[t][0]
        elif t == "people":
            value = users.get(entry, {"object": "user", "id": entry})
        else:
            value = {"id": entry}
        return {"object": "property_item", "id": prop.id, "type": t, t: value}
