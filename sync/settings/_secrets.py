"""Secrets, from the environment only (or files named in it: Docker/Kubernetes secrets).

For each variable NAME: ``environ[NAME]``, else the content of the file named by
``environ[NAME_FILE]``. Only the enabled sources' secrets are required. A
missing secret is reported with every variable that was looked for, the way
dlt lists every place it searched; no message or repr ever shows a value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from ._model import Settings

# (tool, attribute, variable, what the operator lacks)
_WANTED = (
    ("jira", "jira_email", "JIRA_EMAIL", "no account email"),
    ("jira", "jira_api_token", "JIRA_API_TOKEN", "no API token"),
    ("notion", "notion_token", "NOTION_TOKEN", "no integration token"),
    ("pagerduty", "pagerduty_token", "PAGERDUTY_TOKEN", "no API token"),
)

# Webhook secrets, wanted when daemon.webhooks turns the webhook on:
# (webhook, attribute, variable, what the operator lacks, required).
# Notion's token is not required: Notion sends it in the verification request,
# after the subscription exists; until it is set, events are refused.
_WEBHOOKS = (
    ("pagerduty", "pagerduty_webhook_secret", "PAGERDUTY_WEBHOOK_SECRET", "no signing secret", True),
    ("jira", "jira_webhook_secret", "JIRA_WEBHOOK_SECRET", "no webhook secret", True),
    ("notion", "notion_webhook_token", "NOTION_WEBHOOK_TOKEN", "no verification token", False),
)


#: Every variable relais reads a secret from (each also as NAME_FILE).
SECRET_VARIABLES = tuple(w[2] for w in _WANTED) + tuple(w[2] for w in _WEBHOOKS)


class SecretError(Exception):
    """Secrets needed by the enabled sources are missing or unreadable."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def __reduce__(self) -> tuple:
        return (type(self), (self.problems,))


def mask(value: str | None) -> str:
    """``****wxyz`` — the last 4 characters only, and none of a short value."""
    if value is None:
        return "None"
    return "****" + (value[-4:] if len(value) >= 16 else "")


@dataclass(frozen=True, repr=False)
class Secrets:
    jira_email: str | None = None
    jira_api_token: str | None = None
    notion_token: str | None = None
    pagerduty_token: str | None = None
    pagerduty_webhook_secret: str | None = None  # one or more, comma-separated (a rotation)
    jira_webhook_secret: str | None = None
    notion_webhook_token: str | None = None

    def __repr__(self) -> str:
        # Webhook secrets are shown only when set: most deployments have none.
        shown = ", ".join(
            f"{f.name}={mask(getattr(self, f.name))}"
            for f in fields(self)
            if "webhook" not in f.name or getattr(self, f.name) is not None
        )
        return f"Secrets({shown})"

    __str__ = __repr__


def resolve_secrets(settings: Settings, environ: Mapping[str, str] = os.environ) -> Secrets:
    enabled = settings.sources.enabled()
    values: dict[str, str] = {}
    problems: list[str] = []
    for tool, attribute, variable, lack in _WANTED:
        if tool not in enabled:
            continue
        value, problem = _lookup(variable, environ)
        if problem:
            problems.append(f"{tool}: {problem}")
        elif value is None:
            problems.append(f"{tool}: {lack}: set {variable} or {variable}_FILE")
        else:
            values[attribute] = value
    hooks = settings.daemon.webhooks.enabled()
    for hook, attribute, variable, lack, required in _WEBHOOKS:
        if hook not in hooks:
            continue
        value, problem = _lookup(variable, environ)
        if problem:
            problems.append(f"daemon.webhooks.{hook}: {problem}")
        elif value is None and required:
            problems.append(f"daemon.webhooks.{hook}: {lack}: set {variable} or {variable}_FILE")
        elif value is not None:
            values[attribute] = value
    if problems:
        raise SecretError(problems)
    return Secrets(**values)


def _lookup(variable: str, environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(value, None), (None, None) when not set anywhere, or (None, problem)."""
    direct = environ.get(variable)
    if direct is not None and direct.strip():
        return _checked(variable, direct.strip())
    file_variable = f"{variable}_FILE"
    named = environ.get(file_variable)
    if named is None or not named.strip():
        if direct is not None:
            return None, f"{variable} is set but empty; set it or {file_variable}"
        return None, None
    try:
        content = Path(named).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        return None, f"cannot read {file_variable}={named}: {reason}"
    if not content:
        return None, f"{file_variable}={named} names an empty file"
    return _checked(file_variable, content)


def _checked(variable: str, value: str) -> tuple[str | None, str | None]:
    if variable.startswith("PAGERDUTY_WEBHOOK_SECRET"):  # a list during a rotation: "new, old"
        value = ",".join(part.strip() for part in value.split(",") if part.strip())
    # A token split over lines or with spaces inside is a paste error; an HTTP
    # library would reject the header later with a message showing the value.
    if any(c.isspace() for c in value):
        return None, f"{variable} contains whitespace inside the value; check how it was pasted"
    return value, None
