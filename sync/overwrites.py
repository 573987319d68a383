"""How often relais wrote a field back over someone else's value: read from the audit log.

Plan holds a field a person keeps changing instead of fighting over it (docs/decisions.md);
this counts, per field, the applied writes that replaced another's value since the field
was last found empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sync.owned import Written


class Overwrites:
    """``get((source, item id, field), default)`` → (how many times relais wrote its value back
    over one someone else had put in its place, since the field was last found empty; the JSON
    of the last value relais wrote there). Read from the audit log only for the fields a plan
    asks about — the few it would write — so the cost does not grow with the log."""

    def __init__(self, rows: Callable[[list[tuple[str, str, str]]], list[tuple[str, ...]]]) -> None:
        # the store's look-up: (source, item id, field, old, new, outcome) of these fields' applied
        # and sent writes, in order (one indexed query for one field, a join for many)
        self._rows = rows
        self._seen: dict[tuple[str, str, str], tuple[int, str | None]] = {}
        self._sent: dict[tuple[str, str, str], frozenset[str]] = {}

    def get(
        self, key: tuple[str, str, str], default: tuple[int, str | None] = (0, None)
    ) -> tuple[int, str | None]:
        self._load(key)
        return self._seen[key] if self._seen[key][1] is not None else default

    def written(self, key: tuple[str, str, str]) -> Written:
        """What relais wrote there: the last value confirmed, and those sent since without an answer
        recorded (a crash between the tool's answer and relais' record)."""
        self._load(key)
        return Written(self._seen[key][1], self._sent[key])

    def _load(self, key: tuple[str, str, str]) -> None:
        if key not in self._seen:
            self._remember(key, [(old, new, outcome) for *_, old, new, outcome in self._rows([key])])

    def _remember(self, key: tuple[str, str, str], rows: list[tuple[str, str, str]]) -> None:
        self._seen[key] = _count_overwrites((old, new) for old, new, outcome in rows if outcome == "applied")
        sent: set[str] = set()
        for _, new, outcome in rows:
            sent = set() if outcome == "applied" else sent | {new}
        self._sent[key] = frozenset(sent)

    def prefetch(self, keys: Iterable[tuple[str, str, str]]) -> None:
        """Look up many keys in one statement (a plan after a rule change asks about thousands:
        one query each cost more than the rest of the conflict check)."""
        wanted = sorted(set(keys) - self._seen.keys())
        if not wanted:
            return
        found: dict[tuple[str, str, str], list[tuple[str, str, str]]] = {k: [] for k in wanted}
        rows = self._rows(wanted)
        for source, item_id, name, old, new, outcome in rows:
            found[(source, item_id, name)].append((old, new, outcome))
        for key, triples in found.items():
            self._remember(key, triples)


def _count_overwrites(rows: Iterable[tuple[str, str]]) -> tuple[int, str | None]:
    """(times relais wrote its value back over another since the field was last found empty,
    the JSON of the last value it wrote), from the applied audit rows of one field, in order."""
    count, last = 0, None
    for old, new in rows:
        count = 0 if old == "null" else count + (last is not None and old != last)
        last = new
    return count, last
