"""relais sandbox: loopback HTTPS fakes of Jira Cloud, Notion and PagerDuty.

    from sandbox import Sandbox
    with Sandbox(seed=7, size="demo") as sb:
        sb.urls, sb.ca_path, sb.env, sb.config_yaml("relais.db")

Tests, ``relais demo`` and the benchmarks talk to it through the official
clients over real sockets. See ``core.Sandbox`` for the API, ``faults`` for
the fault switches and ``org`` for the seeded organisation.
"""

from .core import RequestRecord, Sandbox
from .org import SIZES

__all__ = ["RequestRecord", "SIZES", "Sandbox"]
