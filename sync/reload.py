"""Hot reload: when the config file changes, validate it and swap it in between jobs.

The file is read every ``POLL`` seconds and compared by content (a Kubernetes
ConfigMap is updated through a symlink swap, which a modification time may
not show), and so are the secret files named by ``*_FILE`` variables: a
rotated Kubernetes Secret (a new webhook secret, a new API token) is taken
the same way, without a restart. A valid new config is connected first — a wrong URL or token is
found before anything changes — then swapped in at the next cycle boundary,
and what changed is logged. An invalid one changes nothing: the daemon goes
on with the last good config, logs each problem (``file:line: path: …``)
once, and shows them on ``/readyz`` and the status page until the file is
fixed.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from connectors.errors import ConnectorError, redact
from sync.lock import WriterLockedError
from sync.settings import ConfigError, SecretError, load_settings, resolve_secrets
from sync.settings._secrets import SECRET_VARIABLES

POLL = 2.0


def changed_keys(old: Any, new: Any) -> list[str]:
    """Dotted paths of the settings that differ, two levels deep: ``sources.jira``, ``classify``…"""
    a = old.model_dump(mode="json", by_alias=True, warnings=False)
    b = new.model_dump(mode="json", by_alias=True, warnings=False)
    out = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) == b.get(key):
            continue
        if isinstance(a.get(key), dict) and isinstance(b.get(key), dict):
            inner = sorted(k for k in set(a[key]) | set(b[key]) if a[key].get(k) != b[key].get(k))
            out += [f"{key}.{k}" for k in inner]
        else:
            out.append(key)
    return out


class ConfigWatcher:
    def __init__(self, daemon: Any, poll: float = POLL) -> None:
        self.daemon = daemon
        self.poll = poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="relais-config", daemon=True)
        self._seen = self._digest()

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _digest(self) -> str | None:

        environ = self.daemon.environ if self.daemon.environ is not None else os.environ
        try:
            digest = hashlib.sha256(self.daemon.config_path.read_bytes())
        except OSError:
            return None
        for variable in SECRET_VARIABLES:
            named = environ.get(f"{variable}_FILE")
            if named:
                try:
                    digest.update(Path(named).read_bytes())
                except OSError:
                    digest.update(b"unreadable")  # resolve_secrets will say so
        return digest.hexdigest()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll):
            digest = self._digest()
            if digest is None or digest == self._seen:
                continue  # a file being replaced may be missing for a moment: wait for it
            self._seen = digest
            try:
                reload_config(self.daemon)
            except Exception as e:  # never let the watcher die: the next change is tried again
                self.daemon.log.error(
                    "config reload failed unexpectedly", extra={"error": f"{type(e).__name__}: {e}"}
                )


def reload_config(daemon: Any) -> bool:
    """Load, check, connect and swap in the config file; True if the new config now runs."""

    log, metrics = daemon.log, daemon.metrics
    try:
        settings = load_settings(daemon.config_path)
        secrets = resolve_secrets(
            settings, **({"environ": daemon.environ} if daemon.environ is not None else {})
        )
    except (ConfigError, SecretError) as e:
        return _refuse(daemon, [redact(str(p)) for p in getattr(e, "problems", [e])])
    changes = changed_keys(daemon.settings, settings)
    if not changes and secrets == daemon.secrets:
        daemon.config_errors = []
        metrics.config_valid.set(1)
        metrics.config_reloads.labels("unchanged").inc()
        log.info("config file changed, settings did not (comments, layout)")
        return True
    engine = daemon._new_engine(settings, secrets)
    try:
        engine.connect()
    except (ConnectorError, WriterLockedError) as e:
        engine.close()
        return _refuse(daemon, [f"{daemon.config_path}: the new config could not connect: {e}"])
    old = daemon.swap_engine(engine)
    daemon.metrics.policies.retire(old.connectors)
    old.close()
    daemon.config_errors = []
    metrics.config_valid.set(1)
    metrics.config_reloads.labels("applied").inc()
    log.info("config reloaded", extra={"changed": changes or ["secrets"]})
    if any(c.startswith("daemon.http") for c in changes):
        log.warning("daemon.http changes take effect at the next restart", extra={"changed": changes})
    return True


def _refuse(daemon: Any, problems: list[str]) -> bool:
    daemon.config_errors = problems
    daemon.metrics.config_valid.set(0)
    daemon.metrics.config_reloads.labels("invalid").inc()
    for problem in problems:
        daemon.log.error("config not reloaded", extra={"problem": problem})
    daemon.log.error(
        "config not reloaded: still running the last good config", extra={"problems": len(problems)}
    )
    return False
