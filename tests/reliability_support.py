"""What the reliability suite (``tests/test_reliability_*.py``, docs/RELIABILITY.md) shares.

* :func:`record` writes one scenario variant's figures as JSON under
  ``$RELAIS_RELIABILITY_RESULTS`` (default ``build/reliability/``, ignored by
  git, so CI's tree stays clean); ``tests/reliability_figures.py`` turns them
  into the table of docs/RELIABILITY.md.
* :func:`end_state` is what relais leaves in the tools — every owned value it
  could have written, scorecard rows by their Key — so two sandboxes of the
  same seed can be compared after a clean run and after a run under faults.
* :func:`duplicates` counts what relais created more than once.
* :func:`converge` runs cycles until one has nothing left to do.

Scenarios still to come slot in the same way (see docs/RELIABILITY.md): a test
per property, figures recorded with :func:`record`, and the surfaces a secret
could leak through listed in :data:`LEAK_SURFACES` of the secrets test.
"""

from __future__ import annotations

import email.utils
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from sandbox import Sandbox
from sync.engine import CycleReport, Engine
from sync.settings import load_settings, resolve_secrets

ROOT = Path(__file__).resolve().parents[1]
# Properties Notion computes itself: they change with every edit, whoever makes it.
_VOLATILE = {"last_edited_time", "last_edited_by", "created_time", "created_by"}


def results_dir() -> Path:
    return Path(os.environ.get("RELAIS_RELIABILITY_RESULTS") or ROOT / "build" / "reliability")


def record(scenario: str, variant: str, **figures: Any) -> dict[str, Any]:
    """Save one run's figures (``<scenario>-<variant>.json``) and print them for the test log."""
    data = {
        "scenario": scenario,
        "variant": variant,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "figures": figures,
    }
    out = results_dir()
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{scenario}-{variant}.json").write_text(
        json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
    )
    print(f"\n[reliability] {scenario} ({variant}): {json.dumps(figures, sort_keys=True, default=str)}")
    return data


# -- configs and engines ---------------------------------------------------------------
def full_config(
    sb: Sandbox,
    directory: Path,
    tweak: Callable[[dict[str, Any]], None] | None = None,
    *,
    name: str = "relais.yaml",
) -> Path:
    """The sandbox's config with everything relais writes switched on: work types, the
    balance scorecard (rows relais creates), routing, briefing status and incident
    follow-ups (tickets and notes relais creates)."""
    directory.mkdir(parents=True, exist_ok=True)
    data = sb.config(str(directory / "relais.db"), balance=True, routing=True, briefings=True)
    # The sandbox's search shows a ticket at once (no lag unless a test sets one): a follow-up
    # whose create got no answer may be confirmed, or filed again, a second later.
    data["followups"]["confirm_after_seconds"] = 1
    if tweak:
        tweak(data)
    path = directory / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def engine_for(sb: Sandbox, config: Path, clock: Callable[[], datetime] | None = None) -> Engine:
    settings = load_settings(config)
    return Engine(settings, resolve_secrets(settings, environ=sb.env), clock=clock)


def pinned(now: datetime) -> Callable[[], datetime]:
    """relais' clock for runs that must agree (the balance counts open incidents up to the hour)."""
    return lambda: now


def converge(
    engine: Engine, max_cycles: int = 8, between: Callable[[], None] | None = None
) -> tuple[list[CycleReport], int]:
    """Sync until a cycle has no error and nothing to write; returns the reports and the cycles
    needed (``max_cycles + 1`` if it never settled, which every caller asserts against)."""
    reports = []
    for n in range(1, max_cycles + 1):
        report = engine.run_cycle(apply=True)
        reports.append(report)
        if (
            not report.errors
            and not report.planned
            and not report.planned_creates
            and not report.planned_followups
        ):
            return reports, n
        if between:
            between()
    return reports, max_cycles + 1


# -- what the tools hold ---------------------------------------------------------------
def converged(sb: Sandbox, directory: Path) -> Path:
    """The full config in ``directory``, and a store relais synced until nothing was left to write."""
    config = full_config(sb, directory)
    engine = engine_for(sb, config)
    try:
        converge(engine)
    finally:
        engine.close()
    return config


def _notion_values(rec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value
        for name, value in rec["values"].items()
        if getattr(schema.get(name), "type", None) not in _VOLATILE
    }


def end_state(sb: Sandbox) -> dict[str, Any]:
    """Every value relais could have written, as the tools hold it now.

    Jira: each issue's custom fields and labels; the follow-up tickets relais files by
    their label (their keys depend on the order they were filed in), each label mapped to
    the list of its tickets, with the notes naming them. Notion: each briefing and feedback
    page's properties by page id, but "Last synced" (a time); scorecard rows by their Key
    (relais creates them, so their page ids differ between two sandboxes), each Key mapped
    to the list of its rows' values — a duplicate shows as a second entry."""
    state: dict[str, Any] = {}
    bases = {url: f"<{vendor}>" for vendor, url in sb.urls.items()}
    for key in sb.jira.keys() + sb.jira.feedback_keys():
        fields = sb.jira.get_issue(key)["fields"]
        values = _portless(
            {k: v for k, v in fields.items() if k.startswith("customfield_") or k == "labels"}, bases
        )
        label = _followup_label(fields)
        if label is None:
            state[f"jira:{key}"] = values
            continue
        incident = label.removeprefix(FOLLOWUP_PREFIX)
        notes = sum(key in n["content"] for n in sb.pagerduty.find(incident)["notes"])
        state.setdefault(f"followup:{label}", []).append(
            {**values, "summary": fields["summary"], "notes": notes}
        )
    pages = sb.notion.snapshot_pages()
    rows: dict[str, list[dict[str, Any]]] = {}
    for page_id, rec in sorted(pages.items()):
        if rec["in_trash"]:
            continue
        values = _notion_values(rec, sb.notion.schemas[rec["source"]])
        values.pop("Last synced", None)  # when relais last wrote, not what: differs between two runs
        if rec["source"] == "scorecard":
            rows.setdefault(_plain(values.get("Key")), []).append(values)
        else:
            state[f"notion:{page_id}"] = values
    for key, values in rows.items():
        state[f"scorecard:{key}"] = values
    return state


def _portless(value: Any, bases: dict[str, str]) -> Any:
    """``value`` without what differs between two sandboxes of one seed: their ports."""
    if isinstance(value, dict):
        return {k: _portless(v, bases) for k, v in value.items() if k != "self"}
    if isinstance(value, list):
        return [_portless(v, bases) for v in value]
    if isinstance(value, str):
        for url, name in bases.items():
            value = value.replace(url, name)
    return value


def _plain(value: Any) -> str:
    """The text of a stored rich-text value (a list of text objects) or a plain string."""
    if isinstance(value, list):
        return "".join(
            str((part.get("text") or {}).get("content", part.get("plain_text", "")))
            if isinstance(part, dict)
            else str(part)
            for part in value
        )
    return "" if value is None else str(value)


FOLLOWUP_PREFIX = "relais-followup-"


def _followup_label(fields: dict[str, Any]) -> str | None:
    return next((lb for lb in fields.get("labels") or () if lb.startswith(FOLLOWUP_PREFIX)), None)


def duplicates(sb: Sandbox) -> dict[str, int]:
    """What relais created more than once: scorecard rows sharing a Key (live ones), follow-up
    tickets sharing an incident, notes naming a follow-up ticket more than once."""
    keys = Counter(
        _plain(rec["values"].get("Key"))
        for rec in sb.notion.snapshot_pages().values()
        if rec["source"] == "scorecard" and not rec["in_trash"]
    )
    tickets: Counter = Counter()
    notes = 0
    for key in sb.jira:
        label = _followup_label(sb.jira.get_issue(key)["fields"])
        if label is not None:
            tickets[label] += 1
            incident = sb.pagerduty.find(label.removeprefix(FOLLOWUP_PREFIX))
            notes += max(0, sum(key in n["content"] for n in incident["notes"]) - 1)
    return {
        "scorecard_rows": sum(n - 1 for n in keys.values() if n > 1),
        "followup_tickets": sum(n - 1 for n in tickets.values() if n > 1),
        "followup_notes": notes,
    }


def state_diff(expected: dict[str, Any], actual: dict[str, Any], limit: int = 10) -> list[str]:
    """Readable differences between two end states (empty when equal)."""
    out = []
    for key in sorted(set(expected) | set(actual)):
        if expected.get(key) != actual.get(key):
            out.append(f"{key}: expected {expected.get(key)!r}, got {actual.get(key)!r}")
    return out[:limit] + ([f"… {len(out) - limit} more"] if len(out) > limit else [])


def write_requests(sb: Sandbox) -> Counter:
    """Successful writes the tools received, by (vendor, method, path): a repeated write shows as a count > 1."""
    writes: Counter = Counter()
    for r in list(sb.log):
        if r.method in ("PUT", "PATCH", "POST") and 200 <= r.status < 300 and not _is_read(r.vendor, r.path):
            writes[(r.vendor, r.method, r.path)] += 1
    return writes


def _is_read(vendor: str, path: str) -> bool:
    return path.endswith(("/query", "/search/jql", "/approximate-count", "/bulkfetch"))


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def retry_after_seconds(value: str | None, sent: datetime) -> float | None:
    """What a served ``Retry-After`` asked, in seconds from when the 429 was served."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    return (email.utils.parsedate_to_datetime(value) - sent).total_seconds()


def cut_short(sb: Sandbox) -> list[str]:
    """Requests that reached a vendor before the Retry-After of its last 429 (or 503) had passed."""
    short, pause = [], {}
    for r in sorted(sb.log, key=lambda r: r.received or r.at):
        until = pause.get(r.vendor)
        if until is not None and r.received < until:
            short.append(
                f"{r.vendor} {r.method} {r.path} at {r.received.isoformat()} before {until.isoformat()}"
            )
        if r.status in (429, 503):
            asked = retry_after_seconds(r.retry_after, r.at)
            if asked is not None:
                pause[r.vendor] = max(pause.get(r.vendor, r.at), r.at + timedelta(seconds=asked))
    return short
