"""Local stand-ins on 127.0.0.1 for npoint.io and the Telegram Bot API (``sendMessage`` only)."""

from __future__ import annotations

import socket
from typing import Any

from aiohttp import web


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalService:
    """An aiohttp app on its own port; ``failures`` answers that many requests with ``fail_status``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[dict[str, Any]] = []
        self.failures = 0
        self.fail_status = 500
        self._runner: web.AppRunner | None = None

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    async def __aenter__(self) -> LocalService:
        app = web.Application()
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def _failing(self) -> web.Response | None:
        if self.failures > 0:
            self.failures -= 1
            return web.json_response({"error": "stand-in failure"}, status=self.fail_status)
        return None


class FakeNpoint(LocalService):
    """``POST /{bin}`` stores the JSON document, ``GET /{bin}`` returns it (like api.npoint.io)."""

    def __init__(self) -> None:
        super().__init__()
        self.documents: dict[str, Any] = {}

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/{bin}", self._post), web.get("/{bin}", self._get)]

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(
            {"bin": request.match_info["bin"], "json": body, "headers": dict(request.headers)}
        )
        if failed := self._failing():
            return failed
        self.documents[request.match_info["bin"]] = body
        return web.json_response(body)

    async def _get(self, request: web.Request) -> web.Response:
        doc = self.documents.get(request.match_info["bin"])
        return web.json_response(doc) if doc is not None else web.json_response({}, status=404)


class FakeTelegram(LocalService):
    """``POST /bot{token}/sendMessage``: records the message, answers like the Bot API."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.messages: list[dict[str, Any]] = []

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/bot{token}/sendMessage", self._send_message)]

    async def _send_message(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self.requests.append({"token": request.match_info["token"], "json": payload})
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        if failed := self._failing():
            return failed
        self.messages.append(payload)
        result = {
            "message_id": len(self.messages),
            "chat": {"id": payload["chat_id"]},
            "text": payload["text"],
        }
        return web.json_response({"ok": True, "result": result})
