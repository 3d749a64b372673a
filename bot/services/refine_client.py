"""HTTP client of the refine server (design.md's API), with one rediscovery and retry.

Every call reports to :class:`RefineHealth` itself (up on an answer, down when unreachable), and
a refined image is checked before anyone sees it: it must decode, at a sane size.
"""

from __future__ import annotations

import asyncio
import io
import logging
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from PIL import Image, UnidentifiedImageError
from pydantic import SecretStr

from bot.services.discovery import RefineLocator
from bot.services.refine_pool import RefinePool, RefineServer

logger = logging.getLogger(__name__)

T = TypeVar("T")
PROMPT_LIMIT = 300
HEALTH_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)
# A refined image is at most the server's working size scaled back to the input's size.
MAX_RESULT_SIDE = 10_000
MAX_RESULT_PIXELS = 50_000_000
RESULT_FORMATS = ("PNG", "JPEG", "WEBP")


class RefineError(Exception):
    """Refining did not produce an image; subclasses say why."""


class RefineOffline(RefineError):
    """No refine server answers (not configured, tunnel gone, connection refused)."""


class RefineUntrusted(RefineOffline):
    """The discovery document was rejected (bad signature, not https): nothing is contacted."""


class RefineBusy(RefineError):
    """The server's queue is full or its model is loading; try after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RefineRejected(RefineError):
    """The server refused this request (a 4xx with a reason a person can read)."""


class RefineServerError(RefineError):
    """The server failed on its side (a 5xx)."""


class RefineBadAnswer(RefineServerError):
    """The server answered 200 with something that is not a usable image."""


class RefineTimeout(RefineError):
    """The server took longer than the configured timeout."""


# Worth trying another server: this one is gone, full, or failed on its side (not the request's
# fault, and not a timeout: a second one would double the user's wait).
FAIL_OVER = (RefineOffline, RefineBusy, RefineServerError)


class _Stale(Exception):
    """The URL looks dead or moved: worth reading the discovery document again."""


@dataclass(frozen=True)
class Upload:
    """A file for the form: its bytes, real file name and content type."""

    data: bytes
    filename: str
    content_type: str


@dataclass(frozen=True)
class RefineRequest:
    """What to refine: ``image`` (the colored picture), optional ``sketch`` and ``prompt``."""

    image: Upload
    sketch: Upload | None
    model: str
    strength: float
    prompt: str | None = None
    seed: int | None = None


@dataclass(frozen=True)
class RefineResult:
    """The refined image (checked: it decodes) and how it was made."""

    png: bytes
    model: str
    seed: int | None
    seconds: float | None
    size: tuple[int, int]


class RefineClient:
    """Calls the servers of ``pool``; every call carries the bearer token."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        pool: RefinePool,
        token: SecretStr,
        *,
        timeout_s: float,
    ) -> None:
        self._session = session
        self.pool = pool
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=10)

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._token.get_secret_value()}",
            "ngrok-skip-browser-warning": "1",
        }

    async def refine(self, request: RefineRequest) -> RefineResult:
        """Refine an image on the best server, failing over to the next while one is down,
        full or failing; raises a :class:`RefineError` subclass when no server gives an image."""

        async def call(url: str) -> RefineResult:
            # Not quote_fields: a file name is sent as the user wrote it, not percent-encoded.
            form = aiohttp.FormData(quote_fields=False)
            for name, upload in (("image", request.image), ("sketch", request.sketch)):
                if upload is not None:
                    form.add_field(
                        name,
                        upload.data,
                        filename=upload.filename,
                        content_type=upload.content_type,
                    )
            form.add_field("model", request.model)
            form.add_field("strength", f"{request.strength:.2f}")
            if request.prompt:
                form.add_field("prompt", request.prompt[:PROMPT_LIMIT])
            if request.seed is not None:
                form.add_field("seed", str(request.seed))
            async with self._session.post(
                f"{url}/refine", data=form, headers=self._headers(), timeout=self._timeout
            ) as response:
                await _raise_for_status(response)
                data = await response.read()
                content_type = response.content_type
                headers = response.headers
            try:
                size = await asyncio.to_thread(check_image, data)
            except RefineBadAnswer as err:
                logger.warning(
                    "Refine server at %s answered 200 without a usable image (%s; %d bytes, %s)",
                    url,
                    err,
                    len(data),
                    content_type,
                )
                raise
            return RefineResult(
                png=data,
                model=headers.get("X-Model", request.model),
                seed=_int_or_none(headers.get("X-Seed")) or request.seed,
                seconds=_float_or_none(headers.get("X-Refine-Seconds")),
                size=size,
            )

        servers = self.pool.ranked(request.model)
        if not servers:
            raise RefineOffline("no refine server URL is known")
        failure: RefineError | None = None
        for server in servers:
            try:
                return await self._reported(server, call)
            except FAIL_OVER as err:
                if failure is None or not isinstance(err, RefineUntrusted):
                    failure = err  # the most telling reason, for the user
                if len(servers) > 1:
                    logger.info(
                        "Refine on %s failed (%s); trying the next server", server.name, err
                    )
        assert failure is not None
        raise failure

    async def refresh_status(self) -> list[dict[str, Any] | RefineError]:
        """Read every server's ``/status`` into its health (the health job calls this);
        each server's document, or the error it gave."""

        async def call(url: str) -> dict[str, Any]:
            async with self._session.get(
                f"{url}/status", headers=self._headers(), timeout=HEALTH_TIMEOUT
            ) as response:
                await _raise_for_status(response)
                body = await response.json(content_type=None)
                return body if isinstance(body, dict) else {}

        async def one(server: RefineServer) -> dict[str, Any] | RefineError:
            if not server.locator.configured:
                return RefineOffline("not configured")
            try:
                status = await self._reported(server, call)
            except RefineError as err:
                return err
            server.health.record_status(status)
            return status

        return list(await asyncio.gather(*(one(s) for s in self.pool.servers)))

    async def _reported(self, server: RefineServer, call: Callable[[str], Awaitable[T]]) -> T:
        """Run ``call`` against ``server`` and tell its health how it went."""
        try:
            url, result = await self._with_rediscovery(server.locator, call)
        except RefineUntrusted:
            raise  # the admins were alerted about the document itself
        except RefineOffline as err:
            if server.locator.configured:  # a bot set up without a refine server has no outages
                await server.health.mark_down(server.locator.known_url, str(err))
            raise
        await server.health.mark_up(url)
        return result

    async def _with_rediscovery(
        self, locator: RefineLocator, call: Callable[[str], Awaitable[T]]
    ) -> tuple[str, T]:
        url = await locator.current()
        if url is None:
            raise _no_url(locator)
        try:
            return url, await _classify(call, url)
        except _Stale as err:
            logger.info("Refine server at %s unreachable (%s); rediscovering", url, err)
            retry_url = await locator.rediscover(stale=url)
            if retry_url is None:
                raise _no_url(locator, str(err)) from None
        try:
            return retry_url, await _classify(call, retry_url)
        except _Stale as err:
            raise RefineOffline(str(err)) from None


def _no_url(locator: RefineLocator, reason: str = "no refine server URL is known") -> RefineOffline:
    if locator.rejected:
        return RefineUntrusted(f"discovery document rejected: {locator.rejected}")
    return RefineOffline(reason)


def check_image(data: bytes) -> tuple[int, int]:
    """The (width, height) of a PNG/JPEG/WebP that decodes at a sane size; else RefineBadAnswer."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=RESULT_FORMATS) as image:
                width, height = image.size
                if not (
                    0 < width <= MAX_RESULT_SIDE
                    and 0 < height <= MAX_RESULT_SIDE
                    and width * height <= MAX_RESULT_PIXELS
                ):
                    raise RefineBadAnswer(f"an image of {width}×{height} pixels")
                image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as err:
        raise RefineBadAnswer("an image too large to decode") from err
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise RefineBadAnswer("not a PNG, JPEG or WebP image") from err
    return width, height


async def _classify(call: Callable[[str], Awaitable[T]], url: str) -> T:
    """Run ``call``, turning network failures into ``_Stale`` or a :class:`RefineError`."""
    try:
        return await call(url)
    except (aiohttp.ClientConnectionError, aiohttp.InvalidURL) as err:
        if isinstance(err, aiohttp.ServerTimeoutError) and not isinstance(
            err, aiohttp.ConnectionTimeoutError
        ):
            raise RefineTimeout(str(err)) from None
        raise _Stale(f"{type(err).__name__}: {err}") from None
    except TimeoutError:
        raise RefineTimeout("the refine server did not answer in time") from None
    except aiohttp.ClientError as err:  # an answer that broke off or could not be parsed
        raise RefineServerError(f"broken answer: {type(err).__name__}") from None


async def _raise_for_status(response: aiohttp.ClientResponse) -> None:
    if response.status == 200:
        return
    is_ngrok = "ngrok-error-code" in response.headers
    error = None
    if response.content_type == "application/json":
        try:
            body = await response.json()
            error = body.get("error") if isinstance(body, dict) else None
        except (ValueError, aiohttp.ClientError):
            error = None
    # 404 and 502 mean the tunnel moved or died; a 503 is ours only when it is our JSON error.
    if response.status in (404, 502) or (response.status == 503 and (is_ngrok or error is None)):
        raise _Stale(f"HTTP {response.status}")
    reason = str(error or f"HTTP {response.status}")
    if response.status in (401, 403):
        raise RefineOffline(f"the server refused REFINE_TOKEN (HTTP {response.status})")
    if response.status == 503:
        raise RefineBusy(reason, _float_or_none(response.headers.get("Retry-After")) or 30.0)
    if response.status >= 500:
        logger.warning("Refine server failed: HTTP %d: %s", response.status, reason)
        raise RefineServerError(reason)
    raise RefineRejected(reason)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _float_or_none(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
