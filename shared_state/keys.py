"""Key names under one prefix (no Redis import: settings and type hints use it too)."""

from __future__ import annotations

DEFAULT_PREFIX = "pixelpainter"


class Keys:
    """Key names under one prefix (``REDIS_PREFIX``), so one Redis can serve several bots."""

    def __init__(self, prefix: str = DEFAULT_PREFIX) -> None:
        self.prefix = prefix.rstrip(":")

    def __call__(self, *parts: object) -> str:
        """``prefix:part1:part2…``"""
        return ":".join([self.prefix, *(str(p) for p in parts)])
