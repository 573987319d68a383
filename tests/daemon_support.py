"""Helpers for the daemon tests: a config with a `daemon:` section, the daemon in
this process or as a `relais run` subprocess, plain HTTP calls to its port, and
webhook signatures computed the way each vendor documents them."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import ROOT, relais_env, write_config

from sandbox import Sandbox
from sandbox.testing import wait_until

WEBHOOK_ENV = {
    "PAGERDUTY_WEBHOOK_SECRET": "pd-webhook-secret-0001",
    "JIRA_WEBHOOK_SECRET": "jira-webhook-secret-0001",
    "NOTION_WEBHOOK_TOKEN": "secret_notion-verification-0001",
}


def daemon_section(interval: float) -> dict[str, Any]:
    """A test daemon's `daemon:` section: every source each ``interval`` seconds, no jitter, a
    short stop, any free port on the loopback."""
    return {
        "intervals": {"jira": interval, "notion": interval, "pagerduty": interval},
        "jitter_seconds": 0,
        "stop_seconds": 10,
        "http": {"listen": "127.0.0.1:0"},
    }


def daemon_config(
    sb: Sandbox,
    directory: Path,
    *,
    interval: float = 1,
    webhooks: bool = False,
    balance: bool = True,
    tweak: Callable[[dict[str, Any]], None] | None = None,
    **features: bool,
) -> Path:
    """The sandbox's config with a `daemon:` section: short intervals, no jitter, any free port;
    ``features`` as :meth:`Sandbox.config` takes them (``routing=True``)."""

    def with_daemon(data: dict[str, Any]) -> None:
        data["daemon"] = daemon_section(interval)
        if webhooks:
            data["daemon"]["webhooks"] = {
                "pagerduty": None,
                "jira": None,
                "notion": {"path": "/hooks/notion"},
            }
        if tweak:
            tweak(data)

    return write_config(sb, directory, with_daemon, balance=balance, **features)


def replace_text(path: Path, text: str) -> None:
    """Write a file the way editors and Kubernetes do: whole, in one rename (a watcher never sees half)."""
    fresh = path.with_name(path.name + ".new")
    fresh.write_text(text)
    os.replace(fresh, path)


def get(url: str, timeout: float = 10) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 10) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, _answer(r.read())
    except urllib.error.HTTPError as e:
        return e.code, _answer(e.read())


def _answer(body: bytes) -> dict[str, Any]:
    """relais answers JSON; the HTTP server refuses some requests itself (a body over the cap, 413,
    unread) with a line of text."""
    try:
        return json.loads(body or b"{}")
    except ValueError:
        return {"error": body.decode("utf-8", "replace").strip()}


def wait_for(
    condition: Callable[[], Any], timeout: float = 30, step: float = 0.05, what: str = "condition"
) -> Any:
    value = wait_until(condition, timeout, step)
    if not value:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")
    return value


# -- signatures, as each vendor documents them --------------------------------------
def pagerduty_signature(body: bytes, *secrets: str) -> str:
    """One ``v1=<hex HMAC-SHA256>`` per secret, comma-separated (PagerDuty, "Verifying Signatures")."""
    return ",".join("v1=" + hmac.new(s.encode(), body, hashlib.sha256).hexdigest() for s in secrets)


def hub_signature(body: bytes, secret: str) -> str:
    """``sha256=<hex HMAC-SHA256>``: Jira's X-Hub-Signature and Notion's X-Notion-Signature."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# -- the daemon in this process -------------------------------------------------------
@contextmanager
def running_daemon(sb: Sandbox, config: Path, env: dict[str, str] | None = None) -> Iterator[Any]:
    """`relais run`'s Daemon in a thread of this test, against the sandbox; stopped at the end."""
    from sync.daemon import Daemon
    from sync.settings import load_settings, resolve_secrets

    environ = {**sb.env, **(env or {})}
    settings = load_settings(config)
    daemon = Daemon(config, settings, resolve_secrets(settings, environ=environ), environ=environ)
    daemon.start()
    try:
        daemon.url = f"http://{daemon.listen_address()}"
        wait_for(lambda: daemon.readiness()[0], what="the daemon's first cycles")
        yield daemon
    finally:
        daemon.shutdown()


# -- the daemon as a user runs it ------------------------------------------------------
class RelaisProcess:
    """`python -m sync.cli run -c CONFIG` with its stderr (JSON log lines) collected as it goes."""

    def __init__(self, sb: Sandbox, config: Path, *args: str, **env: str | None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sync.cli", "run", "-c", str(config), *args],
            env=relais_env(sb, **env),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def logs(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in list(self.lines) if line.startswith("{")]

    def logged(self, msg: str, **fields: Any) -> list[dict[str, Any]]:
        return [e for e in self.logs if e["msg"] == msg and all(e.get(k) == v for k, v in fields.items())]

    @property
    def url(self) -> str:
        started = wait_for(lambda: self.logged("started"), what="the 'started' log line")
        return f"http://{started[0]['listen']}"

    def stop(self, timeout: float = 30) -> int:
        import signal

        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)
        if self.proc.stdout:
            self.proc.stdout.close()
        if self.proc.stderr:
            self.proc.stderr.close()
