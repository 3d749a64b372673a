"""The discovery document, version 2: public, so signed with the shared ``REFINE_TOKEN``.

Anyone who knows the npoint bin id can rewrite the document. The refine server signs it; the bot
uses a URL from it only when the signature verifies, so a forged document cannot make the bot
send the token or users' images elsewhere.

``sig`` = hex HMAC-SHA256, keyed by the UTF-8 token, of the UTF-8 JSON of every other field
serialised with ``sort_keys=True, separators=(",", ":"), ensure_ascii=False``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from typing import Any
from urllib.parse import urlsplit

VERSION = 2
# The token signs the public document and guards the GPU: guessable ones are refused by both.
MIN_TOKEN_LENGTH = 24
PLACEHOLDER_TOKEN = "replace-with-a-long-random-string"  # .env.example's, public


def token_problem(token: str) -> str | None:
    """Why ``token`` cannot sign or verify a document, or None when it is long and not public."""
    if not token:
        return "REFINE_TOKEN is not set"
    if token.strip() == PLACEHOLDER_TOKEN:
        return "REFINE_TOKEN is still the .env.example placeholder"
    if len(token) < MIN_TOKEN_LENGTH:
        return f"REFINE_TOKEN is {len(token)} characters long; use at least {MIN_TOKEN_LENGTH}"
    return None


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    """The bytes that are signed: ``fields`` without ``sig``, in the one agreed serialisation."""
    unsigned = {key: value for key, value in fields.items() if key != "sig"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(fields: dict[str, Any], token: str) -> str:
    """Hex HMAC-SHA256 of :func:`canonical_bytes` keyed by the UTF-8 ``token``."""
    return hmac.new(token.encode(), canonical_bytes(fields), hashlib.sha256).hexdigest()


def sign(fields: dict[str, Any], token: str) -> dict[str, Any]:
    """``fields`` with ``version`` 2 and their ``sig``."""
    document = {**{k: v for k, v in fields.items() if k != "sig"}, "version": VERSION}
    return {**document, "sig": signature(document, token)}


def verify(document: object, token: str) -> bool:
    """Whether ``document`` is a version-2 document signed with ``token`` (constant-time)."""
    if not token or not isinstance(document, dict) or document.get("version") != VERSION:
        return False
    sig = document.get("sig")
    if not isinstance(sig, str):
        return False
    try:  # a forgery may hold what UTF-8 cannot encode (a lone surrogate, "\ud800"): no match
        return hmac.compare_digest(sig.encode(), signature(document, token).encode())
    except (UnicodeEncodeError, TypeError, ValueError):
        return False


# Said wherever a refine URL is refused (REFINE_URL, /seturl; the document's has its own words).
REFINE_URL_RULE = (
    "must be an https:// address (http:// only to this machine: localhost, 127.0.0.1, ::1), "
    "so REFINE_TOKEN and users' images never travel in clear"
)


def is_safe_url(url: object) -> bool:
    """An ``https`` URL, or ``http`` to a loopback host (a server on the same machine).

    The one rule for every refine server URL: the discovery document's, ``REFINE_URL``'s and
    ``/seturl``'s.
    """
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not host:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and is_loopback(host)


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
