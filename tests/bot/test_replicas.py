"""Two bot replicas in webhook mode behind one "proxy", sharing one Redis: the secret is checked
by each, one registers the webhook and none deletes it, the rate limit holds across both, and a
button works whichever replica gets the tap."""

from __future__ import annotations

import aiohttp
import pytest

from bot.callbacks import Action, ButtonData
from tests.support.processes import BotReplica
from tests.support.sketches import sketch_bytes


@pytest.fixture
async def replicas(telegram, redis_url, tiny_onnx, tmp_path):
    public = "https://bot.example.org/hook"  # the proxy's address, registered with Telegram
    common = {
        "TELEGRAM_API_BASE": telegram.base,
        "GENERATOR_WEIGHTS": str(tiny_onnx),
        "INFERENCE_THREADS": "1",
        "REDIS_URL": redis_url,
        "RATE_LIMIT_PER_MINUTE": "3",
    }
    first = BotReplica(tmp_path / "a", common, public_url=public)
    second = BotReplica(tmp_path / "b", {**common, "WEBHOOK_REGISTER": "false"}, public_url=public)
    try:
        for replica in (first, second):
            await replica.start()
        for replica in (first, second):
            await replica.wait_ready()
        telegram.replicas = [first.address, second.address]  # the proxy, round robin
        yield first, second
    finally:
        for replica in (first, second):
            await replica.kill()


async def test_replicas_share_the_webhook_the_limit_and_the_buttons(telegram, replicas):
    first, second = replicas
    [hook] = [c for c in telegram.calls if c.method == "setWebhook"]
    assert hook.params["url"] == "https://bot.example.org/hook"

    # Every replica checks the secret itself.
    async with aiohttp.ClientSession() as session:
        for replica in replicas:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with session.post(
                    replica.address, json={"update_id": 1}, headers=headers
                ) as r:
                    assert r.status == 403

    # One user, three sketches over both replicas: all answered; a fourth is refused by either.
    sketches = [await telegram.send_photo(77, sketch_bytes(seed=i)) for i in range(3)]
    for sketch in sketches:
        await telegram.reply_to(sketch, "sendPhoto")
    assert {address for _, address in telegram.routed} == {first.address, second.address}
    for seed in (3, 4):  # one lands on each replica
        await telegram.send_photo(77, sketch_bytes(seed=seed))
    refusals = await telegram.wait_for(
        lambda c: c.method == "sendMessage" and c.chat_id == 77, count=2
    )
    assert all("come back in" in r.params["text"] for r in refusals)
    assert len(telegram.sent(77, "sendPhoto")) == 3

    # A button under a result works on whichever replica gets the tap (sketch fetched back).
    user = 78
    sketch = await telegram.send_photo(user, sketch_bytes(seed=9))
    photo = (await telegram.reply_to(sketch, "sendPhoto")).result
    for _ in range(2):
        await telegram.tap(user, photo, ButtonData(Action.PNG).pack())
    files = await telegram.wait_for(
        lambda c: c.method == "sendDocument" and c.chat_id == user, count=2
    )
    assert all(f.params["reply_parameters"]["message_id"] == photo["message_id"] for f in files)
    assert len({address for _, address in telegram.routed[-2:]}) == 2

    assert {status for _, status in telegram.deliveries} == {200}  # each took its updates
    # Shutdown: both exit cleanly, and the webhook was never deleted by anyone.
    assert await first.stop() == 0 and await second.stop() == 0
    assert not [c for c in telegram.calls if c.method == "deleteWebhook"]
    assert len([c for c in telegram.calls if c.method == "setWebhook"]) == 1
    assert telegram.webhook is not None
