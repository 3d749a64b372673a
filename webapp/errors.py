"""The one error type handlers raise, and how the engine's errors map onto HTTP statuses."""

from __future__ import annotations

from inference import images
from inference.errors import HintsError, HintsProblem, SketchError

_TOO_LARGE_PREFIXES = (images.TOO_LARGE.split("{")[0], images.TOO_BIG_FILE.split("{")[0])


class ApiError(Exception):
    """Becomes ``{"error": message}`` with ``status`` (and ``Retry-After`` when given)."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def sketch_error(err: SketchError) -> ApiError:
    """413 for images too large to decode, 400 for an empty file, 415 for anything unreadable."""
    message = str(err)
    if message.startswith(_TOO_LARGE_PREFIXES):
        return ApiError(413, message)
    if message == images.EMPTY:
        return ApiError(400, message)
    return ApiError(415, message)


def hints_error(err: HintsError) -> ApiError:
    """400 for hints that cannot be used: a malformed ``hints`` field (the entry named), or
    hints for a model that takes none."""
    if err.reason == HintsProblem.NOT_ACCEPTED:
        return ApiError(
            400, "This model takes no color hints (it was trained without them); send no hints."
        )
    message = str(err)
    return ApiError(400, f"{message[:1].upper()}{message[1:]}.")
