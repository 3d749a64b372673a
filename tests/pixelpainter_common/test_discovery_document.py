"""The signed discovery document both parts agree on (version 2)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from pixelpainter_common.discovery import is_safe_url, sign, verify
from tests.support.tokens import REFINE_TOKEN

FIELDS = {
    "url": "https://abcd.ngrok-free.app",
    "started_at": 1764000000,
    "models": ["balanced", "quality"],
    "gpu": "Tesla T4 — 15 GB",  # non-ASCII: serialised as is (ensure_ascii=False)
    "controlnet": True,
}


def test_signature_is_the_documented_hmac() -> None:
    document = sign(FIELDS, REFINE_TOKEN)
    unsigned = {**FIELDS, "version": 2}
    payload = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hmac.new(REFINE_TOKEN.encode(), payload.encode(), hashlib.sha256).hexdigest()
    assert document == {**unsigned, "sig": expected}
    assert verify(document, REFINE_TOKEN)


@pytest.mark.parametrize(
    "change",
    [
        {"url": "https://evil.example"},
        {"controlnet": False},
        {"version": 1},
        {"sig": "0" * 64},
        {"sig": None},
        {"sig": "\ud800"},  # a lone surrogate: UTF-8 cannot encode it
        {"gpu": "Tesla \udfff T4"},
    ],
)
def test_any_change_breaks_the_signature(change) -> None:
    document = {**sign(FIELDS, REFINE_TOKEN), **change}
    assert not verify(document, REFINE_TOKEN)


def test_other_token_or_no_token_does_not_verify() -> None:
    document = sign(FIELDS, REFINE_TOKEN)
    assert not verify(document, "another-token-of-enough-length")
    assert not verify(document, "")
    assert not verify(["not", "a", "dict"], REFINE_TOKEN)


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://abcd.ngrok-free.app", True),
        ("http://127.0.0.1:5000", True),
        ("http://localhost:5000", True),
        ("http://[::1]:5000", True),
        ("http://abcd.ngrok-free.app", False),
        ("http://10.0.0.5:5000", False),
        ("ftp://example.com", False),
        ("https://", False),
        (None, False),
    ],
)
def test_https_or_loopback_only(url, safe) -> None:
    assert is_safe_url(url) is safe
