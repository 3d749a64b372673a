"""Telegram Mini App authentication: ``initData`` as Telegram documents it, and signed links.

initData (core.telegram.org/bots/webapps, "Validating data received via the Mini App"): a query
string; ``secret = HMAC-SHA256(key="WebAppData", msg=bot_token)``; the fields other than ``hash``,
URL-decoded, sorted by key and joined as ``key=value`` lines are the data-check-string; ``hash``
must equal ``hex(HMAC-SHA256(key=secret, msg=data_check_string))``, and ``auth_date`` tells how
old the data is.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

MAX_AGE_S = 24 * 3600
# Clocks differ a little; initData from further in the future than this is refused.
CLOCK_SKEW_S = 300


class InitDataError(ValueError):
    """initData is missing, forged, changed or stale; ``str(err)`` says which."""


@dataclass(frozen=True)
class WebAppUser:
    """Who opened the Mini App, from initData's ``user`` field."""

    id: int
    first_name: str
    auth_date: int


def _secret(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: dict[str, str]) -> str:
    """All fields but ``hash``, sorted by key, as ``key=value`` lines."""
    return "\n".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "hash")


def validate_init_data(
    init_data: str, bot_token: str, *, max_age_s: int = MAX_AGE_S, now: float | None = None
) -> WebAppUser:
    """The user in ``init_data`` if Telegram signed it for this bot within ``max_age_s``."""
    if not init_data:
        raise InitDataError("open this page from the bot in Telegram (no initData was sent)")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError as err:
        raise InitDataError("initData is not a query string") from err
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataError("initData repeats a field")
    given = fields.get("hash", "")
    if not given:
        raise InitDataError("initData has no hash")
    expected = hmac.new(
        _secret(bot_token), data_check_string(fields).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(given.lower().encode(), expected.encode()):
        raise InitDataError("initData was not signed by Telegram for this bot")
    try:
        auth_date = int(fields["auth_date"])
    except (KeyError, ValueError) as err:
        raise InitDataError("initData has no valid auth_date") from err
    age = (time.time() if now is None else now) - auth_date
    if age > max_age_s:
        raise InitDataError("this Mini App session is too old; close it and open it again")
    if age < -CLOCK_SKEW_S:
        raise InitDataError("initData's auth_date is in the future")
    try:
        user = json.loads(fields["user"])
        return WebAppUser(int(user["id"]), str(user.get("first_name", "")), auth_date)
    except (KeyError, ValueError, TypeError) as err:
        raise InitDataError("initData has no user") from err


# ---- links from a chat result to the editor ----
def sketch_signature(bot_token: str, file_id: str) -> str:
    """A short tag proving the bot itself made a link to ``file_id`` (hex, 32 characters)."""
    key = hmac.new(b"PixelPainterSketchLink", bot_token.encode(), hashlib.sha256).digest()
    return hmac.new(key, file_id.encode(), hashlib.sha256).hexdigest()[:32]


def verify_sketch(bot_token: str, file_id: str, signature: str) -> bool:
    """Whether ``signature`` is :func:`sketch_signature` of ``file_id`` (constant time)."""
    return hmac.compare_digest(sketch_signature(bot_token, file_id).encode(), signature.encode())


def sketch_link(webapp_url: str, bot_token: str, file_id: str) -> str:
    """The editor page's address for one sketch the bot has colored."""
    query = urlencode({"sketch": file_id, "sig": sketch_signature(bot_token, file_id)})
    return f"{webapp_url}{'&' if '?' in webapp_url else '?'}{query}"
