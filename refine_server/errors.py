"""The one error type handlers raise: an HTTP status and a sentence a person can act on."""

from __future__ import annotations


class RequestError(Exception):
    """Becomes ``{"error": message}`` with ``status`` (and ``Retry-After`` when given)."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
