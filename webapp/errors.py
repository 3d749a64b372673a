"""The one error type handlers raise, and how the engine's errors map onto HTTP statuses."""

from __future__ import annotations

from inference.errors import QueueFullError, SketchError, SketchProblem

MIB = 1024 * 1024


class ApiError(Exception):
    """Becomes ``{"error": message}`` with ``status`` (and ``Retry-After`` when given)."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


# The status of each reason; the words are this front end's own.
SKETCH_STATUS: dict[SketchProblem, int] = {
    SketchProblem.EMPTY: 400,
    SketchProblem.NOT_AN_IMAGE: 415,
    SketchProblem.TRUNCATED: 415,
    SketchProblem.UNREADABLE: 415,
    SketchProblem.TOO_MANY_PIXELS: 413,
    SketchProblem.FILE_TOO_LARGE: 413,
}


def sketch_error(err: SketchError) -> ApiError:
    """413 for images too large, 400 for an empty file, 415 for anything unreadable."""
    return ApiError(SKETCH_STATUS.get(err.reason, 415), describe_sketch_error(err))


def describe_sketch_error(err: SketchError) -> str:
    """A sentence a person uploading the image can act on."""
    size, limit = err.size or 0, err.limit or 0
    match err.reason:
        case SketchProblem.EMPTY:
            return "This file is empty. Please send a PNG, JPEG or WebP sketch."
        case SketchProblem.TRUNCATED:
            return "This image is damaged or incomplete. Please save it again and resend it."
        case SketchProblem.TOO_MANY_PIXELS:
            return (
                f"This image is too large ({size / 1e6:.0f} megapixels). "
                f"Please send one under {limit // 1_000_000} megapixels."
            )
        case SketchProblem.FILE_TOO_LARGE:
            return (
                f"This file is too big ({size / 1e6:.0f} MB). "
                f"Please send one under {limit / MIB:.0f} MB."
            )
    return "This file is not an image I can read. Please send a PNG, JPEG or WebP sketch."


def queue_full_error(err: QueueFullError) -> ApiError:
    """503 with ``Retry-After``: the inference queue is full."""
    return ApiError(
        503,
        f"Too many sketches are waiting ({err.queued}). Please try again in a minute.",
        retry_after=err.retry_after,
    )
