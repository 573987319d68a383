"""What the settings tests share (tests/test_settings*.py): a config file written from text,
and the problems a file is refused with."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sync.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config" / "relais.example.yaml"


def write_config(folder: Path, text: str, name: str = "relais.yaml") -> Path:
    """``text``, dedented, as the file ``folder/name``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def refused(path: Path) -> ConfigError:
    """The error loading ``path`` raises (the test fails if it loads)."""
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return caught.value


def problems(path: Path) -> list[str]:
    """``<line>: <path>: <message>``, one a problem ``path`` is refused with."""
    return [f"{p.line}: {p.path}: {p.message}" for p in refused(path).problems]
