"""The web app's typed configuration and application state (``web.AppKey``s)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web
from PIL import Image

from inference.colorizer import Colorized, Style
from inference.hints import Hint
from inference.service import ColorizeBackend
from shared_state.rate_limit import Limiter

DEFAULT_MAX_UPLOAD_MB = 20.0
DEFAULT_REQUESTS_PER_MINUTE = 30
DEFAULT_BODY_TIMEOUT_S = 60.0  # 20 MB at 350 KB/s, a slow mobile upload
DEFAULT_MAX_CONNECTIONS = 100


@dataclass(frozen=True)
class WebAppConfig:
    """Limits, and the bot token that turns the Mini App endpoints on (None: plain web app).

    Trust: a plain web app (``pixelpainter serve``) serves anyone and limits each address. Inside
    the bot every request but the page itself needs Telegram's initData for an allowed user, and
    is limited per Telegram user, so a proxy in front shares no limit between users.
    """

    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB
    requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE
    bot_token: str | None = field(default=None, repr=False)  # secret: never in a repr or a log
    init_data_max_age_s: int = 24 * 3600
    # A client that trickles its upload holds a connection: the whole body must arrive in time,
    # and connections past the cap are answered 503 at once.
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    # Mini App: the Telegram users who may use it (empty: everyone with valid initData).
    allowed_user_ids: frozenset[int] = frozenset()
    # Plain web app behind this many proxies: clients are told apart by X-Forwarded-For.
    trusted_proxies: int = 0


class DeliveryError(Exception):
    """The bot could not deliver to the chat; ``str(err)`` is a reason a person can read."""


class ChatBridge(Protocol):
    """What the Mini App needs from the bot that serves it."""

    async def colorized(
        self, file_id: str, style: Style | None = None, hints: Sequence[Hint] = ()
    ) -> Colorized:
        """The colored version of a sketch in Telegram (cached, or colorized again), in
        ``style`` (None: the bot's default), with color ``hints`` in the sketch's pixels.

        Raises SketchError, HintsError, QueueFullError, or LookupError when Telegram no longer
        has it.
        """
        ...

    async def send_image(self, chat_id: int, image: Image.Image, png: bytes) -> None:
        """Send an edited image to ``chat_id``: ``png`` as a file, with a photo preview of
        ``image`` (the same picture, decoded) when it fits.

        Raises :class:`DeliveryError` when Telegram refuses it.
        """
        ...


CONFIG_KEY = web.AppKey("config", WebAppConfig)
INFERENCE_KEY = web.AppKey("inference", ColorizeBackend)
LIMITER_KEY = web.AppKey("limiter", Limiter)
BRIDGE_KEY = web.AppKey("bridge", ChatBridge)
# The threads that encode the responses' images, one pool for the app (``webapp.app``).
ENCODER_KEY = web.AppKey("encoder", ThreadPoolExecutor)
