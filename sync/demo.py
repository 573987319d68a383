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
from sync.report import chart as draw
from sync.report import render, render_routing, report_data
from sync.settings import load_settings, resolve_secrets


def demo_summary(cycles: list[CycleReport], scorecard_rows: int) -> dict[str, Any]:
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
        "kept": cycles[0].kept,  # what people had decided before relais ran: theirs, kept
        "classified": {k: last.classified.get(k, 0) for k in ("RUN", "BUILD", "IMPROVE")},
        "by_team": {t: dict(c) for t, c in sorted(last.by_team.items())},
        "written": [ch.as_dict() for ch in cycles[0].planned],
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


def run_demo(seed: int = 7, as_json: bool = False, chart: str | None = None) -> int:
    import yaml

    try:
        from sandbox import Sandbox
    except ImportError as e:  # the runtime image holds the daemon only
        print(
            f"relais: the demo needs the sandbox, which this installation does not have ({e}); "
            "run `make demo` in a source checkout (it installs relais[demo])",
            file=sys.stderr,
        )
        return 2

    with tempfile.TemporaryDirectory(prefix="relais-demo-") as tmp, Sandbox(seed=seed, size="demo") as sb:
        config = Path(tmp) / "relais.yaml"
        config.write_text(
            yaml.safe_dump(
                sb.config(str(Path(tmp) / "relais.db"), balance=True, routing=True, briefings=True),
                sort_keys=False,
            )
        )
        settings = load_settings(config)
        secrets = resolve_secrets(settings, environ=sb.env)
        engine = Engine(settings, secrets)
        try:
            identities = engine.connect()
            cycles = [engine.run_cycle(apply=True) for _ in range(2)]
            assert engine.store is not None  # connect() opened it
            balance = report_data(settings, engine.store, engine.clock())
        finally:
            engine.close()
        rows = len(sb.notion.page_ids("scorecard"))
    summary = demo_summary(cycles, rows)
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
        output.render_changes(sample, limit=len(sample), title=f"of the {cycles[0].writes} writes of cycle 1")
        output.render_kept(cycles[0].kept)

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
