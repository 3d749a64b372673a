"""Secrets stay out of the logs; unexpected errors are logged once, with their traceback."""

from __future__ import annotations

import io
import logging

from bot.logs import configure_logging
from tests.support.sketches import sketch_bytes
from tests.support.telegram import USER_ID
from tests.support.tokens import BOT_TOKEN, REFINE_TOKEN


async def test_tokens_never_logged_and_errors_reach_the_handler(
    telegram, refine_server, make_settings, run_bot, caplog
):
    stream = io.StringIO()
    root = logging.getLogger()
    handlers_before = list(root.handlers)
    configure_logging("DEBUG", [BOT_TOKEN, REFINE_TOKEN], stream)
    caplog.set_level(logging.DEBUG)
    try:
        async with run_bot(make_settings(health_check_interval_s=0.2)):
            sketch = await telegram.send_photo(USER_ID, sketch_bytes(), caption="red eyes")
            colored = (await telegram.reply_to(sketch, "sendPhoto")).result
            await telegram.tap(USER_ID, colored, "r:b:30")
            await telegram.wait_for(lambda c: "seed" in (c.params.get("caption") or ""))
            await refine_server.stop()  # failing calls and health checks log too
            await telegram.tap(USER_ID, colored, "r:b:30")
            await telegram.wait_for(lambda c: "asleep" in c.params.get("text", ""))
            # Telegram refuses to take the result at all: an unexpected error.
            telegram.fail_methods.update(sendPhoto=400, sendDocument=400)
            await telegram.send_photo(USER_ID, sketch_bytes())
            await telegram.wait_for(lambda c: "went wrong" in c.params.get("text", ""))
    finally:
        root.handlers[:] = handlers_before

    errors = [r for r in caplog.records if r.name == "bot.handlers.errors"]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert any(r.name.startswith("telegram") for r in caplog.records)
    raw = "\n".join(logging.Formatter("%(name)s %(message)s").format(r) for r in caplog.records)
    assert "Traceback" in raw
    for secret in (BOT_TOKEN, REFINE_TOKEN):
        assert secret not in raw
        assert secret not in stream.getvalue()
