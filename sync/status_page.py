"""The read-only status page on ``/``: one server-rendered HTML document, no script.

For Product Ops: the last cycle of each source, each team's RUN/BUILD/IMPROVE
balance over the scorecard's weeks (an inline SVG chart per team), the active
alerts, the writes held back and why, the decisions people made that relais
keeps, the recent writes and the quarantined items with their reason. Nothing
is loaded from elsewhere (no CDN: the page works on an air-gapped network).
The HTML comes from a Jinja2 template with autoescape on: every value is
escaped by default, not by remembering to escape each cell. The balance is
recomputed from the state store only when a cycle finished since the last
view.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment

from sync.output import Names
from sync.progress import duration, line
from sync.report import CLASS_COLOURS, report_data

_cache_lock = threading.Lock()
_cache: dict[str, Any] = {"key": None, "data": None}


def balance_data(daemon: Any) -> dict[str, Any] | None:
    """``relais report``'s data for the running config, cached until the next cycle finishes."""

    engine = daemon.engine
    # a standby finishes no cycle: it reads what the leader wrote every 15 s
    key = (id(engine), daemon.finished_cycles if daemon.leading() else int(time.monotonic() // 15))
    with _cache_lock:
        if _cache["key"] != key:
            try:
                data = report_data(engine.settings, engine.store, datetime.now(UTC))
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
    return iso.replace("T", " ").rstrip("Z")[:19] if iso else "—"


def _json_value(text: str | None, names: Names | None = None, field: str = "") -> str:
    """A value of the audit log (JSON), a person in it by name."""
    try:
        value = json.loads(text) if text is not None else None
    except ValueError:
        return text or "—"
    return _fmt(names.value(field, value) if names is not None else value)


def chart(weeks: list[dict[str, Any]]) -> dict[str, Any]:
    """The geometry of one team's chart: stacked RUN/BUILD/IMPROVE shares per week, the 50 % line."""
    width, height, left, bottom, top = 420, 190, 34, 34, 10
    plot_h = height - bottom - top
    step = (width - left - 10) / max(1, len(weeks))
    bar = min(46.0, step * 0.6)
    grid = [{"y": round(top + plot_h * (1 - pct / 100), 1), "pct": pct} for pct in (0, 25, 50, 75, 100)]
    columns = []
    for i, w in enumerate(weeks):
        x = left + step * i + (step - bar) / 2
        y = top + plot_h
        rects = []
        for cls, key in (("RUN", "run"), ("BUILD", "build"), ("IMPROVE", "improve")):
            share = w.get(key)
            if not share:
                continue
            h = plot_h * share / 100
            y -= h
            rects.append(
                {
                    "x": round(x, 1),
                    "y": round(y, 1),
                    "w": round(bar, 1),
                    "h": round(h, 1),
                    "fill": CLASS_COLOURS[cls],
                    "title": f"{w['week']} {cls} {share:.1f}%",
                }
            )
        columns.append(
            {
                "rects": rects,
                "mid": round(x + bar / 2, 1),
                "empty": w.get("run") is None,
                "label": w["week"].split("-")[-1] + ("" if w.get("complete", True) else "*"),
            }
        )
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - 10,
        "grid": grid,
        "columns": columns,
        "empty_y": top + plot_h - 4,
        "label_y": height - bottom + 16,
        "y50": top + plot_h / 2,
    }


TEMPLATE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
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
</style></head><body><main>
<header><h1>relais</h1><span class="badge {{ status }}">{{ status }}</span>
<span class="muted">config {{ config_file }} · updated {{ now }}</span></header>
{% if config_errors %}<section class="problem"><h2>The config file has errors — still running the last good config</h2>
<ul>{% for e in config_errors %}<li><code>{{ e }}</code></li>{% endfor %}</ul></section>{% endif %}
{% macro table(headers, rows, empty) -%}
{% if rows %}<table><thead><tr>{% for h in headers %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</tbody></table>
{%- else %}<p class="empty">{{ empty }}</p>{% endif %}
{%- endmacro %}
<section><h2>Sources</h2>
{% if sources %}<table><thead><tr><th>source</th><th>state</th><th>last cycle (UTC)</th><th>last success (UTC)</th>
<th>pulled</th><th>writes</th><th>held</th><th>last error</th></tr></thead><tbody>
{% for s in sources %}<tr><td>{{ s.name }}</td><td><span class="badge {{ s.status }}">{{ s.status }}</span></td>
<td>{{ s.last_cycle }}</td><td>{{ s.last_success }}</td><td>{{ s.pulled }}</td><td>{{ s.writes }}</td>
<td>{{ s.held }}</td><td>{{ s.error }}</td></tr>{% endfor %}</tbody></table>
{% else %}<p class="empty">no source configured</p>{% endif %}</section>
{% if progress %}<section id="progress"><h2>Sync in progress</h2><p class="muted">{{ progress.line }}</p>
<table><thead><tr><th></th><th>done</th><th>of (estimate)</th><th>estimate from</th><th>time left</th></tr></thead><tbody>
{% for r in progress.rows %}<tr>{% for cell in r %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</tbody></table></section>{% endif %}
<section><h2>RUN / BUILD / IMPROVE per team and week</h2>
{% if not teams %}<p class="empty">No balance: add a <code>balance:</code> section to the config.</p>
{% else %}<p class="legend">{% for cls, colour in colours %}<span><i style="background:{{ colour }}"></i>{{ cls }}</span>{% endfor %}
<span><i class="limit"></i>RUN 50 %</span> <span class="muted">weeks in {{ timezone }}; * = week in progress</span></p>
<div class="teams">{% for t in teams %}<figure class="team" id="team-{{ t.name }}"><figcaption><b>{{ t.name }}</b>
<span class="badge {{ t.level }}">{{ t.level }}</span></figcaption>
{% set c = t.chart %}<svg class="chart" role="img" aria-label="RUN, BUILD and IMPROVE shares per week for {{ t.name }}"
viewBox="0 0 {{ c.width }} {{ c.height }}" width="{{ c.width }}" height="{{ c.height }}">
{% for g in c.grid %}<line x1="{{ c.left }}" x2="{{ c.right }}" y1="{{ g.y }}" y2="{{ g.y }}" class="grid"/><text x="{{ c.left - 4 }}" y="{{ g.y + 4 }}" class="axis" text-anchor="end">{{ g.pct }}%</text>{% endfor %}
{% for col in c.columns %}{% for r in col.rects %}<rect x="{{ r.x }}" y="{{ r.y }}" width="{{ r.w }}" height="{{ r.h }}" fill="{{ r.fill }}"><title>{{ r.title }}</title></rect>{% endfor %}
{% if col.empty %}<text x="{{ col.mid }}" y="{{ c.empty_y }}" class="axis" text-anchor="middle">no hours</text>{% endif %}
<text x="{{ col.mid }}" y="{{ c.label_y }}" class="axis" text-anchor="middle">{{ col.label }}</text>{% endfor %}
<line x1="{{ c.left }}" x2="{{ c.right }}" y1="{{ c.y50 }}" y2="{{ c.y50 }}" class="limit"/></svg></figure>{% endfor %}</div>
{% endif %}</section>
<section><h2>Active alerts</h2>{{ table(["team", "week", "alert", "level", "message"], alerts, "no active alert") }}</section>
{% if has_balance %}<section id="held"><h2>Held writes</h2><p class="muted">Computed from a stream not read in full yet,
or from a source whose reads fail: they land once it is back.</p>{{ table(["writes", "why"], held, "none") }}</section>
<section id="kept"><h2>Decisions people made, kept</h2>{{ table(["target", "field", "value", "the rules say", "why"], kept, "none") }}</section>{% endif %}
<section id="writes"><h2>Recent writes</h2>
{% if writes %}<table><thead><tr><th>when (UTC)</th><th>target</th><th>field</th><th>old</th><th>new</th><th>rule</th><th>outcome</th></tr></thead><tbody>
{% for w in writes %}<tr><td>{{ w.at }}</td><td>{{ w.target }}</td><td>{{ w.field }}</td><td>{{ w.old }}</td><td>{{ w.new }}</td>
<td>{{ w.rule }}</td><td><span class="badge {{ 'ok' if w.outcome == 'applied' else 'failing' }}">{{ w.outcome }}</span></td></tr>{% endfor %}
</tbody></table>{% else %}<p class="empty">nothing written yet</p>{% endif %}</section>
<section><h2>Quarantined items</h2>{{ table(["source", "id", "reason", "since (UTC)"], quarantined, "none") }}</section>
</main></body></html>"""

_ENV = Environment(autoescape=True, trim_blocks=False, lstrip_blocks=False)
_PAGE = _ENV.from_string(TEMPLATE)


def _progress(snapshot: dict[str, Any] | None) -> dict[str, Any] | None:
    """The running cycle's figures (:mod:`sync.progress`) as the page's rows."""
    if snapshot is None:
        return None
    rows = [
        [
            f"reading {name}",
            f"{s['read']:,}",
            "unknown" if s["estimate"] is None else f"{s['estimate']:,}",
            s["estimate_from"],
            "done" if s["done"] else duration(s["eta_seconds"]),
        ]
        for name, s in snapshot["sources"].items()
    ]
    w = snapshot.get("writes")
    if w is not None:
        rows.append(
            ["writing", f"{w['done']:,}", f"{w['planned']:,}", "the plan", duration(w["eta_seconds"])]
        )
    return {"line": line(snapshot), "rows": rows}


def render(daemon: Any) -> str:
    _, details = daemon.readiness()
    store = daemon.engine.store
    data = balance_data(daemon)
    names = Names.of(daemon.engine.settings)  # people by their `people:` key
    sources = []
    for name, s in details["sources"].items():
        summary = daemon.sources[name].last_summary
        sources.append(
            {
                "name": name,
                "status": s["status"],
                "last_cycle": _when(s["last_cycle"]),
                "last_success": _when(s["last_success"]),
                "pulled": summary.get("pulled", {}).get(name, "—"),
                "writes": summary.get("writes", "—"),
                "held": summary.get("held", "—"),
                "error": _fmt(s["last_error"]),
            }
        )
    teams = []
    for team, weeks in ((data or {}).get("teams") or {}).items():
        last = weeks[-2] if len(weeks) >= 2 else weeks[-1]
        teams.append({"name": team, "level": last["level"], "chart": chart(weeks)})
    held: dict[str, int] = {}
    for h in (data or {}).get("held") or []:
        held[h["reason"]] = held.get(h["reason"], 0) + 1
    return _PAGE.render(
        progress=_progress(details.get("progress")),
        status=details["status"],
        config_file=details["config"]["file"],
        config_errors=details["config"]["errors"],
        now=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        sources=sources,
        teams=teams,
        colours=list(CLASS_COLOURS.items()),
        timezone=(data or {}).get("timezone", ""),
        alerts=[
            [a["team"], a["week"], a["alert"], a["level"], a.get("message") or ""] for a in daemon.last_alerts
        ],
        has_balance=data is not None,
        held=[[n, reason] for reason, n in held.items()],
        kept=[
            [
                k["target"],
                k["field"],
                _fmt(k.get("value_name", k["value"])),
                _fmt(k.get("rules_say_name", k["rules_say"])),
                k["why"],
            ]
            for k in ((data or {}).get("kept") or [])[:50]
        ],
        writes=[
            {
                "at": _when(w["at"]),
                "target": w["target"],
                "field": w["field"],
                "old": _json_value(w["old"], names, w["field"]),
                "new": _json_value(w["new"], names, w["field"]),
                "rule": w["rule"] or "",
                "outcome": w["outcome"],
            }
            for w in store.audit(limit=20)
        ],
        quarantined=[[q["source"], q["id"], q["reason"], _when(q["at"])] for q in store.quarantined()[-50:]],
    )
