"""Mini App initData signed as Telegram signs it (design.md), written apart from
``webapp.telegram_auth`` so the tests check the web app against the spec, not against itself."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """initData for ``fields``: hex HMAC-SHA256 of the sorted ``key=value`` lines, keyed by
    HMAC-SHA256(key="WebAppData", msg=bot token)."""
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    lines = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "hash")
    digest = hmac.new(secret, lines.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})
