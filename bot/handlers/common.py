"""/start, /help, and what to say about content that is not a sketch."""

from __future__ import annotations

from telegram import CallbackQuery, Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import texts
from bot.state import BotState, get_state


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the bot does and what to send."""
    await update.effective_message.reply_text(texts.START)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain the flow and the buttons."""
    await update.effective_message.reply_text(texts.HELP)


async def unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain what to send instead of a sticker, video, voice, text, PDF..."""
    await update.effective_message.reply_text(texts.UNSUPPORTED)


async def restrict_users(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop updates from users outside ``ALLOWED_USER_IDS`` (when it is set)."""
    settings = get_state(context).settings
    user = update.effective_user
    if not settings.allowed_user_ids or user is None:
        return
    if user.id in settings.allowed_user_ids or user.id in settings.admin_chat_ids:
        return
    if update.callback_query is not None:
        await update.callback_query.answer(texts.NOT_ALLOWED, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(texts.NOT_ALLOWED)
    raise ApplicationHandlerStop


async def tap_allowed(query: CallbackQuery, state: BotState) -> bool:
    """Count a tap that may colorize or refine against its user's limits; says when it is not."""
    wait = await state.limiter.check(query.from_user.id)
    if wait is None:
        return True
    await query.answer(texts.RATE_LIMITED.format(wait=texts.duration(wait)), show_alert=True)
    return False
