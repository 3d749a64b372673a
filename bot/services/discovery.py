"""Where the refine server is: ``/seturl``, else ``REFINE_URL``, else the npoint document."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)

NPOINT_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)


class RefineLocator:
    """Finds the refine server's URL and reads the discovery document again when it goes stale."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        fixed_url: str | None,
        npoint_api_base: str,
        npoint_bin_id: str,
    ) -> None:
        self._session = session
        self.fixed_url = fixed_url
        self._npoint_url = f"{npoint_api_base}/{npoint_bin_id}" if npoint_bin_id else None
        self.override: str | None = None  # set by an admin's /seturl, until restart
        self.document: dict[str, Any] | None = None  # the last discovery document read
        self._cached: str | None = None
        self._lock = asyncio.Lock()

    @property
    def configured(self) -> bool:
        """Whether there is any way to find a refine server."""
        return bool(self.override or self.fixed_url or self._npoint_url)

    @property
    def source(self) -> str:
        """Where the current URL comes from, for /status."""
        if self.override:
            return "/seturl"
        if self.fixed_url:
            return "REFINE_URL"
        return "npoint" if self._npoint_url else "not configured"

    @property
    def known_url(self) -> str | None:
        """The URL in use, without any network call (None if not found yet)."""
        return self.override or self.fixed_url or self._cached

    def set_override(self, url: str | None) -> None:
        """Use ``url`` until restart (None: back to automatic discovery)."""
        self.override = url.rstrip("/") if url else None

    async def current(self) -> str | None:
        """The refine server's URL, reading the discovery document if none is cached."""
        if self.known_url:
            return self.known_url
        return await self.rediscover(stale=None)

    async def rediscover(self, stale: str | None) -> str | None:
        """Read the discovery document again after ``stale`` failed; the URL to try now."""
        if self.override or self.fixed_url:
            return self.override or self.fixed_url
        if self._npoint_url is None:
            return None
        async with self._lock:
            # Many callers fail together when the tunnel moves; one read serves them all.
            if self._cached is not None and self._cached != stale:
                return self._cached
            self._cached = await self._read_document()
            return self._cached

    async def _read_document(self) -> str | None:
        assert self._npoint_url is not None
        try:
            async with self._session.get(self._npoint_url, timeout=NPOINT_TIMEOUT) as response:
                if response.status != 200:
                    logger.warning("Discovery document: HTTP %d", response.status)
                    return None
                document = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            logger.warning("Discovery document unreadable: %r", err)
            return None
        url = document.get("url") if isinstance(document, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            logger.warning("Discovery document has no usable url")
            return None
        self.document = document
        logger.info("Refine server discovered at %s", url)
        return url.rstrip("/")
