"""Scenario 16 — hostile and strange input: no text, rule or request can stop relais or write through it.

Each class of attack found from outside is a test here (docs/RELIABILITY.md has the table):

* text: a lone UTF-16 surrogate (half an emoji), NUL, RTL overrides, ANSI and OSC
  sequences, Rich markup, ``:100:``, 1 MB strings — in every text field of every
  vendor, through pull, store, plan, apply and every surface that shows it
  (report, explain, plan, the status page, the log), property-based;
* rules: a corpus of pathological regular expressions: refused by `validate` with
  their line, or run in linear time;
* requests: malformed HTTP (a Content-Length of ``²`` or 5,000 digits, deep JSON,
  a lone surrogate in a signed body, slow clients, a foreign Host) get a 4xx and
  leave no traceback; the Notion handshake cannot be forged or replayed over a
  configured token; a signed delivery re-sent with a new delivery id is a replay;
* the state store: a corrupt one names the file and the remedy.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import relais_env, run_relais
from daemon_support import (
    WEBHOOK_ENV,
    RelaisProcess,
    daemon_config,
    get,
    hub_signature,
    pagerduty_signature,
    post,
    wait_for,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import engine_for, full_config, record

from sandbox import Sandbox
from sync.models import WorkItem
from sync.plan import plan_cycle
from sync.settings import ConfigError, load_settings

LONE = "\ud83d"  # half of 🚀
HOSTILE = [
    f"Checkout {LONE} cut mid-emoji",
    "NUL\x00inside",
    "\u202eevil RTL override\u202c",
    "\x1b[31mred\x1b[0m and \x1b[2J clear",
    "\x1b]8;;https://evil.example\x07click me\x1b]8;;\x07",
    "\x9b31m C1 CSI",
    "[/] [bold]markup[/bold] [link=https://evil.example]x[/link]",
    "relais.yaml:100: :100: :rocket:",
    "<script>alert(1)</script>&amp;",
]
#: Characters that must never reach a terminal from the data: ESC, BEL, the C1 CSI, RTL override.
CONTROL_OUT = ("\x1b", "\x07", "\x9b", "\u202e")


# What an operator runs on a config, by name.
COMMANDS = {
    "sync": ["sync", "--once"],
    "plan": ["plan"],
    "report": ["report"],
    "explain": ["explain", "jira:PAY-1"],
}


def run_each(
    commands: dict[str, list[str]], config: Path, env: dict[str, str]
) -> dict[str, subprocess.CompletedProcess]:
    """Each command run on ``config`` by the CLI, by name."""
    return {name: run_relais([*args, "-c", str(config)], env) for name, args in commands.items()}


def _jira_summary(text: str):
    def mutate(issue: dict) -> None:
        if isinstance(issue.get("fields"), dict) and issue.get("key") in ("PAY-1", "CORE-1"):
            issue["fields"]["summary"] = text
            issue["fields"]["labels"] = [*(issue["fields"].get("labels") or []), "maintenance"]

    return mutate


def _notion_title(page_ids: set[str], text: str):
    def mutate(page: dict) -> None:
        if page.get("id") in page_ids and isinstance(page.get("properties"), dict):
            for prop in page["properties"].values():
                if isinstance(prop, dict) and prop.get("type") == "title":
                    prop["title"] = [{"type": "text", "text": {"content": text}, "plain_text": text}]

    return mutate


def _pd_title(text: str):
    def mutate(incident: dict) -> None:
        if isinstance(incident, dict) and "title" in incident:
            incident["title"] = text

    return mutate


def no_control(text: str) -> list[str]:
    return [c for c in CONTROL_OUT if c in text]


# -- text ---------------------------------------------------------------------------------
def test_a_lone_surrogate_in_a_jira_summary_and_a_notion_title_blocks_nothing(tmp_path: Path):
    with Sandbox(seed=7, size="demo") as sb:
        page = sb.notion.page_ids("feedback")[0]
        sb.tamper("jira", _jira_summary(f"Refund {LONE} broken"))
        sb.tamper(
            "notion", _notion_title({page}, f"Export {LONE} fails " + "x" * 1_000_000)
        )  # and a megabyte
        config = full_config(sb, tmp_path)
        engine = engine_for(sb, config)
        try:
            first = engine.run_cycle(apply=True)
            second = engine.run_cycle(apply=True)  # plans over the stored items again
            stored = engine.store.get_item("jira", "PAY-1")[0]
            notion = engine.store.get_item("notion", page)[0]
        finally:
            engine.close()
        plan = run_relais(["plan", "--json", "-c", str(config)], relais_env(sb))
        explained = run_relais(["explain", "jira:PAY-1", "-c", str(config)], relais_env(sb))
    assert first.errors == {} and second.errors == {} and first.writes > 100
    assert stored.title == "Refund \ufffd broken"  # kept, readable
    assert notion.title.startswith("Export \ufffd fails xxx") and len(notion.title) > 1_000_000
    assert plan.returncode == 0 and explained.returncode == 0 and "Refund" in explained.stdout
    record("attacks", "lone-surrogate", items_with_a_lone_surrogate=2, cycle_errors=0, writes=first.writes)


HOSTILE_TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(alphabet=st.characters(codec=None, blacklist_categories=()), min_size=1, max_size=60),
    st.text(
        alphabet=st.sampled_from(
            [
                "\x1b",
                "[",
                "]",
                "/",
                "\x00",
                "\ud800",
                "\udfff",
                "\u202e",
                ":",
                "1",
                "0",
                "a",
                "\x07",
                "\x9b",
                "<",
                ">",
                "&",
            ]
        ),
        min_size=1,
        max_size=40,
    ),
)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(jira=HOSTILE_TEXT, notion=HOSTILE_TEXT, pagerduty=HOSTILE_TEXT)
def test_any_text_in_any_vendor_flows_through_every_surface_inert(
    shared_sandbox, jira: str, notion: str, pagerduty: str
):
    sb, config, engine = shared_sandbox
    page = sb.notion.page_ids("feedback")[0]
    sb.tamper("jira", _jira_summary(jira))
    sb.tamper("notion", _notion_title({page}, notion))
    sb.tamper("pagerduty", _pd_title(pagerduty))
    report = engine.run_cycle(apply=True)
    assert report.errors == {}, report.errors
    from sync.explain import explain_data
    from sync.report import report_data

    data = report_data(engine.settings, engine.store, datetime.now(UTC))
    explained = explain_data(engine.settings, engine.store, "jira:PAY-1")
    assert explained is not None and json.dumps(data) and json.dumps(explained, default=str)
    from sync import output

    with output.console.capture() as captured:
        output.render_cycle(report)
        output.render_plan(report)
        from sync.report import render

        render(data)
    assert no_control(captured.get()) == []


@pytest.fixture(scope="module")
def shared_sandbox(tmp_path_factory):
    """One sandbox and store for every example: each example only changes what three items say."""
    tmp = tmp_path_factory.mktemp("hostile")
    with Sandbox(seed=7, size="demo") as sb:
        engine = engine_for(sb, full_config(sb, tmp))
        try:
            engine.run_cycle(apply=True)
            yield sb, tmp / "relais.yaml", engine
        finally:
            engine.close()


def test_cli_output_about_hostile_items_is_inert(tmp_path: Path):
    with Sandbox(seed=7, size="demo") as sb:
        page = sb.notion.page_ids("feedback")[0]
        text = " ".join(HOSTILE[1:])
        sb.tamper("jira", _jira_summary(text))
        sb.tamper("notion", _notion_title({page}, text))
        config = full_config(sb, tmp_path)
        env = relais_env(sb)
        runs = run_each({**COMMANDS, "explain notion": ["explain", f"notion:{page}"]}, config, env)
    for name, done in runs.items():
        assert done.returncode == 0, (name, done.stderr[-500:])
        assert no_control(done.stdout + done.stderr) == [], (name, no_control(done.stdout + done.stderr))
        assert "💯" not in done.stdout and "🚀" not in done.stdout, name
    assert "relais.yaml:100: :100:" in runs["explain"].stdout.replace("\n", "")
    assert "[/]" in runs["explain"].stdout and "[link=https://evil.example]" in runs["explain"].stdout
    record("attacks", "terminal", commands=len(runs), control_sequences_out=0)


# -- rules -----------------------------------------------------------------------------------
PATHOLOGICAL = [
    r"^(\w+\s?)+:",
    r"(a+)+$",
    r"(a|aa)+$",
    r"(.*a){20}",
    r"(x+x+)+y",
    r"^(([a-z])+.)+[A-Z]([a-z])+$",
    r"(\w+)*\d",
    r"(a)\1",
    r"(?=a)a",
    r"(?<!x)y",
    r"(.+)+\1",
]


def test_pathological_rules_are_refused_at_their_line_or_run_in_linear_time(tmp_path: Path):
    titles = ["abcdefghij" * 4 for _ in range(1_000)]  # 1,000 titles of 40 word characters, no colon
    items = [
        WorkItem(
            source="jira",
            id=str(n),
            key=f"PAY-{n}",
            kind="issue",
            title=t,
            project="PAY",
            issuetype="Story",
            updated=datetime(2026, 11, 30, tzinfo=UTC),
            created=datetime(2026, 11, 1, tzinfo=UTC),
            owned={"work_type": None},
        )
        for n, t in enumerate(titles)
    ]
    refused, accepted, slowest = [], [], 0.0
    for pattern in PATHOLOGICAL:
        config = tmp_path / "relais.yaml"
        config.write_text(
            "version: 1\ntimezone: UTC\nsources:\n  jira: {url: 'https://acme.atlassian.net', jql: 'project = PAY'}\n"
            "teams:\n  payments: {jira: {projects: [PAY]}}\nclassify:\n  - name: colon titles\n    when:\n"
            f"      title: {{matches: {json.dumps(pattern)}}}\n    then: RUN\n  - default: BUILD\n"
            "writeback: {jira: {work_type: {field: Work type}}}\n"
        )
        try:
            settings_ = load_settings(config)
        except ConfigError as e:
            assert [p.line for p in e.problems] == [10], str(e)  # the line of `title: {matches: …}`
            assert "RE2" in str(e)
            refused.append(pattern)
            continue
        t0 = time.monotonic()
        plan_cycle(items, settings_, datetime(2026, 12, 1, tzinfo=UTC))
        seconds = time.monotonic() - t0
        slowest = max(slowest, seconds)
        assert seconds < 10, (pattern, seconds)
        accepted.append(pattern)
    assert set(refused) == {r"(a)\1", r"(?=a)a", r"(?<!x)y", r"(.+)+\1"}
    record(
        "attacks",
        "rules",
        patterns_tried=len(PATHOLOGICAL),
        refused_by_validate=len(refused),
        accepted=len(accepted),
        slowest_plan_of_1000_titles_seconds=round(slowest, 3),
    )


def test_the_daemon_answers_healthz_while_a_cycle_runs_a_catastrophic_rule(sandbox, tmp_path: Path):
    def tweak(data: dict) -> None:
        data["classify"].insert(
            0, {"name": "colon titles", "when": {"title": {"matches": r"^(\w+\s?)+:"}}, "then": "RUN"}
        )

    sandbox.tamper(
        "jira",
        lambda issue: (
            isinstance(issue.get("fields"), dict) and issue["fields"].update(summary="abcdefghij" * 4)
        ),
    )
    relais = RelaisProcess(sandbox, daemon_config(sandbox, tmp_path, interval=1, tweak=tweak))
    try:
        url = relais.url
        wait_for(lambda: get(url + "/readyz")[0] == 200, timeout=60, what="the first cycles")
        worst = 0.0
        for _ in range(20):
            t0 = time.monotonic()
            assert get(url + "/healthz", timeout=5)[0] == 200
            worst = max(worst, time.monotonic() - t0)
            time.sleep(0.1)
        assert relais.stop() == 0
    finally:
        relais.close()
    assert worst < 1.0, worst


# -- requests --------------------------------------------------------------------------------
@contextmanager
def hooked_process(
    sandbox: Sandbox, tmp_path: Path, env: dict[str, str]
) -> Iterator[tuple[RelaisProcess, str]]:
    """`relais run` with the three webhooks on, ready; stopped (exit 0) at the end."""
    relais = RelaisProcess(sandbox, daemon_config(sandbox, tmp_path, interval=600, webhooks=True), **env)
    try:
        url = relais.url
        wait_for(lambda: get(url + "/readyz")[0] == 200, timeout=60, what="the first cycles")
        yield relais, url
        assert relais.stop() == 0
    finally:
        relais.close()


def raw_request(address: str, data: bytes, timeout: float = 5) -> bytes:
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):  # the server may close once it has answered
            pass
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    line = answer.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) > 1 and line[1].isdigit() else 0


def test_malformed_requests_get_a_4xx_and_leave_no_traceback(sandbox, tmp_path: Path):
    statuses = {}
    with hooked_process(sandbox, tmp_path, WEBHOOK_ENV) as (relais, url):
        address = url.removeprefix("http://")
        path = "/webhooks/jira"
        host = f"Host: {address}\r\n"

        def post_raw(name: str, headers: str, body: bytes = b"") -> None:
            answer = raw_request(address, f"POST {path} HTTP/1.1\r\n{host}{headers}\r\n".encode() + body)
            statuses[name] = status_of(answer)

        post_raw("content-length ²", "Content-Type: application/json\r\nContent-Length: ²\r\n")
        post_raw(
            "content-length of 5,000 digits",
            "Content-Type: application/json\r\nContent-Length: " + "9" * 5000 + "\r\n",
        )
        post_raw("negative content-length", "Content-Type: application/json\r\nContent-Length: -5\r\n")
        deep = b"[" * 100_000 + b"]" * 100_000
        post_raw(
            "JSON nested 100,000 deep",
            f"Content-Type: application/json\r\nContent-Length: {len(deep)}\r\n"
            f"X-Hub-Signature: {hub_signature(deep, WEBHOOK_ENV['JIRA_WEBHOOK_SECRET'])}\r\n",
            deep,
        )
        odd = json.dumps({"webhookEvent": LONE, "issue": {"id": "²"}}).encode()
        odd_answer = post(
            url + path,
            odd,
            {
                "X-Hub-Signature": hub_signature(odd, WEBHOOK_ENV["JIRA_WEBHOOK_SECRET"]),
                "X-Atlassian-Webhook-Identifier": "odd-1",
            },
        )
        post_raw(
            "a text/plain POST (a cross-origin page)",
            "Content-Type: text/plain\r\nContent-Length: 2\r\n",
            b"{}",
        )
        answer = raw_request(
            address,
            f"GET /readyz HTTP/1.1\r\nHost: evil.example:{address.rsplit(':', 1)[1]}\r\n\r\n".encode(),
        )
        statuses["a foreign Host (DNS rebinding)"] = status_of(answer)
        answer = raw_request(
            address, b"GET / HTTP/1.1\r\n" + host.encode() + b"X-Big: " + b"a" * 100_000 + b"\r\n\r\n"
        )
        statuses["100 kB of headers"] = status_of(answer)
        # slow clients hold sockets, not workers: 60 of them idle while /healthz still answers
        slow = [
            socket.create_connection(tuple(address.rsplit(":", 1)[:1]) + (int(address.rsplit(":", 1)[1]),))
            for _ in range(60)
        ]
        for s in slow:
            s.sendall(b"POST /webhooks/jira HTTP/1.1\r\n")
        t0 = time.monotonic()
        statuses["/healthz beside 60 slow clients"] = get(url + "/healthz", timeout=5)[0]
        healthz_seconds = time.monotonic() - t0
        for s in slow:
            s.close()
    assert statuses.pop("/healthz beside 60 slow clients") == 200 and healthz_seconds < 2
    # genuine but odd (a lone surrogate for its type, a non-ASCII digit for its issue id): answered, nothing read
    assert odd_answer == (202, {"outcome": "ignored", "items": 0})
    assert all(400 <= code < 500 for code in statuses.values()), json.dumps(statuses)  # 0: no answer
    assert not [line for line in relais.lines if "Traceback" in line]
    assert all(
        json.loads(line) for line in relais.lines if line.strip()
    )  # every stderr line: a JSON log line
    record("attacks", "requests", malformed_requests=len(statuses), answered_4xx=len(statuses), tracebacks=0)


def test_the_notion_handshake_cannot_be_forged_over_a_configured_token(sandbox, tmp_path: Path):
    token_file = tmp_path / "notion-webhook-verification-token"
    with hooked_process(sandbox, tmp_path, WEBHOOK_ENV) as (relais, url):
        forged = [
            post(url + "/hooks/notion", json.dumps({"verification_token": t}).encode(), {})[0]
            for t in ("attacker-token-0001", '", "level": "', "cycle finished")
        ]
        before = len(relais.lines)
    assert forged[0] == 409 and set(forged) <= {401, 409} and not token_file.exists()  # odd tokens: 401
    lines = [json.loads(line) for line in relais.lines if line.strip()]
    assert any(entry["msg"] == "stopped" for entry in lines[before - 5 :])  # messages intact, never redacted
    assert all(entry["msg"] != "***" and "***shed" not in entry["msg"] for entry in lines)


def test_without_a_token_one_handshake_is_taken_and_never_overwritten(sandbox, tmp_path: Path):
    env = {k: v for k, v in WEBHOOK_ENV.items() if k != "NOTION_WEBHOOK_TOKEN"}
    token_file = tmp_path / "notion-webhook-verification-token"
    with hooked_process(sandbox, tmp_path, env) as (relais, url):
        first = post(
            url + "/hooks/notion", json.dumps({"verification_token": "secret_first-token"}).encode(), {}
        )
        others = [
            post(url + "/hooks/notion", json.dumps({"verification_token": f"secret_other-{n}"}).encode(), {})[
                0
            ]
            for n in range(300)
        ]
        plain_text = raw_request(
            url.removeprefix("http://"),
            (
                f"POST /hooks/notion HTTP/1.1\r\nHost: {url.removeprefix('http://')}\r\nContent-Type: text/plain\r\n"
                "Content-Length: 43\r\n\r\n"
                '{"verification_token": "secret_xsite-0001"}'
            ).encode(),
        )
    assert first[0] == 200 and token_file.read_text().strip() == "secret_first-token"
    assert set(others) <= {409, 429} and status_of(plain_text) == 415
    record(
        "attacks",
        "notion-handshake",
        forged_over_a_token=3,
        refused=3,
        later_handshakes=300,
        token_overwritten=0,
    )


def test_a_signed_delivery_sent_again_with_a_new_id_is_a_replay(sandbox, tmp_path: Path):
    from daemon_support import running_daemon
    from test_webhooks import pagerduty_body

    config = daemon_config(sandbox, tmp_path, interval=600, webhooks=True)
    with running_daemon(sandbox, config, WEBHOOK_ENV) as daemon:
        incident = sandbox.pagerduty.incident_ids()[0]
        body = pagerduty_body(sandbox, incident, "01REPLAY")
        signed = {"X-PagerDuty-Signature": pagerduty_signature(body, WEBHOOK_ENV["PAGERDUTY_WEBHOOK_SECRET"])}
        first = post(daemon.url + "/webhooks/pagerduty", body, {**signed, "X-Webhook-Id": "delivery-1"})
        again = [
            post(daemon.url + "/webhooks/pagerduty", body, {**signed, "X-Webhook-Id": f"fresh-{n}"})
            for n in range(200)
        ]
        kept = daemon.engine.store.db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
    assert first[0] == 202 and all(a == (200, {"outcome": "duplicate"}) for a in again)
    assert kept == 1
    record("attacks", "replay", replays_with_fresh_ids=200, accepted=0, deliveries_kept=kept)


def test_the_table_of_deliveries_is_bounded(tmp_path: Path):
    from sync.state import DELIVERIES_KEPT_MAX, StateStore

    store = StateStore(tmp_path / "relais.db")
    try:
        for n in range(DELIVERIES_KEPT_MAX + 500):
            store.first_delivery("jira", f"digest-{n}")
        kept = store.db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
        newest = store.first_delivery("jira", f"digest-{DELIVERIES_KEPT_MAX + 499}")
    finally:
        store.close()
    assert kept == DELIVERIES_KEPT_MAX and newest is False


# -- the state store ---------------------------------------------------------------------------
def test_a_corrupt_state_store_names_the_file_and_the_remedy(sandbox, tmp_path: Path):
    config = full_config(sandbox, tmp_path)
    env = relais_env(sandbox)
    assert run_relais(["sync", "--once", "-c", str(config)], env).returncode == 0
    db = tmp_path / "relais.db"
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    data = bytearray(db.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the first page's content, past the header
    data[8192:16384] = b"\x00" * 8192
    db.write_bytes(bytes(data))
    runs = run_each(COMMANDS, config, env)
    for name, done in runs.items():
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1 and len(lines) == 1, (name, done.stderr)
        assert str(db) in lines[0] and "delete" in lines[0] and "sync again" in lines[0], (name, lines[0])
        assert "internal error" not in lines[0], name
    db.unlink()
    assert run_relais(["sync", "--once", "-c", str(config)], env).returncode == 0  # the remedy works
    record("attacks", "corrupt-store", commands=len(runs), said_the_file_and_the_remedy=len(runs))


def test_the_status_page_escapes_what_the_tools_say(sandbox, tmp_path: Path):
    """A briefing whose Work type a person set against the rules is listed as kept, by its title."""
    from daemon_support import running_daemon

    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> [/] \x1b[31m"
    kept = next(
        p
        for p in sandbox.notion.page_ids("briefings")
        if (sandbox.notion.get_page(p)["properties"]["Work type"]["select"] or {}).get("name") == "RUN"
    )
    sandbox.tamper("notion", _notion_title({kept}, hostile))
    with running_daemon(sandbox, daemon_config(sandbox, tmp_path, interval=600)) as daemon:
        status, html, headers = get(daemon.url + "/")
    assert status == 200 and "default-src 'none'" in headers["Content-Security-Policy"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html  # shown, escaped
    assert "<script" not in html and "<img" not in html
