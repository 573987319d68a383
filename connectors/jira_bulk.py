"""Jira Cloud's bulk edit: one request for many issues getting the same single-select value.

Endpoints:
  GET  /rest/api/3/field/{id}/context                 the field's contexts, once at connect
  GET  /rest/api/3/field/{id}/context/{ctx}/option    their options: the bulk edit names an
                                                      option by id, not by value
  POST /rest/api/3/bulk/issues/fields                 up to 1,000 issues, one field; answers
                                                      201 {"taskId"}: the edit runs afterwards
  GET  /rest/api/3/bulk/queue/{taskId}                progress, until COMPLETE: the issues
                                                      processed and those that failed, with why

A first sync writes the Work type of thousands of issues, mostly one of three
values: bulk edit turns that into a few requests instead of one PUT each.
It needs Jira's "Global bulk change" permission: without it (403) relais
writes issue by issue for the rest of the process, as it would without bulk
edit (a field whose options cannot be read is written issue by issue too). An
edit sets a value, so sending it again is harmless; but the POST is not
re-sent by the policy after an ambiguous failure, like every POST that is
not a read: the next cycle's plan, which compares with what Jira holds,
decides what is left to write.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from connectors.errors import BatchUnavailable, ForbiddenError, NotFoundError, TransientError
from connectors.jira_client import JiraClient

BULK_MIN = 5  # fewer issues: a PUT each costs no more than a bulk edit and its polls
BULK_MAX = 1000  # Jira's limit per request
POLL_FIRST, POLL_MAX, POLL_GIVE_UP = 0.25, 2.0, 120.0  # seconds
DONE = {"COMPLETE", "FAILED", "CANCELLED", "DEAD"}


class BulkRefused(BatchUnavailable):
    """Jira refused bulk edits (no "Global bulk change" permission): write issue by issue."""


class JiraBulkEdit:
    def __init__(self, client: JiraClient) -> None:
        self.client = client  # its session mounted on relais' policy
        self.options: dict[str, dict[str, int]] = {}  # field id -> option value -> option id
        self.refused: str | None = None  # why bulk edit is off for this process, if it is

    # -- at connect ----------------------------------------------------------------------
    def load_options(self, field_ids: Iterable[str]) -> None:
        """The options of each select field relais writes (its global context's, as Jira Cloud
        keeps them); a field whose options cannot be read is written issue by issue."""
        for field_id in field_ids:
            try:
                self.options[field_id] = self._options(field_id)
            except (ForbiddenError, NotFoundError):
                continue

    def _options(self, field_id: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for context in self.client.paged(f"field/{field_id}/context"):
            for option in self.client.paged(f"field/{field_id}/context/{context['id']}/option"):
                if not option.get("disabled"):
                    out.setdefault(option["value"], int(option["id"]))
        return out

    # -- writing -----------------------------------------------------------------------------
    def key(self, field_id: str | None, value: Any) -> tuple[str, int] | None:
        """(field id, option id) when this value can be written in bulk; None: issue by issue."""
        if self.refused is not None or field_id not in self.options:
            return None
        if value is None:
            return field_id, -1  # -1 clears a single select
        option = self.options[field_id].get(value)
        return (field_id, option) if option is not None else None

    def edit(self, issue_ids: list[str], key: tuple[str, int]) -> BulkOutcome:
        """Submit one bulk edit and wait for it. Raises BulkRefused without the permission,
        TransientError if it does not finish in time."""
        field_id, option_id = key
        # sendBulkNotification is left at Jira's default: turning it off needs an administrator's
        # rights (a 403 otherwise), and relais' single writes do not turn notifications off either.
        body = {
            "selectedIssueIdsOrKeys": issue_ids,
            "selectedActions": [field_id],
            "editedFieldsInput": {
                "singleSelectFields": [{"fieldId": field_id, "option": {"optionId": option_id}}]
            },
        }
        try:
            answer = self.client.post("bulk/issues/fields", body)
        except ForbiddenError as e:
            self.refused = str(e)
            raise BulkRefused(str(e)) from None
        return self._wait(answer["taskId"], issue_ids)

    def _wait(self, task_id: str, issue_ids: list[str]) -> BulkOutcome:
        pause, waited = POLL_FIRST, 0.0
        while True:
            time.sleep(pause)
            waited += pause
            progress = self.client.get_json(f"bulk/queue/{task_id}")
            if progress.get("status") in DONE:
                break
            if waited >= POLL_GIVE_UP:
                raise TransientError(
                    "jira",
                    f"bulk edit {task_id} still {progress.get('status')} after "
                    f"{waited:.0f} s; its issues are planned again next cycle",
                )
            pause = min(pause * 2, POLL_MAX)
        out = BulkOutcome()
        out.refused = {
            str(i): "; ".join(map(str, why))
            for i, why in (progress.get("failedAccessibleIssues") or {}).items()
        }
        processed = {str(i) for i in progress.get("processedAccessibleIssues") or ()}
        for ident in issue_ids:
            if ident in out.refused:
                continue
            if ident in processed:
                out.done.add(ident)
            else:  # invalid, inaccessible, or the task died: not a refusal of the value
                out.skipped[ident] = f"not edited by bulk edit {task_id} ({progress.get('status')})"
        return out


@dataclass
class BulkOutcome:
    done: set[str] = field(default_factory=set)
    refused: dict[str, str] = field(default_factory=dict)  # Jira said why: like a 400 on a PUT
    skipped: dict[str, str] = field(default_factory=dict)  # not done, no reason given: try again later
