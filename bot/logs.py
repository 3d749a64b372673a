"""Logging for the bot process: one format, quiet HTTP libraries, secrets masked."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Replaces each secret with ``***`` in the finished line (traceback included)."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def quiet_chatty_loggers() -> None:
    """Loggers that would print URLs with the bot token in them, or a line per request."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # "HTTP Request: POST .../bot<token>/..."
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per health check
    # PTB's Bot debug lines carry URLs with the token ("Set Bot API URL", getFile results).
    for name in ("telegram.Bot", "telegram.ext.ExtBot"):
        logging.getLogger(name).setLevel(logging.INFO)


def configure_logging(level: str, secrets: Iterable[str], stream: TextIO | None = None) -> None:
    """Log to ``stream`` (stderr) at ``level``, with ``secrets`` masked as a last line of defence."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(FORMAT, secrets))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level.upper())
    quiet_chatty_loggers()
