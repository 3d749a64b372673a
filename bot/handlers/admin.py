"""Admin commands: /status and /seturl."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import texts
from bot.services.refine_client import RefineError
from bot.state import get_state
from pixelpainter_common.discovery import is_safe_url


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show uptime, queue, inference p50, today's requests and the refine server's state."""
    state = get_state(context)
    if not state.is_admin(update.effective_user.id if update.effective_user else None):
        await update.effective_message.reply_text(texts.ADMIN_ONLY)
        return
    remote: dict[str, object] = {}
    if state.locator.configured:
        try:
            remote = await state.refine.refresh_status()
        except RefineError:
            remote = {}
    document = state.locator.document or {}
    models = remote.get("models") or document.get("models") or []
    p50 = state.inference.latency_p50_ms
    await update.effective_message.reply_text(
        texts.STATUS.format(
            uptime=texts.duration(state.stats.uptime_s),
            queue=state.inference.queue_length,
            p50=f"{p50:.0f} ms" if p50 is not None else "n/a",
            done=state.inference.images_done,
            today=state.stats.requests_today,
            url=state.locator.known_url or "none",
            source=state.locator.source
            + (
                f"; last document rejected: {state.locator.rejected}"
                if state.locator.rejected
                else ""
            ),
            health=state.health.label,
            gpu=remote.get("gpu") or document.get("gpu") or "?",
            models=", ".join(str(m) for m in models) if isinstance(models, list) else "?",
            refine_queue=remote.get("queue", "?"),
        )
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
        state.locator.set_override(None)
        await message.reply_text(texts.SETURL_AUTO.format(source=state.locator.source))
    elif is_safe_url(args[0]):
        state.locator.set_override(args[0])
        await message.reply_text(texts.SETURL_DONE.format(url=state.locator.override))
    elif args[0].startswith("http://"):
        await message.reply_text(texts.SETURL_NOT_SAFE)
    else:
        await message.reply_text(texts.SETURL_USAGE)
