"""One refine, from tap to answer: record it, show progress, call the server, reply, forget it.

Every path ends with an answer in the chat: the refined image, or a sentence saying whose fault
it was and what to do. A refine cut off by a restart is answered at the next start
(:meth:`Refining.answer_unfinished`); one still running when the bot stops is given
``SHUTDOWN_GRACE_S`` and then told to tap again (:class:`RefineFlights`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup, Message, MessageEntity, ReplyParameters
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import texts
from bot.callbacks import ButtonData
from bot.keyboards import refined_keyboard
from bot.messages import sketch_message_of
from bot.services.coloring import ColorService
from bot.services.files import FileStore
from bot.services.progress import CaptionProgress, chat_action
from bot.services.refine_client import (
    RefineBadAnswer,
    RefineBusy,
    RefineClient,
    RefineError,
    RefineRejected,
    RefineResult,
    RefineServerError,
    RefineTimeout,
    RefineUntrusted,
)
from bot.services.refine_inputs import InputsGone, choose_inputs
from bot.services.refine_store import FlightStore, InFlight, StoreUnavailable
from inference.errors import QueueFullError, SketchError

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ShuttingDown(Exception):
    """The bot is stopping and the refine did not finish within the grace period."""


class RefineFlights:
    """Refines under way; once :meth:`stop` is called they get ``grace_s`` more seconds."""

    def __init__(self, grace_s: float) -> None:
        self.grace_s = grace_s
        self._stopping = asyncio.Event()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        """The bot is stopping: running refines have ``grace_s`` left, new ones none."""
        self._stopping.set()

    async def run(self, work: Awaitable[T]) -> T:
        """``await work``, unless the bot stops and the grace period ends first (ShuttingDown)."""
        task = asyncio.ensure_future(work)
        if self.stopping:
            task.cancel()
            raise ShuttingDown

        async def grace_over() -> None:
            await self._stopping.wait()
            await asyncio.sleep(self.grace_s)

        deadline = asyncio.create_task(grace_over())
        try:
            await asyncio.wait({task, deadline}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            deadline.cancel()
            if not task.done():
                task.cancel()  # the grace period is over, or our caller was cancelled
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if task.cancelled():
            raise ShuttingDown
        return task.result()


def failure_text(err: Exception) -> str:
    """What to tell the user when a refine gave no image: whose fault, and what to do."""
    if isinstance(err, RefineUntrusted):
        return texts.REFINE_UNAVAILABLE
    if isinstance(err, RefineBusy):
        return texts.REFINE_BUSY.format(wait=texts.duration(err.retry_after))
    if isinstance(err, RefineBadAnswer):
        return texts.REFINE_BAD_ANSWER
    if isinstance(err, RefineServerError):
        return texts.REFINE_SERVER_ERROR
    if isinstance(err, RefineRejected):
        return texts.REFINE_REJECTED.format(reason=err)
    if isinstance(err, RefineTimeout):
        return texts.REFINE_TIMEOUT
    if isinstance(err, RefineError):
        return texts.REFINE_OFFLINE
    if isinstance(err, ShuttingDown):
        return texts.REFINE_RESTARTING
    if isinstance(err, QueueFullError):
        return texts.BUSY
    return texts.SKETCH_GONE  # InputsGone, SketchError, FileTooLarge


class Refining:
    """The refine flow of one bot; handlers call :meth:`refine` with the tapped message."""

    def __init__(
        self,
        *,
        files: FileStore,
        colors: ColorService,
        client: RefineClient,
        store: FlightStore,
        flights: RefineFlights,
    ) -> None:
        self.files = files
        self.colors = colors
        self.client = client
        self.store = store
        self.flights = flights

    async def refine(self, bot: Bot, message: Message, data: ButtonData) -> None:
        """Refine the image ``message`` shows as ``data`` says, and answer in the chat."""
        # A second tap while a refine runs sees its "⏳" caption: the first one's is the original.
        earlier = await self.store.first_on(message.chat_id, message.message_id)
        flight = InFlight(
            chat_id=message.chat_id,
            message_id=message.message_id,
            button=data.pack(),
            caption=earlier.caption if earlier else message.caption,
            caption_entities=(
                earlier.caption_entities
                if earlier
                else [e.to_dict() for e in message.caption_entities]
            ),
            reply_markup=message.reply_markup.to_dict() if message.reply_markup else None,
            started_at=time.time(),
        )
        try:
            flight_id = await self.store.add(flight)
        except StoreUnavailable as err:  # not recorded: not started, so a restart cannot lose it
            logger.warning("Refine not started, the in-flight store is unreachable: %s", err)
            await message.reply_text(texts.REFINE_TRY_AGAIN, do_quote=True)
            return
        progress = CaptionProgress(
            message,
            flight.caption,
            [MessageEntity.de_json(e, bot) for e in flight.caption_entities],
        )
        try:
            await self._refine_and_answer(bot, message, data, progress)
        except asyncio.CancelledError:
            raise  # still recorded: the next start answers it
        except Exception:
            await self._forget(flight_id)
            raise
        await self._forget(flight_id)

    async def _forget(self, flight_id: int) -> None:
        try:
            await self.store.finish(flight_id)
        except StoreUnavailable as err:  # the user has the answer; the record expires by itself
            logger.warning("Could not forget answered refine %s: %s", flight_id, err)

    async def _refine_and_answer(
        self, bot: Bot, message: Message, data: ButtonData, progress: CaptionProgress
    ) -> None:
        model = texts.MODEL_LABELS[data.model]
        try:
            request = await choose_inputs(bot, self.files, self.colors, message, data)
            # From the health job's last /status of the server it will most likely go to.
            ahead = self.client.pool.ranked(data.model)[0].health.queue
            await progress.show(
                texts.REFINING_QUEUED.format(model=model, ahead=ahead)
                if ahead
                else texts.REFINING.format(model=model)
            )
            async with chat_action(bot, message.chat_id, ChatAction.UPLOAD_PHOTO):
                result = await self.flights.run(self.client.refine(request))
        except (
            RefineError,
            ShuttingDown,
            InputsGone,
            SketchError,  # FileTooLarge too
            QueueFullError,
        ) as err:
            logger.info("Refine gave no image: %s: %s", type(err).__name__, err)
            await progress.restore()  # before the explanation, so the chat reads in order
            await message.reply_text(failure_text(err), do_quote=True)
            return
        finally:
            await progress.restore()  # whatever happened, the caption does not stay "⏳"
        await self._send_refined(bot, message, data, result)

    async def _send_refined(
        self, bot: Bot, message: Message, data: ButtonData, result: RefineResult
    ) -> None:
        # Quote the sketch, so that this result's buttons find it again after a restart.
        sketch_message = sketch_message_of(message)
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
            self.files.remember(sent.photo[-1], result.png)

    async def answer_unfinished(self, bot: Bot) -> int:
        """At start-up: put back the captions of refines a restart cut off, ask to tap again."""
        answered = 0
        for flight in await self.store.unfinished():
            assert flight.id is not None
            try:
                await _restore_caption(bot, flight)
                await bot.send_message(
                    flight.chat_id,
                    texts.REFINE_TAP_AGAIN,
                    reply_parameters=ReplyParameters(
                        flight.message_id, allow_sending_without_reply=True
                    ),
                )
            except (BadRequest, Forbidden) as err:  # chat gone, bot blocked: nobody to tell
                logger.info("Unfinished refine in chat %s dropped: %s", flight.chat_id, err)
            except TelegramError as err:  # Telegram unreachable: try again at the next start
                logger.warning("Unfinished refine in chat %s kept: %s", flight.chat_id, err)
                continue
            await self._forget(flight.id)
            answered += 1
        if answered:
            logger.info("Answered %d refine(s) cut off by the last stop", answered)
        return answered


async def _restore_caption(bot: Bot, flight: InFlight) -> None:
    markup = InlineKeyboardMarkup.de_json(flight.reply_markup, bot) if flight.reply_markup else None
    entities = [MessageEntity.de_json(e, bot) for e in flight.caption_entities]
    with contextlib.suppress(BadRequest):  # "message is not modified": it was never changed
        await bot.edit_message_caption(
            chat_id=flight.chat_id,
            message_id=flight.message_id,
            caption=flight.caption,
            caption_entities=entities or None,
            reply_markup=markup,
        )
