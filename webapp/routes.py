"""HTTP handlers and the route table: the seed's API, the editor's, and the Mini App's."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Hashable
from pathlib import Path

from aiohttp import web
from multidict import MultiDictProxy

from inference.colorizer import DEFAULT_MAX_SIDE, STYLES, Colorized, Style
from inference.errors import HintsError, QueueFullError, SketchError
from inference.hints import Hint, parse_hints
from inference.images import encode_png, open_sketch
from webapp.editor import editor_document
from webapp.errors import ApiError, hints_error, queue_full_error, sketch_error
from webapp.state import (
    BRIDGE_KEY,
    CONFIG_KEY,
    ENCODER_KEY,
    INFERENCE_KEY,
    LIMITER_KEY,
    ChatBridge,
    DeliveryError,
)
from webapp.telegram_auth import InitDataError, WebAppUser, validate_init_data, verify_sketch

STATIC_DIR = Path(__file__).parent / "static"
# The page loads only its own files (and, inside Telegram, Telegram's script); images are the
# editor document's data URLs and the canvases' blobs.
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' https://telegram.org; "
        "img-src 'self' data: blob:; style-src 'self'; frame-ancestors *"
    ),
    "X-Content-Type-Options": "nosniff",
}

FormData = MultiDictProxy[str | bytes | web.FileField]


async def index(request: web.Request) -> web.FileResponse:
    """The editor page."""
    return web.FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)


async def health(request: web.Request) -> web.Response:
    """Liveness, and whether the model is loaded and warm."""
    return web.json_response({"status": "ok", "model_loaded": INFERENCE_KEY in request.app})


async def colorize(request: web.Request) -> web.Response:
    """The seed's API: multipart ``sketch`` (optional ``style``, ``hints``) → the colored PNG.

    Inside the bot (the Mini App) it also needs ``init_data`` of an allowed Telegram user.
    """
    if not _in_bot(request):
        await _limit(request, _client(request))  # before the body: an address is all it takes
    form = await _form(request)
    if _in_bot(request):
        await _limit(request, _user(request, form).id)
    result = await _colorize(request, _sketch_bytes(form), _style(form), _hints(form))
    pool = request.app[ENCODER_KEY]
    png = await asyncio.get_running_loop().run_in_executor(pool, encode_png, result.image)
    return web.Response(body=png, content_type="image/png")


async def editor(request: web.Request) -> web.Response:
    """Everything the editor needs for one sketch (see :mod:`webapp.editor`).

    Either an uploaded ``sketch`` (optional ``style``, ``hints``), or in the Mini App
    ``init_data`` with ``sketch_id`` and ``sig`` (optional ``style``, ``hints``): the
    ``sketch``/``sig`` query of the link under a chat result. Inside the bot an upload needs
    ``init_data`` too.
    """
    form = await _form(request)
    if "sketch_id" in form or _in_bot(request):
        await _limit(request, _user(request, form).id)
    else:
        await _limit(request, _client(request))
    if "sketch_id" in form:
        result = await _colorized_from_chat(request, form, _style(form), _hints(form))
    else:
        result = await _colorize(request, _sketch_bytes(form), _style(form), _hints(form))
    takes_hints = request.app[INFERENCE_KEY].takes_hints
    document = await editor_document(result, request.app[ENCODER_KEY], takes_hints=takes_hints)
    return web.json_response(document)


async def send(request: web.Request) -> web.Response:
    """Mini App: multipart ``init_data`` and ``image`` → the bot sends the image to the user."""
    form = await _form(request)
    user = _user(request, form)
    await _limit(request, user.id)
    data = _file_bytes(form, "image")
    try:
        # The one decode of this image; max_side bounds its memory when it is larger than the
        # editor makes (refused below).
        image = await asyncio.to_thread(open_sketch, data, max_side=DEFAULT_MAX_SIDE)
    except SketchError as err:
        raise sketch_error(err) from err
    if max(image.info["source_size"]) > DEFAULT_MAX_SIDE:
        raise ApiError(
            413, f"This picture is larger than the editor makes ({DEFAULT_MAX_SIDE} px a side)."
        )
    png = data if data.startswith(b"\x89PNG") else await asyncio.to_thread(encode_png, image)
    try:
        await _bridge(request).send_image(user.id, image, png)
    except DeliveryError as err:
        raise ApiError(502, f"Telegram did not take the image: {err}") from err
    return web.json_response({"sent": True, "chat_id": user.id})


ROUTES = [
    web.get("/", index),
    web.get("/health", health),
    web.post("/colorize", colorize),
    web.post("/api/editor", editor),
    web.post("/api/send", send),
]


# ---- request parsing ----
async def _form(request: web.Request) -> FormData:
    if request.content_type not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise ApiError(
            400, "Send the image as multipart/form-data (e.g. curl -F sketch=@file.png)."
        )
    try:
        async with asyncio.timeout(request.app[CONFIG_KEY].body_timeout_s):
            return await request.post()
    except TimeoutError as err:
        raise ApiError(
            408, "The upload took too long to arrive. Check the connection and send it again."
        ) from err


def _file_bytes(form: FormData, name: str) -> bytes:
    field = form.get(name)
    if field is None:
        raise ApiError(400, f"The form has no '{name}' field. Attach the image as '{name}'.")
    if isinstance(field, web.FileField):
        return field.file.read()
    return field.encode() if isinstance(field, str) else bytes(field)


def _sketch_bytes(form: FormData) -> bytes:
    return _file_bytes(form, "sketch")


def _style(form: FormData) -> Style | None:
    style = form.get("style")
    if style is None or style == "":
        return None
    for known in STYLES:
        if style == known:
            return known
    raise ApiError(400, f"Unknown style {str(style)[:20]!r}; use one of: {', '.join(STYLES)}.")


def _hints(form: FormData) -> list[Hint]:
    """The optional ``hints`` field: the JSON list of :func:`inference.hints.parse_hints`."""
    field = form.get("hints")
    if isinstance(field, web.FileField):
        field = field.file.read()
    if field is None or field in ("", b""):
        return []
    try:
        return parse_hints(field)
    except HintsError as err:
        raise hints_error(err) from err


def _in_bot(request: web.Request) -> bool:
    """Whether this is the bot's Mini App, where every request comes from a Telegram user."""
    return BRIDGE_KEY in request.app and bool(request.app[CONFIG_KEY].bot_token)


def _client(request: web.Request) -> str:
    """The rate-limit key of an anonymous client: its address, or with ``trusted_proxies`` the
    one those proxies saw (``X-Forwarded-For``, each proxy appending what it received from)."""
    proxies = request.app[CONFIG_KEY].trusted_proxies
    if proxies:
        hops = [
            hop.strip()
            for header in request.headers.getall("X-Forwarded-For", [])
            for hop in header.split(",")
        ]
        if len(hops) >= proxies and hops[-proxies]:
            return f"ip:{hops[-proxies]}"
    return f"ip:{request.remote}"


async def _limit(request: web.Request, key: Hashable) -> None:
    """Count a request of ``key``: an address, or a Telegram user id (the bot's own key)."""
    wait = await request.app[LIMITER_KEY].check(key)
    if wait is not None:
        raise ApiError(
            429,
            "Too many requests. Please wait a minute and try again.",
            retry_after=max(1, math.ceil(wait)),
        )


def _bridge(request: web.Request) -> ChatBridge:
    bridge = request.app.get(BRIDGE_KEY)
    if bridge is None or not request.app[CONFIG_KEY].bot_token:
        raise ApiError(404, "This server is not connected to a Telegram bot.")
    return bridge


def _user(request: web.Request, form: FormData) -> WebAppUser:
    _bridge(request)
    config = request.app[CONFIG_KEY]
    assert config.bot_token is not None
    init_data = form.get("init_data", "")
    try:
        user = validate_init_data(
            init_data if isinstance(init_data, str) else "",
            config.bot_token,
            max_age_s=config.init_data_max_age_s,
        )
    except InitDataError as err:
        raise ApiError(401, f"Telegram sign-in failed: {err}.") from err
    if config.allowed_user_ids and user.id not in config.allowed_user_ids:
        raise ApiError(403, "This bot is private: ask its owner to add you.")
    return user


# ---- the work ----
async def _colorize(
    request: web.Request, data: bytes, style: Style | None, hints: list[Hint]
) -> Colorized:
    try:
        return await request.app[INFERENCE_KEY].colorize(data, style=style, hints=hints)
    except SketchError as err:
        raise sketch_error(err) from err
    except HintsError as err:
        raise hints_error(err) from err
    except QueueFullError as err:
        raise queue_full_error(err) from err


async def _colorized_from_chat(
    request: web.Request, form: FormData, style: Style | None, hints: list[Hint]
) -> Colorized:
    config = request.app[CONFIG_KEY]
    assert config.bot_token is not None
    file_id, sig = str(form.get("sketch_id", "")), str(form.get("sig", ""))
    if not file_id or not verify_sketch(config.bot_token, file_id, sig):
        raise ApiError(403, "This editor link is not valid. Open it from a result in the chat.")
    try:
        return await _bridge(request).colorized(file_id, style, hints)
    except SketchError as err:
        raise sketch_error(err) from err
    except HintsError as err:
        raise hints_error(err) from err
    except QueueFullError as err:
        raise queue_full_error(err) from err
    except LookupError as err:
        raise ApiError(
            404, "Telegram no longer has this sketch. Send it to the bot again."
        ) from err
