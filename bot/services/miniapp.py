"""The Mini App inside the bot's process: the web app on ``WEBAPP_HOST:WEBAPP_PORT``, sharing
the bot's inference service, with a bridge that reads sketches from and sends images to Telegram."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web
from PIL import Image
from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import texts
from bot.keyboards import colored_keyboard
from bot.services.coloring import ColorService
from bot.services.files import FileStore
from bot.settings import BotSettings
from inference.colorizer import Colorized, Style
from inference.hints import Hint
from inference.images import encode_jpeg
from inference.service import ColorizeBackend
from shared_state.rate_limit import Limiter
from webapp.app import create_app
from webapp.listen import start_site
from webapp.state import DeliveryError, WebAppConfig

logger = logging.getLogger(__name__)

# Telegram's limits for a photo (a larger or odder picture goes as a file only).
PHOTO_MAX_SIDES_SUM = 10_000
PHOTO_MAX_RATIO = 20


def fits_photo(width: int, height: int) -> bool:
    """Whether Telegram accepts a picture of this size as a photo."""
    return width + height <= PHOTO_MAX_SIDES_SUM and max(width, height) <= PHOTO_MAX_RATIO * min(
        width, height
    )


class TelegramBridge:
    """:class:`webapp.state.ChatBridge` for this bot: sketches by ``file_id``, sending to chats."""

    def __init__(self, bot: Bot, colors: ColorService, files: FileStore) -> None:
        self._bot = bot
        self._colors = colors
        self._files = files

    async def colorized(
        self, file_id: str, style: Style | None = None, hints: Sequence[Hint] = ()
    ) -> Colorized:
        """The colored sketch behind ``file_id`` (the bot's cache, or colorized again; always
        again with ``hints``)."""
        try:
            file = await self._bot.get_file(file_id)  # fetched from this File: one round trip
        except BadRequest as err:
            raise LookupError(file_id) from err
        # A file over the limit raises FileTooLarge, a SketchError the web app answers with 413.
        if style is None and not hints:
            return await self._colors.cached_or_colorize(self._bot, file)
        return await self._colors.colorize_now(self._bot, file, style=style, hints=hints)

    async def send_image(self, chat_id: int, image: Image.Image, png: bytes) -> None:
        """A photo preview with the usual keyboard when it fits, and the PNG as a file."""
        keyboard = colored_keyboard()
        try:
            if fits_photo(*image.size):
                preview = await asyncio.to_thread(encode_jpeg, image)
                sent = await self._bot.send_photo(
                    chat_id, preview, caption=texts.EDITED_CAPTION, reply_markup=keyboard
                )
                # Refining this photo should start from the PNG, not Telegram's recompressed JPEG.
                self._files.remember(sent.photo[-1], png)
                keyboard = None
            await self._bot.send_document(
                chat_id, png, filename=texts.FILE_EDITED, reply_markup=keyboard
            )
        except Forbidden as err:
            raise DeliveryError(texts.MINIAPP_START_FIRST) from err
        except TelegramError as err:
            logger.warning("Could not send an edited image to %s: %s", chat_id, err)
            raise DeliveryError(str(err)) from err


class MiniAppError(RuntimeError):
    """The Mini App could not start (e.g. ``WEBAPP_PORT`` is taken); says what to change."""


@dataclass
class MiniAppServer:
    """The running web app; ``url`` is where it listens (the public address is ``WEBAPP_URL``)."""

    runner: web.AppRunner
    url: str

    async def close(self) -> None:
        """Stop listening."""
        await self.runner.cleanup()


async def start_miniapp(
    settings: BotSettings,
    bot: Bot,
    inference: ColorizeBackend,
    colors: ColorService,
    files: FileStore,
    limiter: Limiter,
) -> MiniAppServer:
    """Serve the web app and the Mini App endpoints on ``WEBAPP_HOST:WEBAPP_PORT``: for
    Telegram users with valid initData only, those of ``ALLOWED_USER_IDS`` (and the admins)
    when it is set, each within the bot's own rate limits (``limiter``)."""
    allowed = settings.allowed_user_ids
    config = WebAppConfig(
        max_upload_mb=settings.max_image_mb,
        bot_token=settings.telegram_bot_token.get_secret_value(),
        allowed_user_ids=frozenset([*allowed, *settings.admin_chat_ids] if allowed else []),
    )
    bridge = TelegramBridge(bot, colors, files)
    app = create_app(config, inference=inference, bridge=bridge, limiter=limiter)
    try:
        runner, site = await start_site(
            app, settings.webapp_host, settings.webapp_port, max_connections=config.max_connections
        )
    except OSError as err:
        raise MiniAppError(
            f"WEBAPP_HOST/WEBAPP_PORT: cannot listen on "
            f"{settings.webapp_host}:{settings.webapp_port}: {err.strerror or err}"
        ) from err
    host, port = site._server.sockets[0].getsockname()[:2]  # type: ignore[union-attr]
    url = f"http://{host}:{port}"
    logger.info("Mini App served on %s for %s", url, settings.webapp_url)
    return MiniAppServer(runner, url)
