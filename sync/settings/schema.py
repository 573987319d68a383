"""Print the JSON Schema of relais.yaml: ``python -m sync.settings.schema > config/relais.schema.json``.

Generated from the pydantic models so it cannot disagree with the loader
(a test compares it with the committed file). It is the editor's view: the
loader checks more (cross-references, time zones, files that must exist).
"""

from __future__ import annotations

import json
from typing import Any

from connectors import registry

from ._daemon import Webhooks
from ._model import Settings

SCHEMA_ID = "https://json-schema.org/draft/2020-12/schema"


def build_schema() -> dict[str, Any]:
    generated = Settings.model_json_schema()
    generated.pop("title", None)
    credentials = [s.variable for v in registry.VENDORS for s in v.credentials]
    hooks = [registry.spec(name).webhook.variable for name in Webhooks.model_fields]
    return {
        "$schema": SCHEMA_ID,
        "title": "relais configuration",
        "description": (
            "relais.yaml: sources to read, people, teams, ordered classify rules, the RUN/BUILD balance and "
            f"the fields relais owns. Secrets never go here: relais reads {', '.join(credentials[:-1])} "
            f"and {credentials[-1]} (and the webhooks' {', '.join(hooks)}; or *_FILE) from the environment. "
            "Check a file with `relais validate`."
        ),
        **generated,
    }


def render() -> str:
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
