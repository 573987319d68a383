"""Jira Cloud's bulk edit: the payload of ``POST /bulk/issues/fields`` and the task queue behind
``GET /bulk/queue/{taskId}``.

What Jira Cloud does (platform spec: ``submitBulkEdit``, ``IssueBulkEditPayload``,
``getBulkOperationProgress``, ``BulkOperationProgress``; a run recorded against a real site):

- The POST takes ``selectedIssueIdsOrKeys`` (at most 1000), ``selectedActions`` (field ids, at
  most 200), ``editedFieldsInput`` (one list per kind of field; a single select is
  ``singleSelectFields: [{"fieldId", "option": {"optionId": <int>}}]``, ``optionId: -1`` clears)
  and ``sendBulkNotification`` (default true). Every field of ``editedFieldsInput`` must be in
  ``selectedActions`` (the spec's example: "The following editedFieldInput values are not listed
  as selectedActions : issuetype") and every action needs its input. A bad payload is a 400 whose
  body is ``BulkOperationErrorResponse``: ``{"errors": [{"message"}]}``, not an ErrorCollection.
- A valid one answers **201** ``{"taskId"}`` and nothing is edited yet: the task is queued
  (``ENQUEUED``), runs (``RUNNING``) and ends ``COMPLETE`` with ``processedAccessibleIssues``
  (issue ids, integers), ``failedAccessibleIssues`` (issue id → reasons; ``{}`` when none, as a
  real site answers), ``invalidOrInaccessibleIssueCount`` (keys or ids that name no issue) and
  ``totalIssueCount``. Timestamps are epoch milliseconds, as the spec's examples (not its schema)
  and real Jira have them.
- Each issue is edited as a ``PUT /issue/{id}`` of those fields would be: same validation, same
  per-screen rules (Health on an FB issue "cannot be set"), ``updated`` bumped, one changelog
  entry by the API user. An issue the write refuses is reported failed with the PUT's message;
  the others are edited.

The sandbox implements the single selects only (Work type, Team, Health, Origin, Tier, Area);
another kind of input is a 400 that says so. The queue: the answer leaves first; the edit
lands ``delay`` seconds (wall-clock, :attr:`JiraState.bulk_delay_seconds`) after the POST —
by a timer, or earlier if a request to the Jira fake comes after that moment, so a poll after
the delay always sees it. The first quarter of the delay the task is ``ENQUEUED``, then
``RUNNING`` (progress 0 %). It never ends ``FAILED``, ``CANCELLED`` or ``DEAD``.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import FieldErrors, NotFound

MAX_ISSUES = 1000
MAX_FIELDS = 200
CLEAR = -1
FIRST_TASK_ID = 30000
INVALID_PAYLOAD = "Invalid request payload. Refer to the REST API documentation and try again."
NO_PERMISSION = "You do not have the global permission 'Make bulk changes'."
NOT_LISTED = (
    "The following editedFieldInput values are not listed as selectedActions : {}"  # the spec's example
)
# JiraIssueFields' properties (the spec): anything else in editedFieldsInput is an invalid payload.
INPUT_KINDS = frozenset(
    {
        "cascadingSelectFields",
        "clearableNumberFields",
        "colorFields",
        "datePickerFields",
        "dateTimePickerFields",
        "issueType",
        "labelsFields",
        "multipleGroupPickerFields",
        "multipleSelectClearableUserPickerFields",
        "multipleSelectFields",
        "multipleVersionPickerFields",
        "multiselectComponents",
        "originalEstimateField",
        "priority",
        "richTextFields",
        "singleGroupPickerFields",
        "singleLineTextFields",
        "singleSelectClearableUserPickerFields",
        "singleSelectFields",
        "singleVersionPickerFields",
        "status",
        "timeTrackingField",
        "urlFields",
    }
)
PAYLOAD_KEYS = frozenset(
    {"editedFieldsInput", "selectedActions", "selectedIssueIdsOrKeys", "sendBulkNotification"}
)


class BulkError(Exception):
    """A refused payload: Jira's messages (a 400)."""

    def __init__(self, *messages: str):
        super().__init__("; ".join(messages))
        self.messages = list(messages)


@dataclass
class Edit:
    issues: list[str]  # ids or keys as given, without repeats
    fields: dict[str, str | None]  # field id -> option id (None clears)
    notify: bool = True


def _strings(payload: dict[str, Any], key: str) -> list[str]:
    value = payload.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BulkError(f"{key} must be a list of strings.")
    if not value:
        raise BulkError(f"{key} must not be empty.")
    return list(dict.fromkeys(value))


def parse(
    payload: Any, fields: dict[str, dict[str, Any]], selects: dict[str, dict[str, str]], editable: set[str]
) -> Edit:
    """Validate ``IssueBulkEditPayload`` (``fields``: the /field catalogue by id, ``selects``: single
    select field id → options, ``editable``: the fields a PUT can write); :class:`BulkError` if not."""
    if not isinstance(payload, dict):
        raise BulkError(INVALID_PAYLOAD)
    strange = sorted(set(payload) - PAYLOAD_KEYS)
    if strange:  # IssueBulkEditPayload admits no other property
        raise BulkError(f'Unrecognized field "{strange[0]}". {INVALID_PAYLOAD}')
    for key in ("selectedIssueIdsOrKeys", "selectedActions", "editedFieldsInput"):
        if payload.get(key) is None:
            raise BulkError(f"{key} is required.")
    issues = _strings(payload, "selectedIssueIdsOrKeys")
    if len(issues) > MAX_ISSUES:
        raise BulkError(
            f"You can edit at most {MAX_ISSUES} issues in one bulk edit; {len(issues)} were selected."
        )
    actions = _strings(payload, "selectedActions")
    if len(actions) > MAX_FIELDS:
        raise BulkError(
            f"You can edit at most {MAX_FIELDS} fields in one bulk edit; {len(actions)} were selected."
        )
    unknown = [a for a in actions if a not in fields]
    if unknown:
        raise BulkError(f"The following selectedActions are not valid field ids : {', '.join(unknown)}")
    fixed = [a for a in actions if a not in editable]
    if fixed:
        raise BulkError(f"The following selectedActions cannot be bulk edited : {', '.join(fixed)}")
    notify = payload.get("sendBulkNotification")
    if notify is not None and not isinstance(notify, bool):
        raise BulkError(INVALID_PAYLOAD)
    inputs = payload["editedFieldsInput"]
    if not isinstance(inputs, dict):
        raise BulkError(INVALID_PAYLOAD)
    strange = sorted(set(inputs) - INPUT_KINDS)
    if strange:  # JiraIssueFields admits no other property
        raise BulkError(f'Unrecognized field "{strange[0]}" in editedFieldsInput. {INVALID_PAYLOAD}')
    others = sorted(k for k in inputs if k != "singleSelectFields")
    if others:
        raise BulkError(f"The sandbox implements singleSelectFields only, not {', '.join(others)}.")
    values = _single_selects(inputs.get("singleSelectFields", []), fields, selects)
    not_listed = [fid for fid in values if fid not in actions]
    if not_listed:
        raise BulkError(NOT_LISTED.format(", ".join(not_listed)))
    no_input = [a for a in actions if a not in values]
    if no_input:
        raise BulkError(
            f"The following selectedActions have no value in editedFieldsInput : {', '.join(no_input)}"
        )
    return Edit(issues, values, True if notify is None else notify)


def _single_selects(
    entries: Any, fields: dict[str, dict[str, Any]], selects: dict[str, dict[str, str]]
) -> dict[str, str | None]:
    if not isinstance(entries, list):
        raise BulkError(INVALID_PAYLOAD)
    values: dict[str, str | None] = {}
    for entry in entries:
        if (
            not isinstance(entry, dict)
            or set(entry) - {"fieldId", "option"}
            or not isinstance(entry.get("fieldId"), str)
        ):
            raise BulkError(INVALID_PAYLOAD)
        fid, option = entry["fieldId"], entry.get("option")
        if not isinstance(option, dict) or set(option) - {"optionId"}:
            raise BulkError(INVALID_PAYLOAD)
        oid = option.get("optionId")
        if isinstance(oid, bool) or not isinstance(oid, int):
            raise BulkError(f"The option of field '{fid}' needs an integer optionId (-1 clears the field).")
        if fid not in selects:
            kind = "is not a single select field" if fid in fields else "does not exist"
            raise BulkError(f"The field '{fid}' {kind}: it cannot be edited with singleSelectFields.")
        if fid in values:
            raise BulkError(f"The field '{fid}' appears more than once in singleSelectFields.")
        if oid != CLEAR and str(oid) not in selects[fid]:
            raise BulkError(f"Option id '{oid}' is not valid for field '{fid}'.")
        values[fid] = None if oid == CLEAR else str(oid)
    return values


# --------------------------------------------------------------------- the queue
@dataclass
class Task:
    id: str
    edit: Edit
    submitted_by: str
    created: datetime  # the sandbox clock
    due: float  # time.monotonic() when the edit lands
    running_at: float  # time.monotonic() when it shows RUNNING
    started: datetime | None = None
    finished: datetime | None = None
    processed: list[int] = field(default_factory=list)
    failed: dict[str, list[str]] = field(default_factory=dict)
    invalid: int = 0
    timer: threading.Timer | None = None


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


class Queue:
    """Bulk tasks of one Jira state (``sb.jira``); every method takes the state's lock."""

    def __init__(self, state: Any):
        self.state = state
        self.tasks: dict[str, Task] = {}
        self._pending: list[Task] = []
        self._ids = itertools.count(FIRST_TASK_ID)

    def submit(self, edit: Edit, delay: float, author: str) -> str:
        delay = max(0.0, float(delay))
        with self.state.lock:
            now = time.monotonic()
            task = Task(str(next(self._ids)), edit, author, self.state.now(), now + delay, now + delay / 4)
            self.tasks[task.id] = task
            self._pending.append(task)
            task.timer = threading.Timer(delay, self._land, args=(task.id,))
            task.timer.daemon = True
            task.timer.start()
            return task.id

    def settle(self) -> None:
        """Land every edit whose moment has come (called before each request the fake serves)."""
        if not self._pending:
            return
        with self.state.lock:
            now = time.monotonic()
            for task in [t for t in self._pending if t.due <= now]:
                self._apply(task)

    def run(self, task_id: str | None = None) -> None:
        """Land pending edits now (one task, or all), as when Jira's queue gets to them."""
        with self.state.lock:
            for task in [t for t in self._pending if task_id in (None, t.id)]:
                self._apply(task)

    def close(self) -> None:
        """Stop the timers (the sandbox stops); pending edits land only if a request or :meth:`run` asks."""
        with self.state.lock:
            for task in self._pending:
                if task.timer is not None:
                    task.timer.cancel()

    def _land(self, task_id: str) -> None:
        with self.state.lock:
            task = self.tasks.get(task_id)
            if task is not None and task.finished is None:
                self._apply(task)

    def _apply(self, task: Task) -> None:
        state = self.state
        task.started = task.started or state.now()
        values = {fid: None if oid is None else {"id": oid} for fid, oid in task.edit.fields.items()}
        done: set[str] = set()
        for ref in task.edit.issues:
            try:
                rec = state.find(ref)
            except NotFound:
                task.invalid += 1
                continue
            if rec["id"] in done:  # the same issue by key and by id
                continue
            done.add(rec["id"])
            try:
                state.apply(rec, dict(values), None, task.submitted_by)
            except FieldErrors as exc:
                task.failed[rec["id"]] = [*exc.errors.values(), *exc.messages]
            else:
                task.processed.append(int(rec["id"]))
        task.finished = state.now()
        self._pending.remove(task)
        if task.timer is not None:
            task.timer.cancel()

    def progress(self, task_id: str) -> dict[str, Any] | None:
        """``BulkOperationProgress``, or None for an unknown task."""
        self.settle()
        with self.state.lock:
            task = self.tasks.get(task_id)
            if task is None:
                return None
            body: dict[str, Any] = {
                "taskId": task.id,
                "submittedBy": {"accountId": task.submitted_by},
                "created": _ms(task.created),
            }
            if task.finished is not None:
                assert task.started is not None
                body.update(
                    {
                        "status": "COMPLETE",
                        "progressPercent": 100,
                        "started": _ms(task.started),
                        "updated": _ms(task.finished),
                        "processedAccessibleIssues": list(task.processed),
                        "failedAccessibleIssues": {k: list(v) for k, v in task.failed.items()},
                        "invalidOrInaccessibleIssueCount": task.invalid,
                        "totalIssueCount": task.invalid + len(task.processed) + len(task.failed),
                    }
                )
            elif time.monotonic() >= task.running_at:
                task.started = task.started or self.state.now()
                body.update(
                    {
                        "status": "RUNNING",
                        "progressPercent": 0,
                        "started": _ms(task.started),
                        "updated": _ms(task.started),
                    }
                )
            else:
                body.update({"status": "ENQUEUED", "progressPercent": 0, "updated": _ms(task.created)})
            return body
