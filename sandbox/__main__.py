"""``python -m sandbox serve``: run the three fakes in the foreground.

Prints the base URLs, the CA certificate path and the environment to export;
``--write-config PATH`` also writes a relais configuration for the org.
Stops on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import sys
import threading
from collections.abc import Sequence

from .core import Sandbox
from .org import SIZES


def _size(value: str) -> str | dict[str, int]:
    if value in SIZES:
        return value
    try:
        return {key.strip(): int(count) for key, count in (item.split("=", 1) for item in value.split(","))}
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"size must be one of {', '.join(SIZES)} or counts like issues=5000,incidents=200"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve fake Jira, Notion and PagerDuty until interrupted")
    serve.add_argument("--seed", type=int, default=7)
    serve.add_argument("--size", type=_size, default="demo", help=f"{', '.join(SIZES)} or key=count,...")
    serve.add_argument(
        "--port-base", type=int, default=None, help="jira on P, notion on P+1, pagerduty on P+2"
    )
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="vendor:kind[:key=value,...], e.g. jira:500:rate=0.1 (repeatable)",
    )
    serve.add_argument("--write-config", metavar="PATH", help="write a relais config for this org")
    serve.add_argument("--state-path", default="relais-sandbox.db", help="state.path in the written config")
    # The written config has every feature by default (--no-<feature> leaves one out).
    serve.add_argument(
        "--balance",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the scorecard database and a balance section (default: on)",
    )
    serve.add_argument(
        "--routing",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="a route section and the routing write-backs (default: on)",
    )
    serve.add_argument(
        "--briefings",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the briefings and followups sections and the epic and briefing status write-backs "
        "(default: on)",
    )
    serve.add_argument(
        "--fresh",
        action="store_true",
        help="the tools as a company has them before relais: some owned fields and properties missing",
    )
    serve.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s"
    )
    sandbox = Sandbox(seed=args.seed, size=args.size, port_base=args.port_base, fresh=args.fresh)
    try:
        for spec in args.fault:
            sandbox.faults.add_spec(spec)
    except ValueError as exc:
        sys.stderr.write(f"python -m sandbox: {exc}\n")
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with sandbox:
        out = sys.stdout
        for vendor, url in sandbox.urls.items():
            out.write(f"{vendor:<10} {url}\n")
        out.write(f"CA         {sandbox.ca_path}\n\n")
        for name, value in {**sandbox.env, **sandbox.init_env()}.items():
            out.write(f"export {name}={shlex.quote(value)}\n")
        if args.write_config:
            with open(args.write_config, "w", encoding="utf-8") as fh:
                fh.write(
                    sandbox.config_yaml(
                        args.state_path, balance=args.balance, routing=args.routing, briefings=args.briefings
                    )
                )
            out.write(f"\nconfig written to {os.path.abspath(args.write_config)}\n")
        out.write("\nserving; Ctrl-C to stop\n")
        out.flush()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
