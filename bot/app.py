"""Builds the bot: the PTB Application, its handlers, and the services it starts with."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import texts
from bot.callbacks import Action, for_actions
from bot.handlers import admin, common, refine, sketch, style
from bot.handlers.errors import on_error
from bot.jobs import check_refine_health, refresh_refine_health
from bot.services.coloring import ColorService
from bot.services.discovery import RefineLocator
from bot.services.files import FileStore
from bot.services.health import RefineHealth
from bot.services.image_cache import ImageCache
from bot.services.miniapp import start_miniapp
from bot.services.refine_client import RefineClient
from bot.services.refine_store import RefineStore
from bot.services.refining import RefineFlights, Refining
from bot.services.stats import Stats
from bot.settings import BotSettings
from bot.state import STATE_KEY, BotState
from inference.colorizer import Colorizer
from inference.service import InferenceService
from inference.settings import load_colorizer
from pixelpainter_common.rate_limit import RateLimiter

logger = logging.getLogger(__name__)

_FALLBACK_TASK = "health-loop"
_RECOVERY_TASK = "refine-recovery"
MINIAPP_KEY = "miniapp"


class BotApplication(Application):
    """PTB's Application, telling running refines when it starts to stop.

    ``Application.stop`` waits for every running handler; a refine can take minutes, longer than
    service managers wait after SIGTERM. Refines get ``SHUTDOWN_GRACE_S``, then are answered.
    """

    async def stop(self) -> None:
        state: BotState | None = self.bot_data.get(STATE_KEY)
        if state is not None:
            state.refining.flights.stop()
        await super().stop()


def build_application(settings: BotSettings, *, colorizer: Colorizer | None = None) -> Application:
    """The bot, ready for ``run_polling``/``run_webhook``; the model loads in ``post_init``.

    ``colorizer``: an already loaded one (tests, benchmarks); None loads ``GENERATOR_WEIGHTS``.
    """

    async def post_init(application: Application) -> None:
        await _start_services(application, settings, colorizer)

    application = (
        Application.builder()
        .application_class(BotApplication)
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{settings.telegram_api_base}/bot")
        .base_file_url(f"{settings.telegram_api_base}/file/bot")
        .rate_limiter(AIORateLimiter(max_retries=3))
        # One slow refine must never hold up another user's sketch.
        .concurrent_updates(True)
        .post_init(post_init)
        .post_shutdown(_stop_services)
        .build()
    )
    _add_handlers(application)
    return application


def _add_handlers(application: Application) -> None:
    application.add_handler(TypeHandler(Update, common.restrict_users), group=-1)
    application.add_handlers(
        [
            CommandHandler("start", common.start),
            CommandHandler("help", common.help_command),
            CommandHandler("status", admin.status),
            CommandHandler("seturl", admin.set_url),
            CallbackQueryHandler(style.on_style, pattern=for_actions(Action.STYLE)),
            # New messages only: editing a caption must not color the sketch again.
            MessageHandler(filters.UpdateType.MESSAGE & filters.PHOTO, sketch.on_photo),
            MessageHandler(filters.UpdateType.MESSAGE & filters.Document.ALL, sketch.on_document),
            CallbackQueryHandler(
                refine.on_refine, pattern=for_actions(Action.REFINE, Action.AGAIN, Action.RESEED)
            ),
            CallbackQueryHandler(refine.on_strength, pattern=for_actions(Action.STRENGTH)),
            CallbackQueryHandler(refine.on_file, pattern=for_actions(Action.PNG, Action.LAYER)),
            # Stickers, videos, voice, text...: say what to send (not in groups: too chatty).
            MessageHandler(
                filters.UpdateType.MESSAGE
                & filters.ChatType.PRIVATE
                & ~filters.COMMAND
                & ~filters.StatusUpdate.ALL,
                common.unsupported,
            ),
        ]
    )
    application.add_error_handler(on_error)


async def _start_services(
    application: Application, settings: BotSettings, colorizer: Colorizer | None
) -> None:
    """Load and warm the model, open the HTTP session, schedule the health check."""
    if colorizer is None:
        weights = settings.inference.generator_weights
        logger.info("Loading generator weights (%s)", weights or "bundled")
        colorizer = await asyncio.to_thread(load_colorizer, settings.inference)
    inference = InferenceService(
        colorizer, max_batch=settings.inference_max_batch, max_queue=settings.inference_max_queue
    )
    await inference.start()
    session = aiohttp.ClientSession(headers={"User-Agent": "PixelPainter-bot/1"})
    cache = ImageCache(settings.image_cache_mb * 1_048_576)
    files = FileStore(cache, settings.max_image_mb)

    async def notify_admins(text: str) -> None:
        for chat_id in settings.admin_chat_ids:
            try:
                await application.bot.send_message(chat_id, text)
            except TelegramError as err:
                logger.warning("Could not alert admin %s: %s", chat_id, err)

    async def document_rejected(reason: str) -> None:
        await notify_admins(texts.ADMIN_DISCOVERY_REJECTED.format(reason=reason))

    locator = RefineLocator(
        session,
        fixed_url=settings.refine_url,
        npoint_api_base=settings.npoint_api_base,
        npoint_bin_id=settings.npoint_bin_id,
        token=settings.refine_token,
        on_rejected=document_rejected,
    )
    health = RefineHealth(notify_admins)
    client = RefineClient(
        session, locator, settings.refine_token, health, timeout_s=settings.refine_timeout_s
    )
    colors = ColorService(inference, files, cache)
    store = await asyncio.to_thread(RefineStore, settings.bot_data_dir)
    if store.moved_aside is not None:
        await notify_admins(texts.ADMIN_STORE_RESET.format(path=store.moved_aside))
    refining = Refining(
        files=files,
        colors=colors,
        client=client,
        health=health,
        store=store,
        flights=RefineFlights(settings.shutdown_grace_s),
    )
    state = BotState(
        settings=settings,
        session=session,
        inference=inference,
        cache=cache,
        files=files,
        colors=colors,
        limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_per_day),
        locator=locator,
        refine=client,
        health=health,
        store=store,
        refining=refining,
        stats=Stats(),
    )
    application.bot_data[STATE_KEY] = state
    # Refines cut off by the last stop: captions back, users asked to tap again.
    application.bot_data[_RECOVERY_TASK] = asyncio.create_task(
        refining.answer_unfinished(application.bot)
    )
    if settings.webapp_url:
        application.bot_data[MINIAPP_KEY] = await start_miniapp(
            settings, application.bot, inference, state.colors, files, state.limiter
        )
    interval = settings.health_check_interval_s
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            check_refine_health, interval=interval, first=min(5.0, interval), name="refine-health"
        )
    else:
        logger.warning("No job queue (install python-telegram-bot[job-queue]); using a task")
        application.bot_data[_FALLBACK_TASK] = asyncio.create_task(_health_loop(state, interval))
    logger.info("Bot ready: model warm, refine server via %s", locator.source)


async def _health_loop(state: BotState, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        await refresh_refine_health(state)


async def _stop_services(application: Application) -> None:
    """Close what ``_start_services`` opened."""
    for name in (_FALLBACK_TASK, _RECOVERY_TASK):
        task = application.bot_data.pop(name, None)
        if task is not None:
            task.cancel()
    miniapp = application.bot_data.pop(MINIAPP_KEY, None)
    if miniapp is not None:
        await miniapp.close()
    state: BotState | None = application.bot_data.pop(STATE_KEY, None)
    if state is not None:
        await state.inference.close()
        await state.session.close()
        state.store.close()


@contextlib.asynccontextmanager
async def polling(application: Application, **start_polling: Any) -> AsyncIterator[Application]:
    """Run the bot inside an existing event loop (tests, benchmarks), like ``run_polling``."""
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.updater.start_polling(**start_polling)
        await application.start()
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
