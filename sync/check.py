"""``relais check``: every input and owned field the config needs, checked in the tools at once.

Each connector that is a :class:`connectors.spec.Surveyor` lists its problems; ``--fix``
applies what the APIs allow (each :attr:`~connectors.spec.Problem.fix`), then surveys again
and prints what is left — the steps only an admin can take — as a checklist. ``connect()``
runs the same survey, so ``plan`` and ``sync`` refuse to write into a tool that fails it.

Exit codes as for ``validate``: 0 nothing to fix, 2 problems left, 1 a tool could not be
asked (credentials refused, down).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.errors import ConnectorError
from connectors.spec import Problem, Surveyor
from sync.engine import build_connectors
from sync.settings import Secrets, Settings

#: A fix can reveal the next step (a Jira field created, then its options, then its screen).
FIX_ROUNDS = 3


@dataclass
class CheckResult:
    """What one ``check`` found, fixed and could not ask."""

    problems: list[Problem] = field(default_factory=list)  # left after any fix
    fixed: list[str] = field(default_factory=list)  # what --fix did, one line each
    failed_fixes: list[str] = field(default_factory=list)  # a fix the tool refused: why
    unreachable: dict[str, str] = field(default_factory=dict)  # vendor -> why it could not be asked
    connected: dict[str, str] = field(default_factory=dict)  # vendor -> what its survey looked at

    @property
    def exit_code(self) -> int:
        if self.unreachable:
            return 1
        return 2 if self.problems else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": not self.problems and not self.unreachable,
            "problems": [p.as_dict() for p in self.problems],
            "fixed": self.fixed,
            "failed_fixes": self.failed_fixes,
            "unreachable": self.unreachable,
            "checked": self.connected,
        }


def _survey(connectors: dict[str, Any], result: CheckResult) -> list[Problem]:
    problems: list[Problem] = []
    for name, connector in connectors.items():
        if not isinstance(connector, Surveyor):
            continue
        try:
            found = connector.survey()
        except ConnectorError as e:
            result.unreachable[name] = str(e)
            continue
        result.unreachable.pop(name, None)
        result.connected[name] = connector.surveyed()
        problems += found
    return problems


def check(settings: Settings, secrets: Secrets, *, fix: bool = False) -> CheckResult:
    """Survey every configured tool; with ``fix``, apply each fixable problem's fix once, then
    survey again (a fix may reveal the next step: a field created, then its options)."""
    result = CheckResult()
    connectors = build_connectors(settings, secrets)
    try:
        problems = _survey(connectors, result)
        for _ in range(FIX_ROUNDS if fix else 0):
            fixable = [(p, p.fix) for p in problems if p.fix is not None]
            if not fixable:
                break
            for p, mend in fixable:
                try:
                    result.fixed.append(mend())
                except ConnectorError as e:
                    result.failed_fixes.append(f"{p.setting}: {e}")
            problems = _survey(connectors, result)
            if result.failed_fixes:
                break  # the tool refused a fix: surveying again would try it again
        result.problems = problems
    finally:
        for c in connectors.values():
            c.close()
    return result
