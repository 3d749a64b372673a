"""Secrets never reach a log line: the finished line is masked, traceback and all.

A ``logging.Filter`` sees only the message; a traceback is formatted later, by the formatter,
and a token inside an exception (a URL with the bot token in a ``ClientResponseError``) would
slip through. So redaction happens on the finished text, in the formatter.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

MASK = "***"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every non-empty secret replaced by ``***`` (longest first)."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then masks each secret in the whole line (message and traceback)."""

    def __init__(self, secrets: Iterable[str], fmt: str = FORMAT) -> None:
        super().__init__(fmt)
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self._secrets)


def redacting_handler(
    secrets: Iterable[str], handler: logging.Handler | None = None
) -> logging.Handler:
    """``handler`` (default: a stderr stream handler) with a :class:`RedactingFormatter`."""
    handler = handler if handler is not None else logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(secrets))
    return handler
