"""Recognising secrets that were pasted into the configuration.

Secrets come only from the environment (DESIGN.md, "Invariants"). Two signals
catch a pasted one: a key named like a credential, and a value shaped like a
vendor token. Neither the value nor any part of it is ever repeated in a
message.
"""

from __future__ import annotations

import re
from typing import Any

# Value shapes, each with the variable the operator should use instead.
# Atlassian API tokens start with ATATT (about 190 characters in practice);
# Notion integration tokens start with ntn_ (secret_ before Sept. 2024);
# PagerDuty user API tokens start with u+.
_TOKEN_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bATATT[A-Za-z0-9_=-]{8,}"), "JIRA_API_TOKEN"),
    (re.compile(r"\b(?:ntn|secret)_[A-Za-z0-9]{20,}"), "NOTION_TOKEN"),
    (re.compile(r"(?:^|\s)u\+[A-Za-z0-9_+-]{16,}"), "PAGERDUTY_TOKEN"),
    (re.compile(r"\bToken token=\S{8,}"), "PAGERDUTY_TOKEN"),
    (re.compile(r"\b(?:Bearer|Basic) [A-Za-z0-9._~+/=-]{16,}"), ""),
)

_CREDENTIAL_KEY = re.compile(
    r"(?:^|_)(?:api_?key|token|password|passwd|secret|credentials?|authorization|private_?key)$"
)

# Keys directly under these paths are names the operator chose (a person, a
# team, a database), not settings: "secret-sauce" may well be a team.
NAME_KEYED = {("people",), ("teams",), ("sources", "notion", "databases")}

SOURCE_VARIABLE = {
    "jira": "JIRA_API_TOKEN",
    "notion": "NOTION_TOKEN",
    "pagerduty": "PAGERDUTY_TOKEN",
}

# Under daemon.webhooks, a pasted secret belongs in the webhook's own variable.
WEBHOOK_VARIABLE = {
    "jira": "JIRA_WEBHOOK_SECRET",
    "notion": "NOTION_WEBHOOK_TOKEN",
    "pagerduty": "PAGERDUTY_WEBHOOK_SECRET",
}


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
        where = (
            "set JIRA_API_TOKEN, NOTION_TOKEN or PAGERDUTY_TOKEN (or their _FILE variants) in the environment"
        )
    return f"secrets must not be written in the config file; {where}"
