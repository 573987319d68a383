"""Value types shared by the models: each validates, normalises, and says what it expected.

Validators raise one of two error kinds, which ``_messages`` renders:

- ``expected(what)`` — "expected <what>, found <the value's YAML type and a short repr>"
- ``relais_error(message)`` — a complete message, used as written

so that every message reads the same whichever model raised it.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from sync.models import WorkClass

from ._secretlike import looks_like_secret

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice nearest to ``word`` (case-insensitively), if any is close enough."""
    by_folded = {c.casefold(): c for c in choices}
    close = difflib.get_close_matches(word.casefold(), list(by_folded), n=1, cutoff=0.6)
    return by_folded[close[0]] if close else None


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'issuetype'?)`` or ''."""
    match = closest(word, choices)
    return f" (did you mean '{match}'?)" if match else ""


def quoted(value: Any) -> str:
    """A value for a message: quoted and shortened, never a secret."""
    if looks_like_secret(value):
        return "(a value that looks like a secret, not shown)"
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def relais_error(message: str) -> PydanticCustomError:
    return PydanticCustomError("relais", "{message}", {"message": message})


def distinct_properties(names: dict[str, str]) -> None:
    """Each setting → property name: two settings naming one property is an error (relais would
    write both values into it, one after the other)."""
    owner: dict[str, str] = {}
    for setting, name in names.items():
        if name in owner:
            raise relais_error(f"{owner[name]} and {setting} both name the property {quoted(name)}")
        owner[name] = setting


def expected(what: str, hint: str = "") -> PydanticCustomError:
    return PydanticCustomError("expected", "expected {what}", {"what": what, "hint": hint})


# ------------------------------------------------------------------ lists ---


def _one_or_many(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise expected("a string or a list of strings")
    return value


def _list_of_strings(value: Any) -> Any:
    if isinstance(value, str):
        raise expected("a list of strings", hint=f"write [{value}] for a single value")
    if not isinstance(value, list):
        raise expected("a list of strings")
    return value


# A condition value: `source: jira` means `source: [jira]`.
OneOrMany = Annotated[
    list[str],
    BeforeValidator(_one_or_many, json_schema_input_type=str | list[str]),
    Field(min_length=1),
]
# Settings that are always lists (services, projects…): a lone string is a mistake worth naming.
Names = Annotated[list[str], BeforeValidator(_list_of_strings)]
NonEmptyNames = Annotated[list[str], BeforeValidator(_list_of_strings), Field(min_length=1)]
Text = Annotated[str, Field(min_length=1)]


def none_is_empty(value: Any) -> Any:
    """A section whose entries are all commented out reads as null: treat it as empty."""
    return {} if value is None else value


def one_of(what: str, allowed: tuple[str, ...]) -> BeforeValidator:
    """A word from ``allowed``, in any case; a typo gets a did-you-mean."""

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            raise expected(f"one of {', '.join(allowed)}")
        folded = value.strip().lower()
        if folded in allowed:
            return folded
        raise relais_error(
            f"unknown {what} {quoted(value)}{suggest(folded, allowed)}; use {', '.join(allowed)}"
        )

    return BeforeValidator(check)


# ------------------------------------------------------------- work class ---

_WORK_CLASSES = [w.value for w in WorkClass]


def _work_class(value: Any) -> Any:
    if isinstance(value, WorkClass):
        return value
    if not isinstance(value, str):
        raise expected("RUN, BUILD or IMPROVE")
    name = value.strip().upper()
    if name in _WORK_CLASSES:
        return WorkClass(name)
    raise relais_error(
        f"unknown work class {quoted(value)}{suggest(name, _WORK_CLASSES)}; use RUN, BUILD or IMPROVE"
    )


# Accepted in any case ("run"), normalised to the enum.
WorkClassField = Annotated[WorkClass, BeforeValidator(_work_class)]


# ------------------------------------------------------------ urls, email ---


def _service_url(value: str) -> str:
    if looks_like_secret(value):
        raise relais_error("a URL must not contain credentials")
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname or ""
        _ = parts.port  # raises ValueError on a non-numeric port
    except ValueError:
        raise expected("an https:// URL such as https://acme.atlassian.net") from None
    if parts.username or parts.password:
        raise relais_error("a URL must not contain credentials; secrets come from the environment")
    if parts.query or parts.fragment:
        raise relais_error("expected a base URL without ?query or #fragment")
    if not host or parts.scheme not in ("https", "http"):
        raise expected("an https:// URL such as https://acme.atlassian.net")
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        raise relais_error(
            f"expected an https:// URL, found http://{host}; plain http is only allowed "
            "for a sandbox on this machine (127.0.0.1, localhost)"
        )
    pasted = _pasted_page(host, parts.path)
    if pasted:
        raise relais_error(pasted)
    return value.strip().rstrip("/")


def _pasted_page(host: str, path: str) -> str | None:
    """A page of the tool's web app pasted where its API's base URL belongs: what to write."""
    if host.endswith(".atlassian.net") and path.strip("/"):
        return f"expected the Jira site's base URL, https://{host}, not one of its pages ({path})"
    if host in ("notion.so", "www.notion.so", "app.notion.com") or host.endswith(".notion.site"):
        return (
            "expected Notion's API, https://api.notion.com (a database goes under sources.notion.databases)"
        )
    if host.endswith(".pagerduty.com") and not host.startswith("api."):
        return (
            "expected PagerDuty's API, https://api.pagerduty.com (https://api.eu.pagerduty.com in the EU), "
            f"not the web app's {host}"
        )
    return None


# https://…, or http:// to a loopback sandbox (`relais demo`).
ServiceUrl = Annotated[str, AfterValidator(_service_url)]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value.strip()):
        raise relais_error(f"expected an email address, found {quoted(value)}")
    return value.strip()


Email = Annotated[str, AfterValidator(_email)]


# ------------------------------------------------------------- notion ids ---

_HEX32 = re.compile(r"[0-9a-f]{32}")


def _notion_id(value: str) -> str:
    compact = value.strip().replace("-", "").lower()
    if _HEX32.fullmatch(compact):
        return "-".join((compact[:8], compact[8:12], compact[12:16], compact[16:20], compact[20:]))
    hint = "; copy only the 32-character id from the URL" if "/" in value else ""
    raise relais_error(f"expected a Notion id (32 hex digits, dashes optional), found {quoted(value)}{hint}")


# A Notion UUID, with or without dashes, normalised to dashed lower case.
NotionId = Annotated[str, AfterValidator(_notion_id)]


# ------------------------------------------------------------------ paths ---


def _path_text(value: Any) -> Any:
    if isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value.strip():
        raise expected("a file path")
    return value.strip()


def _against_config_dir(value: Path, info: ValidationInfo) -> Path:
    """Relative paths are relative to the config file, not to the daemon's cwd."""
    base = Path((info.context or {}).get("base_dir") or os.getcwd())
    return Path(os.path.normpath(base / value.expanduser()))


def _existing_file(value: Path) -> Path:
    if not value.is_file():
        raise relais_error(f"file not found: {value} (relative paths start at the config file's folder)")
    return value


ConfigPath = Annotated[Path, BeforeValidator(_path_text), AfterValidator(_against_config_dir)]
ExistingFile = Annotated[ConfigPath, AfterValidator(_existing_file)]
