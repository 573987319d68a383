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

import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from sync.engine import CycleReport
from sync.models import FieldChange
from sync.progress import Progress as Tracker
from sync.progress import duration

if TYPE_CHECKING:
    from sync.check import CheckResult

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


def creates_of(report: CycleReport) -> list[dict[str, Any]]:
    """Every create of the cycle's plan: scorecard rows, follow-up tickets and their notes."""
    out = [c.as_dict() for c in report.planned_creates]
    for f in report.planned_followups:
        out += f.creates_as_dicts()
    return out


def plan_json(report: CycleReport) -> dict[str, Any]:
    """`relais plan --json`: what a sync would write and create now, what it would hold back and
    why, the decisions people made that it keeps, and the sources that failed (``errors``: a plan
    computed without them is not what a sync would do once they are back)."""
    return {
        "changes": [c.as_dict() for c in report.planned],
        "creates": creates_of(report),
        "held": [h.as_dict() for h in report.held],
        "kept": report.kept,
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
        },
    }


def cycle_json(report: CycleReport) -> dict[str, Any]:
    """`relais sync --once --json`: the cycle report, with the changes and creates it planned."""
    return {
        **report.as_dict(),
        "changes": [c.as_dict() for c in report.planned],
        "creates": creates_of(report),
    }


def render_changes(
    changes: list[FieldChange],
    limit: int = 50,
    title: str = "planned write(s)",
    creates: list[dict[str, Any]] | None = None,
) -> None:
    if creates:
        console.print(f"to create: [bold]{len(creates)}[/]")
        for c in creates[:10]:
            console.print(
                f"  {inert(c['target'])} {inert(c['field'])}: {inert(_short(c['new']))}"
                + (f" (unless {inert(c['unless'])})" if c.get("unless") else ""),
                soft_wrap=True,
            )
        if len(creates) > 10:
            console.print(f"  … and {len(creates) - 10} more (use --json for all)")
    if not changes:
        console.print("[green]Nothing to write:[/] every owned field already holds its computed value.")
        return
    table = Table(title=f"{len(changes)} {title}", show_lines=False)
    for col in ("target", "field", "old", "new", "rule"):
        table.add_column(col)
    for ch in changes[:limit]:
        table.add_row(
            inert(f"{ch.source}:{ch.target}"), inert(ch.field), inert(ch.old), inert(ch.new), inert(ch.rule)
        )
    console.print(table)
    if len(changes) > limit:
        console.print(f"… and {len(changes) - limit} more (use --json for all)")


def render_kept(kept: list[dict[str, Any]], limit: int = 10) -> None:
    """Decisions people had made (or made since relais wrote), which relais keeps."""
    if not kept:
        return
    table = Table(title=f"{len(kept)} decision(s) people made, kept (writeback.adopt: keep)")
    for col in ("target", "field", "value", "the rules say", "why"):
        table.add_column(col)
    for k in kept[:limit]:
        table.add_row(
            inert(k["target"]), inert(k["field"]), inert(k["value"]), inert(k["rules_say"]), inert(k["why"])
        )
    console.print(table)
    if len(kept) > limit:
        console.print(f"… and {len(kept) - limit} more")


def render_plan(report: CycleReport) -> None:
    """`relais plan`: the writes and creates, then what is held back and what people decided."""
    render_changes(report.planned, creates=creates_of(report))
    render_held_and_kept({"held": [h.as_dict() for h in report.held], "kept": report.kept})
    for w in report.rule_warnings:
        console.print(f"[yellow]warning:[/] {inert(w['message'])}")
    console.print(apply_estimate_line(report.apply_estimate), soft_wrap=True)


def apply_estimate_line(estimate: dict[str, Any]) -> str:
    """`relais plan`'s "applying this plan: ~N requests, about M min at the configured limits"."""
    requests = estimate.get("requests") or {}
    total = sum(requests.values())
    if not total:
        return "applying this plan: no write request"
    by_vendor = ", ".join(f"{v} {n:,}" for v, n in requests.items() if n)
    return (
        f"applying this plan: ~{total:,} requests ({by_vendor}), "
        f"about {duration(estimate.get('seconds'))} at the configured limits"
    )


def _short(value: Any, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_cycle(report: CycleReport, title: str | None = None) -> None:
    table = Table(title=title or f"Cycle {report.cycle} ({report.mode})")
    table.add_column("source")
    table.add_column("pulled", justify="right")
    table.add_column("changed", justify="right")
    table.add_column("API calls", justify="right")
    table.add_column("status")
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
        console.print(
            f"  [yellow]quarantined[/] {inert(q['source'])}:{inert(q['id'])}: {inert(q['reason'])}",
            soft_wrap=True,
        )
    if report.conflicts:
        for c in report.conflicts[:10]:
            console.print("  " + inert(conflict_line(c)), soft_wrap=True)


def render_held_and_kept(data: dict[str, Any], limit: int = 10) -> None:
    """Writes held back (and why, once per reason), and the decisions people made that relais keeps."""
    held = data.get("held") or []
    if held:
        reasons: dict[str, int] = {}
        for h in held:
            reasons[h["reason"]] = reasons.get(h["reason"], 0) + 1
        for reason, n in reasons.items():
            console.print(f"[yellow]held[/] {n} write(s): {inert(reason)}", soft_wrap=True)
    kept = data.get("kept") or []
    for k in kept[:limit]:
        console.print(inert(kept_line(k)), soft_wrap=True)
    if len(kept) > limit:
        console.print(f"… and {len(kept) - limit} more decisions kept (--format json lists them)")


def kept_line(k: dict[str, Any]) -> str:
    return f"kept: {k['target']} {k['field']} = {k['value']!r} ({k['why']}; the rules say {k['rules_say']!r})"


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


def render_briefings(rows: list[dict], followups: int = 0) -> None:
    """Each briefing's delivery status (the demo's summary; `relais explain` has one briefing's detail)."""
    if not rows:
        return
    table = Table(title="Briefings — delivery status")
    for col in ("briefing", "team", "epic", "health", "progress", "forecast", "dependencies", "score"):
        table.add_column(col)
    colour = {"On track": "green", "At risk": "yellow", "Off track": "red", "Blocked": "bold red"}
    for r in rows:
        progress = "" if r["progress"] is None else f"{r['progress']}%"
        deps = r["dependencies"] + (f"; undeclared: {r['undeclared']}" if r["undeclared"] else "")
        table.add_row(
            inert(r["title"]),
            inert(r["team"] or ""),
            inert(r["epic"] or "—"),
            f"[{colour.get(r['health'], 'white')}]{inert(r['health'])}[/]",
            progress,
            inert(r["forecast"] or ""),
            inert(deps),
            "" if r["score"] is None else str(r["score"]),
        )
    console.print(table)
    if followups:
        console.print(f"incident follow-up tickets filed: [bold]{followups}[/]")


def render_check(result: CheckResult, *, fix: bool = False) -> None:
    """What ``relais check`` found: one line per problem, grouped by tool; what ``--fix`` did;
    the checklist of what is left for an admin."""
    for line in result.fixed:
        console.print(f"[green]fixed[/]  {inert(line)}")
    for line in result.failed_fixes:
        console.print(f"[red]could not fix[/]  {inert(line)}")
    for vendor, why in sorted(result.unreachable.items()):
        console.print(f"[red]{inert(vendor)}[/]  could not be checked: {inert(why)}")
    for p in result.problems:
        console.print(f"[yellow]{inert(p.vendor)}[/]  {inert(p.setting)}: {inert(p.message)}")
    admin = [p for p in result.problems if p.fix is None and p.admin]
    if fix and admin:
        console.print("\n[bold]For an admin[/] (no API lets relais do these):")
        for p in admin:
            console.print(f"  [ ] {inert(p.admin)}")
    if result.problems:
        fixable = sum(p.fix is not None for p in result.problems)
        hint = f"; `relais check --fix` fixes {fixable}" if fixable and not fix else ""
        console.print(f"{len(result.problems)} problem(s){hint}")
    elif not result.unreachable:
        console.print("[green]OK[/] — the tools have every field and property the config needs")
