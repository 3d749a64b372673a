"""The one place unexpected errors end up."""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import texts

logger = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error with its traceback and tell the user, without details, that it failed."""
    logger.error("Unhandled error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):  # it may have been answered already
            await update.callback_query.answer()
    try:
        if update.effective_message is not None:
            await update.effective_message.reply_text(texts.SOMETHING_FAILED)
    except TelegramError:
        logger.warning("Could not tell the user about the error", exc_info=True)
