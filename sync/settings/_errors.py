"""Problems found in a configuration file, and the one exception that carries them.

    ConfigError            every problem of one file, raised once by load_settings
      .problems            list[ConfigProblem], sorted by line

A problem always names a place (file, line, path in the document) and says
what was expected and what was found; it never echoes a value that looks like
a secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ._secretlike import looks_like_secret

# The path of a problem about the file as a whole (syntax, empty file…).
DOCUMENT = "<document>"

_PLAIN_KEY = re.compile(r"[^\s.\[\]\"']+")


@dataclass(frozen=True)
class ConfigProblem:
    file: str  # the file name as the caller gave it
    line: int | None  # 1-based; None only when the file could not be read at all
    path: str  # classify[2].when.isuetype
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file}: {self.path}: {self.message}"
        return f"{self.file}:{self.line}: {self.path}: {self.message}"


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` lists every reason at once."""

    def __init__(self, problems: Iterable[ConfigProblem]):
        self.problems: list[ConfigProblem] = _ordered(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple:  # pickles with its problems (process pools, multiprocessing)
        return (type(self), (self.problems,))


def format_path(path: tuple[str | int, ...]) -> str:
    """``("classify", 2, "when", "isuetype")`` → ``classify[2].when.isuetype``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif looks_like_secret(part):
            out += "[<hidden>]"
        elif _PLAIN_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            # A JSON string, with whitespace escaped so a path is always one word.
            quoted = json.dumps(part, ensure_ascii=False)
            out += "[" + re.sub(r"\s", lambda m: f"\\u{ord(m.group()):04x}", quoted) + "]"
    return out or DOCUMENT


def _ordered(problems: Iterable[ConfigProblem]) -> list[ConfigProblem]:
    """De-duplicate, then sort by line (stable, so equal lines keep discovery order)."""
    seen: set[ConfigProblem] = set()
    unique = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            unique.append(problem)
    return sorted(unique, key=lambda p: (p.line is None, p.line or 0))
