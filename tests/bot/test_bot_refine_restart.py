"""No refine is lost to a restart: the real bot process, killed mid-refine, answers at its next start."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from bot.services.refine_store import RefineStore
from tests.support.npoint import BIN_ID
from tests.support.sketches import sketch_bytes
from tests.support.telegram import ADMIN_ID, USER_ID
from tests.support.tokens import BOT_TOKEN, REFINE_TOKEN

REPO = Path(__file__).resolve().parents[2]


async def _start_bot(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "REFINE_"))}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot",
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(REPO), **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_sigkill_mid_refine_then_restart_restores_caption_and_asks_to_tap_again(
    telegram, refine_server, npoint, tiny_onnx, tmp_path
):
    env = {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE": telegram.base,
        "GENERATOR_WEIGHTS": str(tiny_onnx),
        "REFINE_TOKEN": REFINE_TOKEN,
        "NPOINT_BIN_ID": BIN_ID,
        "NPOINT_API_BASE": npoint.url,
        "ADMIN_CHAT_IDS": str(ADMIN_ID),
        "BOT_DATA_DIR": str(tmp_path / "data"),
        "HEALTH_CHECK_INTERVAL_S": "600",
        "SHUTDOWN_GRACE_S": "1",
    }
    refine_server.hold()  # the GPU job outlives the first process
    first = await _start_bot(env, tmp_path)
    try:
        sketch = await telegram.send_photo(USER_ID, sketch_bytes(), caption="red scarf")
        colored = (await telegram.reply_to(sketch, "sendPhoto", timeout=90)).result
        await telegram.tap(USER_ID, colored, "r:q:30")
        await asyncio.wait_for(refine_server.arrived.wait(), 60)
        await telegram.wait_for(lambda c: c.method == "editMessageCaption")
        stored = telegram.messages[(USER_ID, colored["message_id"])]
        assert stored["caption"] == "⏳ Refining with Quality…"
    finally:
        first.kill()  # SIGKILL: no clean-up code runs
        await first.wait()
    assert first.returncode == -signal.SIGKILL
    refine_server.release()

    second = await _start_bot(env, tmp_path)
    try:
        [told] = await telegram.wait_for(
            lambda c: c.chat_id == USER_ID and "tap the button again" in c.params.get("text", ""),
            timeout=90,
        )
        assert told.params["reply_parameters"]["message_id"] == colored["message_id"]
        restored = telegram.messages[(USER_ID, colored["message_id"])]
        assert "caption" not in restored  # the colored photo had none: put back as it was
        assert restored["reply_markup"] == colored["reply_markup"]  # buttons kept

        # The restored buttons work: the refine runs in the new process.
        await telegram.tap(USER_ID, restored, "r:q:30")
        await telegram.wait_for(
            lambda c: c.method == "sendPhoto" and "seed" in (c.params.get("caption") or ""),
            timeout=60,
        )
        assert refine_server.requests[-1]["prompt"] == "red scarf"

        # SIGTERM with a refine under way: answered after the grace period, then a clean exit.
        refine_server.hold()
        refine_server.arrived.clear()
        await telegram.tap(USER_ID, restored, "r:b:30")
        await asyncio.wait_for(refine_server.arrived.wait(), 60)
        stopping = time.monotonic()
        second.terminate()
        _, err = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 0, err.decode()
        assert time.monotonic() - stopping < 15  # not the 330 s refine timeout
        assert any("restarting" in t for t in telegram.texts(USER_ID))
        assert BOT_TOKEN not in err.decode() and REFINE_TOKEN not in err.decode()
    finally:
        if second.returncode is None:
            second.kill()
            await second.wait()
    # Two "tap again"s: the killed refine's at start-up, the SIGTERM'd one's before the exit;
    # so nothing is left for a third start.
    assert sum("tap the button again" in t for t in telegram.texts(USER_ID)) == 2
    store = RefineStore(tmp_path / "data")
    assert await store.unfinished() == []
    store.close()


async def test_a_corrupt_database_is_moved_aside_and_the_bot_starts_anew(
    telegram, make_settings, run_bot, tmp_path
):
    settings = make_settings()
    settings.bot_data_dir.mkdir()
    broken = settings.bot_data_dir / "refines.sqlite3"
    junk = b"this is not SQLite, a disk went bad " * 100
    broken.write_bytes(junk)
    async with run_bot(settings):
        [alert] = await telegram.wait_for(lambda c: c.chat_id == ADMIN_ID)
        sketch = await telegram.send_photo(USER_ID, sketch_bytes())
        await telegram.reply_to(sketch, "sendPhoto")  # the bot works
    [aside] = [p for p in settings.bot_data_dir.iterdir() if ".corrupt-" in p.name]
    assert aside.read_bytes() == junk  # kept for the operator
    assert str(aside) in alert.params["text"] and "unreadable" in alert.params["text"]
    store = RefineStore(settings.bot_data_dir)  # the fresh one opens cleanly
    assert store.moved_aside is None and await store.unfinished() == []
    store.close()


def test_the_database_is_private_to_the_bots_user(tmp_path):
    old_umask = os.umask(0o022)
    try:
        store = RefineStore(tmp_path / "data")
    finally:
        os.umask(old_umask)
    store.close()
    assert (tmp_path / "data" / "refines.sqlite3").stat().st_mode & 0o777 == 0o600
