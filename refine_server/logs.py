"""Logging set-up for the refine server CLI: one format, secrets masked in every line."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pixelpainter_common.redaction import redacting_handler


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """Log to stderr at ``level``, secrets masked (tracebacks too); quiet the chatty libraries."""
    root = logging.getLogger()
    root.handlers[:] = [redacting_handler(secrets)]
    root.setLevel(level.upper())
    for noisy in ("httpx", "urllib3", "huggingface_hub", "diffusers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
