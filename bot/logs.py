"""Logging for the bot process: one format, quiet HTTP libraries, secrets masked."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TextIO

from pixelpainter_common.redaction import redacting_handler


def quiet_chatty_loggers() -> None:
    """Loggers that would print URLs with the bot token in them, or a line per request."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # "HTTP Request: POST .../bot<token>/..."
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per health check
    # PTB's Bot debug lines carry URLs with the token ("Set Bot API URL", getFile results).
    for name in ("telegram.Bot", "telegram.ext.ExtBot"):
        logging.getLogger(name).setLevel(logging.INFO)


def configure_logging(level: str, secrets: Iterable[str], stream: TextIO | None = None) -> None:
    """Log to ``stream`` (stderr) at ``level``, with ``secrets`` masked, tracebacks included."""
    root = logging.getLogger()
    root.addHandler(redacting_handler(secrets, logging.StreamHandler(stream)))
    root.setLevel(level.upper())
    quiet_chatty_loggers()
