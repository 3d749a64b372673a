"""Admin commands: /status and /seturl."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot import texts
from bot.services.refine_pool import RefineServer
from bot.state import get_state
from pixelpainter_common.discovery import is_safe_url


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show uptime, queue, inference p50, today's requests, workers, and every refine server."""
    state = get_state(context)
    if not state.is_admin(update.effective_user.id if update.effective_user else None):
        await update.effective_message.reply_text(texts.ADMIN_ONLY)
        return
    servers = state.pool.servers
    statuses = await state.refine.refresh_status() if state.pool.configured else [{}] * len(servers)
    p50 = state.inference.latency_p50_ms
    text = texts.STATUS.format(
        uptime=texts.duration(state.stats.uptime_s),
        queue=state.inference.queue_length,
        p50=f"{p50:.0f} ms" if p50 is not None else "n/a",
        done=state.inference.images_done,
        today=state.stats.requests_today,
    )
    if state.settings.scale.inference_backend == "celery":  # a workers.client.CeleryInference
        celery: Any = state.inference
        workers = await celery.workers()
        text += texts.STATUS_WORKERS.format(workers=len(workers), waiting=await celery.waiting())
    for server, remote in zip(servers, statuses, strict=True):
        text += _server_status(server, remote if isinstance(remote, dict) else {})
    await update.effective_message.reply_text(text)


def _server_status(server: RefineServer, remote: dict[str, object]) -> str:
    locator = server.locator
    document = locator.document or {}
    models = remote.get("models") or document.get("models") or []
    rejected = f"; last document rejected: {locator.rejected}" if locator.rejected else ""
    return texts.STATUS_REFINE.format(
        name=server.name,
        url=locator.known_url or "none",
        source=locator.source + rejected,
        health=server.health.label,
        gpu=remote.get("gpu") or document.get("gpu") or "?",
        models=", ".join(str(m) for m in models) if isinstance(models, list) else "?",
        refine_queue=remote.get("queue", "?"),
    )


async def set_url(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Point the bot at a refine server until restart (`/seturl URL`), or back (`auto`)."""
    state = get_state(context)
    message = update.effective_message
    if not state.is_admin(update.effective_user.id if update.effective_user else None):
        await message.reply_text(texts.ADMIN_ONLY)
        return
    args = context.args or []
    if len(args) != 1:
        await message.reply_text(texts.SETURL_USAGE)
        return
    if args[0].lower() == "auto":
        state.pool.set_override(None)
        await message.reply_text(texts.SETURL_AUTO.format(source=state.pool.source))
    elif is_safe_url(args[0]):
        state.pool.set_override(args[0])
        await message.reply_text(texts.SETURL_DONE.format(url=args[0].rstrip("/")))
    elif args[0].startswith("http://"):
        await message.reply_text(texts.SETURL_NOT_SAFE)
    else:
        await message.reply_text(texts.SETURL_USAGE)
