"""The one place relais reaches into ``jira.JIRA``'s private parts.

relais talks to Jira through the official ``jira`` library, but the library
has no public API for four things relais needs; :class:`JiraClient` wraps
``jira.JIRA`` and is the only code touching its private attributes, so that a
new ``jira`` release breaks one small module, not the connectors:

``_session`` (a ``requests.Session``)
    relais' network policy is mounted on it as a transport adapter
    (:func:`mount`), and the endpoints the library has no method for are
    called on it: ``PUT /issue/{id}`` with a body of relais' own (the library's
    ``Issue.update`` re-reads the issue and rewrites the body), ``POST /issue``
    for follow-ups (the library's ``create_issue`` re-reads the new issue: a
    second request, and a read the policy would retry), and
    ``POST /bulk/issues/fields`` (no method at all).
``_get_url``
    the library's URL for a REST path, with its ``rest_api_version`` ("3").
``_get_json``
    a GET of a path whose JSON answer relais reads itself: issue worklog pages,
    custom-field contexts and options, the bulk-edit task queue.
``deploymentType`` and ``_version``
    what the constructor's ``get_server_info=True`` would set. relais reads
    ``serverInfo`` in ``connect`` instead (after the policy adapter is mounted,
    so that call is paced and retried too) and sets both: the library takes its
    Cloud code paths (``enhanced_search_issues`` → ``/search/jql``) only when
    ``deploymentType == "Cloud"``.
``_fields_cache_value``
    the library's field clause-name → id cache, seeded from relais' own
    ``GET /field`` answer so the first search does not fetch it again.

Checked against ``jira`` 3.10.5 (``jira/client.py``: ``JIRA.__init__``,
``_get_url``, ``_get_json``, ``_fields_cache``, ``_is_cloud``,
``enhanced_search_issues``); pyproject.toml pins ``jira`` to the 3.x series.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from connectors.base import PageGuard

if TYPE_CHECKING:
    from requests.adapters import HTTPAdapter


class JiraClient:
    """``jira.JIRA`` with the private calls relais needs behind names of its own."""

    def __init__(self, client: Any) -> None:
        self.client = client  # a jira.JIRA built with get_server_info=False

    # -- set-up ------------------------------------------------------------------------------
    def mount(self, adapter: HTTPAdapter) -> None:
        """Send every request of the library through ``adapter`` (relais' policy)."""
        self.client._session.mount("https://", adapter)
        self.client._session.mount("http://", adapter)

    def server_info(self) -> dict[str, Any]:
        """``GET /serverInfo``, recorded where the library looks for it (see the module docstring)."""
        info: dict[str, Any] = self.client.server_info()
        self.client.deploymentType = info.get("deploymentType")
        self.client._version = tuple(info.get("versionNumbers") or (0, 0, 0))
        return info

    @property
    def deployment_type(self) -> str | None:
        return self.client.deploymentType

    def myself(self) -> dict[str, Any]:
        return self.client.myself()

    def fields(self) -> list[dict[str, Any]]:
        """``GET /field``; also seeds the library's clause-name cache from the same answer."""
        fields: list[dict[str, Any]] = self.client.fields()
        self.client._fields_cache_value = {n: f["id"] for f in fields for n in f.get("clauseNames", [])}
        return fields

    # -- reads ---------------------------------------------------------------------------------
    def search(self, jql: str, **kwargs: Any) -> dict[str, Any]:
        """One page of ``/search/jql`` as JSON (``enhanced_search_issues(json_result=True)``)."""
        return self.client.enhanced_search_issues(jql, json_result=True, **kwargs)

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a REST path (``issue/10001/worklog``) and its JSON answer."""
        return self.client._get_json(path, params=params)

    def paged(self, path: str, page_size: int = 100, **params: Any) -> list[dict[str, Any]]:
        """Every value of a paged list (a ``PageBean``: projects, custom-field contexts, their
        options), stopped by :class:`~connectors.base.PageGuard` if a server never ends it."""
        values: list[dict[str, Any]] = []
        guard = PageGuard(f"jira {path}")
        while True:
            guard.next(str(len(values)) if values else None)
            page = self.get_json(path, params={**params, "startAt": len(values), "maxResults": page_size})
            batch = page.get("values") or []
            values += batch
            if page.get("isLast", True) or not batch:
                return values

    # -- writes ------------------------------------------------------------------------------
    def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST a JSON body to a REST path; the answer's JSON."""
        return self.client._session.post(self.client._get_url(path), data=json.dumps(body)).json()

    def put(self, path: str, body: dict[str, Any]) -> None:
        """PUT a JSON body to a REST path (Jira answers 204, no body)."""
        self.client._session.put(self.client._get_url(path), data=json.dumps(body))

    def close(self) -> None:
        self.client.close()
