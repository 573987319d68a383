"""PagerDuty REST API v2 routes (what ``pagerduty`` 7.2 and relais call).

Classic pagination (``limit`` ≤ 100, ``offset``, ``total`` null unless asked,
``more``) with the hard ``offset + limit ≤ 10000`` rule; ``/incidents``
``since``/``until`` filter on *creation* time with a one-month default window
(``date_range=all`` lifts it); naive ``since``/``until`` are read in the
account time zone; ``/log_entries`` render in the account time zone unless
``time_zone`` says otherwise. Writes need a ``From`` header naming a user.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..server import Request, Response
from ..timeutil import UTC, parse_iso
from ..vendor import BadRequest, VendorApp, error_json, route
from . import data as pdd
from .state import PagerDutyState, PDError

ITERATION_LIMIT = 10000
SORT_FIELDS = ("incident_number", "created_at", "resolved_at", "urgency")
DEFAULT_CODES = {400: 2001, 401: 2006, 403: 2010, 404: 2100, 429: 2020}


class PagerDutyApp(VendorApp[PagerDutyState]):
    name = "pagerduty"
    list_keys = ("incidents", "log_entries", "notes", "services")

    # -- vendor hooks ---------------------------------------------------------
    def error(self, status: int, message: str | None = None, **extra: Any) -> Response:
        body: dict[str, Any] = {
            "message": message or self.phrase(status),
            "code": extra.get("code") or DEFAULT_CODES.get(status, 2000),
        }
        if extra.get("errors"):
            body["errors"] = list(extra["errors"])
        return error_json(status, {"error": body}, {}, extra)

    def rate_limited(
        self, wait_seconds: int, limit: float, retry_after: str | None, fault: bool = False
    ) -> Response:
        # PagerDuty sends ratelimit-* headers (seconds until reset), not Retry-After; "" = no header at all.
        headers = (
            {}
            if retry_after == ""
            else {
                "ratelimit-limit": str(int(limit * 60)),
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(wait_seconds),
            }
        )
        if fault and retry_after:
            headers["Retry-After"] = retry_after
        return Response.json(429, {"error": {"message": "Rate Limit Exceeded", "code": 2020}}, headers)

    def corrupt_item(self, item: dict[str, Any]) -> None:
        item.pop("service", None)
        item.pop("created_at", None)

    def authenticate(self, request: Request) -> Response | None:
        header = (request.header("Authorization") or "").strip()
        if header == f"Token token={self.token}":
            return None
        return self.error(401, "Authentication failed")

    def handle(self, request: Request) -> Response:
        try:
            return super().handle(request)
        except PDError as exc:  # pragma: no cover - handlers translate; kept as a safety net
            return self.error(exc.status, exc.message, code=exc.code, errors=exc.errors)

    def call(self, fn: Any, *args: Any) -> Any:
        try:
            with self.state.lock:
                return fn(*args)
        except PDError as exc:
            raise BadRequest(exc.status, exc.message, code=exc.code, errors=exc.errors) from None

    def from_user(self, request: Request) -> str:
        user = self.state.user_by_email(request.header("From"))
        if user is None:
            raise BadRequest(
                400,
                "Invalid Input Provided",
                code=2001,
                errors=[
                    'You must specify a user\'s email address in the "From" header to perform this action'
                ],
            )
        return user

    # -- parameters ---------------------------------------------------------
    def page_params(self, request: Request) -> tuple[int, int, bool]:
        try:
            limit = int(request.arg("limit") or 25)
            offset = int(request.arg("offset") or 0)
        except ValueError:
            raise BadRequest(
                400, "Invalid Input Provided", errors=["Limit and offset must be integers."]
            ) from None
        limit = max(1, min(limit, 100))
        if offset < 0:
            raise BadRequest(400, "Invalid Input Provided", errors=["Offset must be a positive integer."])
        if offset + limit > ITERATION_LIMIT:
            raise BadRequest(
                400, "Invalid Input Provided", errors=[f"Offset must be less than {ITERATION_LIMIT}."]
            )
        return limit, offset, (request.arg("total") or "").lower() == "true"

    def zone(self, request: Request, default: Any) -> Any:
        name = request.arg("time_zone")
        if not name:
            return default
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise BadRequest(400, "Invalid Input Provided", errors=["Time zone is invalid."]) from None

    def window(self, request: Request, month_default: bool) -> tuple[datetime | None, datetime | None]:
        if request.arg("date_range") == "all":
            return None, None
        # Without an offset, since/until are read in the time_zone parameter, else the account's zone.
        tz = self.zone(request, ZoneInfo(pdd.ACCOUNT_TZ))
        try:
            since = parse_iso(arg, tz) if (arg := request.arg("since")) else None
            until = parse_iso(arg, tz) if (arg := request.arg("until")) else None
        except ValueError:
            raise BadRequest(
                400, "Invalid Input Provided", errors=["Since or until is not a valid date."]
            ) from None
        if month_default:
            if until is None:
                until = (since + timedelta(days=30)) if since else self.state.clock()
            if since is None:
                since = until - timedelta(days=30)
        if since and until and since > until:
            raise BadRequest(400, "Invalid Input Provided", errors=["Since must be before until."])
        return since, until

    @staticmethod
    def page(key: str, items: list[Any], limit: int, offset: int, total: bool, render: Any) -> Response:
        chunk = items[offset : offset + limit]
        return Response.json(
            200,
            {
                key: [render(x) for x in chunk],
                "limit": limit,
                "offset": offset,
                "total": len(items) if total else None,
                "more": offset + len(chunk) < len(items),
            },
        )

    # -- incidents ----------------------------------------------------------
    @route("GET", "/incidents")
    def list_incidents(self, request: Request) -> Response:
        limit, offset, total = self.page_params(request)
        since, until = self.window(request, month_default=True)
        tz = self.zone(request, UTC)
        include = set(request.args("include"))
        statuses = set(request.args("statuses"))
        bad = statuses - {"triggered", "acknowledged", "resolved"}
        if bad:
            raise BadRequest(400, "Invalid Input Provided", errors=[f"Status {sorted(bad)[0]!r} is invalid."])
        services, teams = set(request.args("service_ids")), set(request.args("team_ids"))
        users, urgencies = set(request.args("user_ids")), set(request.args("urgencies"))
        key = request.arg("incident_key")
        team_services = (
            {s.id for s in self.state.org.services if self.state.org.team(s.team).pd_team_id in teams}
            if teams
            else set()
        )
        sort = self.sort_spec(request)
        with self.state.lock:
            matches = [
                r
                for r in self.state.incidents_in(since, until)
                if (not statuses or r["status"] in statuses)
                and (not services or r["service_id"] in services)
                and (not teams or r["service_id"] in team_services)
                and (not users or r["assignee"] in users)
                and (not urgencies or r["urgency"] in urgencies)
                and (key is None or r["incident_key"] == key)
            ]
            for field, descending in reversed(sort):
                matches.sort(key=_sort_key(field), reverse=descending)
            renderer = self.state.renderer()
            entries = self.state._entry_by_id
            return self.page(
                "incidents",
                matches,
                limit,
                offset,
                total,
                lambda r: renderer.incident(r, include, tz, entries),
            )

    def sort_spec(self, request: Request) -> list[tuple[str, bool]]:
        spec: list[tuple[str, bool]] = []
        for value in request.args("sort_by"):
            for part in value.split(","):
                field, _, direction = part.strip().partition(":")
                if field not in SORT_FIELDS or direction not in ("", "asc", "desc"):
                    raise BadRequest(
                        400, "Invalid Input Provided", errors=[f"Sort by {part!r} is not supported."]
                    )
                spec.append((field, direction == "desc"))
        if len(spec) > 2:
            raise BadRequest(
                400, "Invalid Input Provided", errors=["At most two sort_by fields are allowed."]
            )
        return spec or [("created_at", False)]

    @route("GET", "/incidents/{iid}")
    def get_incident(self, request: Request, iid: str) -> Response:
        include = set(request.args("include"))
        tz = self.zone(request, UTC)
        rec = self.call(self.state.find, iid)
        with self.state.lock:
            body = self.state.renderer().incident(rec, include, tz, self.state._entry_by_id, single=True)
        return Response.json(200, {"incident": body})

    @route("POST", "/incidents")
    def create_incident(self, request: Request) -> Response:
        user = self.from_user(request)
        data = (self.body(request) or {}).get("incident")
        if not isinstance(data, dict) or data.get("type") != "incident":
            raise BadRequest(400, "Invalid Input Provided", errors=["Incident type must be 'incident'."])
        service = (data.get("service") or {}).get("id")
        priority = (data.get("priority") or {}).get("id") if data.get("priority") else None
        details = (data.get("body") or {}).get("details")
        rec = self.call(
            self.state.create,
            service,
            data.get("title"),
            data.get("urgency"),
            data.get("incident_key"),
            priority,
            details,
            user,
        )
        with self.state.lock:
            body = self.state.renderer().incident(rec, set(), UTC, self.state._entry_by_id, single=True)
        return Response.json(201, {"incident": body})

    @route("PUT", "/incidents/{iid}")
    def put_incident(self, request: Request, iid: str) -> Response:
        user = self.from_user(request)
        data = self.body(request) or {}
        changes = data.get("incident") if isinstance(data, dict) else None
        if not isinstance(changes, dict):
            raise BadRequest(
                400, "Invalid Input Provided", errors=["The incident wrapper object is required."]
            )
        rec = self.call(self.state.update, iid, changes, user)
        with self.state.lock:
            body = self.state.renderer().incident(rec, set(), UTC, self.state._entry_by_id, single=True)
        return Response.json(200, {"incident": body})

    def note_json(self, note: dict[str, Any]) -> dict[str, Any]:
        renderer = self.state.renderer()
        return {
            "id": note["id"],
            "user": renderer.user_ref(note["user"]),
            "channel": {"summary": "The PagerDuty website or APIs"},
            "content": note["content"],
            "created_at": pdd.pd_time(note["created_at"]),
            "updated_at": pdd.pd_time(note["created_at"]),
        }

    @route("GET", "/incidents/{iid}/notes")
    def list_notes(self, request: Request, iid: str) -> Response:
        rec = self.call(self.state.find, iid)
        with self.state.lock:
            return Response.json(200, {"notes": [self.note_json(n) for n in rec["notes"]]})

    @route("POST", "/incidents/{iid}/notes")
    def create_note(self, request: Request, iid: str) -> Response:
        user = self.from_user(request)
        data = self.body(request) or {}
        note = data.get("note") if isinstance(data, dict) else None
        if not isinstance(note, dict):
            raise BadRequest(400, "Invalid Input Provided", errors=["The note wrapper object is required."])
        created = self.call(self.state.add_note, iid, note.get("content"), user)
        # The spec documents 200 (not 201) for this operation.
        return Response.json(200, {"note": self.note_json(created)})

    # -- log entries ----------------------------------------------------------
    @route("GET", "/log_entries")
    def list_log_entries(self, request: Request, incident_id: str | None = None) -> Response:
        limit, offset, total = self.page_params(request)
        since, until = self.window(request, month_default=False)
        tz = self.zone(request, ZoneInfo(pdd.ACCOUNT_TZ))
        include = set(request.args("include"))
        overview = (request.arg("is_overview") or "").lower() == "true"
        teams = set(request.args("team_ids"))
        with self.state.lock:
            by_id = self.state._by_id
            team_of = {s.id: self.state.org.team(s.team).pd_team_id for s in self.state.org.services}
            matches = [
                e
                for e in self.state.entries_in(since, until)
                if (incident_id is None or e["incident_id"] == incident_id)
                and (not overview or e["type"] in pdd.OVERVIEW_TYPES)
                and (not teams or team_of[by_id[e["incident_id"]]["service_id"]] in teams)
            ]
            renderer = self.state.renderer()
            entries = self.state._entry_by_id
            return self.page(
                "log_entries",
                matches,
                limit,
                offset,
                total,
                lambda e: renderer.log_entry(e, by_id[e["incident_id"]], include, tz, entries),
            )

    @route("GET", "/incidents/{iid}/log_entries")
    def incident_log_entries(self, request: Request, iid: str) -> Response:
        self.call(self.state.find, iid)
        return self.list_log_entries(request, incident_id=iid)

    @route("GET", "/log_entries/{eid}")
    def get_log_entry(self, request: Request, eid: str) -> Response:
        with self.state.lock:
            entry = self.state._entry_by_id.get(eid)
            if entry is None:
                raise BadRequest(404, "Not Found")
            rec = self.state._by_id[entry["incident_id"]]
            tz = self.zone(request, ZoneInfo(pdd.ACCOUNT_TZ))
            body = self.state.renderer().log_entry(entry, rec, set(request.args("include")), tz)
        return Response.json(200, {"log_entry": body})

    # -- lookups --------------------------------------------------------------
    @route("GET", "/services")
    def list_services(self, request: Request) -> Response:
        limit, offset, total = self.page_params(request)
        renderer = self.state.renderer()
        return self.page(
            "services", [s.id for s in self.state.org.services], limit, offset, total, renderer.service
        )

    @route("GET", "/services/{sid}")
    def get_service(self, request: Request, sid: str) -> Response:
        if sid not in {s.id for s in self.state.org.services}:
            raise BadRequest(404, "Not Found")
        return Response.json(200, {"service": self.state.renderer().service(sid)})

    @route("GET", "/priorities")
    def list_priorities(self, request: Request) -> Response:
        limit, offset, total = self.page_params(request)
        renderer = self.state.renderer()
        return self.page(
            "priorities",
            [p[0] for p in pdd.PRIORITIES],
            limit,
            offset,
            total,
            lambda pid: renderer.priority(pid, True),
        )

    @route("GET", "/users")
    def list_users(self, request: Request) -> Response:
        limit, offset, total = self.page_params(request)
        renderer = self.state.renderer()
        people = [p.pd_user_id for p in [self.state.org.bot, *self.state.org.people]]
        return self.page("users", people, limit, offset, total, renderer.user)

    @route("GET", "/teams")  # what `relais init` discovers
    def list_teams(self, request: Request) -> Response:
        """``GET /teams``: the org's teams (each owns its service), paged like every list;
        ``query`` filters by name, as PagerDuty's does."""
        limit, offset, total = self.page_params(request)
        renderer = self.state.renderer()
        query = (request.arg("query") or "").casefold()
        services = [s for s in self.state.org.services if query in renderer.teams[s.team].name.casefold()]
        return self.page("teams", services, limit, offset, total, renderer.team)

    @route("GET", "/abilities")
    def abilities(self, request: Request) -> Response:
        return Response.json(200, {"abilities": list(self.state.abilities)})

    @route("GET", "/abilities/{name}")
    def ability(self, request: Request, name: str) -> Response:
        if name in self.state.abilities:
            return Response.empty(204)
        return self.error(402, "Account does not have the abilities to perform the action", code=2012)


def _sort_key(field: str) -> Any:
    if field == "incident_number":
        return lambda r: r["number"]
    if field == "urgency":
        return lambda r: r["urgency"] == "high"
    if field == "resolved_at":
        return lambda r: (r["resolved_at"] is None, r["resolved_at"] or r["created_at"])
    return lambda r: (r["created_at"], r["number"])
