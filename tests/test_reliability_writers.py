"""Scenario 14 — one writer per state store: a second one is refused, readers are not.

Two `relais run` on one state file wrote 7 duplicate scorecard rows in 30 s and rewrote
"Routed by" back and forth forever. A process that writes (`run`, `sync`) now holds an
exclusive lock beside the store; a second writer exits 1 at once with one line naming
the holder (pid, host, since when); `plan`, `report`, `explain` and `validate` work
beside it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROOT, relais_env, run_relais
from daemon_support import RelaisProcess, daemon_config, get, wait_for
from reliability_support import duplicates, full_config, record

from sandbox import Sandbox

HOLDER = re.compile(r"another relais is writing with the state store .+: pid (\d+) on \S+ since \S+")


def test_two_syncs_started_together_one_runs_the_other_is_refused(tmp_path: Path):
    with Sandbox(seed=7, size="demo") as sb:
        config = full_config(sb, tmp_path)
        # Notion answers its queries slowly: each run takes seconds, so the two overlap.
        sb.faults.add("notion", "timeout", path="/query$", delay=0.5, count=8)
        env = relais_env(sb)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "sync.cli", "sync", "--once", "-c", str(config)],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = [(p.wait(120), *p.communicate()) for p in procs]
        codes = sorted(code for code, _, _ in results)
        refused = next(err for code, _, err in results if code == 1)
        pids = {str(p.pid) for p in procs}
        later = run_relais(["sync", "--once", "--json", "-c", str(config)], env)  # the lock went with it
        dups = duplicates(sb)
    assert codes == [0, 1], results
    lines = refused.strip().splitlines()
    assert len(lines) == 1 and HOLDER.search(lines[0]) and HOLDER.search(lines[0]).group(1) in pids, refused
    assert later.returncode == 0, later.stderr
    assert sum(dups.values()) == 0, dups
    record("writers", "two-syncs-together", started=2, refused=1, duplicates=0)


def test_a_writer_beside_a_running_daemon_is_refused_and_readers_work(tmp_path: Path):
    with Sandbox(seed=7, size="demo") as sb:
        config = daemon_config(sb, tmp_path, interval=1)
        env = relais_env(sb)
        relais = RelaisProcess(sb, config)
        try:
            url = relais.url
            wait_for(lambda: get(url + "/readyz")[0] == 200, what="/readyz 200")
            sync = run_relais(["sync", "--once", "-c", str(config)], env)
            second = subprocess.run(
                [sys.executable, "-m", "sync.cli", "run", "-c", str(config)],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
            )
            readers = {
                name: run_relais([*args, "-c", str(config)], env)
                for name, args in {
                    "plan": ["plan", "--json"],
                    "report": ["report", "--format", "json"],
                    "explain": ["explain", "jira:PAY-1"],
                    "validate": ["validate"],
                }.items()
            }
            time.sleep(3)  # the daemon keeps cycling: no second writer ever ran
            dups = duplicates(sb)
            assert relais.stop() == 0
        finally:
            relais.close()
    daemon_pid = str(relais.proc.pid)
    for name, refused in (("sync --once", sync), ("a second run", second)):
        assert refused.returncode == 1, (name, refused.stderr)
        match = HOLDER.search(refused.stderr)
        assert match and match.group(1) == daemon_pid and len(refused.stderr.strip().splitlines()) == 1, (
            name,
            refused.stderr,
        )
    for name, done in readers.items():
        assert done.returncode == 0, (name, done.stderr)
    assert json.loads(readers["plan"].stdout)["errors"] == {}
    assert sum(dups.values()) == 0, dups
    assert os.path.exists(tmp_path / "relais.db.lock")
    record("writers", "beside-a-daemon", writers_refused=2, readers_ok=len(readers), duplicates=0)
