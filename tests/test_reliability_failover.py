"""Scenario 17 — two or three `relais run` replicas on one PostgreSQL store: one writer, failover.

The replicas share a lease (sync.lock.Lease); one leads, the others stand by. The leader is
killed (SIGKILL) while it pulls, applies or creates (caught waiting on that request): a standby takes over within the
bound docs/decisions.md gives, finishes the work, and nothing is created twice or lost (a
sync afterwards plans nothing). The leader is paused (SIGSTOP) past its lease: another takes
over; resumed (SIGCONT), the former leader sends nothing to the tools and records nothing in
the store until it wins the lease again, legitimately.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import POSTGRES, relais_env, run_relais
from daemon_support import (
    WEBHOOK_ENV,
    RelaisProcess,
    daemon_section,
    get,
    hub_signature,
    post,
    running_daemon,
    wait_for,
)
from reliability_support import duplicates, full_config, record
from test_reliability_store import followups_in_the_tools
from test_webhooks import JIRA, PATHS, delivery, jira_body

from sandbox import Sandbox
from sandbox.jira.fields import WORK_TYPE, WORK_TYPE_IDS
from sync.dialect import LEASE_RENEW_SECONDS, LEASE_SECONDS

#: The takeover bound docs/decisions.md documents: a lease, a renewal's try, the lock wait of one try.
TAKEOVER_BOUND = LEASE_SECONDS + 2 * LEASE_RENEW_SECONDS + 1


def replicas_config(
    sb: Sandbox, directory: Path, url: str, interval: float = 1, webhooks: str | None = None
) -> Path:
    def on_postgres(data: dict[str, Any]) -> None:
        data["state"] = {"url": url}
        data["daemon"] = daemon_section(interval)
        if webhooks:
            data["daemon"]["webhooks"] = {webhooks: None}

    return full_config(sb, directory, on_postgres)


def leaders(procs: list[RelaisProcess]) -> list[RelaisProcess]:
    """The replicas whose last word on the lease is that they lead."""
    out = []
    for p in procs:
        said = [e["msg"] for e in p.logs if e["msg"].startswith(("leading", "standby"))]
        if said and said[-1].startswith("leading"):
            out.append(p)
    return out


def ready(proc: RelaisProcess) -> bool:
    status, body, _ = get(proc.url + "/readyz")
    return status == 200 and json.loads(body)["status"] == "ready"


def new_work(sb: Sandbox, n: int) -> str:
    """A high-urgency incident, resolved: relais files a follow-up ticket and a note."""
    incident = sb.pagerduty.trigger_incident(
        sb.org.services[0].id, f"Checkout down, round {n}", urgency="high"
    )
    sb.pagerduty.resolve(incident["id"])
    return incident["id"]


def start(sb: Sandbox, config: Path, count: int, **env: str) -> list[RelaisProcess]:
    procs = [RelaisProcess(sb, config, **env) for _ in range(count)]
    try:
        wait_for(lambda: len(leaders(procs)) == 1, 60, what="one replica leading")
        wait_for(
            lambda: all(p.logged("standby: another replica leads") for p in procs if p not in leaders(procs)),
            60,
            what="the others on standby",
        )
    except BaseException:
        for p in procs:
            p.close()
        raise
    return procs


def takeover(procs: list[RelaisProcess], gone: RelaisProcess, since: float) -> tuple[RelaisProcess, float]:
    others = [p for p in procs if p is not gone]
    new = wait_for(lambda: leaders(others), TAKEOVER_BOUND + 10, 0.02, what="a standby taking over")
    return new[0], time.monotonic() - since


#: Where a kill lands: the leader is caught waiting on one of its requests, held by the sandbox
#: (a "timeout" fault), and killed then. Pulling: the incidents poll, before the tool answers.
#: Applying: a Work type's update (an issue's PUT or a bulk edit), which the tool has made when the
#: leader dies. Creating:
#: the follow-up ticket, filed in Jira whose answer never reaches the leader.
PHASES = {
    "pull": {"vendor": "pagerduty", "method": "GET", "path": "/incidents$", "after": False},
    "apply": {"vendor": "jira", "path": r"/rest/api/3/(issue/\d+|bulk/issues/fields)$", "after": True},
    "create": {"vendor": "jira", "method": "POST", "path": "/rest/api/3/issue$", "after": True},
}


def unset(sb: Sandbox) -> set[str]:
    """The issues without a Work type before relais runs: the value it gives them is its own."""
    issues = sb.jira.keys()
    return {k for k in issues if sb.jira.get_record(k)[WORK_TYPE] is None}


def retag(sb: Sandbox, unset: set[str]) -> str:
    """A person labels a story relais classified BUILD ``tech-debt``: its Work type is to be IMPROVE."""
    key = next(
        k
        for k in sorted(unset)
        if (r := sb.jira.get_record(k))[WORK_TYPE] == WORK_TYPE_IDS["BUILD"]
        and r["issuetype"] in ("Story", "Task")
        and r["labels"] == ["roadmap"]
    )
    sb.jira.edit_issue(key, {"labels": ["roadmap", "tech-debt"]})
    return key


def run_kills(sb: Sandbox, tmp_path: Path, url: str, kills: int, phases: list[str]) -> dict[str, Any]:
    config = replicas_config(sb, tmp_path, url)
    ownerless = unset(sb)
    procs = start(sb, config, 3)
    times: list[float] = []
    try:
        leader = leaders(procs)[0]
        wait_for(lambda: ready(leader), 120, what="the leader's first cycles")
        for n in range(kills):
            phase = PHASES[phases[n % len(phases)]]
            vendor = str(phase["vendor"])
            held = sb.faults.add(
                vendor, "timeout", count=1, delay=30, **{k: v for k, v in phase.items() if k != "vendor"}
            )
            new_work(sb, n)
            if phases[n % len(phases)] == "apply":
                retag(sb, ownerless)
            wait_for(
                lambda h=held: h.fired == 1,
                30,
                0.01,
                what=f"the leader {phases[n % len(phases)]}ing (kill {n})",
            )
            os.kill(leader.proc.pid, signal.SIGKILL)
            killed = time.monotonic()
            sb.faults.clear()
            leader.proc.wait(10)
            procs.remove(leader)
            leader.close()
            leader, took = takeover(procs, leader, killed)
            times.append(took)
            procs.append(RelaisProcess(sb, config))  # the killed replica restarts, as a standby
        wait_for(lambda: ready(leader), 120, what="the last leader's cycles")
        time.sleep(3)  # a few cycles more: whatever the kills cut short is finished
    finally:
        for p in procs:
            if p.proc.poll() is None:
                p.stop()
            p.close()
    env = {**relais_env(sb), "RELAIS_STATE_URL": url}
    after = run_relais(["sync", "--once", "--json", "-c", str(config)], env)
    assert after.returncode == 0, after.stderr
    second = json.loads(after.stdout)
    tickets, notes = followups_in_the_tools(sb)
    dups = duplicates(sb)
    rounds = Counter(label for label in tickets)
    figures = {
        "kills": kills,
        "phases": "/".join(phases),
        "takeover_max_s": round(max(times), 2),
        "takeover_p95_s": round(sorted(times)[max(0, int(len(times) * 0.95) - 1)], 2),
        "duplicates": sum(dups.values()),
        "writes_lost": len(second["changes"]) + len(second["creates"]),
    }
    assert figures["duplicates"] == 0, dups
    assert all(n == 1 for n in rounds.values()) and notes == len(tickets), (tickets, notes)
    assert second["changes"] == [] and second["creates"] == [], second  # nothing was left undone
    assert max(times) <= TAKEOVER_BOUND, times
    return figures


def test_the_leader_killed_a_standby_takes_over_and_nothing_is_written_twice_or_lost(
    tmp_path: Path, postgres_url: str
):
    with Sandbox(seed=7, size="demo") as sb:
        figures = run_kills(sb, tmp_path, postgres_url, kills=2, phases=["create", "apply"])
    record("failover", "sigkill", **figures)


@pytest.mark.slow
def test_the_leader_killed_21_times_pulling_applying_and_creating(tmp_path: Path, postgres_url: str):
    with Sandbox(seed=7, size="demo") as sb:
        figures = run_kills(sb, tmp_path, postgres_url, kills=21, phases=["pull", "apply", "create"])
    record("failover", "sigkill-21", **figures)


def test_a_leader_paused_past_its_lease_writes_nothing_once_resumed(tmp_path: Path, postgres_url: str):
    import psycopg

    with Sandbox(seed=7, size="demo") as sb:
        config = replicas_config(sb, tmp_path, postgres_url)
        procs = start(sb, config, 2)
        try:
            former = leaders(procs)[0]
            other = next(p for p in procs if p is not former)
            wait_for(lambda: ready(former), 120, what="the leader's first cycles")
            os.kill(former.proc.pid, signal.SIGSTOP)
            paused = time.monotonic()
            _, took = takeover(procs, former, paused)
            wait_for(lambda: ready(other), 60, what="the new leader's cycles")
            os.kill(other.proc.pid, signal.SIGSTOP)  # it holds the lease; it cannot act either
            other_paused = time.monotonic()
            incident = new_work(sb, 0)  # work the former leader would do if it could write
            count = "SELECT (SELECT COUNT(*) FROM audit), (SELECT COUNT(*) FROM cycles), (SELECT COUNT(*) FROM keys)"
            with psycopg.connect(postgres_url, autocommit=True) as db:
                rows_before = db.execute(count).fetchone()
                requests_before = len(sb.log)
                os.kill(former.proc.pid, signal.SIGCONT)
                wait_for(
                    lambda: former.logged("standby: the lease was lost"),
                    10,
                    what="the former leader noticing",
                )
                # the paused replica renewed its lease at most LEASE_RENEW_SECONDS before its pause:
                # until then + LEASE_SECONDS nobody may write, the former leader least of all
                window_end = other_paused + LEASE_SECONDS - LEASE_RENEW_SECONDS - 1
                time.sleep(max(0.0, window_end - time.monotonic()))
                window_rows = [a - b for a, b in zip(db.execute(count).fetchone(), rows_before)]
                requests = sb.log[requests_before:]
                assert not leaders([former]), "the former leader won the lease before the other's expired"
            sent = Counter(f"{r.vendor} {r.method}" for r in requests)
            assert window_rows == [0, 0, 0] and not requests, (window_rows, sent)
            # and once the paused replica's lease is over, the former leader leads again, rightly
            wait_for(lambda: leaders([former]), TAKEOVER_BOUND + 10, what="the former leader leading again")
            wait_for(
                lambda: sb.pagerduty.find(incident)["notes"],
                60,
                what="the new work done by the former leader",
            )
            os.kill(other.proc.pid, signal.SIGCONT)
        finally:
            for p in procs:
                if p.proc.poll() is None:
                    with_cont = p.proc.pid
                    os.kill(with_cont, signal.SIGCONT)
                    p.stop()
                p.close()
        dups = duplicates(sb)
    assert sum(dups.values()) == 0, dups
    assert took <= TAKEOVER_BOUND, took
    record("failover", "sigstop", takeover_s=round(took, 2), writes_by_fenced=0, store_rows_by_fenced=0)


def test_a_webhook_at_a_standby_is_queued_for_the_leader_which_re_reads_its_item(
    tmp_path: Path, postgres_url: str
):
    import psycopg

    with Sandbox(seed=7, size="demo") as sb:
        config = replicas_config(sb, tmp_path, postgres_url, interval=600, webhooks="pagerduty")
        procs = start(sb, config, 2, **WEBHOOK_ENV)
        try:
            leader = leaders(procs)[0]
            standby = next(p for p in procs if p is not leader)
            wait_for(lambda: ready(leader), 120, what="the leader's first cycles")
            status, body, _ = get(standby.url + "/readyz")
            assert status == 200 and json.loads(body)["status"] == "standby", body
            assert json.loads(body)["leader"]["pid"] == leader.proc.pid
            assert "relais_leader 0.0" in get(standby.url + "/metrics")[1]
            assert "relais_leader 1.0" in get(leader.url + "/metrics")[1]
            status, page, _ = get(standby.url + "/")  # the status page, from the shared store
            with psycopg.connect(postgres_url, autocommit=True) as db:
                (last,) = db.execute("SELECT target FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            assert status == 200 and last in page, page[:500]  # the leader's last write
            body, headers = delivery(sb, "pagerduty", 0)
            assert post(standby.url + PATHS["pagerduty"], body, headers) == (
                202,
                {"outcome": "queued", "items": 1},
            )
            wait_for(
                lambda: leader.logged("cycle finished", source="pagerduty", kind="webhook"),
                15,
                what="the leader re-reading the item",
            )
            assert post(standby.url + PATHS["pagerduty"], body, headers) == (200, {"outcome": "duplicate"})
            assert post(leader.url + PATHS["pagerduty"], body, headers) == (200, {"outcome": "duplicate"})
            assert not standby.logged("cycle finished")  # the standby re-read nothing itself
        finally:
            for p in procs:
                p.stop()
                p.close()


def test_a_delivery_the_leader_acknowledged_is_re_read_though_the_leader_dies_before(
    tmp_path: Path, postgres_url: str
):
    """Jira's search lags (its index has not seen the edit, so no poll finds it): the webhook is
    the only news of it. The leader acknowledges the delivery and dies while re-reading it; the
    delivery stayed in the store's queue, so the next leader re-reads it and the write lands."""
    import psycopg

    with Sandbox(seed=7, size="demo") as sb:
        config = replicas_config(sb, tmp_path, postgres_url, interval=600, webhooks="jira")
        ownerless = unset(sb)
        procs = start(sb, config, 2, **WEBHOOK_ENV)
        try:
            leader = leaders(procs)[0]
            wait_for(lambda: ready(leader), 120, what="the leader's first cycles")
            sb.jira.search_lag_seconds = 3600  # from now on, only a read naming the issue sees its edits
            edited = sb.clock()
            key = retag(sb, ownerless)
            # the leader's re-read reaches Jira and waits there for its answer, as on a slow day
            sb.faults.add("jira", "timeout", path="/search/jql", count=1, delay=30)
            body = jira_body(sb, key)
            headers = {
                "X-Hub-Signature": hub_signature(body, JIRA),
                "X-Atlassian-Webhook-Identifier": "a1b2c3-acknowledged",
                "X-Atlassian-Webhook-Retry": "0",
            }
            assert post(leader.url + PATHS["jira"], body, headers)[0] == 202
            wait_for(lambda: sb.faults.rules[0].fired == 1, 10, what="the leader's re-read at Jira")
            os.kill(leader.proc.pid, signal.SIGKILL)
            killed = time.monotonic()
            leader.proc.wait(10)
            procs.remove(leader)
            leader.close()
            new, took = takeover(procs, leader, killed)
            landed = wait_for(
                lambda: sb.jira.get_record(key)[WORK_TYPE] == WORK_TYPE_IDS["IMPROVE"],
                took + 30,
                what="the acknowledged delivery's write",
            )
            with psycopg.connect(postgres_url, autocommit=True) as db:
                wait_for(
                    lambda: db.execute("SELECT COUNT(*) FROM relais_webhook_queue").fetchone()[0] == 0,
                    10,
                    what="the delivery out of the queue once re-read",
                )
        finally:
            for p in procs:
                p.stop()
                p.close()
        writes = [
            e
            for e in sb.jira.get_record(key)["changelog"]
            if e["created"] >= edited and any(i.get("fieldId") == WORK_TYPE for i in e["items"])
        ]
    assert landed and len(writes) == 1, writes


def test_a_delivery_while_the_store_is_away_is_refused_with_a_503_and_kept_once_it_is_back(
    tmp_path: Path, postgres_url: str
):
    """PostgreSQL restarting (here: its database refusing every connection, the open ones cut): a
    delivery cannot be kept, so it is refused with a 503 the vendor retries — not a 500 and a
    traceback in the log — and the retry, once the store is back, is kept and re-read."""
    import psycopg

    name = postgres_url.rsplit("/", 1)[1]
    with Sandbox(seed=7, size="demo") as sb:
        config = replicas_config(sb, tmp_path, postgres_url, interval=600, webhooks="jira")
        ownerless = unset(sb)
        with (
            running_daemon(sb, config, WEBHOOK_ENV) as daemon,
            psycopg.connect(POSTGRES, autocommit=True) as admin,
        ):
            key = retag(sb, ownerless)
            body = jira_body(sb, key)
            headers = {
                "X-Hub-Signature": hub_signature(body, JIRA),
                "X-Atlassian-Webhook-Identifier": "a1b2c3-store-away",
                "X-Atlassian-Webhook-Retry": "0",
            }
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
            try:
                status, answer = post(daemon.url + PATHS["jira"], body, headers)
            finally:
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            assert (status, answer) == (
                503,
                {"error": "the state store is unavailable; the delivery was not kept, retry it"},
            )
            assert post(daemon.url + PATHS["jira"], body, headers)[0] == 202  # the retry: kept
            wait_for(
                lambda: sb.jira.get_record(key)[WORK_TYPE] == WORK_TYPE_IDS["IMPROVE"],
                30,
                what="the retried delivery's write",
            )
