"""Webhook mode for one bot or many replicas behind one HTTPS proxy.

Every replica serves the webhook path and checks Telegram's secret header itself; updates go
to its PTB application as any update would. Only a replica with ``WEBHOOK_REGISTER=true``
calls ``setWebhook`` (with the URL and secret, which is idempotent: several may), and no replica
ever calls ``deleteWebhook``: PTB's ``run_webhook`` would, with ``drop_pending_updates``, and
without a URL it would register one of its own making. That is why this is not ``run_webhook``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.settings import BotSettings

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
APPLICATION_KEY = web.AppKey("application", Application)
SECRET_KEY = web.AppKey("secret", str)
TASKS_KEY = web.AppKey("tasks", set)
# Quick work (a sketch) is answered before Telegram gets its 200: if this replica dies first,
# Telegram sends the update again, through the proxy, to another replica. Longer work (a
# refine) is acknowledged after this long; the in-flight refine store covers it.
ACK_AFTER_S = 20.0


async def receive_update(request: web.Request) -> web.Response:
    """One update from Telegram (through the proxy): checked, then queued for the handlers."""
    sent = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(sent.encode(), request.app[SECRET_KEY].encode()):
        return web.json_response({"error": "wrong or missing secret token"}, status=403)
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError):
        return web.json_response({"error": "the body is not JSON"}, status=400)
    application = request.app[APPLICATION_KEY]
    update = Update.de_json(data, application.bot) if isinstance(data, dict) else None
    if update is None:
        return web.json_response({"error": "not an update"}, status=400)
    # Handler errors go to the application's error handler; the task outlives this request.
    task = asyncio.create_task(application.process_update(update))
    tasks = request.app[TASKS_KEY]
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    await asyncio.wait({task}, timeout=ACK_AFTER_S)
    return web.Response(status=200)


async def health(request: web.Request) -> web.Response:
    """For the proxy's health checks: this replica is up and taking updates."""
    return web.json_response({"status": "ok"})


def create_webhook_app(application: Application, secret: str, path: str) -> web.Application:
    """The webhook endpoint at ``path``, accepting only calls that carry ``secret``, and
    ``GET /health`` for the proxy."""
    app = web.Application()
    app[APPLICATION_KEY] = application
    app[SECRET_KEY] = secret
    app[TASKS_KEY] = set()
    app.router.add_post(path, receive_update)
    app.router.add_get("/health", health)
    return app


async def serve_webhook(application: Application, settings: BotSettings) -> None:
    """Run the bot on its webhook until SIGTERM or SIGINT (as PTB's ``run_webhook`` would)."""
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value()
    path = urlparse(settings.webhook_url).path or "/"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        webhook_app = create_webhook_app(application, secret, path)
        runner = web.AppRunner(webhook_app, access_log=None, shutdown_timeout=ACK_AFTER_S + 5)
        await runner.setup()
        site: web.TCPSite | None = None
        try:
            site = web.TCPSite(runner, settings.webhook_listen, settings.webhook_port)
            await site.start()
            if settings.webhook_register:
                await application.bot.set_webhook(
                    settings.webhook_url,
                    secret_token=secret,
                    allowed_updates=Update.ALL_TYPES,
                )
                logger.info("Webhook registered: %s", settings.webhook_url)
            logger.info(
                "Webhook served on %s:%d%s", settings.webhook_listen, settings.webhook_port, path
            )
            await stop.wait()
        finally:
            if site is not None:  # no new connections
                await site.stop()
            await application.stop()  # running refines get SHUTDOWN_GRACE_S, then are answered
            running = webhook_app[TASKS_KEY]
            if running:
                await asyncio.wait(running, timeout=settings.shutdown_grace_s + 10)
            await runner.cleanup()
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(sig)


__all__ = ["create_webhook_app", "serve_webhook"]
