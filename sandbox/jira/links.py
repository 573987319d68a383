"""Jira issue links: the link types, the ``issuelinks`` field, ``/issueLink`` and their changelog.

Jira stores a link as (type, source, destination) — "source blocks destination" — and the REST
API names each end from the point of view of the other one:

- ``POST /rest/api/3/issueLink`` with ``{"type": {"name": "Blocks"}, "inwardIssue": {"key": "B"},
  "outwardIssue": {"key": "A"}}`` creates "B blocks A": ``inwardIssue`` is the source. This is
  the direction people get wrong; atlassian/atlassian-mcp-server#112 shows it on Cloud (inward
  IQS-4, outward IQS-2: IQS-2 "is blocked by IQS-4").
- On A, ``fields.issuelinks`` carries ``{"type": Blocks, "inwardIssue": B}``, to be labelled with
  the type's ``inward`` text: "A is blocked by B". On B it carries ``{"outwardIssue": A}``: "B
  blocks A" (developer.atlassian.com, "Jira issue linking model").
- ``GET /rest/api/3/issueLink/{id}`` names both ends as the POST did.

A linked issue shows ``id``, ``key``, ``self`` and ``fields`` {summary, status, priority,
issuetype}, read when the link is rendered: a blocker's status is always its current one.
Creating or deleting a link bumps ``updated`` on both issues and adds a ``Link`` changelog item
on each ("This issue blocks A", "This issue is blocked by B"); a link that already exists is
answered 201 and not made twice, as the spec says. Seeded links (:mod:`sandbox.jira.epics`) were
made before the history the sandbox keeps: no changelog, no ``updated`` moved.
"""

from __future__ import annotations

from typing import Any

# name -> (id, inward, outward): Jira Cloud's default link types and their ids
LINK_TYPES = {
    "Blocks": ("10000", "is blocked by", "blocks"),
    "Relates": ("10003", "relates to", "relates to"),
}
FIRST_LINK_ID = 10000


class LinkError(ValueError):
    """A refused link: ``status`` 400 or 404 and Jira's message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Links:
    """Every link of the tenant, indexed by issue id (links of an issue in id order)."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        self._of: dict[str, list[str]] = {}
        self._next = FIRST_LINK_ID

    def add(self, type_name: str, source: str, target: str) -> dict[str, Any]:
        link = {"id": str(self._next), "type": type_name, "source": source, "target": target}
        self._next += 1
        self.by_id[link["id"]] = link
        for end in (source, target):
            self._of.setdefault(end, []).append(link["id"])
        return link

    def remove(self, link_id: str) -> dict[str, Any]:
        link = self.by_id.pop(link_id)
        for end in (link["source"], link["target"]):
            self._of[end].remove(link_id)
        return link

    def of(self, issue_id: str) -> list[dict[str, Any]]:
        return [self.by_id[i] for i in self._of.get(issue_id, [])]

    def find(self, type_name: str, source: str, target: str) -> dict[str, Any] | None:
        return next(
            (
                link
                for link in self.of(source)
                if (link["type"], link["source"], link["target"]) == (type_name, source, target)
            ),
            None,
        )


def type_name(value: Any) -> str:
    """The link type a request names (``{"name"}`` or ``{"id"}``); LinkError 404 if none."""
    if isinstance(value, dict):
        for name, (tid, _, _) in LINK_TYPES.items():
            if value.get("name") == name or str(value.get("id")) == tid:
                return name
        wanted = value.get("name") if value.get("name") is not None else value.get("id")
        raise LinkError(404, f"No issue link type with name '{wanted}' found.")
    raise LinkError(400, "Issue link type is required.")


def link_type(base: str, name: str) -> dict[str, Any]:
    tid, inward, outward = LINK_TYPES[name]
    return {
        "id": tid,
        "name": name,
        "inward": inward,
        "outward": outward,
        "self": f"{base}/rest/api/3/issueLinkType/{tid}",
    }


def linked_issue(renderer: Any, rec: dict[str, Any]) -> dict[str, Any]:
    """A ``LinkedIssue``: the issue as a link (or ``fields.parent``) shows it, current values."""
    return {
        "id": rec["id"],
        "key": rec["key"],
        "self": f"{renderer.base}/rest/api/3/issue/{rec['id']}",
        "fields": {
            "summary": rec["summary"],
            "status": renderer.status(rec["status"]),
            "priority": renderer.field_value(rec, "priority"),
            "issuetype": renderer.field_value(rec, "issuetype"),
        },
    }


def render_link(renderer: Any, link: dict[str, Any], records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``GET /issueLink/{id}``: ``inwardIssue`` is the source, as in the POST that made it."""
    return {
        "id": link["id"],
        "self": f"{renderer.base}/rest/api/3/issueLink/{link['id']}",
        "type": link_type(renderer.base, link["type"]),
        "inwardIssue": linked_issue(renderer, records[link["source"]]),
        "outwardIssue": linked_issue(renderer, records[link["target"]]),
    }


def issuelinks(
    renderer: Any, rec: dict[str, Any], links: Links, records: dict[str, dict[str, Any]]
) -> list[Any]:
    """``fields.issuelinks`` of one issue: each link with the *other* end, named from this one."""
    out = []
    for link in links.of(rec["id"]):
        mine_is_source = link["source"] == rec["id"]
        other = records[link["target"] if mine_is_source else link["source"]]
        out.append(
            {
                "id": link["id"],
                "self": f"{renderer.base}/rest/api/3/issueLink/{link['id']}",
                "type": link_type(renderer.base, link["type"]),
                "outwardIssue" if mine_is_source else "inwardIssue": linked_issue(renderer, other),
            }
        )
    return out


def change_item(link: dict[str, Any], rec: dict[str, Any], other_key: str, removed: bool) -> dict[str, Any]:
    """The ``Link`` item Jira writes on ``rec`` when ``link`` is made (or removed)."""
    _, inward, outward = LINK_TYPES[link["type"]]
    text = f"This issue {outward if link['source'] == rec['id'] else inward} {other_key}"
    if removed:
        return {
            "field": "Link",
            "fieldtype": "jira",
            "from": other_key,
            "fromString": text,
            "to": None,
            "toString": None,
        }
    return {
        "field": "Link",
        "fieldtype": "jira",
        "from": None,
        "fromString": None,
        "to": other_key,
        "toString": text,
    }


def add(state: Any, kind: str, source: dict[str, Any], target: dict[str, Any], author: str) -> str:
    """Link ``source`` to ``target`` like a write: changelog and ``updated`` on both (module docstring)."""
    if source["id"] == target["id"]:
        raise LinkError(400, "You cannot link an issue to itself.")
    existing = state.links.find(kind, source["id"], target["id"])
    if existing is not None:
        return existing["id"]
    link = state.links.add(kind, source["id"], target["id"])
    _record(state, link, source, target, author, removed=False)
    return link["id"]


def remove(state: Any, link_id: str, author: str) -> None:
    if link_id not in state.links.by_id:
        raise LinkError(404, f"No issue link with id '{link_id}' exists.")
    link = state.links.remove(link_id)
    _record(state, link, state._records[link["source"]], state._records[link["target"]], author, removed=True)


def _record(
    state: Any,
    link: dict[str, Any],
    source: dict[str, Any],
    target: dict[str, Any],
    author: str,
    removed: bool,
) -> None:
    now = state.now()
    for rec, other in ((source, target), (target, source)):
        rec["changelog"].append(
            {
                "id": str(next(state._history_ids)),
                "author": author,
                "created": now,
                "items": [change_item(link, rec, other["key"], removed)],
            }
        )
        rec["updated"] = now
        state._touch(rec, 0)
