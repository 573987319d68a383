"""The read-only status page on ``/``: one server-rendered HTML document, no script.

For Product Ops: the last cycle of each source, each team's RUN/BUILD/IMPROVE
balance over the scorecard's weeks (an inline SVG chart per team), the active
alerts, the recent writes and the quarantined items with their reason.
Nothing is loaded from elsewhere (no CDN: the page works on an air-gapped
network), every value is HTML-escaped, and the balance is recomputed from the
state store only when a cycle finished since the last view.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from html import escape
from typing import Any

from sync.report import CLASS_COLOURS

_cache_lock = threading.Lock()
_cache: dict[str, Any] = {"key": None, "data": None}


def balance_data(daemon: Any) -> dict[str, Any] | None:
    """``relais report``'s data for the running config, cached until the next cycle finishes."""
    from sync.report import report_data

    engine = daemon.engine
    key = (id(engine), daemon.finished_cycles)
    with _cache_lock:
        if _cache["key"] != key:
            try:
                data = report_data(engine.settings, engine.store, datetime.now(timezone.utc))
            except ValueError:  # neither balance nor route configured
                data = None
            _cache.update(key=key, data=data)
        return _cache["data"]


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, (tuple, list)):
        return ", ".join(map(str, value)) or "—"
    return str(value)


def _when(iso: str | None) -> str:
    return iso.replace("T", " ").rstrip("Z") if iso else "—"


def _json_value(text: str | None) -> str:
    try:
        return _fmt(json.loads(text)) if text is not None else "—"
    except ValueError:
        return text or "—"


def team_chart(team: str, weeks: list[dict[str, Any]]) -> str:
    """Stacked RUN/BUILD/IMPROVE shares per week, with the 50 % RUN line."""
    width, height, left, bottom, top = 420, 190, 34, 34, 10
    plot_h = height - bottom - top
    step = (width - left - 10) / max(1, len(weeks))
    bar = min(46.0, step * 0.6)
    parts = [f'<svg class="chart" role="img" aria-label="RUN, BUILD and IMPROVE shares per week for {escape(team)}" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">']
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" class="axis" text-anchor="end">{pct}%</text>')
    for i, w in enumerate(weeks):
        x = left + step * i + (step - bar) / 2
        y = top + plot_h
        for cls, key in (("RUN", "run"), ("BUILD", "build"), ("IMPROVE", "improve")):
            share = w.get(key)
            if not share:
                continue
            h = plot_h * share / 100
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{CLASS_COLOURS[cls]}">'
                         f'<title>{escape(w["week"])} {cls} {share:.1f}%</title></rect>')
        if w.get("run") is None:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{top + plot_h - 4}" class="axis" '
                         f'text-anchor="middle">no hours</text>')
        label = escape(w["week"].split("-")[-1]) + ("" if w.get("complete", True) else "*")
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 16}" class="axis" '
                     f'text-anchor="middle">{label}</text>')
    y50 = top + plot_h / 2
    parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y50}" y2="{y50}" class="limit"/></svg>')
    return "".join(parts)


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(daemon: Any) -> str:
    ready, details = daemon.readiness()
    engine = daemon.engine
    store = engine.store
    data = balance_data(daemon)
    status = details["status"]
    out = [_HEAD, f'<header><h1>relais</h1><span class="badge {escape(status)}">{escape(status)}</span>'
           f'<span class="muted">config {escape(details["config"]["file"])} · updated '
           f'{datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")}</span></header>']
    if details["config"]["errors"]:
        items = "".join(f"<li><code>{escape(e)}</code></li>" for e in details["config"]["errors"])
        out.append(f'<section class="problem"><h2>The config file has errors — still running the last good '
                   f'config</h2><ul>{items}</ul></section>')
    rows = []
    for name, s in details["sources"].items():
        summary = daemon.sources[name].last_summary
        rows.append([escape(name), f'<span class="badge {escape(s["status"])}">{escape(s["status"])}</span>',
                     escape(_when(s["last_cycle"])), escape(_when(s["last_success"])),
                     escape(str(summary.get("pulled", {}).get(name, "—"))), escape(str(summary.get("writes", "—"))),
                     escape(_fmt(s["last_error"]))])
    out.append("<section><h2>Sources</h2>" + _table(
        ["source", "state", "last cycle (UTC)", "last success (UTC)", "pulled", "writes", "last error"], rows,
        "no source configured") + "</section>")

    out.append('<section><h2>RUN / BUILD / IMPROVE per team and week</h2>')
    if data is None or not data.get("teams"):
        out.append('<p class="empty">No balance: add a <code>balance:</code> section to the config.</p>')
    else:
        out.append('<p class="legend">' + "".join(
            f'<span><i style="background:{c}"></i>{k}</span>' for k, c in CLASS_COLOURS.items())
            + f'<span><i class="limit"></i>RUN 50 %</span> <span class="muted">weeks in {escape(data["timezone"])};'
            f' * = week in progress</span></p><div class="teams">')
        for team, weeks in data["teams"].items():
            last = weeks[-2] if len(weeks) >= 2 else weeks[-1]
            out.append(f'<figure class="team" id="team-{escape(team)}"><figcaption><b>{escape(team)}</b> '
                       f'<span class="badge {escape(last["level"])}">{escape(last["level"])}</span></figcaption>'
                       f'{team_chart(team, weeks)}</figure>')
        out.append("</div>")
    out.append("</section>")

    alert_rows = [[escape(a["team"]), escape(a["week"]), escape(a["alert"]), escape(a["level"]),
                   escape(a.get("message") or "")] for a in daemon.last_alerts]
    out.append("<section><h2>Active alerts</h2>" + _table(
        ["team", "week", "alert", "level", "message"], alert_rows, "no active alert") + "</section>")

    writes = [[escape(w["at"][:19].replace("T", " ")), escape(w["target"]), escape(w["field"]),
               escape(_json_value(w["old"])), escape(_json_value(w["new"])), escape(w["rule"] or ""),
               f'<span class="badge {"ok" if w["outcome"] == "applied" else "failing"}">{escape(w["outcome"])}</span>']
              for w in store.audit(limit=20)]
    out.append('<section id="writes"><h2>Recent writes</h2>' + _table(
        ["when (UTC)", "target", "field", "old", "new", "rule", "outcome"], writes, "nothing written yet")
        + "</section>")

    if data is not None:
        held: dict[str, int] = {}
        for h in data.get("held") or []:
            held[h["reason"]] = held.get(h["reason"], 0) + 1
        out.append("<section id=\"held\"><h2>Held writes</h2><p class=\"muted\">Computed from a stream not read "
                   "in full yet, or from a source whose reads fail: they land once it is back.</p>" + _table(
                       ["writes", "why"], [[escape(str(n)), escape(reason)] for reason, n in held.items()], "none")
                   + "</section>")
        kept = [[escape(k["target"]), escape(k["field"]), escape(_fmt(k["value"])), escape(_fmt(k["rules_say"])),
                 escape(k["why"])] for k in (data.get("kept") or [])[:50]]
        out.append("<section id=\"kept\"><h2>Decisions people made, kept</h2>" + _table(
            ["target", "field", "value", "the rules say", "why"], kept, "none") + "</section>")

    quarantined = [[escape(q["source"]), escape(q["id"]), escape(q["reason"]), escape(q["at"][:19].replace("T", " "))]
                   for q in store.quarantined()[-50:]]
    out.append("<section><h2>Quarantined items</h2>" + _table(
        ["source", "id", "reason", "since (UTC)"], quarantined, "none") + "</section>")
    out.append("</main></body></html>")
    return "".join(out)


_HEAD = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="30"><title>relais — status</title>
<link rel="icon" href="data:,">
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:16px 24px 40px}
header{display:flex;gap:12px;align-items:baseline;border-bottom:1px solid #dde1e8;padding-bottom:8px}
h1{font-size:22px;margin:0} h2{font-size:16px;margin:22px 0 8px}
.muted,.empty{color:#6b7280} table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e5e7eb;vertical-align:top;font-size:13px}
th{background:#eef1f5;font-weight:600}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;background:#e5e7eb}
.badge.ok,.badge.ready{background:#d1fae5;color:#065f46}.badge.watch,.badge.retrying,.badge.starting{background:#fef3c7;color:#92400e}
.badge.alert,.badge.failing,.badge.stale,.badge.degraded,.badge.survival{background:#fee2e2;color:#991b1b}
.problem{background:#fee2e2;border:1px solid #fca5a5;padding:4px 14px;margin-top:14px}
.teams{display:flex;flex-wrap:wrap;gap:14px}.team{background:#fff;border:1px solid #e5e7eb;margin:0;padding:8px}
.chart .grid{stroke:#e5e7eb}.chart .limit{stroke:#991b1b;stroke-dasharray:4 3}.chart .axis{font-size:11px;fill:#6b7280}
.legend span{margin-right:14px}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
.legend i.limit{height:0;border-top:2px dashed #991b1b}
</style></head><body><main>"""
