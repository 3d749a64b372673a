"""A bounded in-memory LRU of images, so repeat taps do not download or recompute them."""

from __future__ import annotations

from collections import OrderedDict

from inference.colorizer import Colorized

CacheValue = bytes | Colorized


def _size_of(value: CacheValue) -> int:
    if isinstance(value, bytes):
        return len(value)
    return value.nbytes


class ImageCache:
    """Least-recently-used entries are dropped once the total size passes ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[CacheValue, int]] = OrderedDict()
        self._total = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def total_bytes(self) -> int:
        """The size of everything cached now."""
        return self._total

    def get(self, key: str) -> CacheValue | None:
        """The cached value, marked as recently used, or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: str, value: CacheValue) -> None:
        """Cache ``value``; one larger than the whole budget is not kept."""
        size = _size_of(value)
        if key in self._entries:
            self._total -= self._entries.pop(key)[1]
        if size > self.max_bytes:
            return
        self._entries[key] = (value, size)
        self._total += size
        while self._total > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._total -= dropped
