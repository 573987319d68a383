"""PagerDuty's offset cap (offset + limit ≤ 10,000): a window holding more incidents
is bisected by the client's iter_history, and nothing is lost."""

from __future__ import annotations

from pathlib import Path

from conftest import make_engine, write_config

from sandbox import SIZES, Sandbox


def test_more_than_10000_incidents_in_the_first_window_are_all_read(tmp_path: Path):
    size = {**SIZES["demo"], "incidents": 12_000, "weeks": 10}
    with Sandbox(seed=3, size=size) as sb:
        engine = make_engine(sb, write_config(sb, tmp_path))
        try:
            report = engine.run_cycle(apply=False)
        finally:
            engine.close()
        assert report.errors == {}
        assert report.pulled["pagerduty"] == len(sb.pagerduty.incident_ids()) == 12_000
        # Some request went past a single window's reach: the window was split.
        assert sb.count(vendor="pagerduty", path_prefix="/incidents", status=400) == 0
