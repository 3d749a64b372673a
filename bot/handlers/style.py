"""The "other style" button: the sketch colored again in the style the bot does not default to."""

from __future__ import annotations

import asyncio

from telegram import Message, Update
from telegram.constants import ChatAction
from telegram.ext import ContextTypes

from bot import texts
from bot.handlers.common import tap_allowed
from bot.messages import image_in, sketch_message_of
from bot.services.progress import chat_action
from bot.state import get_state
from inference.colorizer import STYLES
from inference.errors import QueueFullError, SketchError
from inference.images import encode_jpeg


async def on_style(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the sketch the buttons are under, colored in the other style (cel ↔ soft)."""
    query = update.callback_query
    message = query.message
    if not isinstance(message, Message):  # too old: Telegram no longer sends its content
        await query.answer(texts.MESSAGE_TOO_OLD, show_alert=True)
        return
    state = get_state(context)
    if not await tap_allowed(query, state):
        return
    style = next(s for s in STYLES if s != state.inference.style)
    label = texts.STYLE_LABELS[style]
    await query.answer(texts.STYLE_STARTED.format(style=label))
    sketch_message = sketch_message_of(message)
    if sketch_message is None:
        await message.reply_text(texts.SKETCH_GONE)
        return
    try:
        async with chat_action(context.bot, message.chat_id, ChatAction.UPLOAD_PHOTO):
            result = await state.colors.colorize_now(
                context.bot, image_in(sketch_message), style=style
            )
            preview = await asyncio.to_thread(encode_jpeg, result.image)
            await message.reply_photo(
                preview, caption=texts.STYLE_CAPTION.format(style=label), do_quote=True
            )
    except SketchError:  # FileTooLarge too
        await message.reply_text(texts.SKETCH_GONE)
    except QueueFullError:
        await message.reply_text(texts.BUSY)
