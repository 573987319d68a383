"""Jira's ``PageBean``: one page of a list, as the paged v3 endpoints answer it."""

from __future__ import annotations

from typing import Any


def page_bean(values: list[Any], start: int, size: int, base: str = "", query: str = "") -> dict[str, Any]:
    """``values[start:start + size]`` with its place in the list. With ``base``, the ``self`` and
    ``nextPage`` links: ``base`` followed by ``query`` (``{start}`` and ``{size}`` in it are filled,
    in the order the endpoint writes them)."""
    page = values[start : start + size]
    body: dict[str, Any] = {"self": base + query.format(start=start, size=size)} if base else {}
    body.update(maxResults=size, startAt=start, total=len(values), isLast=start + len(page) >= len(values))
    body["values"] = page
    if base and not body["isLast"]:
        body["nextPage"] = base + query.format(start=start + len(page), size=size)
    return body
