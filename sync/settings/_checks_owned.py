"""An owned field is never also an input, and two owned fields never share one field.

relais overwrites what it owns. A property it also reads to decide (a briefing's
Epic, the Team a page belongs to, the Story Points) would be destroyed by the
first write: `run_load: Epic` rewrote the hand-written epic keys of every
briefing. So the validated settings are checked against the owned-field table
(:mod:`sync.owned`), per Notion database and for Jira, and each clash is a
problem at the owned setting's line.

Two designed overlaps are not clashes: the briefing's Epic property is the
"briefing link" decision, filled only when empty; and on the database routing
writes to, its Team is the routed team (the page's own Team is not read there).
Scorecard rows are relais' own: nothing on them is an input.
"""

from __future__ import annotations

from typing import Any

from sync import owned

from ._types import quoted
from ._yaml import Document

Path_ = tuple[str | int, ...]


def check_owned(doc: Document, settings: Any) -> None:
    _notion(doc, settings)
    _jira(doc, settings)


def _owned_path(entry: owned.Owned) -> Path_:
    path: Path_ = tuple(entry.setting.split("."))
    return path + ("property",) if entry.vendor == "notion" and entry.field == "work_type" else path


def _notion_inputs(settings: Any, database: str) -> dict[str, Path_]:
    """Property name → the setting naming it, for what relais reads on a work database."""
    props = settings.sources.notion.properties
    wb = settings.writeback.notion
    names = ["title", "status", "tags"]
    if not (wb is not None and wb.routing is not None and wb.routing.database == database):
        names.append("team")
    if database == "feedback":
        names += ["origin", "customer", "tier", "area"]
    out: dict[str, Path_] = {}
    for name in names:
        out.setdefault(getattr(props, name), ("sources", "notion", "properties", name))
    if database == "briefings" and settings.briefings is not None:
        for name in ("target_date", "depends_on", "validated_by", "impact", "effort", "security"):
            out.setdefault(getattr(settings.briefings, name), ("briefings", name))
    return out


def _notion(doc: Document, settings: Any) -> None:
    notion, wb = settings.sources.notion, settings.writeback.notion if settings.writeback else None
    if notion is None or wb is None:
        return
    scorecard = wb.scorecard.database if wb.scorecard is not None else None
    for database in notion.databases.configured():
        written = owned.notion_properties(wb, settings.briefings, database)
        inputs = _notion_inputs(settings, database) if database != scorecard else {}
        kind = {"briefings": "briefing", "feedback": "feedback"}.get(database, "scorecard")
        first: dict[str, str] = {}
        for field, prop in written.items():
            if field == "epic":
                continue  # the briefing link: filled when empty, never overwritten
            entry = owned.lookup("notion", kind, field)
            if entry is None:
                continue
            path = _owned_path(entry)
            if prop in inputs:
                doc.problem(
                    path,
                    f"{quoted(prop)} on the {database} database is also what relais reads as "
                    f"{'.'.join(map(str, inputs[prop]))}: writing {field} there would overwrite what "
                    "people typed; name another property",
                )
            elif prop in first and first[prop] != field:
                doc.problem(
                    path,
                    f"{quoted(prop)} on the {database} database is written as {first[prop]} "
                    f"already: each owned field needs its own property",
                )
            first.setdefault(prop, field)


def _jira(doc: Document, settings: Any) -> None:
    jira = settings.sources.jira
    if jira is None:
        return
    fields = owned.jira_fields(settings)
    inputs: dict[str, Path_] = {}
    effort = settings.balance.effort.jira if settings.balance is not None else None
    if effort is not None and "story_points" in effort.measures:
        inputs[effort.story_points_field] = ("balance", "effort", "jira", "story_points_field")
    if jira.feedback_jql:
        for name, value in jira.feedback_fields.model_dump().items():
            inputs.setdefault(value, ("sources", "jira", "feedback_fields", name))
    first: dict[str, str] = {}
    for field, name in fields.items():
        path: Path_ = (
            ("writeback", "jira", "epic", field, "field")
            if field in ("health", "briefing_link")
            else ("writeback", "jira", field, "field")
        )
        if name in inputs:
            doc.problem(
                path,
                f"the Jira field {quoted(name)} is also what relais reads as "
                f"{'.'.join(map(str, inputs[name]))}: writing {field} there would overwrite it; "
                "name another field",
            )
        elif name in first:
            # Two owned fields on one Jira field: the initiative and the epic's briefing link are both
            # URLs but on different issues (feedback, epics), so they may share it.
            if {first[name], field} != {"initiative", "briefing_link"}:
                doc.problem(
                    path,
                    f"the Jira field {quoted(name)} is written as {first[name]} already: each "
                    "owned field needs its own field",
                )
        first.setdefault(name, field)
