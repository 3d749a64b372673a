"""Several refine servers: each one's place (a locator) and state (its health and /status).

One server is the common case (``REFINE_URL`` or ``NPOINT_BIN_ID``). More come from
``REFINE_URLS`` (fixed addresses) and ``NPOINT_BIN_IDS`` (one signed discovery document per GPU
server). Each refine goes to the least busy healthy server that has the model asked for; the
client fails over to the next when one is down, full or dies mid-job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.services.discovery import RefineLocator
from bot.services.health import RefineHealth


@dataclass
class RefineServer:
    """One refine server: ``name`` (for /status and alerts), where it is and how it is."""

    name: str
    locator: RefineLocator
    health: RefineHealth

    def has_model(self, model: str) -> bool:
        """Whether its last /status (or discovery document) lists ``model``; True when unknown."""
        models = self.health.status.get("models")
        if not isinstance(models, list):
            models = (self.locator.document or {}).get("models")
        return not isinstance(models, list) or model in models

    @property
    def load(self) -> int:
        """Jobs on its GPU at the last check: its queue, plus one while it is busy."""
        busy = self.health.status.get("busy") is True and self.health.online is not False
        return self.health.queue + int(busy)


class RefinePool:
    """The configured servers, or the one an admin chose with ``/seturl`` until restart."""

    def __init__(
        self, servers: list[RefineServer], make_server: Callable[[str, str], RefineServer]
    ) -> None:
        self.configured_servers = servers
        self._make_server = make_server  # (name, fixed url) -> a server, for /seturl
        self.override: RefineServer | None = None

    @property
    def servers(self) -> list[RefineServer]:
        """The servers in use now."""
        return [self.override] if self.override else self.configured_servers

    @property
    def configured(self) -> bool:
        """Whether there is any way to find a refine server."""
        return any(s.locator.configured for s in self.servers)

    @property
    def source(self) -> str:
        """Where the servers come from, for /status and /seturl."""
        if self.override:
            return "/seturl"
        return ", ".join(s.locator.source for s in self.servers) or "not configured"

    def set_override(self, url: str | None) -> None:
        """Use only ``url`` until restart (None: back to the configured servers)."""
        self.override = self._make_server("/seturl", url.rstrip("/")) if url else None

    def ranked(self, model: str) -> list[RefineServer]:
        """Servers to try for ``model``, best first: healthy before offline, with the model
        before without, least loaded first (ties keep the configured order)."""
        return sorted(
            self.servers,
            key=lambda s: (s.health.online is False, not s.has_model(model), s.load),
        )
