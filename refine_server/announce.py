"""Tell the world where the server is: the public npoint document, then each admin on Telegram.

Both retry with exponential backoff and never raise: a failure is logged and the server keeps
serving. The document is signed with ``REFINE_TOKEN`` (version 2) and never holds the token
itself; the bot token never reaches a log line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from pixelpainter_common.discovery import sign
from refine_server.settings import Settings

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=15)


@dataclass(frozen=True)
class ServerInfo:
    """What is announced about a running server."""

    url: str
    models: list[str]
    gpu: str
    controlnet: bool
    started_at: int


@dataclass(frozen=True)
class AnnounceResult:
    published: bool
    notified: int  # admins reached


def discovery_document(info: ServerInfo, token: str) -> dict[str, Any]:
    """design.md's discovery document, version 2: public, so signed and holding no secret."""
    fields = {
        "url": info.url,
        "started_at": info.started_at,
        "models": info.models,
        "gpu": info.gpu,
        "controlnet": info.controlnet,
    }
    return sign(fields, token)


def start_message(info: ServerInfo) -> str:
    """The admin notification text."""
    controlnet = "on" if info.controlnet else "off"
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(info.started_at))
    return (
        "🎨 PixelPainter refine server is up\n"
        f"URL: {info.url}\n"
        f"GPU: {info.gpu}\n"
        f"Models: {', '.join(info.models)}\n"
        f"ControlNet: {controlnet}\n"
        f"Started: {started}"
    )


class _Retryable(Exception):
    """A failure worth another attempt (network, 5xx, 429)."""


class _Permanent(Exception):
    """A failure that retrying cannot fix (4xx other than 429)."""


def _describe(exc: BaseException) -> str:
    """A log-safe reason: never ``str()`` of an aiohttp error, whose URL may hold the bot token."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"HTTP {exc.status}"
    if isinstance(exc, _Retryable):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "timed out"
    return type(exc).__name__


async def with_retries(
    what: str, attempt: Callable[[], Awaitable[None]], *, attempts: int, backoff_s: float
) -> bool:
    """Run ``attempt`` until it succeeds, sleeping backoff, 2×backoff, ... between tries."""
    for number in range(1, attempts + 1):
        try:
            await attempt()
            return True
        except (aiohttp.ClientError, TimeoutError, _Retryable) as exc:
            reason = _describe(exc)
        if number < attempts:
            delay = backoff_s * 2 ** (number - 1)
            logger.warning(
                "%s failed (%s), attempt %d/%d; retrying in %.1f s",
                what,
                reason,
                number,
                attempts,
                delay,
            )
            await asyncio.sleep(delay)
        else:
            logger.error(
                "%s failed (%s) after %d attempts; carrying on without it", what, reason, attempts
            )
    return False


async def _check(response: aiohttp.ClientResponse) -> None:
    if response.status == 429 or response.status >= 500:
        raise _Retryable(f"HTTP {response.status}")
    if response.status >= 400:
        # A 4xx will not get better by retrying (wrong bin id, blocked bot, bad chat id).
        raise _Permanent(f"HTTP {response.status}")


async def publish_discovery(
    session: aiohttp.ClientSession, settings: Settings, info: ServerInfo
) -> bool:
    """POST the discovery document to ``{NPOINT_API_BASE}/{NPOINT_BIN_ID}``."""
    if not settings.npoint_bin_id:
        logger.info("NPOINT_BIN_ID is not set; not publishing the URL")
        return False
    url = f"{settings.npoint_api_base}/{settings.npoint_bin_id}"
    document = discovery_document(info, settings.refine_token.get_secret_value())

    async def attempt() -> None:
        async with session.post(url, json=document, timeout=REQUEST_TIMEOUT) as response:
            await _check(response)

    try:
        ok = await with_retries(
            "Publishing to npoint",
            attempt,
            attempts=settings.announce_attempts,
            backoff_s=settings.announce_backoff_s,
        )
    except _Permanent as exc:
        logger.error("Publishing to npoint refused (%s); check NPOINT_BIN_ID", exc)
        return False
    if ok:
        logger.info("Published %s to npoint document %s", info.url, settings.npoint_bin_id)
    return ok


async def notify_admins(
    session: aiohttp.ClientSession, settings: Settings, info: ServerInfo
) -> int:
    """Send each ``ADMIN_CHAT_IDS`` chat the start message; return how many got it."""
    token = settings.telegram_bot_token.get_secret_value()
    if not token or not settings.admin_chat_ids:
        logger.info("TELEGRAM_BOT_TOKEN or ADMIN_CHAT_IDS not set; not notifying admins")
        return 0
    url = f"{settings.telegram_api_base}/bot{token}/sendMessage"
    text = start_message(info)
    delivered = 0
    for chat_id in settings.admin_chat_ids:

        async def attempt(chat_id: int = chat_id) -> None:
            payload = {"chat_id": chat_id, "text": text, "disable_web_page_preview": True}
            async with session.post(url, json=payload, timeout=REQUEST_TIMEOUT) as response:
                await _check(response)

        try:
            ok = await with_retries(
                f"Telegram notice to chat {chat_id}",
                attempt,
                attempts=settings.announce_attempts,
                backoff_s=settings.announce_backoff_s,
            )
        except _Permanent as exc:
            logger.error("Telegram refused the notice to chat %s (%s)", chat_id, exc)
            ok = False
        delivered += ok
    return delivered


async def announce(settings: Settings, info: ServerInfo) -> AnnounceResult:
    """Publish, then notify; never raises for a network or service failure."""
    async with aiohttp.ClientSession() as session:
        published = await publish_discovery(session, settings, info)
        notified = await notify_admins(session, settings, info)
    return AnnounceResult(published=published, notified=notified)
