"""One redaction for both parts: secrets masked in messages and in tracebacks."""

from __future__ import annotations

import io
import logging

import pytest

from pixelpainter_common.redaction import redact, redacting_handler
from tests.support.tokens import BOT_TOKEN, REFINE_TOKEN


def _log_through(handler: logging.Handler) -> None:
    logger = logging.getLogger("redaction-test")
    logger.handlers[:] = [handler]
    logger.propagate = False
    try:
        logger.warning("calling %s", f"https://api.telegram.org/bot{BOT_TOKEN}/getMe")
        try:
            raise RuntimeError(f"upstream said: Bearer {REFINE_TOKEN} is not accepted")
        except RuntimeError:
            logger.exception("refine failed")
    finally:
        logger.handlers.clear()
        logger.propagate = True


def test_tokens_in_messages_and_tracebacks_are_masked() -> None:
    stream = io.StringIO()
    _log_through(redacting_handler([BOT_TOKEN, REFINE_TOKEN], logging.StreamHandler(stream)))
    text = stream.getvalue()
    assert "Traceback" in text and "RuntimeError: upstream said: Bearer ***" in text
    assert "/bot***/getMe" in text
    assert BOT_TOKEN not in text and REFINE_TOKEN not in text


def test_without_redaction_the_traceback_would_leak() -> None:
    # The control: the same records through a plain handler carry the token.
    stream = io.StringIO()
    _log_through(logging.StreamHandler(stream))
    assert REFINE_TOKEN in stream.getvalue()


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        ("a-long-secret and a-long", ["a-long", "a-long-secret"], "*** and ***"),
        ("nothing here", ["", "zzz"], "nothing here"),
    ],
)
def test_redact_longest_first_and_ignores_empty(text, secrets, expected) -> None:
    assert redact(text, secrets) == expected


def test_both_parts_log_through_the_shared_redaction(capsys) -> None:
    from bot.logs import configure_logging as configure_bot
    from refine_server.logs import configure_logging as configure_refine

    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        for configure in (configure_bot, configure_refine):
            root.handlers.clear()
            configure("INFO", [REFINE_TOKEN])
            try:
                raise ValueError(f"token {REFINE_TOKEN}")
            except ValueError:
                logging.getLogger("x").exception("failed")
    finally:
        root.handlers[:], level = before
        root.setLevel(level)
    err = capsys.readouterr().err
    assert err.count("ValueError: token ***") == 2
    assert REFINE_TOKEN not in err
