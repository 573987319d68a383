"""A rolling restart of ``deploy/docker-compose-replicas.yml`` under steady webhook load.

The deployment as the compose file gives it — a ``postgres`` service and two relais replicas
built from the ``Dockerfile``, one leading, one standing by — runs against the sandbox. A
steady load of Jira work arrives the way Jira sends it: a person files a story labelled
``tech-debt``, Jira posts the signed ``jira:issue_created`` webhook. Each one's write (the
issue's Work type set to IMPROVE) must land, once. Meanwhile the replicas are restarted one
after the other, as an upgrade does (``docker-compose up -d --no-deps --force-recreate``, so a
SIGTERM and the stop grace period, then a new container), waiting for each to answer
``/readyz`` before the next; two rounds, so the leader is restarted at least twice.

The sender plays Jira and the load balancer in front of the replicas: each delivery goes to
the next replica in turn; a refused connection or a 5xx goes to the other, and when neither
answers it is retried every half second, as Jira retries a failed delivery. A delivery counts
as acknowledged when a replica answers 2xx: from then on relais owns it.

The override (written into the work folder) adds only what this host needs: the config and
secrets the compose file expects, pointing at the sandbox, which serves on the project
network's gateway; the Jira webhook secret; the base of the relais image (``--python-image``)
and, where the official ``postgres`` image cannot be pulled, an image with Debian's
PostgreSQL (``--postgres-image``), started as the official one would be.

    python -m benchmarks.rolling_restart [--rate 2] [--rounds 2] [--python-image IMAGE]

Needs Docker with ``docker-compose`` (or ``docker compose``); prints the figures as JSON and
keeps them in ``benchmarks/rolling_restart.json``, by search lag. docs/RELIABILITY.md publishes
them (scenario 18).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from sandbox import Sandbox
from sandbox.testing import wait_until

from .common import ROOT
from .latency import percentiles, work_type_landed, work_type_writes

PROJECT = "relais-rolling"
#: The host ports the compose file publishes.
PORTS = {"relais-a": 8765, "relais-b": 8766}
#: The project's network, fixed so that the sandbox can serve on its gateway before it exists.
SUBNET, GATEWAY = "172.29.57.0/24", "172.29.57.1"
JIRA_SECRET = "rolling-jira-webhook-secret"
PG_PASSWORD = "rolling-restart-password"
#: Stands in for the official postgres image where it cannot be pulled: any image with Debian's
#: PostgreSQL 15 on its PATH; the database, its user and its password made as the official
#: image's entrypoint makes them from POSTGRES_USER, POSTGRES_DB and POSTGRES_PASSWORD_FILE.
PG_COMMAND = (
    "set -e; D=/var/lib/postgresql/data/pgdata; mkdir -p $D /var/run/postgresql; "
    "chown -R postgres $D /var/run/postgresql; chmod 700 $D; "
    "if [ ! -s $D/PG_VERSION ]; then "
    'su postgres -c "initdb -D $D -U relais --auth=scram-sha-256 --pwfile=/run/secrets/postgres_password '
    ">/dev/null && echo 'host all all all scram-sha-256' >> $D/pg_hba.conf "
    "&& pg_ctl -D $D -w start >/dev/null "
    "&& PGPASSWORD=$(cat /run/secrets/postgres_password) createdb -h 127.0.0.1 -U relais relais "
    '&& pg_ctl -D $D -w stop >/dev/null"; fi; '
    "exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D $D -c listen_addresses=*"
)


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


@dataclass
class Delivery:
    """One webhook of the load, and what became of it."""

    n: int
    key: str  # the issue filed, whose Work type relais must set
    edited: datetime  # when it was filed: the write's latency counts from here
    acked: float | None = None  # when a replica answered 2xx (monotonic); None: never
    replica: str | None = None  # which one
    outcome: str | None = None  # its answer's "outcome": accepted (the leader) or queued (a standby)
    tries: int = 0
    errors: list[str] = field(default_factory=list)  # the refusals before, "relais-a ConnectionRefusedError"


# -- the deployment -------------------------------------------------------------------------
def compose_command() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
    if probe.returncode == 0:
        return ["docker", "compose"]
    raise SystemExit("rolling_restart: needs docker-compose or the docker compose plugin")


class Deployment:
    """The compose project in a work folder: configs, secrets and the override for this host."""

    def __init__(self, sb: Sandbox, work: Path, python_image: str, postgres_image: str | None) -> None:
        self.work = work
        self.compose = [
            *compose_command(),
            "-p",
            PROJECT,
            "--project-directory",
            str(work),
            "-f",
            str(ROOT / "deploy" / "docker-compose-replicas.yml"),
            "-f",
            str(work / "override.yml"),
        ]
        self._write(sb, python_image, postgres_image)

    def _write(self, sb: Sandbox, python_image: str, postgres_image: str | None) -> None:
        work = self.work
        secrets = work / "secrets"
        secrets.mkdir(parents=True)
        values = {
            "postgres_password": PG_PASSWORD,
            "state_url": f"postgresql://relais:{PG_PASSWORD}@postgres:5432/relais",
            "jira_email": sb.env["JIRA_EMAIL"],
            "jira_api_token": sb.env["JIRA_API_TOKEN"],
            "notion_token": sb.env["NOTION_TOKEN"],
            "pagerduty_token": sb.env["PAGERDUTY_TOKEN"],
            "jira_webhook_secret": JIRA_SECRET,
        }
        for name, value in values.items():
            (secrets / name).write_text(value)
        config = work / "config"
        config.mkdir()
        data = sb.config("unused.db", balance=True, routing=True, briefings=True)
        del data["state"]  # RELAIS_STATE_URL_FILE: the shared PostgreSQL store
        shutil.copy(Path(data["sources"]["jira"]["ca_bundle"]), config / "ca.pem")
        for source in data["sources"].values():
            source["ca_bundle"] = "/etc/relais/ca.pem"
        data["daemon"] = {
            # polls far apart: the edits reach relais by their webhooks
            "intervals": {"jira": 600, "notion": 600, "pagerduty": 600},
            "jitter_seconds": 0,
            "watch_config": False,
            "http": {"listen": "0.0.0.0:8765"},  # as deploy/config/relais.yaml
            "webhooks": {"jira": None},
        }
        (config / "relais.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        for path in work.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)  # the image's user, uid 10001, reads them
        work.chmod(0o755)
        relais = {
            "build": {"context": str(ROOT), "network": "host", "args": {"PYTHON_IMAGE": python_image}},
            "environment": {"JIRA_WEBHOOK_SECRET_FILE": "/run/secrets/jira_webhook_secret"},
            "secrets": ["jira_webhook_secret"],
        }
        services: dict[str, Any] = dict.fromkeys(PORTS, relais)
        if postgres_image:
            services["postgres"] = {
                "image": postgres_image,
                "entrypoint": ["sh", "-c", PG_COMMAND.replace("$", "$$")],
                "command": [],
            }
        override = {
            "services": services,
            "networks": {"default": {"ipam": {"config": [{"subnet": SUBNET}]}}},
            "secrets": {"jira_webhook_secret": {"file": "./secrets/jira_webhook_secret"}},
        }
        (work / "override.yml").write_text(yaml.safe_dump(override, sort_keys=False))

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*self.compose, *args], capture_output=True, text=True)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()[-2000:]}")
        return done

    def logs(self) -> str:
        return self.run("logs", "--no-color", check=False).stdout


def readyz(replica: str) -> str:
    """ "ready", "standby", "starting" or "down": what the replica's /readyz says."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORTS[replica]}/readyz", timeout=2) as r:
            return str(json.loads(r.read())["status"])
    except urllib.error.HTTPError as e:
        return "starting" if e.code == 503 else f"http {e.code}"
    except (OSError, ValueError):
        return "down"


# -- the load -------------------------------------------------------------------------------
def webhook(sb: Sandbox, key: str, n: int) -> tuple[bytes, dict[str, str]]:
    """The signed ``jira:issue_created`` Jira posts for the new issue."""
    body = json.dumps(
        {
            "timestamp": int(time.time() * 1000),
            "webhookEvent": "jira:issue_created",
            "issue_event_type_name": "issue_created",
            "issue": sb.jira.get_issue(key),
        }
    ).encode()
    return body, {
        "Content-Type": "application/json",
        "X-Hub-Signature": "sha256=" + hmac.new(JIRA_SECRET.encode(), body, hashlib.sha256).hexdigest(),
        "X-Atlassian-Webhook-Identifier": f"rolling-{n}",
    }


def send(delivery: Delivery, body: bytes, headers: dict[str, str], give_up: float) -> None:
    """Jira and the load balancer: the next replica in turn, the other on a refusal, and again
    every half second while neither takes it."""
    order = list(PORTS)
    first = delivery.n % len(order)
    while time.monotonic() < give_up:
        for replica in order[first:] + order[:first]:
            delivery.tries += 1
            retry = "0" if delivery.tries == 1 else str(delivery.tries - 1)
            request = urllib.request.Request(
                f"http://127.0.0.1:{PORTS[replica]}/webhooks/jira",
                data=body,
                method="POST",
                headers={**headers, "X-Atlassian-Webhook-Retry": retry},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as r:
                    answer = json.loads(r.read())
                    delivery.acked, delivery.replica = time.monotonic(), replica
                    delivery.outcome = answer.get("outcome")
                    return
            except urllib.error.HTTPError as e:
                delivery.errors.append(f"{replica} {e.code}")
                if e.code < 500:  # a refusal Jira would not retry
                    delivery.outcome = f"refused {e.code}"
                    return
            except OSError as e:
                delivery.errors.append(f"{replica} {type(e).__name__}")
        time.sleep(0.5)


def new_work(sb: Sandbox, n: int) -> str:
    """A person files a tech-debt story: relais must set its Work type to IMPROVE."""
    project = ("PAY", "CORE", "SUP")[n % 3]
    return sb.jira.create_issue(
        project, f"Split the legacy module, part {n}", "Story", {"labels": ["tech-debt"]}
    )["key"]


@contextlib.contextmanager
def watching(timeline: list[tuple[float, dict[str, str]]], stop: threading.Event) -> Iterator[None]:
    """Each replica's /readyz, four times a second."""

    def watch() -> None:
        while not stop.wait(0.25):
            timeline.append((time.monotonic(), {r: readyz(r) for r in PORTS}))

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def leaderless(timeline: list[tuple[float, dict[str, str]]]) -> list[float]:
    """The stretches of time in which no replica said "ready" (no leader), in seconds."""
    gaps, since = [], None
    for at, states in timeline:
        leading = "ready" in states.values()
        if not leading and since is None:
            since = at
        elif leading and since is not None:
            gaps.append(round(at - since, 2))
            since = None
    return gaps


def measure(
    rate: float,
    rounds: int,
    python_image: str,
    postgres_image: str | None,
    warmup: float,
    search_lag: float = 0.0,
    restart_postgres: bool = False,
) -> dict[str, Any]:
    with (
        Sandbox(seed=7, size="demo", host=GATEWAY) as sb,
        tempfile.TemporaryDirectory(prefix="relais-rolling-") as tmp,
    ):
        deployment = Deployment(sb, Path(tmp), python_image, postgres_image)
        deployment.run("down", "-v", check=False)
        log("building and starting the deployment …")
        started = time.monotonic()
        deployment.run("up", "-d", "--build")
        try:
            if not wait_until(
                lambda: sorted(readyz(r) for r in PORTS) == ["ready", "standby"], timeout=600, step=1
            ):
                raise RuntimeError(
                    f"the replicas did not settle: {[readyz(r) for r in PORTS]}\n{deployment.logs()[-4000:]}"
                )
            log(f"one leads, one stands by ({time.monotonic() - started:.0f} s)")
            sb.jira.search_lag_seconds = search_lag
            deliveries: list[Delivery] = []
            stop_load, stop_watch = threading.Event(), threading.Event()
            timeline: list[tuple[float, dict[str, str]]] = []
            senders: list[threading.Thread] = []

            def load() -> None:
                n = 0
                while not stop_load.wait(1 / rate):
                    edited = datetime.now(UTC)
                    key = new_work(sb, n)
                    body, headers = webhook(sb, key, n)
                    d = Delivery(n, key, edited)
                    deliveries.append(d)
                    t = threading.Thread(target=send, args=(d, body, headers, time.monotonic() + 120))
                    t.start()
                    senders.append(t)
                    n += 1

            restarts = []
            with watching(timeline, stop_watch):
                loader = threading.Thread(target=load)
                loader.start()
                time.sleep(warmup)
                for round_ in range(rounds):
                    for replica in PORTS:
                        was = readyz(replica)
                        log(f"round {round_ + 1}: restarting {replica} ({was}) …")
                        begun = time.monotonic()
                        deployment.run("up", "-d", "--no-deps", "--force-recreate", replica)
                        stopped = time.monotonic()
                        wait_until(
                            lambda r=replica: readyz(r) in ("ready", "standby"), timeout=300, step=0.25
                        )
                        back = time.monotonic()
                        restarts.append(
                            {
                                "replica": replica,
                                "was": was,
                                "recreate_s": round(stopped - begun, 2),
                                "answering_after_s": round(back - begun, 2),
                                "now": readyz(replica),
                            }
                        )
                        log(f"  {replica} back as {restarts[-1]['now']} after {back - begun:.1f} s")
                        time.sleep(warmup / 2)
                if restart_postgres:  # the store itself goes away and comes back, as in its own upgrade
                    log("restarting postgres …")
                    begun = time.monotonic()
                    deployment.run("restart", "postgres")
                    restarts.append({"service": "postgres", "restart_s": round(time.monotonic() - begun, 2)})
                    log(f"  postgres back after {time.monotonic() - begun:.1f} s")
                time.sleep(warmup)
                stop_load.set()
                loader.join()
                for t in senders:
                    t.join()
                log(f"{len(deliveries)} deliveries sent; waiting for their writes …")
                acked = [d for d in deliveries if d.acked is not None]
                wait_until(
                    lambda: all(work_type_landed(sb, d.key, d.edited) for d in acked), timeout=120, step=1
                )
            landed = {d.n: work_type_landed(sb, d.key, d.edited) for d in acked}
            latencies = [(landed[d.n] - d.edited).total_seconds() for d in acked if landed[d.n]]
            writes = {d.n: len(work_type_writes(sb, d.key, d.edited)) for d in acked}
            figures = {
                "rate_per_s": rate,
                "search_lag_s": search_lag,
                "rounds": rounds,
                "restarts": restarts,
                "deliveries": len(deliveries),
                "acknowledged": len(acked),
                "not_acknowledged": len(deliveries) - len(acked),
                "acknowledged_after_a_retry": sum(1 for d in acked if d.tries > 1),
                "outcomes": dict(Counter(str(d.outcome) for d in deliveries)),
                "writes_landed": sum(1 for v in landed.values() if v),
                "writes_lost": sum(1 for v in landed.values() if not v),
                "written_twice": sum(1 for v in writes.values() if v > 1),
                "latency_s": percentiles(latencies) if latencies else None,
                "leaderless_s": leaderless(timeline),
                "lost": [d.key for d in acked if not landed[d.n]],
            }
            return figures
        finally:
            logs = deployment.logs()
            (ROOT / "benchmarks" / "rolling_restart.log").write_text(logs)
            deployment.run("down", "-v", check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.rolling_restart", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rate", type=float, default=2.0, help="edits (and webhooks) per second")
    parser.add_argument("--rounds", type=int, default=2, help="rolling restarts, each of every replica")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds of load before and after")
    parser.add_argument(
        "--search-lag",
        type=float,
        default=0.0,
        help="seconds Jira's search index lags behind (no poll sees newer work): webhooks are the only news",
    )
    parser.add_argument(
        "--restart-postgres", action="store_true", help="after the rounds, restart the postgres service too"
    )
    parser.add_argument("--python-image", default="python:3.11-slim", help="the relais image's base")
    parser.add_argument(
        "--postgres-image", help="an image with Debian's PostgreSQL, if postgres:16 cannot be pulled"
    )
    args = parser.parse_args(argv)
    figures = measure(
        args.rate,
        args.rounds,
        args.python_image,
        args.postgres_image,
        args.warmup,
        args.search_lag,
        args.restart_postgres,
    )
    text = json.dumps(figures, indent=2)
    results = ROOT / "benchmarks" / "rolling_restart.json"  # one run per search lag, the last of each
    kept = json.loads(results.read_text()) if results.exists() else {}
    name = f"search_lag_{args.search_lag:g}s" + ("_postgres_restarted" if args.restart_postgres else "")
    kept[name] = {"at": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", **figures}
    results.write_text(json.dumps(kept, indent=2) + "\n")
    print(text)
    return 0 if figures["writes_lost"] == 0 and figures["written_twice"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
