"""``POST /v1/search`` under Notion-Version 2025-09-03: what ``relais init`` reads to find the
databases shared with the integration.

Body (``SearchBodyParameters``): ``query`` (matched against titles, case-insensitively),
``filter: {"property": "object", "value": "page" | "data_source"}``, ``sort:
{"timestamp": "last_edited_time", "direction"}``, ``start_cursor``, ``page_size`` (1–100,
default 100; the cursor is the next result's id). The answer is ``{"object": "list", "type": "page_or_data_source",
"page_or_data_source": {}, "results", "next_cursor", "has_more"}`` as recorded
(``notion-recorded/test_search.yaml``); data sources come as ``GET /v1/data_sources/{id}``
renders them, pages as ``GET /v1/pages/{id}``. Trashed pages are left out, as Notion does.
"""

from __future__ import annotations

from typing import Any

from .data import DATABASES
from .schema import ValidationError
from .state import NotionState

OBJECTS = ("page", "data_source")


def search(state: NotionState, body: dict[str, Any]) -> dict[str, Any]:
    """One page of search results (the caller holds the state's lock)."""
    wanted = _object_filter(body.get("filter"))
    size = body.get("page_size", 100)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 100:
        raise ValidationError(
            f"body failed validation: body.page_size should be a number between 1 and 100, instead was `{size}`."
        )
    query = body.get("query") or ""
    if not isinstance(query, str):
        raise ValidationError("body failed validation: body.query should be a string.")
    direction = ((body.get("sort") or {}) if isinstance(body.get("sort"), dict) else {}).get("direction")
    renderer = state.renderer()
    found: list[tuple[Any, dict[str, Any]]] = []
    if wanted in (None, "data_source"):
        for source in DATABASES:
            if query.casefold() in DATABASES[source].casefold():
                edited = state.schema_edited(source)
                found.append((edited, renderer.data_source(source, edited)))
    if wanted in (None, "page"):
        for rec in state._pages.values():
            title = "".join(rec["values"].get("Name") or [])
            if not rec["in_trash"] and query.casefold() in title.casefold():
                found.append((rec["edited"], renderer.page(rec)))
    found.sort(key=lambda pair: pair[0], reverse=direction != "ascending")
    cursor = body.get("start_cursor")
    ids = [item["id"] for _, item in found]
    if cursor and cursor not in ids:
        raise ValidationError(f"The start_cursor provided is invalid: {cursor}")
    start = ids.index(cursor) if cursor else 0
    chunk = found[start : start + size]
    more = start + size < len(found)
    return {
        "object": "list",
        "results": [item for _, item in chunk],
        "next_cursor": ids[start + size] if more else None,  # the next result's id, as Notion's
        "has_more": more,
        "type": "page_or_data_source",
        "page_or_data_source": {},
    }


def _object_filter(filt: Any) -> str | None:
    if filt is None:
        return None
    if not isinstance(filt, dict):
        raise ValidationError("body failed validation: body.filter should be an object.")
    if "value" not in filt and "in_trash" in filt:
        return None
    if filt.get("property") != "object" or filt.get("value") not in OBJECTS:
        raise ValidationError(
            'body failed validation: body.filter.value should be `"page"` or `"data_source"`, '
            f"instead was `{filt.get('value')!r}`."
        )
    return str(filt["value"])
