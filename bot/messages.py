"""Finding sketches and results in Telegram messages.

Every reply the bot makes quotes the sketch it came from, so after a restart the buttons under
a result still lead to everything they need: the result's own image and, one level up, the
sketch and its caption (the prompt). Nothing has to be stored by the bot.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from telegram import Document, Message

from bot.services.files import TelegramImage
from inference.images import IMAGE_SUFFIXES

IMAGE_MIME_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/webp", "image/bmp", "image/x-ms-bmp", "image/gif"}
)


def is_image_document(document: Document) -> bool:
    """Whether a file looks like a picture we can read (by MIME type, else by extension)."""
    if document.mime_type:
        return document.mime_type.lower() in IMAGE_MIME_TYPES
    suffix = PurePosixPath(document.file_name or "").suffix.lower()
    return suffix in IMAGE_SUFFIXES


def image_in(message: Message | None) -> TelegramImage | None:
    """The picture in a message: the largest photo size, or an image document."""
    if message is None:
        return None
    if message.photo:
        return message.photo[-1]
    if message.document is not None and is_image_document(message.document):
        return message.document
    return None


def sketch_message_of(result: Message) -> Message | None:
    """The user's sketch message that a bot result replies to, if it is still there."""
    original = result.reply_to_message
    if original is None or (original.from_user is not None and original.from_user.is_bot):
        return None
    return original if image_in(original) is not None else None


def bot_message_replied_to(result: Message) -> Message | None:
    """The bot's own message that a result replies to (when the sketch was gone)."""
    original = result.reply_to_message
    if original is not None and original.from_user is not None and original.from_user.is_bot:
        return original
    return None
