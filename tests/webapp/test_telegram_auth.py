"""initData checks against Telegram's published algorithm, written out here independently."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import quote, urlencode

import pytest

from tests.support.init_data import sign_init_data
from webapp.telegram_auth import (
    InitDataError,
    sketch_link,
    sketch_signature,
    validate_init_data,
    verify_sketch,
)

TOKEN = "1234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"


def telegram_init_data(fields: dict[str, str], token: str = TOKEN) -> str:
    """As core.telegram.org/bots/webapps describes it: sorted key=value lines, two HMACs."""
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in fields.items()) + f"&hash={digest}"


def fields(auth_date: float | None = None, user_id: int = 42) -> dict[str, str]:
    user = {"id": user_id, "first_name": "Ann", "language_code": "en", "allows_write_to_pm": True}
    return {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(user, separators=(",", ":")),
        "auth_date": str(int(auth_date if auth_date is not None else time.time())),
        "signature": "abc_DEF-123",
    }


def test_valid_init_data_gives_the_user():
    user = validate_init_data(telegram_init_data(fields(user_id=777)), TOKEN)
    assert user.id == 777 and user.first_name == "Ann"


def test_our_signer_matches_telegram_algorithm():
    f = fields()
    ours = dict(pair.split("=", 1) for pair in sign_init_data(f, TOKEN).split("&"))
    theirs = dict(pair.split("=", 1) for pair in telegram_init_data(f).split("&"))
    assert ours["hash"] == theirs["hash"]


def test_stale_auth_date_is_refused():
    old = telegram_init_data(fields(auth_date=time.time() - 24 * 3600 - 60))
    with pytest.raises(InitDataError, match="too old"):
        validate_init_data(old, TOKEN)
    # ... and 23 h is still fine
    validate_init_data(telegram_init_data(fields(auth_date=time.time() - 23 * 3600)), TOKEN)


def test_changed_field_is_refused():
    data = telegram_init_data(fields(user_id=42))
    forged = data.replace(quote('"id":42', safe=""), quote('"id":43', safe=""))
    assert forged != data
    with pytest.raises(InitDataError, match="not signed"):
        validate_init_data(forged, TOKEN)


def test_added_field_is_refused():
    with pytest.raises(InitDataError, match="not signed"):
        validate_init_data(telegram_init_data(fields()) + "&chat_type=private", TOKEN)


def test_missing_hash_is_refused():
    data = urlencode(fields())
    with pytest.raises(InitDataError, match="no hash"):
        validate_init_data(data, TOKEN)


def test_other_bots_token_is_refused():
    data = telegram_init_data(fields(), token="7654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ")
    with pytest.raises(InitDataError, match="not signed"):
        validate_init_data(data, TOKEN)


@pytest.mark.parametrize("junk", ["", "not a query", "hash=", "a=1&a=2&hash=00"])
def test_junk_is_refused(junk):
    with pytest.raises(InitDataError):
        validate_init_data(junk, TOKEN)


def test_sketch_links_are_signed_per_file():
    link = sketch_link("https://example.test/edit", TOKEN, "AgACAgIAAxkBAAIB")
    assert link.startswith("https://example.test/edit?sketch=AgACAgIAAxkBAAIB&sig=")
    sig = sketch_signature(TOKEN, "AgACAgIAAxkBAAIB")
    assert verify_sketch(TOKEN, "AgACAgIAAxkBAAIB", sig)
    assert not verify_sketch(TOKEN, "AgACAgIAAxkBAAIC", sig)
    assert not verify_sketch("1:other", "AgACAgIAAxkBAAIB", sig)
