"""What the Jira fake's handlers raise, and how :mod:`sandbox.jira.api` answers each.

Apart from the modules that raise them, so the state, the bulk queue, the option fields and the
JQL evaluator can all use them without importing each other::

    JQLError (ValueError)  400, the message in ``errorMessages``
    FieldErrors            400 from a write: ``errors`` maps field id to Jira's message
    NotFound (KeyError)    404, no issue by that id or key
"""

from __future__ import annotations


class JQLError(ValueError):
    """Jira answers these with 400 and the message in ``errorMessages``."""


class FieldErrors(Exception):
    """400 from a write: ``errors`` maps field id to Jira's message."""

    def __init__(self, errors: dict[str, str], messages: list[str] | None = None):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()) or "; ".join(messages or []))
        self.errors = errors
        self.messages = messages or []


class NotFound(KeyError):
    pass
