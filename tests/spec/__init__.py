"""Spec checker: validates API responses against the vendors' own material.

* :mod:`.openapi`       — OpenAPI 3.0/3.1 response-schema validation + vendor examples.
* :mod:`.notion_shapes` — Notion shapes from recorded real responses (vcrpy cassettes)
                          and from Notion's generated TypeScript response types.

The vendor material lives in ``shared/`` beside the repository (CI always checks it
out there).  Override the location with ``RELAIS_SHARED``.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

# tests/spec/__init__.py -> parents[0]=tests/spec, [1]=tests, [2]=repo root
REPO_ROOT = Path(__file__).resolve().parents[2]


@cache
def shared_dir() -> Path:
    """Directory holding ``specs/`` and ``fixtures/`` (vendor material)."""
    env = os.environ.get("RELAIS_SHARED")
    base = Path(env).expanduser() if env else REPO_ROOT / ".." / "shared"
    base = base.resolve()
    if not (base / "specs").is_dir():
        how = f"RELAIS_SHARED={env!r}" if env else f"the default location beside the repo ({base})"
        raise RuntimeError(
            f"vendor spec material not found via {how}: expected a directory with "
            "specs/ (OpenAPI documents) and fixtures/notion-recorded/ (cassettes). "
            "Check out `shared/` next to the repository or set RELAIS_SHARED=/path/to/shared."
        )
    return base


def specs_dir() -> Path:
    return shared_dir() / "specs"


def fixtures_dir() -> Path:
    return shared_dir() / "fixtures"
