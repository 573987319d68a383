"""`relais report`: balance per team over the last weeks, alerts, unowned work.

Computed from the state store only (no network): what the last sync saw,
derived with the current config. ``--chart`` draws stacked RUN/BUILD/IMPROVE
shares per week and team with matplotlib (the optional ``chart`` extra).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sync import output
from sync.balance import BalanceAccumulator, TeamWeek
from sync.output import console, inert
from sync.planner import outlook
from sync.route import routing_summary
from sync.settings import state_location
from sync.state import StateStore

if TYPE_CHECKING:
    from sync.settings import Settings

CLASS_COLOURS = {"RUN": "#d9534f", "BUILD": "#5b8def", "IMPROVE": "#5cb85c"}


def _week_row(tw: TeamWeek) -> dict[str, Any]:
    m = tw.metrics

    def pct(v: float | None) -> float | None:
        return None if v is None else round(v * 100, 1)

    return {
        "week": tw.label,
        "start": tw.week.isoformat(),
        "run": pct(m["run_share"]),
        "build": pct(m["build_share"]),
        "improve": pct(m["improve_share"]),
        "run_hours": round(m["run_hours"] or 0, 1),
        "total_hours": round(m["total_hours"] or 0, 1),
        "incidents": m["incidents"],
        "urgent_requests": m["urgent_requests"],
        "buffer_left": pct(m["buffer_left"]),
        "level": tw.mode,
        "alerts": [{"name": a.name, "level": a.level, "message": a.message} for a in tw.alerts],
    }


def report_data(settings: Settings, store: StateStore, now: datetime) -> dict[str, Any]:
    """The balance, routing and pending work, from the store: computed by the same entry point as
    sync (:func:`sync.planner.outlook`), so "pending" is exactly what the next sync would write,
    and "held" what it would hold back, with why."""

    view = outlook(settings, store, now)
    result = view.plan
    names = output.Names.of(settings)
    common = {
        "generated": now.isoformat(),
        "timezone": settings.timezone,
        "routing": routing_summary(result.routing, settings) if result.routing is not None else None,
        "pending_writes": len(view.changes),
        "pending_creates": len(view.creates_as_dicts()),
        "writes_applied": store.count_writes(),
        "quarantined": store.quarantined(),  # items relais could not read, or a tool refused to write
        "conflicts": [c.as_dict() for c in result.conflicts],  # measurements people keep changing: left alone
        "kept": [names.beside(k.as_dict(), "value", "rules_say") for k in result.kept],  # people's: kept
        "held": [h.as_dict() for h in view.held],  # writes waiting for complete data
        "streams": view.readiness.as_dict() if view.readiness is not None else {},
    }
    acc: BalanceAccumulator | None = result.balance  # type: ignore[assignment]
    if acc is None:
        if result.routing is not None:
            return {"teams": {}, "unowned": [], **common}
        raise ValueError("the config has neither `balance` nor `route`: nothing to report")
    teams = {team: [_week_row(tw) for tw in weeks] for team, weeks in acc.reported(settings.teams).items()}
    for weeks in teams.values():
        for w in weeks:
            w["complete"] = w is not weeks[-1]  # the last one is the week in progress
    unowned = [_week_row(tw) for tw in acc.unowned() if tw.metrics["total_hours"]]
    return {"teams": teams, "unowned": unowned, **common}


def week_labels(weeks: list[dict[str, Any]]) -> tuple[list[str], str]:
    """Compact labels for a table's weeks (``W47``), with the year only where weeks of two years
    meet (``2027-W01``), and the year(s) for the title."""
    labels, years, last = [], [], None
    for w in weeks:
        year, _, week = w["week"].partition("-")
        labels.append(f"{year}-{week}" if last is not None and year != last else week)
        if year != last:
            years.append(year)
        last = year
    return labels, "–".join(dict.fromkeys(years))


#: The balance table's columns: (full header, compact header, justify). The compact headers are
#: for a terminal too narrow for the full ones (80 columns); the alerts then follow the table.
_BALANCE_COLUMNS = (
    ("week", "week", "left"),
    ("RUN %", "RUN\n%", "right"),
    ("BUILD %", "BUILD\n%", "right"),
    ("IMPROVE %", "IMPR.\n%", "right"),
    ("RUN h", "RUN\nh", "right"),
    ("incidents", "inci-\ndents", "right"),
    ("urgent", "urg-\nent", "right"),
    ("buffer left %", "buffer\nleft %", "right"),
    ("level", "level", "left"),
)


def _balance_table(title: str, weeks: list[dict[str, Any]], *, compact: bool) -> Any:
    from rich.table import Table

    labels, _ = week_labels(weeks)
    table = Table(title=title, caption_justify="left")
    for full, short, justify in _BALANCE_COLUMNS:
        table.add_column(short if compact else full, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    if not compact:
        table.add_column("alerts", overflow="fold")
    alerts = []
    for label, w in zip(labels, weeks):
        colour = {"ok": "green", "watch": "yellow", "alert": "red", "survival": "bold red"}[w["level"]]
        names = "; ".join(a["name"] for a in w["alerts"])
        if names:
            alerts.append(f"{label}: {names}")
        in_progress = "" if w["complete"] else ("\nso far" if compact else " (so far)")
        table.add_row(
            label + in_progress,
            _fmt(w["run"]),
            _fmt(w["build"]),
            _fmt(w["improve"]),
            f"{w['run_hours']:.1f}",
            str(w["incidents"]),
            str(w["urgent_requests"]),
            _fmt(w["buffer_left"]),
            f"[{colour}]{w['level']}[/]",
            *(() if compact else (inert(names),)),
        )
    if compact and alerts:
        table.caption = inert("\n".join(f"alerts {line}" for line in alerts))
    return table


def render(data: dict[str, Any]) -> None:
    for team, weeks in data["teams"].items():
        _, years = week_labels(weeks)
        title = f"{inert(team)} — RUN/BUILD/IMPROVE per week of {years} ({data['timezone']})"
        table = _balance_table(title, weeks, compact=False)
        wide = console.measure(table, options=console.options.update(max_width=10_000)).maximum
        if wide > console.width:  # the full headers and the alerts column do not fit
            table = _balance_table(title, weeks, compact=True)
        console.print(table)
    if data["unowned"]:
        hours = ", ".join(f"{w['week']}: {w['total_hours']:.1f} h" for w in data["unowned"])
        console.print(f"[yellow]unowned work[/] (no team mapping matches): {hours}")
    else:
        console.print("unowned work: none")
    console.print(
        f"writes applied so far: {data['writes_applied']}; pending: {data['pending_writes']} "
        f"updates, {data['pending_creates']} creates"
    )
    render_quarantine(data)
    output.render_held_and_kept(data)


def render_quarantine(data: dict[str, Any]) -> None:
    """Items left out until they change: unreadable payloads and writes a tool refused."""

    for q in data.get("quarantined") or []:
        console.print(
            f"[yellow]quarantined[/] {inert(q['source'])}:{inert(q['id'])} since {inert(q['at'][:19])}: "
            f"{inert(q['reason'])}",
            soft_wrap=True,
        )
    for c in data.get("conflicts") or []:
        console.print(inert(output.conflict_line(c)), soft_wrap=True)


def render_routing(data: dict[str, Any]) -> None:
    from rich.table import Table

    routing = data.get("routing")
    if routing is None:
        console.print("relais: the config has no `route` section")
        return
    table = Table(title="Feedback routed, per PM")
    for col in ("PM", "items", "by rule", "team in survival"):
        table.add_column(col)
    for who, e in routing["per_pm"].items():
        rules = ", ".join(f"{rule}: {n}" for rule, n in sorted(e["by_rule"].items()))
        table.add_row(inert(who), str(e["items"]), inert(rules), str(e["survival"]))
    console.print(table)
    share = routing["fallback_share"]
    console.print(
        f"fallback: {routing['fallback']} item(s)"
        + (f" ({share:.0%} — a high share means the rules need work)" if share is not None else "")
    )
    for o in routing["overrides"]:
        console.print(
            f"[yellow]set by hand[/] {inert(o.get('key') or o['item'])}: {o['field']} = {inert(o['set_by_hand'])} "
            f"(the rules say {inert(o['rules_say'])}); kept"
        )
    for m in routing["maintenance"]:
        console.print(f"maintenance {inert(m['key'])} → {inert(m['team'])} ({inert(m['rule'])})")


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


def chart(data: dict[str, Any], path: Path) -> None:
    """Stacked shares per week, one panel per team; weeks with an alert are marked."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("relais: the chart needs matplotlib: pip install 'relais[chart]'") from None
    teams = list(data["teams"])
    fig, axes = plt.subplots(len(teams), 1, figsize=(9, 2.6 * len(teams)), sharex=True, squeeze=False)
    for ax, team in zip(axes[:, 0], teams):
        weeks = data["teams"][team]
        labels = [w["week"] + ("" if w["complete"] else "\n(so far)") for w in weeks]
        bottom = [0.0] * len(weeks)
        for cls, key in (("RUN", "run"), ("BUILD", "build"), ("IMPROVE", "improve")):
            values = [w[key] or 0.0 for w in weeks]
            ax.bar(labels, values, bottom=bottom, color=CLASS_COLOURS[cls], label=cls)
            bottom = [b + v for b, v in zip(bottom, values)]
        ax.axhline(50, color="#444", linewidth=0.8, linestyle="--")
        for i, w in enumerate(weeks):
            if w["level"] != "ok":
                ax.annotate(w["level"], (i, 102), ha="center", fontsize=8, color="#a00")
        ax.set_ylim(0, 112)
        ax.set_ylabel("% of hours")
        ax.set_title(team, loc="left", fontsize=10)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle("Share of hours per week (dashed: 50 %); weeks with an alert are marked", fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_report(settings: Settings, *, as_json: bool, chart_path: str | None, routing: bool = False) -> int:
    store = StateStore.existing(state_location(settings))
    try:
        data = report_data(settings, store, datetime.now(UTC))
    except ValueError as e:
        print(f"relais: {e}", file=sys.stderr)
        return 2
    finally:
        store.close()
    if chart_path:
        chart(data, Path(chart_path))
    if as_json:
        print(json.dumps(data, indent=2, default=str))
    elif routing:
        render_routing(data)
    else:
        render(data)
        if chart_path:
            print(f"chart written to {chart_path}")
    return 0
