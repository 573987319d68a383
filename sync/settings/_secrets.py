"""Secrets, from the environment only (or files named in it: Docker/Kubernetes secrets).

For each variable NAME: ``environ[NAME]``, else the content of the file named by
``environ[NAME_FILE]``. Only the enabled sources' secrets are required. A
missing secret is reported with every variable that was looked for, the way
dlt lists every place it searched; no message or repr ever shows a value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from connectors import registry
from connectors.errors import register_secret
from connectors.spec import Secret
from sync.dialect import is_url, url_password

from ._model import Settings
from ._secretlike import STATE_URL_VARIABLE

#: Every variable relais reads a secret from (each also as NAME_FILE), from the vendors' specs.
SECRET_VARIABLES = tuple(s.variable for _, s in registry.secrets())


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


class Secrets:
    """The resolved secrets, by the attribute names of the vendors' specs (``secrets.jira_api_token``).

    Immutable; equal when the values are; no repr shows a value (:func:`mask`).
    """

    __slots__ = ("_values",)
    _values: dict[str, str | None]

    def __init__(self, **values: str | None) -> None:
        unknown = set(values) - set(_ATTRIBUTES)
        if unknown:
            raise TypeError(f"Secrets has no {', '.join(sorted(unknown))}")
        object.__setattr__(self, "_values", {a: values.get(a) for a in _ATTRIBUTES})

    def __getattr__(self, name: str) -> str | None:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secrets are immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secrets) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(self._values.items()))

    def items(self) -> list[tuple[str, str | None]]:
        """(attribute, value) of every secret, in the registry's order."""
        return list(self._values.items())

    def __repr__(self) -> str:
        # Webhook secrets are shown only when set: most deployments have none.
        shown = ", ".join(
            f"{a}={mask(v)}" for a, v in self._values.items() if a not in _WEBHOOK_ATTRIBUTES or v is not None
        )
        return f"Secrets({shown})"

    __str__ = __repr__


_ATTRIBUTES = tuple(s.attribute for v in registry.VENDORS for s in v.credentials) + tuple(
    v.webhook.attribute for v in registry.VENDORS
)
_WEBHOOK_ATTRIBUTES = frozenset(v.webhook.attribute for v in registry.VENDORS)


def resolve_secrets(settings: Settings, environ: Mapping[str, str] = os.environ) -> Secrets:
    enabled = settings.sources.enabled()
    values: dict[str, str] = {}
    problems: list[str] = []
    wanted = [(v.name, s) for v in registry.VENDORS if v.name in enabled for s in v.credentials]
    hooks = settings.daemon.webhooks.enabled()
    wanted += [(f"daemon.webhooks.{name}", registry.spec(name).webhook) for name in hooks]
    for where, secret in wanted:
        value, problem = read_secret(secret, environ)
        if problem:
            problems.append(f"{where}: {problem}")
        elif value is None and secret.required:
            problems.append(f"{where}: {secret.lack}: set {secret.variable} or {secret.variable}_FILE")
        elif value is not None:
            values[secret.attribute] = value
    try:
        state_location(settings, environ)
    except SecretError as e:
        problems += e.problems
    if problems:
        raise SecretError(problems)
    return Secrets(**values)


#: The state store's PostgreSQL URL, which may carry a password: from the environment, like a token.
STATE_URL = Secret("state_url", STATE_URL_VARIABLE, "no PostgreSQL URL", required=False)


def state_location(settings: Settings, environ: Mapping[str, str] = os.environ) -> Path | str:
    """Where the state store is: RELAIS_STATE_URL (or its _FILE) when set, else ``state.url``,
    else the SQLite file ``state.path``. A URL's password is registered for redaction."""
    value, problem = read_secret(STATE_URL, environ)
    if problem:
        raise SecretError([f"state: {problem}"])
    if value is not None and not is_url(value):
        raise SecretError(
            [
                f"state: {STATE_URL_VARIABLE} is not a PostgreSQL URL (postgresql://user:password@host:5432/database)"
            ]
        )
    url = value or settings.state.url
    if url is None:
        return settings.state.path
    register_secret(url_password(url))
    return url


def read_secret(secret: Secret, environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """``secret`` from ``VARIABLE`` or the file ``VARIABLE_FILE`` names: (value, None), (None,
    None) when not set anywhere, or (None, problem)."""
    variable = secret.variable
    direct = environ.get(variable)
    if direct is not None and direct.strip():
        return _checked(secret, variable, direct.strip())
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
    return _checked(secret, file_variable, content)


def _checked(secret: Secret, variable: str, value: str) -> tuple[str | None, str | None]:
    if secret.listed:  # a list during a rotation: "new, old"
        value = ",".join(part.strip() for part in value.split(",") if part.strip())
    # A token split over lines or with spaces inside is a paste error; an HTTP
    # library would reject the header later with a message showing the value.
    if any(c.isspace() for c in value):
        return None, f"{variable} contains whitespace inside the value; check how it was pasted"
    return value, None
