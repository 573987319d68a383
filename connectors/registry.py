"""The vendors relais knows: one :class:`~connectors.spec.VendorSpec` per connector module.

The one list of vendors. Settings, engine, webhooks, CLI and metrics read it;
the order is the order of the config's ``sources`` and of every report.
"""

from __future__ import annotations

from connectors import jira, notion, pagerduty
from connectors.spec import Secret, VendorSpec

VENDORS: tuple[VendorSpec, ...] = (jira.SPEC, notion.SPEC, pagerduty.SPEC)
NAMES: tuple[str, ...] = tuple(v.name for v in VENDORS)
BY_NAME: dict[str, VendorSpec] = {v.name: v for v in VENDORS}


def spec(name: str) -> VendorSpec:
    return BY_NAME[name]


def secrets() -> tuple[tuple[VendorSpec, Secret], ...]:
    """Every secret of every vendor, credentials then webhook, vendor by vendor."""
    return tuple((v, s) for v in VENDORS for s in v.secrets())
