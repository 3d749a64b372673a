"""A local refine server for the bot's tests (design.md's HTTP API, answers made up).

``/refine`` answers the inverted input image. ``mode`` makes it misbehave the ways a real one
does; ``hold()`` keeps every ``/refine`` waiting until ``release()`` (a long GPU job).
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

from aiohttp import web
from PIL import Image, ImageOps

from tests.support.server import LocalServer

STATUS = {
    "models": ["balanced", "quality"],
    "gpu": "Tesla T4",
    "controlnet": True,
    "busy": False,
    "uptime_s": 12.5,
}


class FakeRefineServer(LocalServer):
    """``mode``: "ok" | "busy" (503 JSON) | "ngrok" (404 tunnel not found) | "error" (500 JSON)
    | "junk" (200 with bytes that are not an image) | "huge" (200 with a 30000×30000 PNG header).
    """

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.requests: list[dict[str, Any]] = []
        self.mode = "ok"
        self.queue = 0  # what /status reports
        self.models = list(STATUS["models"])  # what /status reports
        self.status_reads = 0
        self.arrived = asyncio.Event()  # set when a /refine is received
        self._released = asyncio.Event()
        self._released.set()
        self.cancelled = 0  # held requests whose client went away
        self._transports: set = set()  # connections of /refine requests under way

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/health", self._health),
            web.get("/status", self._status),
            web.post("/refine", self._refine),
        ]

    async def kill(self) -> None:
        """Die mid-job, like a GPU box that loses power: open connections are cut, not answered."""
        for transport in self._transports:
            transport.abort()
        self._transports.clear()
        await self.stop()

    def hold(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()

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
        self.status_reads += 1
        return self._gate(request) or web.json_response(
            {**STATUS, "queue": self.queue, "models": self.models}
        )

    async def _refine(self, request: web.Request) -> web.Response:
        refused = self._gate(request)
        if refused is not None:
            return refused
        if self.mode == "busy":
            return web.json_response(
                {"error": "queue full"}, status=503, headers={"Retry-After": "20"}
            )
        fields: dict[str, Any] = {"headers": dict(request.headers), "files": {}}
        async for part in await request.multipart():
            if part.filename:
                fields[part.name] = await part.read()
                fields["files"][part.name] = (part.filename, part.headers.get("Content-Type"))
            else:
                fields[part.name] = await part.text()
        self.requests.append(fields)
        self.arrived.set()
        if request.transport is not None:
            self._transports.add(request.transport)
        try:
            await self._released.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if self.mode == "error":
            return web.json_response({"error": "CUDA out of memory"}, status=500)
        if self.mode == "junk":
            return web.Response(body=b"<html>not an image</html>", content_type="image/png")
        if self.mode == "huge":
            return web.Response(body=_huge_png_header(), content_type="image/png")
        with Image.open(io.BytesIO(fields["image"])) as img:
            out = ImageOps.invert(img.convert("RGB")).resize((64, 64))
        buf = io.BytesIO()
        out.save(buf, format="PNG")
        return web.Response(
            body=buf.getvalue(),
            content_type="image/png",
            headers={
                "X-Seed": fields.get("seed") or "1234",
                "X-Model": fields.get("model", "balanced"),
                "X-Refine-Seconds": "0.25",
            },
        )


def _huge_png_header() -> bytes:
    """A PNG that claims 30000×30000 pixels (a decompression bomb, in 60 bytes)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")
