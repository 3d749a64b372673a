"""What a person sees while waiting: the chat action, "You are #N in line", a progress caption."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence

from telegram import Bot, Message, MessageEntity
from telegram.error import BadRequest, TelegramError

from bot import texts

logger = logging.getLogger(__name__)

# Telegram shows a chat action for about 5 seconds.
ACTION_REPEAT_S = 4.5
# "You are #N in line" only for sketches that wait longer than this.
NOTICE_DELAY_S = 1.0
# Edits of the line message at most this often: many users waiting must not flood the chat.
MIN_EDIT_INTERVAL_S = 1.5


@contextlib.asynccontextmanager
async def chat_action(bot: Bot, chat_id: int, action: str) -> AsyncIterator[None]:
    """Show ``action`` ("upload_photo", ...) in the chat until the block ends."""

    async def repeat() -> None:
        while True:
            try:
                await bot.send_chat_action(chat_id, action)
            except TelegramError as err:  # cosmetic: never fail the real work for it
                logger.debug("Chat action failed: %s", err)
            await asyncio.sleep(ACTION_REPEAT_S)

    task = asyncio.create_task(repeat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class QueueNotice:
    """ "You are #N in line": sent once a sketch has waited a moment, edited as the line moves,
    deleted when the result is out. Quick results get no notice at all (fewer messages, and
    fewer calls under Telegram's 30 per second)."""

    def __init__(
        self,
        sketch_message: Message,
        *,
        delay_s: float = NOTICE_DELAY_S,
        min_edit_interval_s: float = MIN_EDIT_INTERVAL_S,
    ) -> None:
        self._sketch_message = sketch_message
        self._delay_s = delay_s
        self._min_edit_interval_s = min_edit_interval_s
        self._message: Message | None = None
        self._latest = -1
        self._shown = -1
        self._edited_at = 0.0
        self._finished = False
        self._timer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def update(self, ahead: int) -> None:
        """Record that ``ahead`` images are ahead (0: being colored now)."""
        self._latest = ahead
        if self._finished:
            return
        if self._message is None:
            if ahead > 0 and self._timer is None:
                self._timer = asyncio.create_task(self._show_later())
            return
        await self._refresh()

    async def _show_later(self) -> None:
        await asyncio.sleep(self._delay_s)
        async with self._lock:
            if self._finished or self._latest <= 0:
                return
            position = self._latest  # what is sent; it may change while the request is out
            try:
                self._message = await self._sketch_message.reply_text(
                    texts.QUEUE_POSITION.format(position=position), do_quote=True
                )
            except TelegramError as err:
                logger.debug("Queue notice not sent: %s", err)
                return
            self._shown, self._edited_at = position, time.monotonic()

    async def _refresh(self) -> None:
        async with self._lock:
            ahead = self._latest
            if self._finished or self._message is None or ahead == self._shown:
                return
            if time.monotonic() - self._edited_at < self._min_edit_interval_s:
                return  # shown at the next change
            text = (
                texts.QUEUE_POSITION.format(position=ahead) if ahead > 0 else texts.QUEUE_YOUR_TURN
            )
            try:
                await self._message.edit_text(text)
            except TelegramError as err:
                logger.debug("Queue notice not edited: %s", err)
                return
            self._shown, self._edited_at = ahead, time.monotonic()

    async def finish(self) -> None:
        """Remove the notice (the result or an error message replaces it)."""
        self._finished = True
        if self._timer is not None:
            self._timer.cancel()
        async with self._lock:
            if self._message is not None:
                with contextlib.suppress(TelegramError):
                    await self._message.delete()
                self._message = None


class CaptionProgress:
    """Shows progress in the caption of a tapped message, then puts the caption back.

    ``caption``/``caption_entities``: the original to put back, when the message already shows
    another refine's progress (a second tap while the first runs); default: the message's own.
    """

    def __init__(
        self,
        message: Message,
        caption: str | None = None,
        caption_entities: Sequence[MessageEntity] | None = None,
    ) -> None:
        self._message = message
        self._caption = caption if caption_entities is not None else message.caption
        self._entities = (
            caption_entities if caption_entities is not None else message.caption_entities
        )
        self._shown = False

    async def show(self, text: str) -> None:
        """Replace the caption with ``text``, keeping the buttons."""
        with contextlib.suppress(BadRequest):
            await self._message.edit_caption(text, reply_markup=self._message.reply_markup)
            self._shown = True

    async def restore(self) -> None:
        """Put the original caption (and its formatting) back, if it was replaced."""
        if not self._shown:
            return
        self._shown = False
        with contextlib.suppress(BadRequest):
            await self._message.edit_caption(
                self._caption,
                caption_entities=self._entities,
                reply_markup=self._message.reply_markup,
            )
