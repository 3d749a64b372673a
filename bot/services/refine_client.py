"""HTTP client of the refine server (design.md's API), with one rediscovery and retry."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from pydantic import SecretStr

from bot.services.discovery import RefineLocator

logger = logging.getLogger(__name__)

T = TypeVar("T")
PROMPT_LIMIT = 300
HEALTH_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)


class RefineError(Exception):
    """Refining did not produce an image; subclasses say why."""


class RefineOffline(RefineError):
    """No refine server answers (not configured, tunnel gone, connection refused)."""


class RefineBusy(RefineError):
    """The server's queue is full or its model is loading; try after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RefineRejected(RefineError):
    """The server refused the request (4xx/5xx with a reason a person can read)."""


class RefineTimeout(RefineError):
    """The server took longer than the configured timeout."""


class _Stale(Exception):
    """The URL looks dead or moved: worth reading the discovery document again."""


@dataclass(frozen=True)
class RefineRequest:
    """What to refine: ``image`` (the colored picture), optional ``sketch`` and ``prompt``."""

    image: bytes
    sketch: bytes | None
    model: str
    strength: float
    prompt: str | None = None
    seed: int | None = None


@dataclass(frozen=True)
class RefineResult:
    """The refined PNG and how it was made."""

    png: bytes
    model: str
    seed: int | None
    seconds: float | None


class RefineClient:
    """Calls the refine server found by ``locator``; every call carries the bearer token."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        locator: RefineLocator,
        token: SecretStr,
        *,
        timeout_s: float,
    ) -> None:
        self._session = session
        self.locator = locator
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=10)

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._token.get_secret_value()}",
            "ngrok-skip-browser-warning": "1",
        }

    async def refine(self, request: RefineRequest) -> RefineResult:
        """Refine an image; raises a :class:`RefineError` subclass when there is no image."""

        async def call(url: str) -> RefineResult:
            form = aiohttp.FormData()
            form.add_field("image", request.image, filename="image.png")
            if request.sketch is not None:
                form.add_field("sketch", request.sketch, filename="sketch.png")
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
                png = await response.read()
                return RefineResult(
                    png=png,
                    model=response.headers.get("X-Model", request.model),
                    seed=_int_or_none(response.headers.get("X-Seed")) or request.seed,
                    seconds=_float_or_none(response.headers.get("X-Refine-Seconds")),
                )

        return await self._with_rediscovery(call)

    async def status(self) -> dict[str, Any]:
        """The server's ``/status`` document."""

        async def call(url: str) -> dict[str, Any]:
            async with self._session.get(
                f"{url}/status", headers=self._headers(), timeout=HEALTH_TIMEOUT
            ) as response:
                await _raise_for_status(response)
                body = await response.json(content_type=None)
                return body if isinstance(body, dict) else {}

        return await self._with_rediscovery(call)

    async def check_health(self) -> str:
        """The URL of a healthy server; raises :class:`RefineError` otherwise."""

        async def call(url: str) -> str:
            async with self._session.get(
                f"{url}/health", headers=self._headers(), timeout=HEALTH_TIMEOUT
            ) as response:
                await _raise_for_status(response)
                return url

        return await self._with_rediscovery(call)

    async def _with_rediscovery(self, call: Callable[[str], Awaitable[T]]) -> T:
        url = await self.locator.current()
        if url is None:
            raise RefineOffline("no refine server URL is known")
        try:
            return await _classify(call, url)
        except _Stale as err:
            logger.info("Refine server at %s unreachable (%s); rediscovering", url, err)
            retry_url = await self.locator.rediscover(stale=url)
            if retry_url is None:
                raise RefineOffline(str(err)) from None
        try:
            return await _classify(call, retry_url)
        except _Stale as err:
            raise RefineOffline(str(err)) from None


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
