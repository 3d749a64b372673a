"""The one error type handlers raise (an HTTP status and a sentence a person can act on), and
the JSON error middleware."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


# Copied from webapp.errors.ApiError (the refine server installs without the web app)
class ApiError(Exception):
    """Becomes ``{"error": message}`` with ``status`` (and ``Retry-After`` when given)."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


# Copied from webapp.errors.error_response
def error_response(status: int, message: str, *, retry_after: int | None = None) -> web.Response:
    """``{"error": message}`` with ``status`` (and ``Retry-After`` in seconds when given)."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return web.json_response({"error": message}, status=status, headers=headers)


# Copied from webapp.errors.json_errors
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
