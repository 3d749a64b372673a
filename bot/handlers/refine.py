"""Buttons under a colored or refined image: refine, strength, full-res PNG, color layer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

from telegram import Bot, Message, ReplyParameters, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import texts
from bot.callbacks import Action, ButtonData
from bot.keyboards import colored_keyboard, edit_url_of, refined_keyboard
from bot.messages import bot_message_replied_to, image_in, sketch_message_of
from bot.services.files import FileTooLarge
from bot.services.progress import chat_action
from bot.services.refine_client import (
    RefineBusy,
    RefineError,
    RefineOffline,
    RefineRejected,
    RefineRequest,
    RefineResult,
)
from bot.state import BotState, get_state
from inference.errors import QueueFullError, SketchError
from inference.images import encode_jpeg, encode_png

logger = logging.getLogger(__name__)


class _SketchGone(Exception):
    """The images a button needs are no longer in the chat."""


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
    await update.callback_query.answer()
    state = get_state(context)
    sketch_message = sketch_message_of(message)
    if sketch_message is None:
        await message.reply_text(texts.SKETCH_GONE)
        return
    try:
        async with chat_action(context.bot, message.chat_id, ChatAction.UPLOAD_DOCUMENT):
            colorized = await state.colors.colorized(context.bot, image_in(sketch_message))
            picture = colorized.image if data.action is Action.PNG else colorized.layer
            png = await asyncio.to_thread(encode_png, picture)
            name = texts.FILE_PNG if data.action is Action.PNG else texts.FILE_LAYER
            await message.reply_document(png, filename=name, do_quote=True)
    except (SketchError, FileTooLarge):
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
    wait = state.limiter.check(query.from_user.id)
    if wait is not None:
        await query.answer(texts.RATE_LIMITED.format(wait=texts.duration(wait)), show_alert=True)
        return
    model = texts.MODEL_LABELS[data.model]
    await query.answer(texts.REFINE_STARTED.format(model=model))
    state.stats.count_request()

    sketch_message = sketch_message_of(message)
    progress = _CaptionProgress(message)
    try:
        gpu_ahead, request = await asyncio.gather(
            _gpu_queue_length(state), _build_request(context.bot, state, message, data)
        )
        await progress.show(
            texts.REFINING_QUEUED.format(model=model, ahead=gpu_ahead)
            if gpu_ahead
            else texts.REFINING.format(model=model)
        )
        async with chat_action(context.bot, message.chat_id, ChatAction.UPLOAD_PHOTO):
            result = await state.refine.refine(request)
    except RefineError as err:
        await progress.restore()
        await _explain_failure(state, message, err)
        return
    except (_SketchGone, SketchError, FileTooLarge):
        await progress.restore()
        await message.reply_text(texts.SKETCH_GONE)
        return
    except QueueFullError:
        await progress.restore()
        await message.reply_text(texts.BUSY)
        return
    await progress.restore()
    if state.locator.known_url:
        await state.health.mark_up(state.locator.known_url)
    await _send_refined(context.bot, state, message, sketch_message, data, result)


async def _build_request(
    bot: Bot, state: BotState, message: Message, data: ButtonData
) -> RefineRequest:
    sketch_message = sketch_message_of(message)
    sketch = image_in(sketch_message)
    sketch_bytes = await state.files.fetch(bot, sketch) if sketch is not None else None
    own = image_in(message)
    cached = state.colors.cached(sketch) if sketch is not None else None
    if data.action is Action.AGAIN and own is not None:
        image = await state.files.fetch(bot, own)  # the refined picture, refined once more
    elif cached is not None:
        image = await asyncio.to_thread(encode_jpeg, cached.image, 95)
    elif data.action is Action.REFINE and own is not None:
        image = await state.files.fetch(bot, own)  # the colored picture the buttons are under
    elif sketch is not None:
        colorized = await state.colors.colorized(bot, sketch)  # made again from the sketch
        image = await asyncio.to_thread(encode_jpeg, colorized.image, 95)
    else:
        # A result whose sketch was deleted replies to the colored image instead.
        colored = image_in(bot_message_replied_to(message))
        if colored is None:
            raise _SketchGone
        image = await state.files.fetch(bot, colored)
    return RefineRequest(
        image=image,
        sketch=sketch_bytes,
        model=data.model,
        strength=data.strength_value,
        prompt=sketch_message.caption if sketch_message is not None else None,
        seed=random.randrange(2**31) if data.action is Action.RESEED else None,
    )


async def _gpu_queue_length(state: BotState) -> int:
    """Jobs waiting on the refine server, when it says (0 when unknown)."""
    if state.health.online is False:
        return 0
    try:
        status = await state.refine.status()
    except RefineError:
        return 0
    queue = status.get("queue")
    return queue if isinstance(queue, int) and queue > 0 else 0


async def _explain_failure(state: BotState, message: Message, err: RefineError) -> None:
    if isinstance(err, RefineOffline):
        if state.locator.configured:  # a bot set up without a refine server has no outages
            await state.health.mark_down(state.locator.known_url, str(err))
        text = texts.REFINE_OFFLINE
    elif isinstance(err, RefineBusy):
        text = texts.REFINE_BUSY.format(wait=texts.duration(err.retry_after))
    elif isinstance(err, RefineRejected):
        text = texts.REFINE_REJECTED.format(reason=err)
    else:
        text = texts.REFINE_TIMEOUT
    logger.info("Refine failed: %s: %s", type(err).__name__, err)
    await message.reply_text(text, do_quote=True)


async def _send_refined(
    bot: Bot,
    state: BotState,
    message: Message,
    sketch_message: Message | None,
    data: ButtonData,
    result: RefineResult,
) -> None:
    # Quote the sketch, so that this result's buttons find it again after a restart.
    reply_to = sketch_message if sketch_message is not None else message
    model = result.model if result.model in texts.MODEL_LABELS else data.model
    caption = texts.REFINED_CAPTION.format(
        model=texts.MODEL_LABELS[model],
        strength=data.strength_value,
        seed=result.seed if result.seed is not None else "?",
        seconds=result.seconds or 0.0,
    )
    markup = refined_keyboard(model, data.strength)
    reply = ReplyParameters(reply_to.message_id, allow_sending_without_reply=True)
    try:
        sent = await bot.send_photo(
            message.chat_id,
            result.png,
            caption=caption,
            reply_markup=markup,
            reply_parameters=reply,
        )
    except BadRequest as err:
        # Over Telegram's photo limits (10 MB, proportions): a file has none of them.
        logger.info("Sending the refined image as a file: %s", err)
        sent = await bot.send_document(
            message.chat_id,
            result.png,
            filename="refined.png",
            caption=caption,
            reply_markup=markup,
            reply_parameters=reply,
        )
    if sent.photo:
        state.files.remember(sent.photo[-1], result.png)


class _CaptionProgress:
    """Shows progress in the caption of the tapped message, then puts the caption back."""

    def __init__(self, message: Message) -> None:
        self._message = message
        self._shown = False

    async def show(self, text: str) -> None:
        with contextlib.suppress(BadRequest):
            await self._message.edit_caption(text, reply_markup=self._message.reply_markup)
            self._shown = True

    async def restore(self) -> None:
        if not self._shown:
            return
        self._shown = False
        with contextlib.suppress(BadRequest):
            await self._message.edit_caption(
                self._message.caption,
                caption_entities=self._message.caption_entities,
                reply_markup=self._message.reply_markup,
            )
