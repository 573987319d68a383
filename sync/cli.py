"""The `relais` command line.

Exit codes: 0 ok, 1 runtime failure (a tool refused us, the network, a bug),
2 configuration error (fix the YAML or the environment).
Errors are one clear line each, never a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from datetime import UTC
from typing import Any

from connectors.errors import ConnectorError, redact

EXIT_OK, EXIT_RUNTIME, EXIT_CONFIG = 0, 1, 2
DEFAULT_CONFIG = "relais.yaml"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="relais",
        description="Pull PagerDuty, Jira and Notion; classify work "
        "RUN/BUILD/IMPROVE; write the results back where teams look.",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(sp: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sp.add_argument(
            "-c",
            "--config",
            default=os.environ.get("RELAIS_CONFIG", DEFAULT_CONFIG),
            help="config file (default: $RELAIS_CONFIG or ./relais.yaml)",
        )
        return sp

    with_config(
        sub.add_parser("validate", help="check the config and the environment's secrets; write nothing")
    )
    sp = with_config(
        sub.add_parser(
            "check",
            help="connect and check, all at once, every field and property the config needs in the tools",
        )
    )
    sp.add_argument(
        "--fix", action="store_true", help="create what the APIs allow; list the rest for an admin"
    )
    sp.add_argument("--json", action="store_true", help="print the problems as JSON")
    sp = with_config(
        sub.add_parser("plan", help="pull, then show the writes a sync would make; write nothing")
    )
    sp.add_argument(
        "--json", action="store_true", help="print {target, field, old, new, rule} entries as JSON"
    )
    sp = with_config(sub.add_parser("sync", help="run one full cycle: pull, plan, write, checkpoint"))
    sp.add_argument("--once", action="store_true", required=True, help="one cycle, then exit")
    sp.add_argument("--json", action="store_true", help="print the cycle report as JSON")
    sp = with_config(
        sub.add_parser(
            "run",
            help="the daemon: each source on its timer, webhooks, /healthz, "
            "/readyz, /metrics and the status page, until SIGTERM/SIGINT",
        )
    )
    sp.add_argument(
        "--interval",
        type=float,
        default=None,
        help="seconds between cycles of every source (default: daemon.intervals in the config)",
    )
    sp = with_config(
        sub.add_parser("explain", help="why an item is classified the way it is (from the state store)")
    )
    sp.add_argument("item", help="source:id or source:key, e.g. jira:PAY-12, pagerduty:Q1ABC2D")
    sp.add_argument("--json", action="store_true")
    sp = with_config(
        sub.add_parser(
            "report", help="balance per team and week, alerts, unowned work (from the state store)"
        )
    )
    sp.add_argument("--format", choices=("table", "json"), default="table")
    sp.add_argument(
        "--chart", metavar="PNG", help="also draw the shares per week as a PNG (needs relais[chart])"
    )
    sp.add_argument(
        "--routing", action="store_true", help="feedback routed per PM, fallback share, overrides"
    )
    sp = with_config(
        sub.add_parser("health", help="exit 0 if the last cycle finished recently (container HEALTHCHECK)")
    )
    sp.add_argument("--max-age", type=float, default=300.0, help="seconds (default 300)")
    _init_parser(sub)
    _state_parser(sub, with_config)
    sp = sub.add_parser("demo", help="start the bundled sandbox and run two sync cycles against it")
    sp.add_argument("--json", action="store_true", help="print the demo summary as one JSON object")
    sp.add_argument("--seed", type=int, default=7)
    sp.add_argument("--chart", metavar="PNG", help="also draw the balance chart (needs relais[chart])")
    sp.add_argument(
        "--screenshots",
        metavar="DIR",
        help="write demo.svg, plan.svg and report.svg: an 80-column terminal's view (the README's)",
    )
    return p


def _init_parser(sub: Any) -> None:
    sp = sub.add_parser(
        "init", help="discover the tools from the tokens in the environment and write a commented config"
    )
    sp.add_argument("--yes", action="store_true", help="accept every proposal, ask nothing")
    sp.add_argument("--output", "-o", default=DEFAULT_CONFIG, help="file to write (default ./relais.yaml)")
    sp.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    sp.add_argument(
        "--jira-url", help="the Jira Cloud site, https://<site>.atlassian.net (default: $JIRA_URL)"
    )
    sp.add_argument("--notion-url", help="default: $NOTION_URL, else https://api.notion.com")
    sp.add_argument(
        "--pagerduty-url",
        help="default: $PAGERDUTY_URL, else https://api.pagerduty.com (EU: https://api.eu.pagerduty.com)",
    )
    sp.add_argument(
        "--ca-bundle",
        help="a CA bundle (PEM) to trust, written as sources.*.ca_bundle (default: $RELAIS_CA_BUNDLE)",
    )


def _state_parser(sub: Any, with_config: Any) -> None:
    sp = sub.add_parser("state", help="the state store: copy a SQLite store into PostgreSQL")
    actions = sp.add_subparsers(dest="action", required=True, metavar="ACTION")
    cp = with_config(
        actions.add_parser(
            "copy", help="copy the config's SQLite store (state.path) into an empty PostgreSQL database"
        )
    )
    cp.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="postgresql://user@host:5432/database (a password from PGPASSWORD or ~/.pgpass, or in the URL)",
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # the last line of defence: one line, no traceback
        from sync.settings import ConfigError, SecretError

        if isinstance(e, ConfigError):
            _print_problems(e)
            return EXIT_CONFIG
        if isinstance(e, SecretError):
            print(redact(f"relais: {e}"), file=sys.stderr)
            return EXIT_RUNTIME
        if isinstance(e, ConnectorError):
            print(_plain(f"relais: {e}"), file=sys.stderr)  # a tool's error body is its text: inert
            return EXIT_RUNTIME
        from sync.lock import WriterLockedError
        from sync.state import NoStateStore, StateStoreError, StoreNotEmpty

        if isinstance(e, (WriterLockedError, StateStoreError, NoStateStore, StoreNotEmpty)):
            print(redact(f"relais: {e}"), file=sys.stderr)
            return EXIT_RUNTIME
        if args.debug:
            raise
        print(
            redact(f"relais: internal error: {type(e).__name__}: {e} (run with --debug for the traceback)"),
            file=sys.stderr,
        )
        return EXIT_RUNTIME


def _plain(text: str) -> str:
    from sync.output import plain

    return plain(text)


def _print_problems(error: Any) -> None:
    problems = getattr(error, "problems", None) or [error]
    for p in problems:
        print(redact(str(p)), file=sys.stderr)
    print(f"relais: {len(problems)} problem(s) in the configuration", file=sys.stderr)


def _load(args: argparse.Namespace) -> tuple[Any, Any]:
    from sync.settings import load_settings, resolve_secrets

    settings = load_settings(args.config)
    secrets = resolve_secrets(settings)
    return settings, secrets


# -- commands ----------------------------------------------------------------
def cmd_validate(args: argparse.Namespace) -> int:
    from sync.settings import SecretError, load_settings, resolve_secrets

    settings = load_settings(args.config)
    try:
        resolve_secrets(settings)
    except SecretError as e:
        _print_problems(e)
        return EXIT_CONFIG
    sources = ", ".join(settings.sources.enabled())
    print(
        f"{args.config}: OK — sources: {sources or 'none'}; {len(settings.teams)} teams, "
        f"{len(settings.people)} people, {len(settings.classify)} classify rules + default"
    )
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from sync import output
    from sync.check import check

    settings, secrets = _load(args)
    result = check(settings, secrets, fix=args.fix)
    if args.json:
        output.print_json(result.as_dict())
    else:
        output.render_check(result, fix=args.fix)
    return result.exit_code


def _cycle(args: argparse.Namespace, apply: bool) -> int:
    from sync import output
    from sync.engine import Engine
    from sync.plan import rule_warnings
    from sync.state import WRITE_REFUSED

    settings, secrets = _load(args)
    as_json = getattr(args, "json", False)
    with output.progress(not as_json) as tracker:
        engine = Engine(settings, secrets, progress=tracker, writer=apply)
        try:
            report = engine.run_cycle(apply=apply)
            if not apply and engine.store is not None:  # a second read of the store: for `plan` only
                report.rule_warnings = rule_warnings(report.decided, engine.store.iter_items(), settings)
        finally:
            engine.close()
    for name, error in sorted(report.errors.items()):  # on stderr too, whatever stdout carries
        print(output.plain(redact(f"relais: {name}: {error}")), file=sys.stderr)
    if report.failed_writes and not report.errors:  # refused by a tool (a 4xx): not retried until it changes
        refused = [  # this cycle's: an item refused before is not retried until it changes
            q
            for q in report.quarantined
            if q["cycle"] == report.cycle and str(q["reason"]).startswith(WRITE_REFUSED)
        ]
        print(f"relais: {report.failed_writes} write(s) refused by the tools:", file=sys.stderr)
        for q in refused[:10]:
            print(output.plain(redact(f"  {q['source']}:{q['id']}: {q['reason']}")), file=sys.stderr)
    names = output.Names.of(settings)  # people by their `people:` key, not the tools' user ids
    if as_json:
        output.print_json(output.cycle_json(report, names) if apply else output.plan_json(report, names))
    else:
        output.render_cycle(report)
        if not apply:
            output.render_plan(report, names)
    return EXIT_RUNTIME if report.errors or report.failed_writes else EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    return _cycle(args, apply=False)


def cmd_sync(args: argparse.Namespace) -> int:
    return _cycle(args, apply=True)


def cmd_run(args: argparse.Namespace) -> int:
    from sync.daemon import Daemon
    from sync.web import ListenError

    settings, secrets = _load(args)
    with _first_cycle_progress() as tracker:
        daemon = Daemon(args.config, settings, secrets, interval_override=args.interval, progress=tracker)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, daemon.request_stop)
        try:
            if tracker is not None:  # on a terminal: the first cycle drawn, then the log alone
                daemon.start()
                while not daemon.stop.wait(0.2) and not daemon.readiness()[0]:
                    pass
                tracker.listener = None
        except ListenError as e:
            print(f"relais: {e}", file=sys.stderr)
            return EXIT_RUNTIME
    try:
        daemon.run()
    except ListenError as e:
        print(f"relais: {e}", file=sys.stderr)
        return EXIT_RUNTIME
    return EXIT_OK


def _first_cycle_progress() -> Any:
    """`relais run` on a terminal: the first cycle's progress, as `sync --once` draws it."""
    from sync import output
    from sync.log import get_logger

    get_logger()  # its handler on the real stderr, which the live view then draws around
    return output.progress(True)


def cmd_explain(args: argparse.Namespace) -> int:
    from sync.explain import explain
    from sync.settings import load_settings

    settings = load_settings(args.config)
    return explain(settings, args.item, as_json=args.json)


def cmd_report(args: argparse.Namespace) -> int:
    from sync.report import run_report
    from sync.settings import load_settings

    return run_report(
        load_settings(args.config), as_json=args.format == "json", chart_path=args.chart, routing=args.routing
    )


def cmd_health(args: argparse.Namespace) -> int:
    from datetime import datetime

    from sync.settings import load_settings, state_location
    from sync.state import NoStateStore, StateStore

    settings = load_settings(args.config)
    try:
        store = StateStore.existing(state_location(settings))
    except NoStateStore:
        print("relais: no state store yet", file=sys.stderr)
        return EXIT_RUNTIME
    try:
        finished = store.last_finished()
    finally:
        store.close()
    if finished is None:
        print("relais: no cycle has finished yet", file=sys.stderr)
        return EXIT_RUNTIME
    age = (datetime.now(UTC) - finished).total_seconds()
    print(f"last cycle finished {age:.0f}s ago")
    return EXIT_OK if age <= args.max_age else EXIT_RUNTIME


def cmd_state(args: argparse.Namespace) -> int:
    """`relais state copy --to URL`: the config's SQLite store into an empty PostgreSQL database,
    both held against writers meanwhile (sync.lock), in one transaction (sync.state.copy_store)."""
    from sync.dialect import is_url, shown
    from sync.lock import WriterLock
    from sync.settings import load_settings
    from sync.state import NoStateStore, StateStore, copy_store

    settings = load_settings(args.config)
    if not is_url(args.to):
        print(
            f"relais: --to wants a PostgreSQL URL, postgresql://user@host:5432/database, got {shown(args.to)!r}",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    if not settings.state.path.exists():
        raise NoStateStore(settings.state.path)
    locks = [WriterLock.acquire(settings.state.path, "relais state copy")]
    try:
        locks.append(WriterLock.acquire(args.to, "relais state copy"))
        source = StateStore.existing(settings.state.path)
        try:
            target = StateStore(args.to)
            try:
                counts = copy_store(source, target)
            finally:
                target.close()
        finally:
            source.close()
    finally:
        for lock in locks:
            lock.release()
    print(f"copied {source.path} into {shown(args.to)}: {sum(counts.values()):,} rows")
    for table, n in counts.items():
        print(f"  {table:<11} {n:>9,}")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from sync.init import run_init

    return run_init(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from sync.demo import run_demo, screenshots

    if args.screenshots:
        return screenshots(args.screenshots, seed=args.seed)
    return run_demo(seed=args.seed, as_json=args.json, chart=args.chart)


COMMANDS = {
    "validate": cmd_validate,
    "check": cmd_check,
    "plan": cmd_plan,
    "sync": cmd_sync,
    "run": cmd_run,
    "explain": cmd_explain,
    "report": cmd_report,
    "health": cmd_health,
    "demo": cmd_demo,
    "init": cmd_init,
    "state": cmd_state,
}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
