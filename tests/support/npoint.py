"""A local npoint.io: ``POST /{bin}`` stores a JSON document, ``GET /{bin}`` returns it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pixelpainter_common.discovery import sign
from tests.support.server import LocalServer
from tests.support.tokens import REFINE_TOKEN

BIN_ID = "bin0123456789"


def discovery_document(url: str, token: str = REFINE_TOKEN, **fields: Any) -> dict[str, Any]:
    """A version-2 discovery document for ``url``, signed with ``token`` (as a refine server)."""
    values = {
        "url": url,
        "started_at": 1764000000,
        "models": ["balanced", "quality"],
        "gpu": "Tesla T4",
        "controlnet": True,
        **fields,
    }
    return sign(values, token)


class FakeNpoint(LocalServer):
    """``documents`` by bin id; ``requests`` records every POST; ``reads`` counts the GETs.

    ``failures`` answers that many POSTs with ``fail_status`` (a flaky service).
    """

    def __init__(self) -> None:
        super().__init__()
        self.documents: dict[str, Any] = {}
        self.requests: list[dict[str, Any]] = []
        self.reads = 0
        self.failures = 0
        self.fail_status = 500

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/{bin}", self._post), web.get("/{bin}", self._get)]

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(
            {"bin": request.match_info["bin"], "json": body, "headers": dict(request.headers)}
        )
        if self.failures > 0:
            self.failures -= 1
            return web.json_response({"error": "stand-in failure"}, status=self.fail_status)
        self.documents[request.match_info["bin"]] = body
        return web.json_response(body)

    async def _get(self, request: web.Request) -> web.Response:
        self.reads += 1
        document = self.documents.get(request.match_info["bin"])
        if document is None:
            return web.json_response({"error": "not found"}, status=404)
        return web.json_response(document)
