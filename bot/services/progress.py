"""What a person sees while waiting: the chat action and "You are #N in line"."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from telegram import Bot, Message
from telegram.error import TelegramError

from bot import texts

logger = logging.getLogger(__name__)

# Telegram shows a chat action for about 5 seconds.
ACTION_REPEAT_S = 4.5
# Edits of the line message at most this often: many users waiting must not flood the chat.
MIN_EDIT_INTERVAL_S = 1.0


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
    """A reply that says how many sketches are ahead, edited as the line moves, then deleted."""

    def __init__(self, sketch_message: Message) -> None:
        self._sketch_message = sketch_message
        self._message: Message | None = None
        self._shown: int | None = None
        self._edited_at = 0.0
        self._finished = False
        self._lock = asyncio.Lock()

    async def update(self, ahead: int) -> None:
        """Show that ``ahead`` images are ahead (0: being colored now)."""
        async with self._lock:
            if self._finished or ahead == self._shown:
                return
            text = (
                texts.QUEUE_POSITION.format(position=ahead) if ahead > 0 else texts.QUEUE_YOUR_TURN
            )
            try:
                if self._message is None:
                    if ahead == 0:
                        return  # nobody was ahead: the photo itself is the only message
                    self._message = await self._sketch_message.reply_text(text, do_quote=True)
                elif time.monotonic() - self._edited_at >= MIN_EDIT_INTERVAL_S or ahead == 0:
                    await self._message.edit_text(text)
                else:
                    return
            except TelegramError as err:
                logger.debug("Queue notice not updated: %s", err)
                return
            self._shown = ahead
            self._edited_at = time.monotonic()

    async def finish(self) -> None:
        """Remove the notice (the result or an error message replaces it)."""
        async with self._lock:
            self._finished = True
            if self._message is not None:
                with contextlib.suppress(TelegramError):
                    await self._message.delete()
