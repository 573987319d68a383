"""Recognising secrets that were pasted into the configuration.

Secrets come only from the environment (DESIGN.md, "Invariants"). Two signals
catch a pasted one: a key named like a credential, and a value shaped like a
vendor token. Neither the value nor any part of it is ever repeated in a
message.
"""

from __future__ import annotations

import re
from typing import Any

from connectors import registry

#: Where the state store's PostgreSQL URL comes from when it carries a password (or _FILE).
STATE_URL_VARIABLE = "RELAIS_STATE_URL"

# Value shapes, each with the variable the operator should use instead: each vendor's token
# shapes (its spec), then an Authorization header's value, whoever's it is.
_TOKEN_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    *((re.compile(shape), v.token_variable) for v in registry.VENDORS for shape in v.token_shapes),
    (re.compile(r"\b(?:Bearer|Basic) [A-Za-z0-9._~+/=-]{16,}"), ""),
    # a database URL with its password (the state store's: state.url takes one without)
    (re.compile(r"\bpostgres(?:ql)?://(?:[^\s/@:]*:[^\s/@]+@|\S*[?&]password=[^&\s])"), STATE_URL_VARIABLE),
)

_CREDENTIAL_KEY = re.compile(
    r"(?:^|_)(?:api_?key|token|password|passwd|secret|credentials?|authorization|private_?key)$"
)

# Keys directly under these paths are names the operator chose (a person, a
# team, a database), not settings: "secret-sauce" may well be a team.
NAME_KEYED = {("people",), ("teams",), ("sources", "notion", "databases")}

SOURCE_VARIABLE = {v.name: v.token_variable for v in registry.VENDORS}

# Under daemon.webhooks, a pasted secret belongs in the webhook's own variable.
WEBHOOK_VARIABLE = {v.name: v.webhook.variable for v in registry.VENDORS}


def looks_like_secret(value: Any) -> bool:
    return isinstance(value, str) and any(p.search(value) for p, _ in _TOKEN_SHAPES)


def variable_for_value(value: Any) -> str:
    """The environment variable a token of this shape belongs in ('' if unknown)."""
    if isinstance(value, str):
        for pattern, variable in _TOKEN_SHAPES:
            if pattern.search(value):
                return variable
    return ""


def is_credential_key(key: str) -> bool:
    normalised = re.sub(r"[\s-]+", "_", key.strip().lower())
    return bool(_CREDENTIAL_KEY.search(normalised))


def advice(variable: str) -> str:
    if variable:
        where = f"set {variable} (or {variable}_FILE) in the environment"
    else:
        tokens = [v.token_variable for v in registry.VENDORS]
        where = f"set {', '.join(tokens[:-1])} or {tokens[-1]} (or their _FILE variants) in the environment"
    return f"secrets must not be written in the config file; {where}"
