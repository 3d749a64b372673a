"""Local stand-ins for the refine server (design.md's HTTP API) and the npoint document."""

from __future__ import annotations

import io
import socket
from typing import Any

from aiohttp import web
from PIL import Image, ImageOps


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server:
    """An aiohttp app on a fixed local port that can be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._runner: web.AppRunner | None = None

    def make_app(self) -> web.Application:
        raise NotImplementedError

    async def start(self) -> Any:
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class FakeRefineServer(_Server):
    """Answers /health, /status and /refine; ``/refine`` returns the inverted input image."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.requests: list[dict[str, Any]] = []
        self.mode = "ok"  # "ok" | "busy" (503 JSON) | "ngrok" (404 tunnel not found)

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_get("/health", self._health)
        app.router.add_get("/status", self._status)
        app.router.add_post("/refine", self._refine)
        return app

    def _gate(self, request: web.Request, *, auth: bool = True) -> web.Response | None:
        if self.mode == "ngrok":
            return web.Response(
                status=404, text="Tunnel not found", headers={"ngrok-error-code": "ERR_NGROK_3200"}
            )
        if auth and request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"error": "missing or wrong token"}, status=401)
        return None

    async def _health(self, request: web.Request) -> web.Response:
        return self._gate(request, auth=False) or web.json_response({"status": "ok"})

    async def _status(self, request: web.Request) -> web.Response:
        return self._gate(request) or web.json_response(
            {
                "models": ["balanced", "quality"],
                "gpu": "Tesla T4",
                "controlnet": True,
                "queue": 0,
                "busy": False,
                "uptime_s": 12.5,
            }
        )

    async def _refine(self, request: web.Request) -> web.Response:
        refused = self._gate(request)
        if refused is not None:
            return refused
        if self.mode == "busy":
            return web.json_response(
                {"error": "queue full"}, status=503, headers={"Retry-After": "20"}
            )
        fields: dict[str, Any] = {"headers": dict(request.headers)}
        async for part in await request.multipart():
            fields[part.name] = await (part.read() if part.filename else part.text())
        self.requests.append(fields)
        with Image.open(io.BytesIO(fields["image"])) as img:
            out = ImageOps.invert(img.convert("RGB")).resize((64, 64))
        buf = io.BytesIO()
        out.save(buf, format="PNG")
        seed = fields.get("seed") or "1234"
        return web.Response(
            body=buf.getvalue(),
            content_type="image/png",
            headers={
                "X-Seed": seed,
                "X-Model": fields.get("model", "balanced"),
                "X-Refine-Seconds": "0.25",
            },
        )


class FakeNpoint(_Server):
    """GET /{bin} gives the discovery document; ``reads`` counts the GETs."""

    def __init__(self, bin_id: str, url: str) -> None:
        super().__init__()
        self.bin_id = bin_id
        self.document: dict[str, Any] = {
            "url": url,
            "started_at": 1764000000,
            "models": ["balanced", "quality"],
            "gpu": "Tesla T4",
            "controlnet": True,
            "version": 1,
        }
        self.reads = 0

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(f"/{self.bin_id}", self._get)
        return app

    async def _get(self, request: web.Request) -> web.Response:
        self.reads += 1
        return web.json_response(self.document)
