"""Colorizing sketches that live in Telegram, with results cached by sketch."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Bot

from bot.services.files import FileStore, TelegramImage
from bot.services.image_cache import ImageCache
from inference.colorizer import Colorized, Style
from inference.hints import Hint
from inference.service import ColorizeBackend, PositionCallback


class ColorService:
    """Downloads a sketch, colorizes it on the inference service, remembers the result."""

    def __init__(self, inference: ColorizeBackend, files: FileStore, cache: ImageCache) -> None:
        self.inference = inference
        self.files = files
        self._cache = cache

    async def colorize_now(
        self,
        bot: Bot,
        sketch: TelegramImage,
        on_position: PositionCallback | None = None,
        *,
        style: Style | None = None,
        hints: Sequence[Hint] = (),
    ) -> Colorized:
        """Colorize ``sketch`` always, even when a result is cached (``style`` None: the default
        one), with color ``hints``; raises SketchError (FileTooLarge too), HintsError,
        QueueFullError. Only default-style results without hints are remembered."""
        data = await self.files.fetch(bot, sketch)
        result = await self.inference.colorize(
            data, on_position=on_position, style=style, hints=hints
        )
        if style is None and not hints:
            self._cache.put(f"color:{sketch.file_unique_id}", result)
        return result

    def cached(self, sketch: TelegramImage) -> Colorized | None:
        """The colored version of ``sketch`` if it is still in memory."""
        cached = self._cache.get(f"color:{sketch.file_unique_id}")
        return cached if isinstance(cached, Colorized) else None

    async def cached_or_colorize(self, bot: Bot, sketch: TelegramImage) -> Colorized:
        """The colored version of ``sketch``: cached, or made again (the model is deterministic)."""
        return self.cached(sketch) or await self.colorize_now(bot, sketch)
