"""Terminal rendering (rich) of cycle reports, plans and explanations.

JSON output never goes through here: ``--json`` prints plain JSON on stdout,
and progress is shown only on an interactive terminal.

Text from the tools is data, never instructions to the terminal: every string
that comes from a tool (a title, a value, an error body) goes through
:func:`inert` — control characters (so no ANSI or OSC sequence, no clickable
link), bidirectional overrides, and Rich markup (``[/]``, ``[link=…]``) made
harmless — and the consoles never turn ``:100:`` into an emoji or colour what
looks like a number. Markup is relais' own, in its own strings only.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from sync.engine import CycleReport
from sync.models import FieldChange
from sync.owned import PERSON_FIELDS
from sync.progress import Progress as Tracker
from sync.progress import duration

if TYPE_CHECKING:
    from sync.check import CheckResult
    from sync.settings import Settings

console = Console(emoji=False, highlight=False)
err_console = Console(stderr=True, emoji=False, highlight=False)

#: C0 controls but tab and newline, DEL, the C1 set (0x9b is a one-byte CSI), and the
#: bidirectional marks and overrides that make a terminal show text in another order.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain(value: Any) -> str:
    """``value`` as text with no control character or direction override left (for output that
    is not parsed as markup)."""
    return _CONTROLS.sub("", str(value))


def inert(value: Any) -> str:
    """``value`` as text that Rich prints as it reads: :func:`plain`, markup escaped."""
    return escape(plain(value))


@dataclass(frozen=True)
class Names:
    """How relais shows the people it writes: a tool's user id (a Jira account id, a Notion user
    id) as the person's key under `people:`, which is how the config and the team name them."""

    people: dict[str, str] = field(default_factory=dict)  # a tool's user id -> the people: key

    @classmethod
    def of(cls, settings: Settings) -> Names:
        ids = {}
        for key, person in settings.people.items():
            for user_id in (person.jira, person.notion, person.pagerduty):
                if user_id:
                    ids[user_id] = key
        return cls(ids)

    def value(self, field_name: str, value: Any) -> Any:
        """``value`` as people read it: a person field's user id (or ids) as the person's key."""
        if field_name not in PERSON_FIELDS:
            return value
        if isinstance(value, (list, tuple)):
            return type(value)(self.people.get(v, v) if isinstance(v, str) else v for v in value)
        return self.people.get(value, value) if isinstance(value, str) else value

    def beside(self, entry: dict[str, Any], *keys: str) -> dict[str, Any]:
        """``entry`` (a change, a kept decision) with ``<key>_name`` beside each id it names a
        person by (JSON keeps the ids; the names are added, never put in their place)."""
        out = dict(entry)
        for k in keys:
            shown = self.value(entry.get("field", ""), entry.get(k))
            if shown != entry.get(k):
                out[f"{k}_name"] = shown
        return out


NO_NAMES = Names()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@contextmanager
def progress(enabled: bool) -> Iterator[Tracker | None]:
    """On a terminal, a live view of a cycle (:mod:`sync.progress`): per source the items read
    of those announced and the time left, then the write requests sent of those planned and
    theirs; None otherwise (``--json``, a pipe, a log file: nothing is drawn)."""
    if not enabled or not err_console.is_terminal:
        yield None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        TextColumn("{task.fields[count]}"),
        TextColumn("{task.fields[eta]}"),
        console=err_console,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def show(tracker: Tracker) -> None:
            snap = tracker.snapshot()
            rows = [
                (f"reading {name}", s["read"], s["estimate"], s["eta_seconds"], s["done"])
                for name, s in snap["sources"].items()
            ]
            w = snap["writes"]
            if w is not None:
                rows.append(("writing", w["done"], w["planned"], w["eta_seconds"], False))
            for label, done, total, eta, finished in rows:
                if label not in tasks:
                    tasks[label] = bar.add_task(label, total=None, count="", eta="")
                total_text = "?" if total is None else f"{total:,}"
                bar.update(
                    tasks[label],
                    completed=done,
                    total=total,
                    count=f"{done:,}/{total_text}",
                    eta="done" if finished else f"ETA {duration(eta)}",
                )

        with _logs_above():
            yield Tracker(listener=show)


@contextmanager
def _logs_above() -> Iterator[None]:
    """While the live view is drawn, relais' log lines (the daemon's) print above it, not into it."""
    handlers = [
        h
        for h in logging.getLogger("relais").handlers
        if isinstance(h, logging.StreamHandler) and h.stream is sys.__stderr__
    ]
    for h in handlers:
        h.setStream(sys.stderr)  # the live view's proxy while it is drawn
    try:
        yield
    finally:
        for h in handlers:
            h.setStream(sys.__stderr__)


@contextmanager
def recording(width: int = 80) -> Iterator[Console]:
    """The terminal as a ``width``-column one that records what is printed (for ``export_svg``)
    and shows none of it; as before afterwards."""
    saved = console.file, console._width, console.record
    console.file, console.width, console.record = io.StringIO(), width, True
    try:
        yield console
    finally:
        console.file, console._width, console.record = saved


def creates_of(report: CycleReport) -> list[dict[str, Any]]:
    """Every create of the cycle's plan: scorecard rows, follow-up tickets and their notes."""
    out = [c.as_dict() for c in report.planned_creates]
    for f in report.planned_followups:
        out += f.creates_as_dicts()
    return out


def _rule_name(rule: str) -> str:
    """The rule a change names, without the detail one item adds to it (a week, a briefing's
    title); a classify rule keeps its ``file:line``."""
    head, sep, detail = rule.rpartition(" (")
    if not sep or not detail.endswith(")") or re.search(r":\d+\)$", detail):
        return rule
    return head


def plan_summary(changes: list[FieldChange]) -> dict[str, dict[str, int]]:
    """The writes counted by tool and field (``jira.work_type``) and by the rule that decided them,
    most first."""
    by_field = Counter(f"{c.source}.{c.field}" for c in changes)
    by_rule = Counter(_rule_name(c.rule) for c in changes)
    return {"by_field": dict(by_field.most_common()), "by_rule": dict(by_rule.most_common())}


def plan_json(report: CycleReport, names: Names = NO_NAMES) -> dict[str, Any]:
    """`relais plan --json`: what a sync would write and create now, what it would hold back and
    why, the decisions people made that it keeps, and the sources that failed (``errors``: a plan
    computed without them is not what a sync would do once they are back). A person is written as
    the tool's user id; ``old_name``/``new_name`` (``value_name``/``rules_say_name``) beside it
    give the person's key."""
    return {
        "changes": [names.beside(c.as_dict(), "old", "new") for c in report.planned],
        "creates": creates_of(report),
        "held": [h.as_dict() for h in report.held],
        "kept": [names.beside(k, "value", "rules_say") for k in report.kept],
        "conflicts": report.conflicts,
        "errors": report.errors,
        "streams": report.streams,
        "warnings": report.rule_warnings,
        "apply_estimate": {k: report.apply_estimate.get(k) for k in ("requests", "seconds")},
        "summary": {
            "writes": len(report.planned),
            "creates": len(creates_of(report)),
            "held": len(report.held),
            "kept": len(report.kept),
            "conflicts": len(report.conflicts),
            **plan_summary(report.planned),
        },
    }


def cycle_json(report: CycleReport, names: Names = NO_NAMES) -> dict[str, Any]:
    """`relais sync --once --json`: the cycle report, with the changes and creates it planned."""
    return {
        **report.as_dict(),
        "kept": [names.beside(k, "value", "rules_say") for k in report.kept],
        "changes": [names.beside(c.as_dict(), "old", "new") for c in report.planned],
        "creates": creates_of(report),
    }


def fitting_table(
    title: str, *columns: str, numbers: tuple[str, ...] = (), keys: tuple[str, ...] = ()
) -> Table:
    """A table that reads at 80 columns: text columns wrap at words and fold what has no space
    (a key or a number is never cut to ``…``); ``numbers`` are right-aligned and never wrap, nor
    do ``keys`` (short labels: a team, an issue key, a date)."""
    table = Table(title=title)
    for col in columns:
        if col in numbers:
            table.add_column(col, justify="right", no_wrap=True)
        elif col in keys:
            table.add_column(col, no_wrap=True)
        else:
            table.add_column(col, overflow="fold")
    return table


def _create_line(c: dict[str, Any]) -> str:
    new = c["new"]
    what = new.get("title") or new.get("key") or f"{len(new)} properties" if isinstance(new, dict) else new
    return f"{c['target']} {c['field']}: {what}" + (f" (unless {c['unless']})" if c.get("unless") else "")


def render_changes(
    changes: list[FieldChange],
    limit: int = 50,
    title: str = "planned write(s)",
    creates: list[dict[str, Any]] | None = None,
    names: Names = NO_NAMES,
) -> None:
    if creates:
        console.print(f"to create: [bold]{len(creates)}[/]")
        for c in creates[:10]:
            console.print("  " + inert(_create_line(c)))
        if len(creates) > 10:
            console.print(f"  … and {len(creates) - 10} more (use --json for all)")
    if not changes:
        console.print("[green]Nothing to write:[/] every owned field already holds its computed value.")
        return
    table = fitting_table(f"{len(changes)} {title}", "target", "field", "old", "new", "rule")
    for ch in changes[:limit]:
        table.add_row(
            inert(f"{ch.source}:{ch.target}"),
            inert(ch.field),
            inert(names.value(ch.field, ch.old)),
            inert(names.value(ch.field, ch.new)),
            inert(ch.rule),
        )
    console.print(table)
    if len(changes) > limit:
        console.print(f"… and {len(changes) - limit} more (use --json for all)")


def render_summary(changes: list[FieldChange]) -> None:
    """The writes by tool and field and by rule, side by side when the terminal has the room."""
    if not changes:
        return
    summary = plan_summary(changes)
    counts: dict[str, dict[str, int]] = {}  # field -> tool -> writes
    for name, n in summary["by_field"].items():
        tool, _, fld = name.partition(".")
        counts.setdefault(fld, {})[tool] = n
    tools = sorted({t for per_tool in counts.values() for t in per_tool})
    by_field = fitting_table("writes by field", "field", *tools, numbers=tuple(tools))
    for fld, per_tool in counts.items():
        by_field.add_row(inert(fld), *(str(per_tool.get(t, "")) for t in tools))
    by_rule = fitting_table("writes by rule", "rule", "writes", numbers=("writes",))
    for rule, n in summary["by_rule"].items():
        by_rule.add_row(inert(rule), str(n))
    side_by_side = Table.grid(padding=(0, 2))
    side_by_side.add_row(by_field, by_rule)
    console.print(side_by_side)


def render_kept(kept: list[dict[str, Any]], limit: int = 10, names: Names = NO_NAMES) -> None:
    """Decisions people had made (or made since relais wrote), which relais keeps."""
    if not kept:
        return
    table = fitting_table(
        f"{len(kept)} decision(s) people made, kept (writeback.adopt: keep)",
        "target",
        "field",
        "value",
        "the rules say",
        "why",
    )
    for k in kept[:limit]:
        table.add_row(
            inert(k["target"]),
            inert(k["field"]),
            inert(k.get("value_name", names.value(k["field"], k["value"]))),
            inert(k.get("rules_say_name", names.value(k["field"], k["rules_say"]))),
            inert(k["why"]),
        )
    console.print(table)
    if len(kept) > limit:
        console.print(f"… and {len(kept) - limit} more")


def render_plan(report: CycleReport, names: Names = NO_NAMES) -> None:
    """`relais plan`: the writes by field and by rule, the writes and creates, then what is held
    back, what people decided, and the rules that decide nothing."""
    render_summary(report.planned)
    render_changes(report.planned, creates=creates_of(report), names=names)
    kept = [names.beside(k, "value", "rules_say") for k in report.kept]
    render_held_and_kept({"held": [h.as_dict() for h in report.held], "kept": kept})
    for w in report.rule_warnings:
        console.print(f"[yellow]warning:[/] {inert(w['message'])}")
    console.print(apply_estimate_line(report.apply_estimate))


def apply_estimate_line(estimate: dict[str, Any]) -> str:
    """`relais plan`'s "applying this plan: ~N requests, about M min at the configured limits",
    then the requests per vendor on a line of their own."""
    requests = estimate.get("requests") or {}
    total = sum(requests.values())
    if not total:
        return "applying this plan: no write request"
    by_vendor = ", ".join(f"{v} {n:,}" for v, n in requests.items() if n)
    return (
        f"applying this plan: ~{total:,} requests, about {duration(estimate.get('seconds'))} "
        f"at the configured limits\n  ({by_vendor})"
    )


def render_cycle(report: CycleReport, title: str | None = None) -> None:
    table = Table(title=title or f"Cycle {report.cycle} ({report.mode})")
    table.add_column("source")
    table.add_column("pulled", justify="right", no_wrap=True)
    table.add_column("changed", justify="right", no_wrap=True)
    table.add_column("API calls", justify="right", no_wrap=True)
    table.add_column("status", overflow="fold")
    for src in sorted(set(report.pulled) | set(report.errors)):
        status = f"[red]{inert(report.errors[src])}[/]" if src in report.errors else "[green]ok[/]"
        table.add_row(
            src,
            str(report.pulled.get(src, 0)),
            str(report.changed.get(src, 0)),
            str(report.api_calls.get(src, 0)),
            status,
        )
    console.print(table)
    verb = "applied" if report.mode == "sync" else "planned (not written)"
    count = report.writes if report.mode == "sync" else len(report.planned)
    created = (
        (
            f", created: {report.created} ({report.rows_created} rows, {report.followups_created} tickets, "
            f"{report.notes_created} notes)"
        )
        if report.mode == "sync"
        else ""
    )
    console.print(
        f"writes {verb}: [bold]{count}[/]"
        + (f", failed: [red]{report.failed_writes}[/]" if report.failed_writes else "")
        + created
        + (f", held: [yellow]{len(report.held)}[/]" if report.held else "")
        + (f", kept: {len(report.kept)}" if report.kept else "")
        + f", quarantined: {len(report.quarantined)}  ({report.seconds:.1f}s)"
    )
    for q in report.quarantined[:10]:
        console.print(f"  [yellow]quarantined[/] {inert(q['source'])}:{inert(q['id'])}: {inert(q['reason'])}")
    if report.conflicts:
        for c in report.conflicts[:10]:
            console.print("  " + inert(conflict_line(c)))


def render_held_and_kept(data: dict[str, Any], limit: int = 10) -> None:
    """Writes held back (and why, once per reason), and the decisions people made that relais keeps."""
    held = data.get("held") or []
    if held:
        reasons: dict[str, int] = {}
        for h in held:
            reasons[h["reason"]] = reasons.get(h["reason"], 0) + 1
        for reason, n in reasons.items():
            console.print(f"[yellow]held[/] {n} write(s): {inert(reason)}")
    kept = data.get("kept") or []
    for k in kept[:limit]:
        console.print(inert(kept_line(k)))
    if len(kept) > limit:
        console.print(f"… and {len(kept) - limit} more decisions kept (--format json lists them)")


def kept_line(k: dict[str, Any]) -> str:
    """A decision kept, the people in it by name (``value_name``, ``rules_say_name``) when known."""
    value, rules_say = k.get("value_name", k["value"]), k.get("rules_say_name", k["rules_say"])
    return f"kept: {k['target']} {k['field']} = {value!r} ({k['why']}; the rules say {rules_say!r})"


def conflict_line(c: dict[str, Any]) -> str:
    return (
        f"conflict: {c['target']} {c['field']} is {c['value']!r}, the rules say {c['rules_say']!r}; changed "
        f"by someone {c['changes']} times after relais wrote it, so relais leaves it (empty the field to hand "
        f"it back)"
    )


def render_classification(report: CycleReport) -> None:
    classes = ("RUN", "BUILD", "IMPROVE")
    table = Table(title="Classification per team")
    table.add_column("team")
    for c in classes:
        table.add_column(c, justify="right")
    for team in sorted(report.by_team):
        counts = report.by_team[team]
        table.add_row(inert(team), *(str(counts.get(c, 0)) for c in classes))
    table.add_row("[bold]all[/]", *(f"[bold]{report.classified.get(c, 0)}[/]" for c in classes))
    console.print(table)


def print_fitted(full: Table, compact: Callable[[], Table]) -> None:
    """``full`` when the terminal has the room for all of it, else the ``compact`` table."""
    wide = console.measure(full, options=console.options.update(max_width=10_000)).maximum
    console.print(full if wide <= console.width else compact())


def _briefings_table(rows: list[dict], *, compact: bool) -> Table:
    cols = ("briefing", "team", "epic", "health", "progress", "forecast", "score")
    table = fitting_table(
        "Briefings — delivery status",
        *(cols if compact else (*cols[:-1], "dependencies", "score")),
        numbers=("progress", "score"),
        keys=("team", "epic", "health", "forecast"),
    )
    colour = {"On track": "green", "At risk": "yellow", "Off track": "red", "Blocked": "bold red"}
    notes = []
    for r in rows:
        progress = "" if r["progress"] is None else f"{r['progress']}%"
        deps = r["dependencies"] + (f"; undeclared: {r['undeclared']}" if r["undeclared"] else "")
        if compact and (r["undeclared"] or not r["dependencies"].startswith("none")):
            notes.append(f"{r['title']} ({r['team']}): {deps}")
        table.add_row(
            inert(r["title"]),
            inert(r["team"] or ""),
            inert(r["epic"] or "—"),
            f"[{colour.get(r['health'], 'white')}]{inert(r['health'])}[/]",
            progress,
            inert(r["forecast"] or ""),
            *(() if compact else (inert(deps),)),
            "" if r["score"] is None else str(r["score"]),
        )
    if notes:
        table.caption = inert("\n".join(f"dependencies of {n}" for n in notes))
        table.caption_justify = "left"
    return table


def render_briefings(rows: list[dict], followups: int = 0) -> None:
    """Each briefing's delivery status (the demo's summary; `relais explain` has one briefing's detail);
    on a narrow terminal, the dependencies follow the table."""
    if not rows:
        return
    print_fitted(_briefings_table(rows, compact=False), lambda: _briefings_table(rows, compact=True))
    if followups:
        console.print(f"incident follow-up tickets filed: [bold]{followups}[/]")


def render_check(result: CheckResult, *, fix: bool = False) -> None:
    """What ``relais check`` found: one line per problem (never broken by the console's width:
    a line is what a person greps or pastes), what ``--fix`` did, the checklist of what is left
    for an admin."""
    for vendor, what in sorted(result.connected.items()):  # the databases by title: a wrong one shows
        console.print(f"[dim]checked[/]  {inert(vendor)}: {inert(what)}", soft_wrap=True)
    for line in result.fixed:
        console.print(f"[green]fixed[/]  {inert(line)}", soft_wrap=True)
    for line in result.failed_fixes:
        console.print(f"[red]could not fix[/]  {inert(line)}", soft_wrap=True)
    for vendor, why in sorted(result.unreachable.items()):
        console.print(f"[red]{inert(vendor)}[/]  could not be checked: {inert(why)}", soft_wrap=True)
    for p in result.problems:
        console.print(f"[yellow]{inert(p.vendor)}[/]  {inert(p.setting)}: {inert(p.message)}", soft_wrap=True)
    admin = [p for p in result.problems if p.fix is None and p.admin]
    if fix and admin:
        console.print("\n[bold]For an admin[/] (relais could not do these itself):")
        for p in admin:
            console.print(f"  [ ] {inert(p.admin)}", soft_wrap=True)
    if result.problems:
        fixable = sum(p.fix is not None for p in result.problems)
        hint = f"; `relais check --fix` fixes {fixable}" if fixable and not fix else ""
        console.print(f"{len(result.problems)} problem(s){hint}")
    elif not result.unreachable:
        console.print("[green]OK[/] — the tools have every field and property the config needs")
