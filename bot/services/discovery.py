"""Where the refine server is: ``/seturl``, else ``REFINE_URL``, else the signed npoint document.

The document is public and anyone who knows the bin id can rewrite it, so a URL from it is used
only when its signature verifies with ``REFINE_TOKEN`` and it is https (http only on loopback).
A rejected document is never contacted: the admins hear about it once, the users that refining
is unavailable.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from pydantic import SecretStr

from pixelpainter_common.discovery import (
    VERSION,
    is_safe_url,
    token_problem,
    verify,
)
from shared_state.alerts import AlertGate, LocalAlerts

logger = logging.getLogger(__name__)

NPOINT_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)

# Called with the reason once per distinct rejected document.
OnRejected = Callable[[str], Awaitable[None]]


class RefineLocator:
    """Finds the refine server's URL and reads the discovery document again when it goes stale."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        fixed_url: str | None,
        npoint_api_base: str,
        npoint_bin_id: str,
        token: SecretStr,
        on_rejected: OnRejected | None = None,
        alerts: AlertGate | None = None,
    ) -> None:
        self._session = session
        self.fixed_url = fixed_url
        self._npoint_url = f"{npoint_api_base}/{npoint_bin_id}" if npoint_bin_id else None
        self._token = token
        self._on_rejected = on_rejected
        self.override: str | None = None  # set by an admin's /seturl, until restart
        self.document: dict[str, Any] | None = None  # the last trusted discovery document
        self.rejected: str | None = None  # why the last document read was not trusted
        # Rejected documents already reported (by fingerprint), by this or another replica.
        self._alerts = alerts or LocalAlerts()
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
            logger.warning("Discovery document unreadable: %s", type(err).__name__)
            return None
        problem = self._distrust(document)
        if problem is not None:
            await self._reject(document, problem)
            return None
        self.rejected = None
        self.document = document
        logger.info("Refine server discovered at %s", document["url"])
        return document["url"].rstrip("/")

    def _distrust(self, document: object) -> str | None:
        """Why ``document`` must not be used, or None when it is signed and safe."""
        if not isinstance(document, dict) or not document:
            return "not a discovery document"
        if document.get("version") != VERSION:
            return f"version {document.get('version')!r}, not the signed version {VERSION}"
        weak = token_problem(self._token.get_secret_value())
        if weak is not None:  # anyone could sign with a public or guessable token
            return f"{weak}, so no signature can be trusted"
        if not verify(document, self._token.get_secret_value()):
            return "its signature does not match REFINE_TOKEN"
        if not is_safe_url(document.get("url")):
            return "its url is not https"
        return None

    async def _reject(self, document: object, problem: str) -> None:
        self.rejected = problem
        if not await self._alerts.open(f"discovery-rejected:{_fingerprint(document)}"):
            return
        # The document itself is not logged: it is untrusted text, and it could be large.
        logger.warning("Discovery document rejected: %s; not using its URL", problem)
        if self._on_rejected is not None:
            await self._on_rejected(problem)


def _fingerprint(document: object) -> str:
    # repr escapes what UTF-8 cannot encode (a forged lone surrogate), so any document has one.
    return hashlib.sha256(repr(document).encode("ascii", "backslashreplace")).hexdigest()
