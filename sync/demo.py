"""`relais demo`: the whole job against the bundled sandbox, no accounts needed.

Starts the sandbox (HTTPS on 127.0.0.1, its own CA), writes a config for its
organisation into a temporary directory, runs two sync cycles through the
real clients, and shows what was pulled, how work was classified and what
was written. The second cycle must write nothing: that is the steady state.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from sync import output
from sync.engine import CycleReport, Engine
from sync.plan import rule_warnings
from sync.report import chart as draw
from sync.report import render, render_routing, report_data
from sync.settings import load_settings, resolve_secrets


def demo_summary(
    cycles: list[CycleReport], scorecard_rows: int, names: output.Names = output.NO_NAMES
) -> dict[str, Any]:
    last = cycles[-1]
    return {
        "scorecard_rows": scorecard_rows,
        "alerts": last.alerts,
        "cycles": [
            {
                "pulled": c.pulled,
                "changed": c.changed,
                "writes": c.writes,
                "failed_writes": c.failed_writes,
                "created": c.created,
                "rows_created": c.rows_created,
                "notes_created": c.notes_created,
                "quarantined": len(c.quarantined),
                "errors": c.errors,
                "held": len(c.held),
                "kept": len(c.kept),
                "briefings_updated": c.briefings_updated,
                "followups_created": c.followups_created,
                "api_calls": c.api_calls,
                "seconds": round(c.seconds, 2),
            }
            for c in cycles
        ],
        # what people had decided before relais ran: theirs, kept
        "kept": [names.beside(k, "value", "rules_say") for k in cycles[0].kept],
        "classified": {k: last.classified.get(k, 0) for k in ("RUN", "BUILD", "IMPROVE")},
        "by_team": {t: dict(c) for t, c in sorted(last.by_team.items())},
        "written": [names.beside(ch.as_dict(), "old", "new") for ch in cycles[0].planned],
        "briefings_updated": sum(c.briefings_updated for c in cycles),
        "followups_created": sum(c.followups_created for c in cycles),
        "briefings": (
            [
                {"title": s.title, "team": s.team, "epic": s.epic, **s.values()}
                for s in last.briefings.statuses.values()
            ]
            if last.briefings is not None
            else []
        ),
    }


def _sandbox() -> Any:
    """The sandbox class, or None (said on stderr) in an installation without it."""
    try:
        from sandbox import Sandbox
    except ImportError as e:  # the runtime image holds the daemon only
        print(
            f"relais: the demo needs the sandbox, which this installation does not have ({e}); "
            "run `make demo` in a source checkout (it installs relais[demo])",
            file=sys.stderr,
        )
        return None
    return Sandbox


def _demo_engine(sb: Any, tmp: str) -> Engine:
    import yaml

    config = Path(tmp) / "relais.yaml"
    config.write_text(
        yaml.safe_dump(
            sb.config(str(Path(tmp) / "relais.db"), balance=True, routing=True, briefings=True),
            sort_keys=False,
        )
    )
    settings = load_settings(config)
    return Engine(settings, resolve_secrets(settings, environ=sb.env))


def run_demo(seed: int = 7, as_json: bool = False, chart: str | None = None) -> int:
    Sandbox = _sandbox()
    if Sandbox is None:
        return 2
    with tempfile.TemporaryDirectory(prefix="relais-demo-") as tmp, Sandbox(seed=seed, size="demo") as sb:
        engine = _demo_engine(sb, tmp)
        settings = engine.settings
        try:
            identities = engine.connect()
            cycles = [engine.run_cycle(apply=True) for _ in range(2)]
            assert engine.store is not None  # connect() opened it
            balance = report_data(settings, engine.store, engine.clock())
        finally:
            engine.close()
        rows = len(sb.notion.page_ids("scorecard"))
    names = output.Names.of(settings)
    summary = demo_summary(cycles, rows, names)
    summary["balance"] = balance["teams"]
    routing = balance.get("routing")
    if routing is not None:
        summary["routed"], summary["fallback"] = routing["routed"], routing["fallback"]
        summary["routing"] = routing
    if chart:
        draw(balance, Path(chart))
    if as_json:
        output.print_json(summary)
    else:
        console = output.console
        console.rule("relais demo — against the bundled sandbox")
        for name, who in identities.items():
            console.print(f"connected to {name}: {output.inert(who)}")
        for i, c in enumerate(cycles, 1):
            output.render_cycle(c, title=f"Cycle {i}")
        output.render_classification(cycles[-1])
        # A few writes of each tool, rather than the first twenty of one.
        sample = [
            c for src in ("jira", "notion") for c in [ch for ch in cycles[0].planned if ch.source == src][:8]
        ]
        output.render_changes(
            sample, limit=len(sample), title=f"of the {cycles[0].writes} writes of cycle 1", names=names
        )
        output.render_kept(cycles[0].kept, names=names)

        render(balance)
        if routing is not None:
            render_routing(balance)
        output.render_briefings(summary["briefings"], summary["followups_created"])
        console.print(f"scorecard rows in Notion: [bold]{rows}[/] (one per team and week)")
        if chart:
            console.print(f"chart written to {chart}")
        steady = (
            "[green]0 writes — steady state reached[/]"
            if cycles[-1].writes == 0
            else f"[red]{cycles[-1].writes} writes — expected none[/]"
        )
        console.print(f"second cycle: {steady}")
    quiet = cycles[-1].writes == 0 and cycles[-1].created == 0
    return 0 if quiet and not any(c.errors for c in cycles) else 1


#: What `relais demo --screenshots DIR` writes: one SVG per command, as an 80-column terminal shows it.
SCREENSHOTS = ("demo.svg", "plan.svg", "report.svg")


def screenshots(directory: str, seed: int = 7, width: int = 80) -> int:
    """The README's pictures of ``demo``, ``plan`` and ``report``, from the demo organisation:
    what each prints in a terminal ``width`` columns wide, recorded by rich as SVG. The plan is
    taken on a sandbox of its own, so that the demo's cycles are the ones `relais demo` shows."""
    Sandbox = _sandbox()
    if Sandbox is None:
        return 2
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    for shot in (_plan_shot, _demo_and_report_shots):
        with (
            tempfile.TemporaryDirectory(prefix="relais-demo-") as tmp,
            Sandbox(seed=seed, size="demo") as sb,
            output.recording(width) as term,
        ):
            engine = _demo_engine(sb, tmp)
            try:
                engine.connect()
                shot(engine, term, out)
            finally:
                engine.close()
    for name in SCREENSHOTS:
        print(f"wrote {out / name}")
    return 0


def _plan_shot(engine: Engine, term: Any, out: Path) -> None:
    plan = engine.run_cycle(apply=False)
    assert engine.store is not None  # connect() opened it
    plan.rule_warnings = rule_warnings(plan.decided, engine.store.iter_items(), engine.settings)
    output.render_cycle(plan)
    output.render_summary(plan.planned)
    sample = list({c.field: c for c in reversed(plan.planned)}.values())[::-1][:12]  # one per field
    output.render_changes(
        sample,
        limit=len(sample),
        title=f"of the {len(plan.planned)} planned writes, one per field",
        names=output.Names.of(engine.settings),
    )
    folder = f"{engine.settings.file.parent}/"  # a temporary folder: the picture names the file only
    for w in plan.rule_warnings:
        term.print(f"[yellow]warning:[/] {output.inert(w['message'].replace(folder, ''))}")
    (out / "plan.svg").write_text(term.export_svg(title="relais plan"))


def _demo_and_report_shots(engine: Engine, term: Any, out: Path) -> None:
    cycles = [engine.run_cycle(apply=True) for _ in range(2)]
    for i, c in enumerate(cycles, 1):
        output.render_cycle(c, title=f"Cycle {i}")
    output.render_classification(cycles[-1])
    assert engine.store is not None  # connect() opened it
    data = report_data(engine.settings, engine.store, engine.clock())
    render_routing({**data, "routing": {**data["routing"], "overrides": [], "maintenance": []}})
    term.print(f"second cycle: [green]{cycles[-1].writes} writes — steady state reached[/]")
    (out / "demo.svg").write_text(term.export_svg(title="relais demo"))
    render(data)
    (out / "report.svg").write_text(term.export_svg(title="relais report"))
