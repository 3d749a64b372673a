"""The one error type handlers raise, the JSON error middleware, and how the engine's errors
map onto HTTP statuses."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from inference.errors import HintsError, HintsProblem, QueueFullError, SketchError, SketchProblem

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]

MIB = 1024 * 1024


# refine_server/errors.py holds checked copies of ApiError, error_response and json_errors
# (the two parts install apart); tests/test_copies.py fails when they differ.
class ApiError(Exception):
    """Becomes ``{"error": message}`` with ``status`` (and ``Retry-After`` when given)."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def error_response(status: int, message: str, *, retry_after: int | None = None) -> web.Response:
    """``{"error": message}`` with ``status`` (and ``Retry-After`` in seconds when given)."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return web.json_response({"error": message}, status=status, headers=headers)


def json_errors(max_upload_mb: float) -> Middleware:
    """The middleware that turns every failure into ``{"error": ...}``; unexpected ones are
    logged once, here. ``max_upload_mb`` is named in the answer to an upload over the limit."""

    @web.middleware
    async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            response = error_response(exc.status, exc.message, retry_after=exc.retry_after)
            if exc.status == 408:
                # A body too slow to arrive is not drained for aiohttp's 10 s lingering time
                # either: answer, then hang up.
                await response.prepare(request)
                await response.write_eof()
                request.protocol.force_close()
            return response
        except web.HTTPRequestEntityTooLarge as exc:
            # aiohttp raises this for a body over client_max_size and for a form over
            # client_max_fields (1000 by default); only its text tells them apart.
            if "fields" in (exc.text or ""):
                return error_response(
                    413, "The form has too many fields. Send only the fields the API names."
                )
            return error_response(
                413, f"The upload is larger than {max_upload_mb:g} MB. Send a smaller image."
            )
        except web.HTTPException as exc:  # aiohttp's own 404 / 405 ...
            if exc.status < 400:
                raise
            return error_response(exc.status, exc.reason)
        except Exception:
            logger.exception("Unexpected error on %s %s", request.method, request.path)
            return error_response(
                500, "Unexpected server error; the details are in the server log."
            )

    return errors_middleware


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


def hints_error(err: HintsError) -> ApiError:
    """400 for hints that cannot be used: a malformed ``hints`` field (the entry named), or
    hints for a model that takes none."""
    if err.reason == HintsProblem.NOT_ACCEPTED:
        return ApiError(
            400, "This model takes no color hints (it was trained without them); send no hints."
        )
    message = str(err)
    return ApiError(400, f"{message[:1].upper()}{message[1:]}.")
