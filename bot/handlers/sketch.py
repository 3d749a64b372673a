"""Sketches in, colored images out."""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import texts
from bot.keyboards import colored_keyboard
from bot.messages import is_image_document
from bot.services.files import TelegramImage
from bot.services.progress import QueueNotice, chat_action
from bot.settings import BotSettings
from bot.state import get_state
from inference.errors import QueueFullError, SketchError
from inference.images import encode_jpeg
from webapp.telegram_auth import sketch_link

logger = logging.getLogger(__name__)


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Colorize a sketch sent as a photo (its largest size)."""
    message = update.effective_message
    await colorize_and_reply(message, message.photo[-1], context)


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Colorize a sketch sent as an image file; explain what to send for other files."""
    message = update.effective_message
    if not is_image_document(message.document):
        await message.reply_text(texts.UNSUPPORTED)
        return
    await colorize_and_reply(message, message.document, context)


async def colorize_and_reply(
    message: Message, sketch: TelegramImage, context: ContextTypes.DEFAULT_TYPE
) -> None:
    """Colorize ``sketch`` and reply to ``message`` with the result and its keyboard."""
    state = get_state(context)
    wait = await state.limiter.check(message.from_user.id if message.from_user else message.chat_id)
    if wait is not None:
        await message.reply_text(texts.RATE_LIMITED.format(wait=texts.duration(wait)))
        return
    state.stats.count_request()
    notice = QueueNotice(message)
    try:
        async with chat_action(context.bot, message.chat_id, ChatAction.UPLOAD_PHOTO):
            result = await state.colors.colorize_now(context.bot, sketch, on_position=notice.update)
            preview = await asyncio.to_thread(encode_jpeg, result.image)
            await _reply_with_image(message, preview, _edit_url(message, sketch, state.settings))
    except SketchError as err:
        await message.reply_text(texts.sketch_problem(err))
    except QueueFullError:
        await message.reply_text(texts.BUSY)
    finally:
        await notice.finish()


def _edit_url(message: Message, sketch: TelegramImage, settings: BotSettings) -> str | None:
    """The color editor for this sketch, when the Mini App is on (Telegram: private chats only)."""
    if not settings.webapp_url or message.chat.type != ChatType.PRIVATE:
        return None
    token = settings.telegram_bot_token.get_secret_value()
    return sketch_link(settings.webapp_url, token, sketch.file_id)


async def _reply_with_image(message: Message, preview: bytes, edit_url: str | None) -> None:
    keyboard = colored_keyboard(edit_url=edit_url)
    try:
        await message.reply_photo(preview, reply_markup=keyboard, do_quote=True)
    except BadRequest as err:
        # Telegram refuses photos with extreme proportions; a file has no such limit.
        logger.info("Sending the result as a file instead of a photo: %s", err)
        await message.reply_document(
            preview, filename="colored.jpg", reply_markup=keyboard, do_quote=True
        )
