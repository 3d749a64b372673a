"""The scale-out drill, on loopback: two bot replicas behind a proxy, two colorize workers, one
Redis (append-only), the Telegram and npoint stand-ins, two real refine servers (tiny SD).

1. 50 users send a sketch at once; one worker is killed (SIGKILL) mid-burst: every user gets
   exactly one colored picture.
   A replica is killed while a sketch it took waits for a worker: the other answers it.
2. A refine server is killed mid-job: the refine completes on the other.
3. Redis is killed and restarted mid-refine: the refine completes, nothing is lost.
4. The replica running a refine is killed: the other replica tells the user to tap again, and
   the tap works.

``DRILL_REPORT=path.json`` writes the timings (docs/deploy.md quotes them).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import aiohttp
import pytest
import redis as redis_lib

from tests.support.npoint import FakeNpoint
from tests.support.processes import BotReplica, RefineProcess
from tests.support.sketches import sketch_bytes
from tests.support.telegram import ADMIN_ID, FakeTelegram
from tests.support.tiny_sd import build_tiny_pipeline
from tests.support.tokens import BOT_TOKEN, REFINE_TOKEN
from tests.support.workers import WorkerProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

USERS = 50
BINS = ("bin-gpu-a", "bin-gpu-b")


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory):
    return build_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd"))


def answers(telegram: FakeTelegram, user: int) -> list:
    """What the user was sent (pictures, files, texts), queue notices aside."""
    return [
        c
        for c in telegram.calls
        if c.chat_id == user
        and c.method in ("sendPhoto", "sendDocument", "sendMessage")
        and "in line" not in (c.params.get("text") or "")
    ]


def refined(telegram: FakeTelegram, user: int) -> list:
    return [
        c for c in telegram.sent(user, "sendPhoto") if "seed" in (c.params.get("caption") or "")
    ]


async def busy_server(servers: list[RefineProcess], timeout_s: float = 60.0) -> RefineProcess:
    """The refine server whose GPU is working now."""
    headers = {"Authorization": f"Bearer {REFINE_TOKEN}"}
    async with aiohttp.ClientSession() as session, asyncio.timeout(timeout_s):
        while True:
            for server in servers:
                try:
                    async with session.get(f"{server.url}/status", headers=headers) as r:
                        if (await r.json())["busy"]:
                            return server
                except aiohttp.ClientError:
                    pass
            await asyncio.sleep(0.02)


async def colored_and_tap(telegram: FakeTelegram, user: int, seed: int) -> dict:
    sketch = await telegram.send_photo(user, sketch_bytes((128, 128), seed=seed))
    colored = (await telegram.reply_to(sketch, "sendPhoto", timeout=60)).result
    await telegram.tap(user, colored, "r:b:30")
    return colored


async def test_drill(redis_server, redis_url, tiny_onnx, tiny_sd, tmp_path):
    report: dict[str, object] = {}
    telegram = await FakeTelegram(BOT_TOKEN).start()
    npoint = await FakeNpoint().start()
    refine_env = {
        "REFINE_TOKEN": REFINE_TOKEN,
        "NPOINT_API_BASE": npoint.url,
        # Slow enough on CPU to be killed mid-job (~2 s), still a real diffusers pipeline.
        "STEPS_BALANCED": "100",
        "REFINE_MIN_SIDE": "256",
        "REFINE_MAX_SIDE": "256",
    }
    refiners = [
        RefineProcess(tmp_path / f"gpu{i}", tiny_sd, refine_env, bin_id=b)
        for i, b in enumerate(BINS)
    ]
    workers = [
        WorkerProcess(redis_url, tiny_onnx, tmp_path / f"worker{i}.log", name=f"worker{i}")
        for i in range(2)
    ]
    bot_env = {
        "TELEGRAM_API_BASE": telegram.base,
        "ADMIN_CHAT_IDS": str(ADMIN_ID),
        "REDIS_URL": redis_url,
        "INFERENCE_BACKEND": "celery",
        "INFERENCE_TIMEOUT_S": "120",
        "INFERENCE_MAX_QUEUE": "200",
        "RATE_LIMIT_PER_MINUTE": "100",
        "REFINE_TOKEN": REFINE_TOKEN,
        "NPOINT_BIN_IDS": ",".join(BINS),
        "NPOINT_API_BASE": npoint.url,
        "HEALTH_CHECK_INTERVAL_S": "2",
        "REFINE_TIMEOUT_S": "120",
    }
    public = "https://bot.example.org/hook"

    def replica_env(index: int) -> dict[str, str]:
        return bot_env if index == 0 else {**bot_env, "WEBHOOK_REGISTER": "false"}

    replicas = [
        BotReplica(tmp_path / f"bot-{i}", replica_env(i), public_url=public) for i in range(2)
    ]
    try:
        started = time.perf_counter()
        for refiner in refiners:
            await refiner.start()
        await asyncio.gather(*(asyncio.to_thread(w.start, 120) for w in workers))
        for refiner in refiners:  # published before the bots read the documents
            await refiner.wait_ready()
        for replica in replicas:
            await replica.start()
        for replica in replicas:
            await replica.wait_ready()
        telegram.replicas = [r.address for r in replicas]
        report["start_s"] = round(time.perf_counter() - started, 1)

        # 1. A burst of 50 users; one worker dies mid-burst.
        started = time.perf_counter()
        users = list(range(5000, 5000 + USERS))
        await asyncio.gather(
            *(telegram.send_photo(u, sketch_bytes((512, 512), seed=u)) for u in users)
        )
        with redis_lib.Redis.from_url(redis_url) as redis:
            async with asyncio.timeout(60):  # both workers hold jobs (4 each) when one dies
                while redis.hlen("unacked") < 6:
                    await asyncio.sleep(0.01)
            workers[0].kill()
        report["worker_killed_after_s"] = round(time.perf_counter() - started, 1)
        await telegram.wait_for(
            lambda c: c.method == "sendPhoto" and c.chat_id in users, count=USERS, timeout=150
        )
        report["burst_s"] = round(time.perf_counter() - started, 1)
        # The dead worker's jobs waited for the visibility timeout (5 s), then ran elsewhere.
        assert report["burst_s"] >= 5.0
        await asyncio.sleep(6)  # past the visibility timeout: no late duplicate either
        for user in users:
            got = answers(telegram, user)
            assert [c.method for c in got] == ["sendPhoto"], (user, [c.params for c in got])

        # 1b. A replica dies while a sketch waits for a worker: it had not answered Telegram yet,
        # so Telegram sends the update again, through the proxy, to the other replica.
        started = time.perf_counter()
        os.killpg(workers[1].process.pid, signal.SIGSTOP)  # the queue stands still
        try:
            sketch = await telegram.send_photo(7001, sketch_bytes((256, 256), seed=7))
            with redis_lib.Redis.from_url(redis_url) as redis:
                async with asyncio.timeout(30):
                    while redis.llen("pixelpainter:colorize") < 1:
                        await asyncio.sleep(0.02)
            dead = next(r for r in replicas if r.address == telegram.routed[-1][1])
            await dead.kill()
            telegram.replicas = [r.address for r in replicas if r is not dead]
        finally:
            os.killpg(workers[1].process.pid, signal.SIGCONT)
        await telegram.reply_to(sketch, "sendPhoto", timeout=90)
        report["replica_death_sketch_s"] = round(time.perf_counter() - started, 1)
        await asyncio.sleep(3)
        assert [c.method for c in answers(telegram, 7001)] == ["sendPhoto"]
        # The operator's service manager starts it again.
        index = replicas.index(dead)
        replicas[index] = BotReplica(
            tmp_path / f"bot-{index}-again", replica_env(index), public_url=public
        )
        await replicas[index].start()
        await replicas[index].wait_ready()
        telegram.replicas = [r.address for r in replicas]

        # Admins see the workers, the shared queue and every refine server, from any replica.
        await telegram.send_text(ADMIN_ID, "/status")
        [status] = await telegram.wait_for(
            lambda c: c.chat_id == ADMIN_ID and "colorize workers" in (c.params.get("text") or "")
        )
        text = status.params["text"]
        assert "jobs waiting for a worker: 0" in text and text.count("✨ Refine server") == 2
        assert all(r.url in text for r in refiners)

        # 2. A refine server dies mid-job: the other finishes it.
        started = time.perf_counter()
        await colored_and_tap(telegram, 6001, seed=1)
        doomed = await busy_server(refiners)
        await doomed.kill()
        await telegram.wait_for(lambda c: c in refined(telegram, 6001), timeout=120)
        report["refine_failover_s"] = round(time.perf_counter() - started, 1)
        survivor = next(r for r in refiners if r is not doomed)
        offline = await telegram.wait_for(
            lambda c: c.chat_id == ADMIN_ID and "offline" in (c.params.get("text") or ""),
            timeout=30,
        )
        await asyncio.sleep(5)  # both replicas check health every 2 s: still one alert
        alerts = [c for c in telegram.sent(ADMIN_ID) if "offline" in (c.params.get("text") or "")]
        assert len(alerts) == 1 and doomed.url in offline[0].params["text"]

        # 3. Redis dies and comes back (append-only file) mid-refine.
        started = time.perf_counter()
        await colored_and_tap(telegram, 6002, seed=2)
        await busy_server([survivor])
        redis_server.restart(kill=True)
        await telegram.wait_for(lambda c: c in refined(telegram, 6002), timeout=120)
        report["redis_restart_refine_s"] = round(time.perf_counter() - started, 1)
        assert [c.method for c in answers(telegram, 6002)] == ["sendPhoto", "sendPhoto"]

        # 4. The replica running a refine dies: the other asks the user to tap again.
        started = time.perf_counter()
        colored = await colored_and_tap(telegram, 6003, seed=3)
        tapped_on = telegram.routed[-1][1]
        await busy_server([survivor])
        dead = next(r for r in replicas if r.address == tapped_on)
        await dead.kill()
        alive = next(r for r in replicas if r is not dead)
        telegram.replicas = [alive.address]  # the proxy's health check drops it
        [again] = await telegram.wait_for(
            lambda c: c.chat_id == 6003 and "tap the button again" in (c.params.get("text") or ""),
            timeout=90,
        )
        report["replica_death_answered_s"] = round(time.perf_counter() - started, 1)
        await telegram.tap(6003, colored, "r:b:30")
        await telegram.wait_for(lambda c: c in refined(telegram, 6003), timeout=120)
        await asyncio.sleep(12)  # another sweep: the cut-off refine is not answered twice
        assert (
            len(
                [
                    c
                    for c in telegram.sent(6003, "sendMessage")
                    if c is again or "again" in c.params["text"]
                ]
            )
            == 1
        )

        assert not [c for c in telegram.calls if c.method == "deleteWebhook"]
    finally:
        for replica in replicas:
            await replica.kill()
        for worker in workers:
            worker.kill()
        for refiner in refiners:
            await refiner.kill()
        await npoint.stop()
        await telegram.stop()
        if os.environ.get("DRILL_REPORT"):
            with open(os.environ["DRILL_REPORT"], "w") as out:
                json.dump(report, out, indent=2)
        print("drill:", report)
