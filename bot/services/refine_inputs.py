"""Which image and sketch a refine button sends, with their real file names and content types.

A button sits under a colored image (refine it) or a refined one (refine that again, or redo the
colored one with another seed). Every result quotes the user's sketch, so the sketch and its
caption (the prompt) are found again even after a restart, when nothing is cached.
"""

from __future__ import annotations

import asyncio
import random

from telegram import Bot, Document, Message

from bot.callbacks import Action, ButtonData
from bot.messages import bot_message_replied_to, image_in, sketch_message_of
from bot.services.coloring import ColorService
from bot.services.files import FileStore, TelegramImage
from bot.services.refine_client import RefineRequest, Upload
from inference.images import encode_jpeg

# Magic bytes → (extension, content type) of what Telegram can hold.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"GIF8", "gif", "image/gif"),
    (b"BM", "bmp", "image/bmp"),
)


class InputsGone(Exception):
    """The images a button needs are no longer in the chat."""


def sniff(data: bytes) -> tuple[str, str]:
    """(extension, content type) of image bytes, by their first bytes."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp", "image/webp"
    for magic, extension, content_type in _SIGNATURES:
        if data.startswith(magic):
            return extension, content_type
    return "bin", "application/octet-stream"


def upload(data: bytes, role: str, source: TelegramImage | None = None) -> Upload:
    """``data`` named as the user named it (documents), else ``role.<ext>``; typed by its bytes."""
    extension, content_type = sniff(data)
    if isinstance(source, Document) and source.file_name:
        return Upload(data, source.file_name, content_type)
    return Upload(data, f"{role}.{extension}", content_type)


async def choose_inputs(
    bot: Bot, files: FileStore, colors: ColorService, message: Message, data: ButtonData
) -> RefineRequest:
    """The request for a tap on ``data`` under ``message``; :class:`InputsGone` if none can be made.

    May raise the colorizing errors (SketchError, QueueFullError, FileTooLarge) when the colored
    image has to be made again from the sketch.
    """
    sketch_message = sketch_message_of(message)
    sketch = image_in(sketch_message)
    sketch_upload = (
        upload(await files.fetch(bot, sketch), "sketch", sketch) if sketch is not None else None
    )
    own = image_in(message)
    cached = colors.cached(sketch) if sketch is not None else None
    if data.action is Action.AGAIN and own is not None:
        image = upload(await files.fetch(bot, own), "refined", own)  # refined once more
    elif cached is not None:
        image = upload(await asyncio.to_thread(encode_jpeg, cached.image, 95), "colored")
    elif data.action is Action.REFINE and own is not None:
        image = upload(await files.fetch(bot, own), "colored", own)  # the picture tapped under
    elif sketch is not None:
        colorized = await colors.cached_or_colorize(bot, sketch)  # made again from the sketch
        image = upload(await asyncio.to_thread(encode_jpeg, colorized.image, 95), "colored")
    else:
        # A result whose sketch was deleted replies to the colored image instead.
        colored = image_in(bot_message_replied_to(message))
        if colored is None:
            raise InputsGone
        image = upload(await files.fetch(bot, colored), "colored", colored)
    return RefineRequest(
        image=image,
        sketch=sketch_upload,
        model=data.model,
        strength=data.strength_value,
        prompt=sketch_message.caption if sketch_message is not None else None,
        seed=random.randrange(2**31) if data.action is Action.RESEED else None,
    )
