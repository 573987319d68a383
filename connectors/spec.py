"""What a vendor is to relais: one :class:`VendorSpec` per connector module.

Each connector module exports ``SPEC``; :mod:`connectors.registry` lists them,
and everything that needs to know the vendors — settings (which sources and
webhooks exist, which secrets they need), the engine (how to build a
connector), the webhooks, the CLI and the metrics — reads the registry instead
of a list of its own. Adding a fourth tool is one connector module with its
``SPEC``, plus its settings slice and its fixtures.

What a connector can do beyond the :class:`~connectors.base.Connector`
protocol is said by the protocols below, checked with ``isinstance``: the
planner and the apply step never ask a vendor by name whether it can write in
bulk or create rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from connectors.base import Connector
    from connectors.webhook import Event
    from sync.models import FieldChange, WorkItem


@dataclass(frozen=True)
class Secret:
    """One secret relais reads from the environment (``VARIABLE`` or ``VARIABLE_FILE``)."""

    attribute: str  # its name on sync.settings.Secrets
    variable: str
    lack: str  # what the operator lacks when it is missing: "no API token"
    required: bool = True  # a webhook's secret may arrive later (Notion's verification token)
    listed: bool = False  # comma-separated, several at once (a rotation: "new, old")


@dataclass(frozen=True)
class VendorSpec:
    """A vendor, as the rest of relais needs to know it."""

    name: str  # the key in the config (sources.<name>) and in the store ("jira")
    title: str  # how people write it ("Jira")
    credentials: tuple[Secret, ...]  # needed when sources.<name> is configured
    webhook: Secret  # needed when daemon.webhooks.<name> is configured
    #: Shapes of the vendor's tokens (regular expressions), to catch one pasted into the config.
    token_shapes: tuple[str, ...]
    #: Whether a full read lists every item the vendor has, so that what it leaves out is gone
    #: (the reconciliation forgets it). PagerDuty's does not: it never deletes an incident,
    #: and its full read covers only ``first_sync_days``.
    lists_all: bool
    #: The streams a configured source reads (its ``sources.<name>`` slice → ``name:stream``):
    #: each is read in full once, then incrementally, and can be complete or not (sync.readiness).
    streams: Callable[[Any], list[str]]
    #: The stream an item was read from: (item kind, Notion database key or None) → stream.
    stream_of: Callable[[str, str | None], str]
    #: Build the connector from the whole settings (sync.settings.Settings) and the resolved
    #: secrets (sync.settings.Secrets). Typed Any: the settings import this registry, and a
    #: connector never imports the core beyond its models (docs/ARCHITECTURE.md).
    build: Callable[[Any, Any], Connector]
    #: A webhook delivery (body, headers, the webhook's secret) → its event: verified, then
    #: parsed (connectors.webhook).
    receive: Callable[[bytes, Mapping[str, str], str | None], Event]

    @property
    def token_variable(self) -> str:
        """The variable of the vendor's API token (the credential a pasted token belongs in)."""
        return self.credentials[-1].variable

    def secrets(self) -> tuple[Secret, ...]:
        return (*self.credentials, self.webhook)


# -- capabilities beyond reading and writing one item ---------------------------------------


@runtime_checkable
class BulkWriter(Protocol):
    """Writes one field's one value on many items in one request (Jira's bulk edit)."""

    bulk_min: int  # fewer items than this: one write each costs no more
    bulk_max: int

    def bulk_key(self, item: WorkItem, change: FieldChange) -> tuple[str, int] | None: ...

    def write_bulk(self, items: list[WorkItem], key: tuple[str, int]) -> Any: ...


@runtime_checkable
class RowCreator(Protocol):
    """Creates rows keyed by a natural key, and finds them again by it (Notion's scorecard)."""

    def create(
        self, key: str, natural_key: str, values: dict[str, Any]
    ) -> tuple[WorkItem, dict[str, Any]]: ...

    def find_by_keys(
        self, key: str, natural_keys: list[str]
    ) -> dict[str, tuple[WorkItem, dict[str, Any]]]: ...


@runtime_checkable
class TicketFiler(Protocol):
    """Files follow-up tickets under a label, and finds them again by it (Jira)."""

    def create_followup(self, f: Any) -> tuple[str, str]: ...

    def find_issues_by_labels(self, labels: list[str]) -> dict[str, tuple[str, str]]: ...


@dataclass(frozen=True)
class Problem:
    """One thing a tool lacks for the config — what ``relais check`` lists, all at once.

    ``message`` is one line that says what is wrong and exactly what to create or change
    (name, type, options, format). ``fix`` does what ``check --fix`` can do about it through
    the API and returns what it did; None when only a person can (``admin`` then says the
    step, for the checklist handed to a Jira or Notion admin)."""

    vendor: str  # "jira", "notion", "pagerduty"
    setting: str  # where the config names it: "writeback.notion.status.progress"
    message: str
    target: str  # what it blocks: "jira", "notion:briefings", "pagerduty"
    fix: Callable[[], str] | None = None
    admin: str = ""  # the step for an admin, when no API call fixes it

    def as_dict(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "setting": self.setting,
            "message": self.message,
            "target": self.target,
            "fixable": self.fix is not None,
            "admin": self.admin,
        }


@runtime_checkable
class Surveyor(Protocol):
    """Checks the tool against everything the config needs of it, all at once: inputs and owned
    fields exist, with the right type, options, format, and where writes need them (a Jira edit
    screen, a Notion database shared with the integration). ``connect()`` runs it and refuses
    to go on while it finds a problem; ``relais check`` prints them and ``--fix`` applies the
    fixes."""

    def survey(self) -> list[Problem]:
        """Connect (as ``connect()`` does) and list every problem; raises only when the tool
        cannot be asked at all (credentials refused, the tool down)."""

    def surveyed(self) -> str:
        """What the last survey looked at, one line: the site, the account, and each database by
        its title — so that a config naming the wrong one shows before ``--fix`` writes there."""


@runtime_checkable
class NoteTaker(Protocol):
    """Reads and adds notes on an item (PagerDuty's incident notes)."""

    def notes(self, incident_id: str) -> list[str]: ...

    def add_note(self, incident_id: str, content: str) -> None: ...


@dataclass(frozen=True)
class ReadEstimate:
    """What a full read of a source will cost, asked of the tool before it starts (the
    cheapest call its API offers): ``items`` to read (None: the API has no count), and the
    ``requests`` listing them takes (its pages; the per-item reads it cannot know yet are
    extrapolated by :mod:`sync.progress` as pages come). ``how``: where the count came from."""

    items: int | None
    requests: int
    how: str


@runtime_checkable
class ReadCounter(Protocol):
    """Estimates the size of a full read before it starts (``relais sync`` shows progress from it)."""

    def estimate_read(self, now: Any) -> ReadEstimate:
        """The items and requests of a full read (no cursor) at ``now``; may raise a
        :class:`~connectors.errors.ConnectorError` (the read then goes on without an estimate)."""


def refuse(vendor: str, problems: list[Problem]) -> None:
    """Raise one error listing every problem (``connect()``, after :meth:`Surveyor.survey`)."""
    if not problems:
        return
    from connectors.errors import ConfigMismatchError

    lines = "".join(f"\n  {p.setting}: {p.message}" for p in problems)
    raise ConfigMismatchError(
        vendor,
        f"the tool lacks {len(problems)} thing(s) the config needs; relais writes nothing there "
        f"until they are fixed (`relais check --fix` creates what the API allows):{lines}",
    )
