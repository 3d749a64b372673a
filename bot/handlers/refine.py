"""Buttons under a colored or refined image: refine, strength, full-res PNG, color layer."""

from __future__ import annotations

import asyncio
import contextlib

from telegram import Message, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import texts
from bot.callbacks import Action, ButtonData
from bot.handlers.common import tap_allowed
from bot.keyboards import colored_keyboard, edit_url_of
from bot.messages import image_in, sketch_message_of
from bot.services.progress import chat_action
from bot.state import get_state
from inference.errors import QueueFullError, SketchError
from inference.images import encode_png


async def _tapped(update: Update) -> tuple[ButtonData, Message] | None:
    """The button's data and the message it is under; answers the tap itself if unusable."""
    query = update.callback_query
    data = ButtonData.parse(query.data)
    if data is None:
        await query.answer()
        return None
    if not isinstance(query.message, Message):  # too old: Telegram no longer sends its content
        await query.answer(texts.MESSAGE_TOO_OLD, show_alert=True)
        return None
    return data, query.message


async def on_strength(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Mark the chosen strength on the keyboard; the refine buttons then carry it."""
    tapped = await _tapped(update)
    if tapped is None:
        return
    data, message = tapped
    label = texts.STRENGTH_LABELS[data.strength]
    await update.callback_query.answer(
        texts.STRENGTH_SET.format(label=label, value=data.strength_value)
    )
    with contextlib.suppress(BadRequest):  # "message is not modified" on a repeated tap
        await update.callback_query.edit_message_reply_markup(
            colored_keyboard(data.strength, edit_url_of(message.reply_markup))
        )


async def on_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the full-resolution PNG, or the color layer, of the image the buttons are under."""
    tapped = await _tapped(update)
    if tapped is None:
        return
    data, message = tapped
    state = get_state(context)
    # The result may have left the cache: sending it can mean colorizing the sketch again.
    if not await tap_allowed(update.callback_query, state):
        return
    await update.callback_query.answer()
    sketch_message = sketch_message_of(message)
    if sketch_message is None:
        await message.reply_text(texts.SKETCH_GONE)
        return
    try:
        async with chat_action(context.bot, message.chat_id, ChatAction.UPLOAD_DOCUMENT):
            colorized = await state.colors.cached_or_colorize(context.bot, image_in(sketch_message))
            picture = colorized.image if data.action is Action.PNG else colorized.layer
            png = await asyncio.to_thread(encode_png, picture)
            name = texts.FILE_PNG if data.action is Action.PNG else texts.FILE_LAYER
            await message.reply_document(png, filename=name, do_quote=True)
    except SketchError:  # FileTooLarge too
        await message.reply_text(texts.SKETCH_GONE)
    except QueueFullError:
        await message.reply_text(texts.BUSY)


async def on_refine(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Refine the image the tapped buttons are under on the refine server."""
    tapped = await _tapped(update)
    if tapped is None:
        return
    data, message = tapped
    query = update.callback_query
    state = get_state(context)
    if not await tap_allowed(query, state):
        return
    await query.answer(texts.REFINE_STARTED.format(model=texts.MODEL_LABELS[data.model]))
    state.stats.count_request()
    await state.refining.refine(context.bot, message, data)
