"""Logging: one JSON object per line when not on a terminal (the container),
readable lines on a terminal. Every message goes through redaction."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from connectors.errors import redact

_STANDARD = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        data.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(data, default=str))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        line = f"{record.levelname.lower():7} {record.getMessage()}"
        if extra:
            line += " " + json.dumps(extra, default=str)
        return redact(line)


def get_logger(name: str = "relais") -> logging.Logger:
    log = logging.getLogger(name)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(TextFormatter() if sys.stderr.isatty() else JsonFormatter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log
