"""The refine server's availability, and the admin alerts when it changes."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot import texts
from shared_state.alerts import AlertGate, LocalAlerts

logger = logging.getLogger(__name__)

Notify = Callable[[str], Awaitable[None]]


class RefineHealth:
    """Online/offline state and the last ``/status`` of one server; admins hear once when an
    outage starts and once when it ends, from one replica (``alerts`` shared through Redis)."""

    def __init__(
        self, notify: Notify, *, name: str = "refine", alerts: AlertGate | None = None
    ) -> None:
        self._notify = notify
        self.name = name
        self._alerts = alerts or LocalAlerts()
        self.online: bool | None = None  # None until the first check or call
        self.changed_at = time.time()
        self.last_error: str | None = None
        self.status: dict[str, Any] = {}  # the server's last /status, read by the health job
        self.failures = 0  # failed calls and checks since start, for /status and tests

    @property
    def queue(self) -> int:
        """Jobs waiting on the GPU at the last health check (0 when unknown or offline)."""
        queue = self.status.get("queue")
        if self.online is False or not isinstance(queue, int):
            return 0
        return max(queue, 0)

    def record_status(self, status: dict[str, Any]) -> None:
        """Keep the server's latest ``/status`` document."""
        self.status = status

    @property
    def label(self) -> str:
        """ "online", "offline since …" or "unknown", for /status."""
        if self.online is None:
            return "unknown"
        if self.online:
            return "online"
        since = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self.changed_at))
        return f"offline since {since} ({self.last_error})"

    async def mark_down(self, url: str | None, reason: str) -> None:
        """Record a failed call or check; alerts admins if this starts an outage."""
        self.last_error = reason
        self.failures += 1
        if self.online is False:
            return
        self.online = False  # set before awaiting: concurrent failures alert only once
        self.changed_at = time.time()
        logger.warning("Refine server offline (%s): %s", url, reason)
        if await self._alerts.open(self._episode):
            await self._notify(texts.ADMIN_REFINE_DOWN.format(url=url or "no URL", reason=reason))

    async def mark_up(self, url: str) -> None:
        """Record a successful call or check; alerts admins if this ends an outage."""
        was_down = self.online is False
        self.online = True
        self.last_error = None
        if was_down:
            self.changed_at = time.time()
            logger.info("Refine server back online at %s", url)
        # Another replica may have seen the outage start: whoever sees its end first says so.
        if await self._alerts.close(self._episode):
            await self._notify(texts.ADMIN_REFINE_UP.format(url=url))

    @property
    def _episode(self) -> str:
        return f"refine-down:{self.name}"
