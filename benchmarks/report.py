"""From ``results.json`` to the targets of issue 8 and the table of docs/PERFORMANCE.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

START, END = "<!-- results:start -->", "<!-- results:end -->"


def _row(target: str, wanted: str, measured: str, met: bool | None, naive: str = "") -> dict[str, Any]:
    return {
        "target": target,
        "wanted": wanted,
        "measured": measured,
        "met": met is not False,
        "naive": naive,
        "status": "—" if met is None else ("met" if met else "**missed**"),
    }


def _ratio(a: float, b: float) -> str:
    return f"{a / b:,.1f}×" if b else "∞"


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    cost = r["cost"]
    naive = r.get("naive")
    nreq = naive["requests"]["total"] if naive else None
    steady = cost["steady"]
    over = {s: n for s, n in steady["reads_by_stream"].items() if n > 1}
    rows.append(
        _row(
            "1. steady state: reads",
            "≤ 1 per stream",
            f"{steady['reads']} reads, {len(steady['streams'])} "
            f"streams (max {max(steady['reads_by_stream'].values())} per stream)",
            not over,
            f"naive: {nreq:,} requests ({_ratio(nreq, steady['requests']['total'])})" if naive else "",
        )
    )
    rows.append(
        _row(
            "1. steady state: writes",
            "0",
            f"{steady['writes']} requests, {steady['report']['writes']} fields",
            steady["writes"] == 0 and steady["report"]["writes"] == 0,
            f"naive: {naive['write_requests']:,} requests, {naive['fields_written']:,} fields"
            if naive
            else "",
        )
    )
    ch = cost["change"]
    worst = max(ch["reads_over_min_by_stream"].values())
    rows.append(
        _row(
            "1. 1 % changed: reads",
            "≤ minimum + 1 per stream",
            f"{ch['reads']} reads, minimum {ch['reads_min']} (at most +{worst} on a stream)",
            worst <= 1,
            f"naive: {_ratio(nreq, ch['requests']['total'])} the requests" if naive else "",
        )
    )
    rows.append(
        _row(
            "1. 1 % changed: owned fields written",
            "= the fields changed",
            f"{ch['fields_written']:,} written, {ch['fields_changed_total']:,} changed in the tools",
            ch["fields_written"] == ch["fields_changed_total"],
            f"naive: {naive['fields_written']:,} ({_ratio(naive['fields_written'], ch['fields_written'])})"
            if naive
            else "",
        )
    )
    bulk = cost["bulk_edit_in_sandbox"]
    per_item, with_bulk = ch["writes_min"]["per_item"], ch["writes_min"]["with_bulk"]
    rows.append(
        _row(
            "1. 1 % changed: write requests",
            "batched where the API allows",
            f"{ch['writes']} (one per item: {sum(per_item.values())}; with Jira bulk edit: "
            f"{sum(with_bulk.values())})",
            ch["writes"] <= sum((with_bulk if bulk else per_item).values()),
        )
    )
    ini = cost["initial"]
    wb = ini["writes_min"]["with_bulk"]
    min_bulk = (
        ini["minimum"] - sum(ini["writes_min"]["per_item"].values()) + sum(wb.values())
        if not bulk
        else ini["minimum"]
    )
    rows.append(
        _row(
            "1. initial sync: requests",
            "≤ 1.05 × minimum",
            f"{ini['total']:,} vs {ini['minimum']:,} ({ini['ratio']:.3f}×); with Jira bulk edit the "
            f"minimum is {min_bulk:,}",
            ini["ratio"] <= 1.05,
            f"naive: {nreq:,} every cycle" if naive else "",
        )
    )
    rows.append(
        _row(
            "1. initial sync: batched",
            "Jira bulk edit",
            f"{ini['requests']['by_vendor'].get('jira', {}).get('write', 0):,} "
            f"Jira write requests, {wb.get('jira', 0):,} with bulk edit",
            ini["requests"]["by_vendor"].get("jira", {}).get("write", 0) <= wb.get("jira", 0),
        )
    )
    if ini.get("wall_bound"):
        rows.append(
            _row(
                f"2. initial sync wall time (limits ×{r['scale']:g})",
                "≤ 1.1 × bound",
                f"{ini['seconds']:.0f} s vs {ini['wall_bound']:.0f} s ({ini['wall_ratio']:.2f}×)",
                ini["wall_ratio"] <= 1.1,
                f"naive: {naive['seconds']:.0f} s a cycle ({_ratio(naive['seconds'], ini['seconds'])})"
                if naive
                else "",
            )
        )
    pub = r.get("published_limits")
    if pub:
        rows.append(
            _row(
                f"2. initial sync wall time, published limits ({pub['size']} org)",
                "≤ 1.1 × bound",
                f"{pub['seconds']:.0f} s vs {pub['wall_bound']:.0f} s ({pub['wall_ratio']:.2f}×)",
                pub["wall_ratio"] <= 1.1,
            )
        )
    lat = r.get("latency")
    if lat:
        p, w = lat["polling"], lat["webhooks"]
        rows.append(
            _row(
                f"3. latency, polling every {lat['interval_seconds']:g} s",
                f"≤ {p['target_seconds']:g} s",
                f"p50 {p['p50']} s, p95 {p['p95']} s, max {p['max']} s ({p['n']} edits, {p['missed']} missed)",
                p["max"] <= p["target_seconds"] and not p["missed"],
            )
        )
        rows.append(
            _row(
                "3. latency, webhooks",
                "p95 ≤ 5 s",
                f"p50 {w['p50']} s, p95 {w['p95']} s ({w['n']} edits, {w['missed']} missed)",
                w["p95"] <= 5 and not w["missed"],
            )
        )
    tp = r.get("throughput")
    if tp:
        rows.append(
            _row(
                "4. derive + plan, 100,000 items",
                "≥ 20,000 items/s",
                f"{tp['items_per_second']:,} items/s ({tp['seconds']} s, {tp['api_requests']} API calls)",
                tp["items_per_second"] >= 20_000,
            )
        )
    if ini.get("peak_rss_mib") is not None:
        rows.append(
            _row(
                "5. peak RSS, `relais sync --once`, large org",
                "≤ 200 MB",
                f"{ini['peak_rss_mib'] * 1.048576:.0f} MB ({ini['peak_rss_mib']:.0f} MiB)",
                ini["peak_rss_mib"] * 1.048576 <= 200,
            )
        )
    soak = r.get("soak")
    if soak:
        rows.append(
            _row(
                f"5. RSS over {soak['cycles']:,} steady cycles ({soak['size']} org)",
                "flat",
                f"{soak['first_mib']} → {soak['last_mib']} MiB, slope {soak['slope_kib_per_100_cycles']} "
                "KiB / 100 cycles",
                abs(soak["slope_kib_per_100_cycles"]) <= 100 and soak["writes"] == 0,
            )
        )
    rows += _postgresql_rows(tp, r.get("soak_postgresql"), soak)
    if naive:
        rows.append(
            _row(
                "6. naive baseline, one cycle",
                "—",
                f"{nreq:,} requests ({naive['requests']['by_kind'].get('write', 0):,} writes), "
                f"{naive['fields_written']:,} fields, {naive['seconds']:.0f} s",
                None,
                f"relais steady: {_ratio(nreq, steady['requests']['total'])} fewer requests, "
                f"{_ratio(naive['seconds'], steady['seconds'])} less time",
            )
        )
    return rows


def _postgresql_rows(
    tp: dict[str, Any] | None, pg_soak: dict[str, Any] | None, soak: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The same figures with the state store on PostgreSQL (issue 16), beside SQLite's."""
    rows = []
    pg = (tp or {}).get("postgresql")
    if pg:
        rows.append(
            _row(
                "4. derive + plan, 100,000 items, PostgreSQL store",
                "≥ 20,000 items/s",
                f"{pg['items_per_second']:,} items/s ({pg['seconds']} s; SQLite {(tp or {})['seconds']} s); "
                f"copied {pg['rows_copied']:,} rows in {pg['copy_seconds']} s",
                pg["items_per_second"] >= 20_000,
            )
        )
    if pg_soak:
        beside = f"; SQLite {soak['cycle_ms']} ms" if soak and "cycle_ms" in soak else ""
        rows.append(
            _row(
                f"5. steady cycles on PostgreSQL ({pg_soak['cycles']:,}, {pg_soak['size']} org)",
                "flat",
                f"{pg_soak['cycle_ms']} ms a cycle{beside}; {pg_soak['first_mib']} → {pg_soak['last_mib']} MiB, "
                f"slope {pg_soak['slope_kib_per_100_cycles']} KiB / 100 cycles",
                abs(pg_soak["slope_kib_per_100_cycles"]) <= 100 and pg_soak["writes"] == 0,
            )
        )
    return rows


def table(r: dict[str, Any]) -> str:
    rows = r["targets"]
    lines = [
        f"Last run: {r['when']}, Python {r['python']} on {r['cores']} cores ({r['machine']}), "
        f"`make bench` took {r['bench_seconds'] // 60} min {r['bench_seconds'] % 60} s.",
        "",
        "| target | wanted | measured | | naive baseline |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {x['target']} | {x['wanted']} | {x['measured']} | {x['status']} | {x['naive']} |" for x in rows
    ]
    cost = r["cost"]
    lines += [
        "",
        "Requests per cycle, counted at the sandbox:",
        "",
        "| cycle | reads | writes | write polls | fields written | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for name, label in (
        ("initial", "initial sync"),
        ("echo", "echo of the initial sync"),
        ("steady", "steady state"),
        ("change", "1 % changed"),
        ("echo_change", "echo of the 1 % cycle"),
        ("steady_again", "steady state again"),
    ):
        c = cost.get(name)
        if c:
            lines.append(
                f"| {label} | {c['reads']:,} | {c['writes']:,} | {c['write_polls']} | "
                f"{c['report']['writes']:,} | {c['seconds']} |"
            )
    if r.get("naive"):
        n = r["naive"]
        lines.append(
            f"| naive, any cycle | {n['requests']['by_kind'].get('read', 0):,} | "
            f"{n['requests']['by_kind'].get('write', 0):,} | 0 | {n['fields_written']:,} | {n['seconds']} |"
        )
    return "\n".join(lines)


def render(r: dict[str, Any], doc: Path) -> None:
    text = doc.read_text() if doc.exists() else f"# Performance\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{START}\n{table(r)}\n{END}{tail}")
