"""Scenario 8 — secrets: recognisable canary tokens never appear anywhere relais writes.

The sandbox accepts canary tokens; relais gets them from the environment and
runs every command, with ``--json`` and ``--debug``, the daemon for two cycles,
every library's logging at DEBUG, and errors on purpose: a 401 (a wrong canary),
500s, resets, and an unexpected error shown with its traceback. Then every
stdout, stderr, log file and the state store's bytes (WAL included) are searched
for each canary, its first 16 characters, and the base64 forms Basic auth uses.

``LEAK_SURFACES`` lists what is searched, the daemon's status page, ``/readyz``
and ``/metrics`` included.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml
from conftest import ROOT, relais_env
from reliability_support import full_config, record, wait_until

from sandbox import Sandbox

CANARIES = {
    "JIRA_API_TOKEN": "canary-jira-7f3c9e1a5b2d4c6e8f0a",
    "NOTION_TOKEN": "canary-notion-4be1d07c93a2f85e61",
    "PAGERDUTY_TOKEN": "canary-pagerduty-90fe87dc65ba4321",
}
WRONG_JIRA = "canary-wrongjira-5d1c2b3a4f6e7d8c"  # for the 401
LEAK_SURFACES: list[str] = []  # filled as each surface is captured: the figure says how many were searched

DEBUG_MAIN = (
    "import logging, sys\n"
    "logging.basicConfig(level=logging.DEBUG, filename=sys.argv[1], force=True)\n"
    "from sync.cli import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def patterns(email: str) -> dict[str, str]:
    """Each secret in the forms a leak would take."""
    out = {}
    for name, token in {**CANARIES, "WRONG_JIRA": WRONG_JIRA}.items():
        out[name] = token
        out[f"{name} (first 16)"] = token[:16]  # a cut leak; the masked form shows only the last 4
        out[f"{name} base64"] = base64.b64encode(token.encode()).decode().rstrip("=")
    for token in (CANARIES["JIRA_API_TOKEN"], WRONG_JIRA):
        basic = base64.b64encode(f"{email}:{token}".encode()).decode()
        out[f"basic auth {token[:12]}"] = basic[len(base64.b64encode(email.encode()).decode()) - 4 :].rstrip(
            "="
        )
    return out


def run(args: list[str], env: dict[str, str], log: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    """The CLI in its own interpreter, with the root logger (every library) at DEBUG into ``log``."""
    return subprocess.run(
        [sys.executable, "-c", DEBUG_MAIN, str(log), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def capture(surfaces: dict[str, str], name: str, done: subprocess.CompletedProcess, log: Path) -> None:
    surfaces[f"{name}: stdout"] = done.stdout
    surfaces[f"{name}: stderr"] = done.stderr
    surfaces[f"{name}: debug log"] = log.read_text(errors="replace") if log.exists() else ""


def daemon_lines(
    sb: Sandbox, config: Path, env: dict[str, str], log: Path, surfaces: dict[str, str]
) -> subprocess.CompletedProcess:
    """``relais run`` for two cycles, its HTTP pages read, then SIGTERM: its JSON log lines and the
    DEBUG log."""
    with socket.socket() as s:  # a free port for the daemon's endpoints
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    daemon_config = config.with_name("daemon.yaml")
    data = yaml.safe_load(config.read_text())
    data["daemon"] = {"http": {"listen": f"127.0.0.1:{port}"}}
    daemon_config.write_text(yaml.safe_dump(data, sort_keys=False))
    proc = subprocess.Popen(
        [sys.executable, "-c", DEBUG_MAIN, str(log), "run", "--interval", "1", "-c", str(daemon_config)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(
        lambda: sb.count(vendor="jira", method="GET", path_prefix="/rest/api/3/search") >= 4, timeout=60
    )
    time.sleep(1.5)
    for page in ("/", "/readyz", "/healthz", "/metrics"):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{page}", timeout=10) as answer:
                surfaces[f"daemon GET {page}"] = answer.read().decode()
        except urllib.error.HTTPError as e:  # /readyz may say 503: its body is searched all the same
            surfaces[f"daemon GET {page}"] = e.read().decode()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_canary_tokens_never_appear_in_outputs_logs_errors_or_the_state_store(tmp_path):
    surfaces: dict[str, str] = {}
    with Sandbox(seed=7, size="demo", tokens=CANARIES) as sb:
        config = full_config(sb, tmp_path)
        env = relais_env(sb)
        assert all(env[k] == v for k, v in CANARIES.items())
        logs = iter(tmp_path / f"debug-{n}.log" for n in range(100))

        def go(name: str, args: list[str], environ: dict[str, str] = env) -> subprocess.CompletedProcess:
            log = next(logs)
            done = run(args, environ, log)
            capture(surfaces, name, done, log)
            return done

        assert go("validate", ["--debug", "validate", "-c", str(config)]).returncode == 0
        assert go("plan --json", ["--debug", "plan", "--json", "-c", str(config)]).returncode == 0
        assert go("sync --json", ["--debug", "sync", "--once", "--json", "-c", str(config)]).returncode == 0
        assert go("sync", ["--debug", "sync", "--once", "-c", str(config)]).returncode == 0
        for name, args in [
            ("report --json", ["report", "--format", "json"]),
            ("report", ["report"]),
            ("report --routing", ["report", "--routing"]),
            ("explain --json", ["explain", "jira:PAY-1", "--json"]),
            ("explain", ["explain", "jira:PAY-1"]),
            ("health", ["health"]),
        ]:
            assert go(name, ["--debug", *args, "-c", str(config)]).returncode == 0, name
        log = next(logs)
        capture(surfaces, "run (daemon)", daemon_lines(sb, config, env, log, surfaces), log)
        assert (
            "relais — status" in surfaces["daemon GET /"]
            and "relais_cycles_total" in surfaces["daemon GET /metrics"]
        )

        # Errors on purpose: a refused token, a tool failing, connections reset.
        wrong = {**env, "JIRA_API_TOKEN": WRONG_JIRA}
        refused = go("401", ["--debug", "sync", "--once", "--json", "-c", str(config)], wrong)
        assert refused.returncode == 1 and "401" in refused.stderr and WRONG_JIRA[-4:] in refused.stderr
        sb.faults.add("notion", 500, path="/query$")
        sb.faults.add("pagerduty", "reset", path="^/incidents$")
        failing = go("500 and resets", ["--debug", "sync", "--once", "--json", "-c", str(config)])
        assert failing.returncode == 1 and "500" in failing.stdout and "ConnectError" not in failing.stdout
        sb.faults.clear()
        sb.faults.add(
            "notion", 500, path="/users/me"
        )  # down at connect: the others sync, the error is reported
        down = go("500 at connect", ["--debug", "sync", "--once", "--json", "-c", str(config)])
        assert down.returncode == 1 and "500" in down.stdout
        sb.faults.clear()
        broken = tmp_path / "broken.yaml"
        broken.write_text(config.read_text().replace(str(tmp_path / "relais.db"), "/proc/relais/relais.db"))
        crashed = go("traceback", ["--debug", "sync", "--once", "-c", str(broken)])
        assert crashed.returncode != 0 and "Traceback" in crashed.stderr
        bad_yaml = tmp_path / "secret.yaml"  # a token pasted into the YAML is refused, and not echoed
        bad_yaml.write_text(config.read_text() + f"\nnotes: {CANARIES['NOTION_TOKEN']}\n")
        go("token in the yaml", ["--debug", "validate", "-c", str(bad_yaml)])

        for suffix in ("", "-wal", "-shm"):
            db = tmp_path / f"relais.db{suffix}"
            if db.exists():
                surfaces[f"state store relais.db{suffix}"] = db.read_bytes().decode("latin-1")
        email = sb.env["JIRA_EMAIL"]
    bad_yaml.unlink()  # the one file that holds a canary on purpose
    LEAK_SURFACES[:] = sorted(surfaces)
    leaks = {
        surface: [name for name, value in patterns(email).items() if value in text]
        for surface, text in surfaces.items()
    }
    leaks = {k: v for k, v in leaks.items() if v}
    assert leaks == {}
    assert len(surfaces) > 30 and sum(map(len, surfaces.values())) > 100_000  # real output was searched
    record(
        "secrets",
        "fast",
        canaries=len(CANARIES) + 1,
        surfaces_searched=len(surfaces),
        bytes_searched=sum(map(len, surfaces.values())),
        patterns_per_surface=len(patterns(email)),
        secrets_leaked=0,
    )


def test_the_canary_patterns_would_be_found():
    """The search itself works: each form of each canary is found in a text that holds it."""
    email = "relais-bot@acme.example"
    header = (
        "Authorization: Basic " + base64.b64encode(f"{email}:{CANARIES['JIRA_API_TOKEN']}".encode()).decode()
    )
    found = [name for name, value in patterns(email).items() if value in header]
    assert f"basic auth {CANARIES['JIRA_API_TOKEN'][:12]}" in found
    masked = "the token in NOTION_TOKEN is ***" + CANARIES["NOTION_TOKEN"][-4:]
    assert [n for n, v in patterns(email).items() if v in masked] == []
    assert [n for n, v in patterns(email).items() if v in f"Bearer {CANARIES['NOTION_TOKEN']}"] == [
        "NOTION_TOKEN",
        "NOTION_TOKEN (first 16)",
    ]
    assert os.environ.get("NOTION_TOKEN") != CANARIES["NOTION_TOKEN"]
