"""The benchmark's smoke version (issue 8): `make bench`'s API-cost sequence on the demo org.

After a first sync and the cycle that re-reads relais' own writes, a cycle with nothing
changed and no edit left inside any overlap window must write nothing, read at most once
per stream (Jira's JQLs, each Notion database, PagerDuty's three windows), counted at the
sandbox, and get nothing back from Jira and Notion; after people edit 1 % of the items,
one cycle writes exactly the owned values that change and reads each stream at most once
more than the minimum. The full benchmark (`make bench`) runs the same code on the large org.
"""

from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT))

from benchmarks.common import SMOKE, ShiftedClock, relais_config
from benchmarks.cost import api_cost, steady_problems
from sandbox import Sandbox


def test_a_steady_state_cycle_writes_nothing_and_reads_each_stream_once(tmp_path):
    clock = ShiftedClock()
    with Sandbox(seed=7, size=SMOKE, clock=clock) as sb:
        config = relais_config(sb, tmp_path, pace={"jira": 100, "notion": 100, "pagerduty": 100})
        figures = api_cost(sb, config, clock, subprocess=False, one_percent=True, log=lambda _: None)
    assert figures["initial"]["report"]["errors"] == {}
    assert figures["echo"]["writes"] == 0 and figures["echo"]["report"]["writes"] == 0
    assert steady_problems(figures["steady"]) == []
    # Nothing re-read: the watermarks moved past relais' own writes with the vendors' clocks
    # (PagerDuty's open incidents are read every cycle, by design).
    assert figures["steady"]["report"]["pulled"]["jira"] == 0
    assert figures["steady"]["report"]["pulled"]["notion"] == 0
    assert steady_problems(figures["steady_again"]) == []
    change = figures["change"]
    assert change["fields_written"] == change["fields_changed_total"], change
    over = {s: n for s, n in change["reads_over_min_by_stream"].items() if n > 1}
    assert over == {}, change["reads_by_stream"]
