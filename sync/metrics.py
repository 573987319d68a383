"""Prometheus metrics of the daemon, in a registry of its own (served on /metrics).

Cycle figures are recorded from each cycle's report. The network figures
(requests by status, 429s, retries, seconds waited) are read at scrape time
from each connector's :class:`~connectors.policy.CallStats`, so they are the
policy's own counts, not a second bookkeeping; the counts of connectors
retired by a config reload are carried over, so counters never go down.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client import Counter as PromCounter
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _PolicyCollector(Collector):
    """Per-vendor API figures, read from the live connectors' policies when scraped."""

    def __init__(self, connectors: Callable[[], dict[str, Any]]) -> None:
        self._connectors = connectors
        self._retired: dict[str, Counter] = {}  # vendor -> figures of connectors replaced by a reload
        self._lock = threading.Lock()

    @staticmethod
    def _figures(stats: Any) -> Counter:
        requests = dict(stats.requests)  # one atomic copy: the policy counts in other threads
        out: Counter = Counter({f"status:{k}": v for k, v in requests.items()})
        out["rate_limited"] = stats.rate_limited
        out["retries"] = stats.retries
        out["waited"] = stats.waited_seconds
        return out

    def retire(self, connectors: dict[str, Any]) -> None:
        with self._lock:
            for vendor, c in connectors.items():
                self._retired.setdefault(vendor, Counter()).update(self._figures(c.policy.stats))

    def collect(self) -> Iterator[Any]:
        with self._lock:
            totals = {v: Counter(c) for v, c in self._retired.items()}
        for vendor, c in self._connectors().items():
            totals.setdefault(vendor, Counter()).update(self._figures(c.policy.stats))
        requests = CounterMetricFamily(
            "relais_api_requests",
            "HTTP requests sent to each tool, by status (network-error: no answer)",
            labels=["vendor", "status"],
        )
        limited = CounterMetricFamily(
            "relais_api_rate_limited", "429 answers from each tool", labels=["vendor"]
        )
        retries = CounterMetricFamily(
            "relais_api_retries", "Requests re-sent by the retry policy", labels=["vendor"]
        )
        waited = CounterMetricFamily(
            "relais_api_wait_seconds",
            "Seconds spent waiting for the rate limit and before retries",
            labels=["vendor"],
        )
        for vendor, figures in sorted(totals.items()):
            for key, value in sorted(figures.items()):
                if key.startswith("status:"):
                    requests.add_metric([vendor, key[7:]], value)
            limited.add_metric([vendor], figures["rate_limited"])
            retries.add_metric([vendor], figures["retries"])
            waited.add_metric([vendor], figures["waited"])
        yield from (requests, limited, retries, waited)


class Metrics:
    """Everything /metrics shows; one instance per daemon."""

    def __init__(self, connectors: Callable[[], dict[str, Any]] = dict) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.cycles = PromCounter(
            "relais_cycles",
            "Cycles run, by source, kind (poll, reconcile, webhook) and outcome (ok, failed)",
            ["source", "kind", "outcome"],
            registry=r,
        )
        self.cycle_seconds = Histogram(
            "relais_cycle_duration_seconds",
            "Duration of a cycle, pull to checkpoint",
            ["source", "kind"],
            registry=r,
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
        )
        self.pulled = PromCounter(
            "relais_items_pulled", "Items read from each source", ["source"], registry=r
        )
        self.changed = PromCounter(
            "relais_items_changed", "Pulled items that were new or had changed", ["source"], registry=r
        )
        self.writes = PromCounter("relais_writes_applied", "Field writes that the tools accepted", registry=r)
        self.failed_writes = PromCounter("relais_writes_failed", "Field writes that failed", registry=r)
        self.creates = PromCounter(
            "relais_creates", "Things created: scorecard rows, follow-up tickets and notes", registry=r
        )
        self.planned = Gauge("relais_writes_planned", "Field writes the last cycle planned", registry=r)
        self.held = Gauge(
            "relais_writes_held",
            "Writes and creates the last cycle held back: computed from a "
            "stream not read in full yet, or from a source whose reads fail",
            registry=r,
        )
        self.quarantined = Gauge(
            "relais_quarantined_items", "Items quarantined now (unreadable, or a write refused)", registry=r
        )
        self.deleted = PromCounter(
            "relais_items_deleted", "Items the tools no longer have, forgotten", ["source"], registry=r
        )
        self.last_success = Gauge(
            "relais_last_success_timestamp_seconds",
            "When each source last finished a cycle without error (Unix time)",
            ["source"],
            registry=r,
        )
        self.source_up = Gauge(
            "relais_source_up", "1 if the source's last cycle succeeded, else 0", ["source"], registry=r
        )
        self.webhooks = PromCounter(
            "relais_webhooks",
            "Webhook deliveries by vendor and outcome (accepted, duplicate, invalid_signature, ...)",
            ["vendor", "outcome"],
            registry=r,
        )
        self.config_reloads = PromCounter(
            "relais_config_reloads",
            "Config file changes seen, by outcome (applied, invalid, unchanged)",
            ["outcome"],
            registry=r,
        )
        self.config_valid = Gauge(
            "relais_config_valid",
            "1 if the config file on disk is the one running, 0 if it has errors",
            registry=r,
        )
        self.config_valid.set(1)
        self.leader = Gauge(
            "relais_leader",
            "1 while this replica leads (holds the PostgreSQL store's lease; always on SQLite), 0 on standby",
            registry=r,
        )
        self.leader.set(1)
        self.policies = _PolicyCollector(connectors)
        r.register(self.policies)

    def record_cycle(self, source: str, kind: str, report: Any, ended_at: float) -> None:
        ok = source not in report.errors
        self.cycles.labels(source, kind, "ok" if ok else "failed").inc()
        self.cycle_seconds.labels(source, kind).observe(report.seconds)
        for name, n in report.pulled.items():
            self.pulled.labels(name).inc(n)
        for name, n in report.changed.items():
            self.changed.labels(name).inc(n)
        self.writes.inc(report.writes)
        self.failed_writes.inc(report.failed_writes)
        self.creates.inc(report.created)
        if report.cycle:  # a job that failed before its cycle began planned nothing
            self.planned.set(len(report.planned) + len(report.planned_creates))
            self.held.set(len(report.held))
            self.quarantined.set(len(report.quarantined))
        self.source_up.labels(source).set(1 if ok else 0)
        if ok:
            self.last_success.labels(source).set(ended_at)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
