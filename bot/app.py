"""Builds the bot: the PTB Application, its handlers, and the services it starts with."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
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
from bot.services.health import Notify, RefineHealth
from bot.services.image_cache import ImageCache
from bot.services.miniapp import start_miniapp
from bot.services.refine_client import RefineClient
from bot.services.refine_pool import RefinePool, RefineServer
from bot.services.refine_store import FlightStore, RefineStore, StoreUnavailable
from bot.services.refining import RefineFlights, Refining
from bot.services.stats import Stats
from bot.settings import BotSettings
from bot.state import STATE_KEY, BotState
from inference.colorizer import Colorizer
from inference.service import ColorizeBackend
from inference.settings import load_colorizer, model_takes_hints
from shared_state.alerts import AlertGate, LocalAlerts, RedisAlerts
from shared_state.rate_limit import Limiter, LocalLimiter
from workers.backend import start_backend

logger = logging.getLogger(__name__)

_FALLBACK_TASK = "health-loop"
_RECOVERY_TASK = "refine-recovery"
MINIAPP_KEY = "miniapp"
# With replicas, how often each looks for refines of a replica that died (heartbeats last 20 s).
RECOVERY_SWEEP_S = 10.0


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


@dataclass
class _Shared:
    """What replicas must agree on: in Redis when ``REDIS_URL`` is set, else in this process."""

    redis: Any  # redis.asyncio.Redis, or None alone
    limiter: Limiter
    store: FlightStore
    alerts: AlertGate


async def _open_shared(settings: BotSettings) -> _Shared:
    limits = (settings.rate_limit_per_minute, settings.rate_limit_per_day)
    if settings.scale.redis_url is None:
        store = await asyncio.to_thread(RefineStore, settings.bot_data_dir)
        return _Shared(None, LocalLimiter(*limits), store, LocalAlerts())
    # Imported here: the [scale] extra is needed only with REDIS_URL.
    from bot.services.redis_refine_store import RedisRefineStore
    from shared_state.connection import connect
    from shared_state.keys import Keys
    from shared_state.rate_limit import RedisRateLimiter

    redis = connect(settings.scale.redis_url.get_secret_value())
    keys = Keys(settings.scale.redis_prefix)
    redis_store = RedisRefineStore(redis, keys)
    await redis_store.start()
    logger.info("Shared state in Redis (prefix %s), replica %s", keys.prefix, redis_store.replica)
    return _Shared(
        redis,
        RedisRateLimiter(redis, keys, "bot", *limits),
        redis_store,
        RedisAlerts(redis, keys),
    )


async def _start_inference(
    settings: BotSettings, colorizer: Colorizer | None, shared: _Shared
) -> ColorizeBackend:
    """The in-process model (loaded and warmed here), or the client of the Celery workers."""

    def load() -> Colorizer:
        if colorizer is not None:
            return colorizer
        weights = settings.inference.generator_weights
        logger.info("Loading generator weights (%s)", weights or "bundled")
        return load_colorizer(settings.inference)

    return await start_backend(
        settings.scale,
        load=load,
        style=settings.inference.inference_style,
        max_batch=settings.inference_max_batch,
        max_queue=settings.inference_max_queue,
        redis=shared.redis,
        takes_hints=lambda: model_takes_hints(settings.inference),
    )


def _refine_pool(
    settings: BotSettings, session: aiohttp.ClientSession, notify: Notify, alerts: AlertGate
) -> RefinePool:
    """One server per ``REFINE_URL``/``REFINE_URLS`` address and per npoint document."""

    async def document_rejected(reason: str) -> None:
        await notify(texts.ADMIN_DISCOVERY_REJECTED.format(reason=reason))

    def server(name: str, *, url: str | None = None, bin_id: str = "") -> RefineServer:
        locator = RefineLocator(
            session,
            fixed_url=url,
            npoint_api_base=settings.npoint_api_base,
            npoint_bin_id=bin_id,
            token=settings.refine_token,
            on_rejected=document_rejected,
            alerts=alerts,
        )
        return RefineServer(name, locator, RefineHealth(notify, name=name, alerts=alerts))

    urls = [settings.refine_url] if settings.refine_url else []
    # REFINE_URL overrides NPOINT_BIN_ID (one server, as always); the lists add servers.
    bins = [settings.npoint_bin_id] if settings.npoint_bin_id and not settings.refine_url else []
    servers = [server(url, url=url) for url in dict.fromkeys([*urls, *settings.refine_urls])]
    servers += [
        server(f"npoint {b}", bin_id=b) for b in dict.fromkeys([*bins, *settings.npoint_bin_ids])
    ]
    if not servers:  # not configured: one server that finds nothing (until /seturl)
        servers = [server("refine")]
    return RefinePool(servers, lambda name, url: server(name, url=url))


async def _start_services(
    application: Application, settings: BotSettings, colorizer: Colorizer | None
) -> None:
    """Open the shared state, start inference, open the HTTP session, schedule the health job."""
    shared = await _open_shared(settings)
    inference = await _start_inference(settings, colorizer, shared)
    session = aiohttp.ClientSession(headers={"User-Agent": "PixelPainter-bot/1"})
    cache = ImageCache(settings.image_cache_mb * 1_048_576)
    files = FileStore(cache, settings.max_image_mb)

    async def notify_admins(text: str) -> None:
        for chat_id in settings.admin_chat_ids:
            try:
                await application.bot.send_message(chat_id, text)
            except TelegramError as err:
                logger.warning("Could not alert admin %s: %s", chat_id, err)

    pool = _refine_pool(settings, session, notify_admins, shared.alerts)
    client = RefineClient(session, pool, settings.refine_token, timeout_s=settings.refine_timeout_s)
    colors = ColorService(inference, files, cache)
    if isinstance(shared.store, RefineStore) and shared.store.moved_aside is not None:
        await notify_admins(texts.ADMIN_STORE_RESET.format(path=shared.store.moved_aside))
    refining = Refining(
        files=files,
        colors=colors,
        client=client,
        store=shared.store,
        flights=RefineFlights(settings.shutdown_grace_s),
    )
    state = BotState(
        settings=settings,
        session=session,
        redis=shared.redis,
        inference=inference,
        cache=cache,
        files=files,
        colors=colors,
        limiter=shared.limiter,
        pool=pool,
        refine=client,
        store=shared.store,
        refining=refining,
        stats=Stats(),
    )
    application.bot_data[STATE_KEY] = state
    # Refines cut off by the last stop (or, with Redis, by a replica that died): captions back,
    # users asked to tap again. Replicas look again every little while.
    sweep = RECOVERY_SWEEP_S if shared.redis is not None else None
    application.bot_data[_RECOVERY_TASK] = asyncio.create_task(
        _answer_unfinished(refining, application.bot, sweep)
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
    logger.info(
        "Bot ready: colorizing %s, refine servers via %s",
        "on Celery workers" if settings.scale.inference_backend == "celery" else "in process",
        pool.source,
    )


async def _answer_unfinished(refining: Refining, bot: Any, every_s: float | None) -> None:
    while True:
        try:
            await refining.answer_unfinished(bot)
        except StoreUnavailable as err:
            logger.warning("Cut-off refines not checked: %s", err)
        if every_s is None:
            return
        await asyncio.sleep(every_s)


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
        if isinstance(state.store, RefineStore):
            state.store.close()
        else:
            await state.store.aclose()  # type: ignore[attr-defined]
        if state.redis is not None:
            await state.redis.aclose()


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
