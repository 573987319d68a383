"""What the balance should look like in Notion: scorecard rows and briefing properties.

Pure: from the balance (``sync.balance``) and the rows/briefings relais
already knows (stored items), the owned values to write and the rows to
create. Each scorecard row has a natural key, ``<team>:<ISO week>``, written
in its Key property: it is how relais finds the row again, so a row is
created once, whatever happens between the create and its confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sync.balance import BalanceAccumulator, TeamWeek
from sync.models import FieldChange, WorkItem

if TYPE_CHECKING:
    from sync.settings import Settings

RULE = "balance"


@dataclass(frozen=True)
class Create:
    """A row relais must create, under a natural key."""

    source: str
    database: str
    natural_key: str
    values: dict[str, Any]
    rule: str = RULE

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": "create",
            "target": f"{self.source}:{self.database}/{self.natural_key}",
            "field": "*",
            "old": None,
            "new": self.values,
            "rule": self.rule,
        }


def row_key(team: str, tw: TeamWeek) -> str:
    return f"{team}:{tw.label}"


def _pct(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


#: Added to the title of the row of a week still in progress: its figures are the week so far.
IN_PROGRESS = " (so far)"


def row_values(settings: Settings, team: str, tw: TeamWeek, in_progress: bool = False) -> dict[str, Any]:
    """The owned values of one scorecard row (logical names; see ScorecardProperties); the
    title of the current week's row says the week is still in progress."""
    m = tw.metrics
    cfg = settings.teams[team]
    display = cfg.notion.team if cfg.notion is not None and cfg.notion.team else team
    return {
        "title": f"{display} · {tw.label}{IN_PROGRESS if in_progress else ''}",
        "key": row_key(team, tw),
        "team": display,
        "period": tw.week.isoformat(),
        "run": _pct(m["run_share"]),
        "build": _pct(m["build_share"]),
        "improve": _pct(m["improve_share"]),
        "run_hours": round(m["run_hours"] or 0.0, 1),
        "incidents": int(m["incidents"] or 0),
        "urgent": int(m["urgent_requests"] or 0),
        "level": tw.mode,
        "alerts": "; ".join(f"{a.level}: {a.message}" for a in tw.alerts),
    }


@dataclass
class ScorecardPlan:
    updates: list[tuple[WorkItem, list[FieldChange]]] = field(default_factory=list)
    creates: list[Create] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # natural keys held by more than one row


def _diff(item: WorkItem, desired: dict[str, Any], rule: str) -> list[FieldChange]:
    return [
        FieldChange(item.source, item.id, item.key, name, item.owned.get(name), value, rule)
        for name, value in desired.items()
        if item.owned.get(name) != value
    ]


def plan_scorecard(settings: Settings, acc: BalanceAccumulator, rows: list[WorkItem]) -> ScorecardPlan:
    """Rows to update and rows to create, one per (team, reported week)."""
    out = ScorecardPlan()
    assert settings.writeback is not None and settings.writeback.notion is not None
    wb = settings.writeback.notion.scorecard
    assert wb is not None, "scorecard rows are planned only when writeback.notion.scorecard is set"
    by_key: dict[str, WorkItem] = {}
    for row in sorted(rows, key=lambda r: (r.created, r.id)):  # the oldest row of a key is the one kept
        if not row.natural_key:
            continue
        if row.natural_key in by_key:
            out.duplicates.append(row.natural_key)
            continue
        by_key[row.natural_key] = row
    for team, weeks in acc.reported(settings.teams).items():
        for tw in weeks:
            values = row_values(settings, team, tw, in_progress=tw.week == acc.weeks[-1])
            existing = by_key.get(values["key"])
            if existing is None:
                out.creates.append(Create("notion", wb.database, values["key"], values))
            else:
                changes = _diff(existing, values, RULE)
                if changes:
                    out.updates.append((existing, changes))
    return out


def plan_briefings(
    settings: Settings, acc: BalanceAccumulator, briefings: list[tuple[WorkItem, str | None]]
) -> list[tuple[WorkItem, list[FieldChange]]]:
    """ "Team RUN load" and "Team mode" on each briefing, from the team's last complete week."""
    out = []
    last_complete: dict[str, TeamWeek | None] = {}
    for item, team in briefings:
        if team is None:
            continue
        if team not in last_complete:
            weeks = acc.team_weeks(team)
            last_complete[team] = weeks[-2] if len(weeks) >= 2 else None
        tw = last_complete[team]
        if tw is None:
            continue
        desired = {"run_load": _pct(tw.metrics["run_share"]), "mode": tw.mode}
        changes = _diff(item, desired, f"{RULE} ({tw.label})")
        if changes:
            out.append((item, changes))
    return out
