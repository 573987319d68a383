"""Shared fixtures: a live sandbox (real HTTPS on 127.0.0.1) and relais pointed at it.

Nothing of relais is mocked: the engine runs the official clients over real
sockets against the sandbox, and the tests look at what the sandbox holds.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml
from jira import JIRAError

from sandbox import Sandbox
from sandbox.testing import (
    FrozenClock,
    jira_client,
    notion_client,
    pagerduty_client,
    relais_env,
)
from sync.engine import Engine
from sync.settings import load_settings, resolve_secrets

ROOT = Path(__file__).resolve().parents[1]

#: The PostgreSQL server the store's tests use (`make test` makes sure one answers: `make postgres`).
POSTGRES = os.environ.get("RELAIS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


Clock = FrozenClock  # a settable clock, so a test can place edits inside one minute


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=7, size="demo") as sb:
        yield sb


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> FrozenClock:
    """A settable clock. A test module that pins the sandbox's moment says so with a module
    constant ``START`` (an aware datetime), which its assertions use too."""
    start = getattr(request.module, "START", None)
    if start is not None:
        return FrozenClock(start)
    # Twenty seconds into a minute, a little in the past so relais' own "now" is later.
    now = datetime.now(UTC).replace(second=20, microsecond=0) - timedelta(hours=1)
    return FrozenClock(now)


@pytest.fixture
def pinned_sandbox(clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(seed=7, size="demo", clock=clock) as sb:
        yield sb


@pytest.fixture
def sb(pinned_sandbox: Sandbox) -> Sandbox:
    """The demo sandbox on :func:`clock` (the name the sandbox's own tests use)."""
    return pinned_sandbox


# The official clients pointed at ``sb``, closed after the test (tests run with -W error).
def _closed_after(factory: Callable[[Sandbox], Any], sb: Sandbox) -> Iterator[Any]:
    client = factory(sb)
    yield client
    client.close()


@pytest.fixture
def jira(sb: Sandbox) -> Iterator[Any]:
    yield from _closed_after(jira_client, sb)


@pytest.fixture
def refused_update(sb: Sandbox, jira: Any) -> Callable[[str, dict[str, Any]], Any]:
    """Edits one issue, the summary too, through ``jira`` with fields the sandbox must refuse:
    checks the answer is a 400 and that the issue did not change; returns the answer's body."""

    def update(key: str, fields: dict[str, Any]) -> Any:
        before = sb.jira.get_record(key)
        with pytest.raises(JIRAError) as err:
            jira.issue(key).update(fields={**fields, "summary": "should not be saved"})
        assert err.value.status_code == 400
        assert sb.jira.get_record(key) == before
        return err.value.response.json()

    return update


@pytest.fixture
def notion(sb: Sandbox) -> Iterator[Any]:
    yield from _closed_after(notion_client, sb)


@pytest.fixture
def pd(sb: Sandbox) -> Iterator[Any]:
    yield from _closed_after(pagerduty_client, sb)


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database on the test server (a random name), dropped after the test. A test
    parametrized ``indirect`` gets the database with that encoding instead, in the C locale."""
    import psycopg

    name = f"relais_test_{secrets.token_hex(6)}"
    encoding = getattr(request, "param", None)
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as e:
        pytest.fail(
            f"no PostgreSQL server at {POSTGRES} ({e}): `make postgres` starts one; or set RELAIS_TEST_POSTGRES"
        )
    with admin:
        if encoding:
            admin.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING '{encoding}' LOCALE 'C'")
        else:
            _create_database(admin, name)
    yield urlunsplit(urlsplit(POSTGRES)._replace(path=f"/{name}"))
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _create_database(admin: Any, name: str) -> None:
    import psycopg

    try:  # a linguistic collation, as production databases often have: the store must not depend on it
        admin.execute(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
            "LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        )
    except psycopg.Error:  # a server without ICU (or older than 15): its default
        admin.execute(f'CREATE DATABASE "{name}"')


@pytest.fixture(params=["sqlite", "postgresql"])
def state_at(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a store-level test keeps its store: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "relais.db"
    return request.getfixturevalue("postgres_url")


def write_config(
    sb: Sandbox,
    directory: Path,
    tweak: Callable[[dict[str, Any]], None] | None = None,
    balance: bool = False,
    **features: bool,
) -> Path:
    """The sandbox's relais.yaml in ``directory``; ``features`` as :meth:`Sandbox.config` takes them
    (``routing=True``, ``briefings=True``)."""
    directory.mkdir(parents=True, exist_ok=True)
    data = sb.config(str(directory / "relais.db"), balance=balance, **features)
    if tweak:
        tweak(data)
    path = directory / "relais.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def make_engine(sb: Sandbox, config: Path) -> Engine:
    settings = load_settings(config)
    return Engine(settings, resolve_secrets(settings, environ=sb.env))


@pytest.fixture
def config(sandbox: Sandbox, tmp_path: Path) -> Path:
    return write_config(sandbox, tmp_path)


@pytest.fixture
def engine(sandbox: Sandbox, config: Path) -> Iterator[Engine]:
    e = make_engine(sandbox, config)
    yield e
    e.close()


def run_relais(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """The installed CLI, as a user runs it (a subprocess, its own interpreter)."""
    return subprocess.run(
        [sys.executable, "-m", "sync.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_relais(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    """The CLI started in the background (to be killed mid-run), its output discarded."""
    return subprocess.Popen(
        [sys.executable, "-m", "sync.cli", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def left_to_do(plan_stdout: str) -> list[dict[str, Any]]:
    """What `relais plan --json` says a sync would still do: writes, creates and held writes."""
    data = json.loads(plan_stdout)
    return [*data["changes"], *data["creates"], *data["held"]]


def run_on_a_terminal(args: list[str], env: dict[str, str], typed: bytes) -> tuple[int, str]:
    """The CLI on a pseudo-terminal (stdin, stdout and stderr a tty), ``typed`` sent as keystrokes;
    its exit code and all it showed."""
    import pty
    import threading

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync.cli", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        env={**env, "COLUMNS": "200"},
    )
    os.close(slave)
    seen: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            if not chunk:
                return
            seen.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    os.write(master, typed)
    code = proc.wait(timeout=60)
    reader.join(timeout=5)
    os.close(master)
    return code, b"".join(seen).decode(errors="replace")


def check_fix_held_at(sb: Sandbox, config: Path, vendor: str, path: str) -> subprocess.Popen:
    """`relais check --fix` started with its survey's read of ``path`` (a regex) held back 3 s,
    returned once that read has arrived: what a test does next happens after the survey saw the
    tool and before the fix acts on it."""
    import time

    rule = sb.faults.add(vendor, "timeout", method="GET", path=path, count=1, delay=3, after=True)
    fixing = subprocess.Popen(
        [sys.executable, "-m", "sync.cli", "check", "--fix", "-c", str(config)],
        env=relais_env(sb),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while rule.fired == 0:  # the survey's read has arrived (and is served after the wait)
        assert time.monotonic() < deadline and fixing.poll() is None, f"the survey never read {path}"
        time.sleep(0.02)
    time.sleep(0.3)
    return fixing


def plan_and_sync(
    sb: Sandbox, config: Path
) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """`relais plan`, then `relais sync --once`, on ``config`` against ``sb``."""
    env = relais_env(sb)
    return run_relais(["plan", "-c", str(config)], env), run_relais(
        ["sync", "--once", "-c", str(config)], env
    )
