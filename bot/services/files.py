"""Images that live in Telegram: downloaded by ``file_id`` unless they are cached here."""

from __future__ import annotations

import logging

from telegram import Bot, Document, File, PhotoSize

from bot.services.image_cache import ImageCache
from inference.errors import SketchError, SketchProblem

logger = logging.getLogger(__name__)

# A File is what ``get_file`` answered already: fetching it needs no second round trip.
TelegramImage = PhotoSize | Document | File


class FileTooLarge(SketchError):
    """The file is over the download limit (``size`` and ``limit`` in bytes): refused before
    downloading, with the reason the engine gives for a file too large."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(SketchProblem.FILE_TOO_LARGE, size=size, limit=limit)

    def __reduce__(self) -> tuple[object, tuple[int, int]]:
        return FileTooLarge, (self.size or 0, self.limit or 0)


class FileStore:
    """Bytes of Telegram files, keyed by ``file_unique_id`` (stable across bots and restarts)."""

    def __init__(self, cache: ImageCache, max_mb: float) -> None:
        self._cache = cache
        self.max_mb = max_mb

    def remember(self, file: TelegramImage, data: bytes) -> None:
        """Keep ``data`` as the content of ``file`` (e.g. the PNG behind a photo we sent)."""
        self._cache.put(f"file:{file.file_unique_id}", data)

    def check_size(self, file: TelegramImage) -> None:
        """Raise :class:`FileTooLarge` before downloading a file over the limit."""
        size, limit = file.file_size or 0, int(self.max_mb * 1_048_576)
        if size > limit:
            raise FileTooLarge(size, limit)

    async def fetch(self, bot: Bot, file: TelegramImage) -> bytes:
        """The file's bytes, from the cache or downloaded from Telegram."""
        cached = self._cache.get(f"file:{file.file_unique_id}")
        if isinstance(cached, bytes):
            return cached
        self.check_size(file)
        telegram_file = file if isinstance(file, File) else await bot.get_file(file.file_id)
        data = bytes(await telegram_file.download_as_bytearray())
        self.remember(file, data)
        return data
