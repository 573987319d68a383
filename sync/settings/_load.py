"""load_settings: read, parse, validate, cross-check — then raise every problem at once."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from ._balance import ALERT_NAME_ERROR
from ._checks import check_inline_secrets, check_references
from ._checks_briefings import check_briefings
from ._checks_owned import check_owned
from ._checks_route import check_routes
from ._daemon import check_daemon
from ._errors import ConfigError, ConfigProblem, format_path
from ._messages import problems_from_errors
from ._model import DEFAULT_ERROR, Settings
from ._route import ROUTE_ERROR
from ._yaml import Document, parse_yaml

# Problems the checks report themselves from the plain data, with the lines of both entries.
_CHECKED = (DEFAULT_ERROR, ALERT_NAME_ERROR, ROUTE_ERROR)


def load_settings(path: str | Path) -> Settings:
    """The settings in ``path``, or ConfigError listing every problem in it.

    Problems name the file as given (``config/relais.yaml``), so they read the
    same in a terminal, in CI and in ``relais explain``.
    """
    given = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            [ConfigProblem(given, None, format_path(()), f"cannot read the file: {reason}")]
        ) from None
    doc = parse_yaml(raw, given)
    if doc.data is None:
        raise ConfigError(doc.problems)

    secret_paths = check_inline_secrets(doc)
    check_references(doc)
    check_routes(doc)
    check_briefings(doc)
    check_daemon(doc)
    settings = _validate(doc, Path(os.path.abspath(path)).parent)
    if settings is not None:
        check_owned(doc, settings)  # needs the defaults filled in: on the model, with the file's lines
    problems = [p for p in doc.problems if not _shadowed(p, secret_paths)]
    if settings is None and not problems:  # only the model's own copy of a reported problem
        problems = doc.problems or [ConfigProblem(given, 1, format_path(()), "invalid configuration")]
    if problems:
        raise ConfigError(problems)
    assert settings is not None
    return settings


def _validate(doc: Document, base_dir: Path) -> Settings | None:
    context = {"file": doc.file, "lines": doc.lines, "base_dir": str(base_dir)}
    try:
        return Settings.model_validate(doc.data, context=context)
    except ValidationError as exc:
        errors = [e for e in exc.errors(include_url=False) if e["type"] not in _CHECKED]
        doc.problems.extend(problems_from_errors(errors, doc, Settings))
    except Exception as exc:  # a bug in relais, not in the file; still no traceback for the operator
        doc.problem((), f"relais could not check this file ({type(exc).__name__}); please report this bug")
    return None


def _shadowed(problem: ConfigProblem, secret_paths: set) -> bool:
    """A pasted secret's own problem says what to do; 'unknown key api_token' would only distract."""
    if problem.message.startswith("secrets must not"):
        return False
    return any(problem.path == format_path(path) for path in secret_paths)
