"""Write the figures of the last reliability runs into docs/RELIABILITY.md.

Each test of the reliability suite saves its figures as JSON (tests/reliability_support.record)
under ``$RELAIS_RELIABILITY_RESULTS`` (default build/reliability/). This script reads them and
replaces what stands between the two ``figures`` markers of the document with a table:

    python tests/reliability_figures.py [docs/RELIABILITY.md]

(`make reliability` runs it after the suite.) Without results it leaves the document alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reliability_support import ROOT, results_dir

START, END = "<!-- figures:start -->", "<!-- figures:end -->"
ORDER = [
    "flaky",
    "crash",
    "config",
    "payloads",
    "humans",
    "ratelimits",
    "outage",
    "secrets",
    "webhooks",
    "partial",
    "adoption",
    "clock",
    "store",
    "writers",
    "edits",
    "attacks",
    "failover",
]
TITLES = {
    "flaky": "1 Flaky vendors",
    "crash": "2 Crashes",
    "config": "3 Bad config",
    "payloads": "4 Bad payloads",
    "humans": "5 People editing",
    "ratelimits": "6 Rate limits",
    "outage": "7 Outage",
    "secrets": "8 Secrets",
    "webhooks": "9 Webhook abuse",
    "partial": "10 Partial data",
    "adoption": "11 People decided first",
    "clock": "12 Clock steps",
    "store": "13 Lost state store",
    "writers": "14 Two writers",
    "edits": "15 Config edits",
    "attacks": "16 Hostile input",
    "failover": "17 Failover",
}
HEADLINE = {  # the figures the issue asks for, per scenario, in this order
    "flaky": [
        "size",
        "runs",
        "requests",
        "requests_faulted",
        "writes_applied",
        "rows_created",
        "max_cycles",
        "duplicates",
        "writes_lost",
        "retry_after_cut_short",
    ],
    "crash": [
        "size",
        "kills",
        "killed_during",
        "people_edits",
        "duplicates",
        "writes_lost",
        "writes_unrecorded_at_a_kill",
    ],
    "config": ["configs_tried", "accepted", "rejected", "problems_reported", "tracebacks"],
    "payloads": [
        "size",
        "payloads_tried",
        "quarantined",
        "read_as_unusual",
        "retried_after_change",
        "cycles_failed",
    ],
    "humans": [
        "items_edited",
        "human_edits_lost",
        "human_changes",
        "relais_writes_per_field",
        "ping_pong_limit",
    ],
    "ratelimits": [
        "size",
        "requests",
        "throttled_by_own_pace",
        "notion_requests_per_second",
        "injected",
        "honoured",
        "retry_after_cut_short",
    ],
    "outage": [
        "vendor_down",
        "failed_cycles",
        "seconds_down",
        "other_sources_ok_cycles_meanwhile",
        "logged_failing",
        "logged_recovered",
        "writes_left_after_recovery",
    ],
    "secrets": ["canaries", "surfaces_searched", "bytes_searched", "secrets_leaked"],
    "webhooks": ["abusive_deliveries", "replays", "statuses", "writes_triggered_by_abuse"],
    "partial": [
        "tool_down",
        "writes_while_down",
        "written_from_the_missing_tool",
        "held_while_down",
        "rows_created_while_down",
        "held_while_failing",
        "writes_while_failing",
        "writes_after_recovery",
        "jira_first_read_seconds",
        "rows_created_before_jira_read",
        "end_state_differences",
    ],
    "adoption": [
        "decisions_made_before",
        "kept",
        "overwritten",
        "overwritten_once",
        "writes_per_field",
        "changed_back_by_a_person_then_kept",
        "reported_by",
    ],
    "clock": [
        "interval_seconds",
        "window_seconds",
        "polls_steady",
        "polls_after_back_1h",
        "polls_after_forward_1d",
        "readyz_after_steps",
    ],
    "store": [
        "rounds",
        "kills",
        "stores_lost",
        "created_after_losing_it",
        "followups",
        "duplicates",
        "writes_lost",
    ],
    "writers": ["started", "refused", "writers_refused", "readers_ok", "duplicates"],
    "edits": ["edits", "writes_planned", "creates_planned"],
    "failover": [
        "kills",
        "takeover_max_s",
        "takeover_p95_s",
        "takeover_s",
        "duplicates",
        "writes_lost",
        "writes_by_fenced",
        "store_rows_by_fenced",
    ],
}


def _value(v: object) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k} {n}" for k, n in v.items())
    return str(v)


def table(results: list[dict]) -> str:
    lines = ["| scenario | variant | figures | seconds | run at (UTC) |", "|---|---|---|---|---|"]
    results.sort(key=lambda r: (ORDER.index(r["scenario"]) if r["scenario"] in ORDER else 99, r["variant"]))
    for r in results:
        figures = r["figures"]
        keys = [k for k in HEADLINE.get(r["scenario"], sorted(figures)) if k in figures]
        text = "; ".join(f"{k.replace('_', ' ')}: {_value(figures[k])}" for k in keys)
        lines.append(
            f"| {TITLES.get(r['scenario'], r['scenario'])} | {r['variant']} | {text} | "
            f"{figures.get('seconds', '')} | {r['at'][:16].replace('T', ' ')} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    doc = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "RELIABILITY.md"
    results = [json.loads(p.read_text()) for p in sorted(results_dir().glob("*.json"))]
    if not results:
        print(f"no results under {results_dir()}: run the suite first", file=sys.stderr)
        return 1
    text = doc.read_text()
    if START not in text or END not in text:
        print(f"{doc}: no {START} … {END} markers", file=sys.stderr)
        return 1
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{START}\n{table(results)}\n{END}{tail}")
    print(f"{doc}: figures of {len(results)} runs written")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
