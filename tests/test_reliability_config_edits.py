"""Scenario 15 — config edits that decide nothing new write nothing.

"Routed by" used to carry the config's file name and line: adding a 4-line rule near
the top planned 1,999 rewrites on a 10,000-issue org, and renaming the file rewrote
every routed page. Nothing written into a tool may depend on where the config lives or
how it is laid out. After a first sync has settled, each edit below must plan 0 writes
and 0 creates (`file:line` stays in `relais explain`, which is read, not written).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from conftest import relais_env, run_relais
from reliability_support import converged, record

from sandbox import Sandbox


def planned(sb: Sandbox, config: Path) -> dict:
    result = run_relais(["plan", "--json", "-c", str(config)], relais_env(sb))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    return {"changes": data["changes"], "creates": data["creates"]}


def test_edits_that_change_no_decision_plan_no_write(tmp_path: Path):
    with Sandbox(seed=7, size="demo") as sb:
        config = converged(sb, tmp_path)
        data = yaml.safe_load(config.read_text())
        edits = {}

        # 1. comments: every line below moves
        config.write_text("# relais for the sandbox org\n# reviewed in git\n\n" + config.read_text())
        edits["comments added at the top"] = planned(sb, config)

        # 2. a 4-line rule at the top of classify that decides what the rules decided anyway,
        #    and a routing rule at the top of route.feedback that matches nothing
        data["classify"].insert(0, {"name": "bugs first", "when": {"issuetype": ["Bug"]}, "then": "RUN"})
        data["route"]["feedback"].insert(
            0, {"name": "never", "when": {"text": {"contains_any": ["zz-no-such"]}}, "to": "payments"}
        )
        config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        edits["rules added near the top"] = planned(sb, config)

        # 3. two rules that agree on what they both match, moved
        names = [r.get("name") for r in data["classify"]]
        i, j = names.index("bugs and support"), names.index("maintenance")
        data["classify"][i], data["classify"][j] = data["classify"][j], data["classify"][i]
        config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        edits["two rules swapped"] = planned(sb, config)

        # 4. the file renamed (and moved to another folder)
        moved = tmp_path / "deploy" / "relais-prod.yaml"
        moved.parent.mkdir()
        data["state"]["path"] = str(tmp_path / "relais.db")
        moved.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        config.unlink()
        edits["file renamed and moved"] = planned(sb, moved)
        explained = run_relais(
            ["explain", "notion:" + sb.notion.page_ids("feedback")[0], "-c", str(moved)], relais_env(sb)
        )
    for what, plan in edits.items():
        assert plan == {"changes": [], "creates": []}, (what, plan["changes"][:3])
    assert explained.returncode == 0 and "relais-prod.yaml:" in explained.stdout.replace("\n", ""), (
        explained.stdout
    )
    record("edits", "no-decision-changed", edits=list(edits), writes_planned=0, creates_planned=0)
