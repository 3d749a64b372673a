"""Images that live in Telegram: downloaded by ``file_id`` unless they are cached here."""

from __future__ import annotations

import logging

from telegram import Bot, Document, PhotoSize

from bot.services.image_cache import ImageCache

logger = logging.getLogger(__name__)

TelegramImage = PhotoSize | Document


class FileTooLarge(Exception):
    """The file is over the download limit; ``size_mb`` says how large it is."""

    def __init__(self, size_mb: float, limit_mb: float) -> None:
        super().__init__(f"{size_mb:.1f} MB > {limit_mb:.1f} MB")
        self.size_mb = size_mb
        self.limit_mb = limit_mb


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
        size_mb = (file.file_size or 0) / 1_048_576
        if size_mb > self.max_mb:
            raise FileTooLarge(size_mb, self.max_mb)

    async def fetch(self, bot: Bot, file: TelegramImage) -> bytes:
        """The file's bytes, from the cache or downloaded from Telegram."""
        cached = self._cache.get(f"file:{file.file_unique_id}")
        if isinstance(cached, bytes):
            return cached
        self.check_size(file)
        telegram_file = await bot.get_file(file.file_id)
        data = bytes(await telegram_file.download_as_bytearray())
        self.remember(file, data)
        return data
