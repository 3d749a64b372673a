"""Start-up: settings, the exit code for bad configuration, webhook mode, callback data."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from pydantic import ValidationError

from bot.__main__ import main
from bot.callbacks import MAX_CALLBACK_BYTES, Action, ButtonData
from bot.services.image_cache import ImageCache
from bot.settings import BotSettings
from pixelpainter_common.rate_limit import RateLimiter
from tests.support.keyboards import all_keyboards
from tests.support.telegram import ADMIN_ID
from tests.support.tokens import BOT_TOKEN, REFINE_TOKEN

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No bot variables from the developer's shell or .env."""
    for name in list(os.environ):
        if name.startswith(
            (
                "TELEGRAM_",
                "REFINE_",
                "NPOINT_",
                "GENERATOR_",
                "WEBHOOK_",
                "INFERENCE_",
                "PIXELPAINTER_",
            )
        ):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (None, "TELEGRAM_BOT_TOKEN is not set"),
        ("123456789:replace-with-your-bot-token", "TELEGRAM_BOT_TOKEN does not look like"),
    ],
)
def test_missing_or_malformed_token_exits_2(clean_env, capsys, token, expected):
    if token is not None:
        clean_env.setenv("TELEGRAM_BOT_TOKEN", token)
    assert main() == 2
    err = capsys.readouterr().err
    assert err.startswith("Configuration error: " + expected)
    assert err.count("\n") == 1
    assert "replace-with-your" not in err  # the value itself is never echoed


def test_missing_weights_exit_2(clean_env, capsys, tmp_path):
    clean_env.setenv("TELEGRAM_BOT_TOKEN", BOT_TOKEN)
    clean_env.setenv("GENERATOR_WEIGHTS", str(tmp_path / "nope.onnx"))
    assert main() == 2
    assert (
        capsys.readouterr().err == f"GENERATOR_WEIGHTS: {tmp_path / 'nope.onnx'} does not exist\n"
    )


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://203.0.113.9:8080", False),
        ("http://refine.example.com", False),
        ("https://refine.example.com", True),
        ("http://127.0.0.1:5000", True),
        ("http://localhost:5000", True),
    ],
)
def test_refine_url_must_be_https_or_loopback(clean_env, capsys, tmp_path, url, ok):
    clean_env.setenv("TELEGRAM_BOT_TOKEN", BOT_TOKEN)
    clean_env.setenv("REFINE_URL", url)
    if ok:
        assert BotSettings().refine_url == url
        return
    assert main() == 2
    err = capsys.readouterr().err
    assert err.startswith("Configuration error: REFINE_URL must be an https:// address")
    assert err.count("\n") == 1


def test_settings_read_lists_and_empty_values(clean_env):
    clean_env.setenv("TELEGRAM_BOT_TOKEN", BOT_TOKEN)
    clean_env.setenv("ADMIN_CHAT_IDS", "1, 2,3")
    clean_env.setenv("GENERATOR_WEIGHTS", "")
    clean_env.setenv("REFINE_TOKEN", REFINE_TOKEN)
    settings = BotSettings()
    assert settings.admin_chat_ids == [1, 2, 3]
    assert settings.inference.generator_weights is None
    assert REFINE_TOKEN not in repr(settings) and BOT_TOKEN not in repr(settings)


async def _run_bot_process(env: dict[str, str], tmp_path: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot",
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_rejected_token_and_bad_weights_exit_2(clean_env, telegram, tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    cases = [
        ({"TELEGRAM_BOT_TOKEN": "7654321:" + "B" * 35}, "TELEGRAM_BOT_TOKEN was rejected"),
        ({"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "GENERATOR_WEIGHTS": str(bad)}, "GENERATOR_WEIGHTS: "),
    ]
    for env, expected in cases:
        process = await _run_bot_process({"TELEGRAM_API_BASE": telegram.base, **env}, tmp_path)
        _, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 2, err
        lines = err.decode().strip().splitlines()
        assert lines[-1].startswith(expected), err
        assert "Traceback" not in err.decode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _webhook_env(telegram, tiny_onnx, port: int, **extra: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE": telegram.base,
        "GENERATOR_WEIGHTS": str(tiny_onnx),
        "ADMIN_CHAT_IDS": str(ADMIN_ID),
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        **extra,
    }


def _command(update_id: int, user_id: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "W"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


WEBHOOK_SECRET = "w" * 20 + "-_0123456789"


async def test_webhook_mode_processes_only_updates_with_the_secret(
    clean_env, telegram, tiny_onnx, tmp_path
):
    port = _free_port()
    env = _webhook_env(telegram, tiny_onnx, port, WEBHOOK_SECRET=WEBHOOK_SECRET)
    process = await _run_bot_process(env, tmp_path)
    try:
        [hook] = await telegram.wait_for(lambda c: c.method == "setWebhook", timeout=60)
        assert hook.params["url"] == env["WEBHOOK_URL"]
        assert hook.params["secret_token"] == WEBHOOK_SECRET
        # Forged: an admin's /seturl without the secret header, or with a wrong one.
        forged = _command(1, ADMIN_ID, "/seturl http://127.0.0.1:9/evil")
        async with aiohttp.ClientSession() as session:
            for _ in range(100):  # the webhook server starts just after setWebhook
                try:
                    async with session.post(env["WEBHOOK_URL"], json=forged) as response:
                        assert response.status == 403
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "x" * len(WEBHOOK_SECRET)}
            async with session.post(env["WEBHOOK_URL"], json=forged, headers=wrong) as response:
                assert response.status == 403
            right = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
            async with session.post(
                env["WEBHOOK_URL"], json=_command(2, 77, "/start"), headers=right
            ) as response:
                assert response.status == 200
        await telegram.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 77)
        assert not telegram.sent(ADMIN_ID)  # the forged /seturl was never processed
    finally:
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err
    assert BOT_TOKEN not in err.decode() and WEBHOOK_SECRET not in err.decode()


@pytest.mark.parametrize("secret", [None, "short-secret", "w" * 30 + " spaces " + "w" * 10])
async def test_webhook_mode_without_a_strong_secret_exits_2(
    clean_env, telegram, tiny_onnx, tmp_path, secret
):
    extra = {"WEBHOOK_SECRET": secret} if secret is not None else {}
    env = _webhook_env(telegram, tiny_onnx, _free_port(), **extra)
    process = await _run_bot_process(env, tmp_path)
    try:
        _, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:  # still serving: the old behaviour
            process.kill()
            await process.wait()
    assert process.returncode == 2, err
    assert err.decode().startswith("Configuration error: WEBHOOK_SECRET must be set in webhook")
    assert err.count(b"\n") == 1
    assert not any(c.method == "setWebhook" for c in telegram.calls)


def test_callback_data_fits_telegram_limit():
    buttons = [b for k in all_keyboards() for row in k.inline_keyboard for b in row]
    assert len(buttons) > 10
    for button in buttons:
        assert len(button.callback_data.encode()) <= MAX_CALLBACK_BYTES
        assert ButtonData.parse(button.callback_data).pack() == button.callback_data
    assert ButtonData.parse("x:b:30") is None
    assert ButtonData.parse("r:b:99") is None
    assert ButtonData.parse(None) is None
    assert ButtonData.parse("r:q:45") == ButtonData(Action.REFINE, "quality", 45)


def test_rate_limiter_minute_and_day_windows():
    now = [0.0]
    limiter = RateLimiter(per_minute=2, per_day=3, clock=lambda: now[0])
    assert limiter.check(1) is None
    assert limiter.check(1) is None
    assert limiter.check(1) == pytest.approx(60.0)
    assert limiter.check(2) is None  # per user
    now[0] = 61.0
    assert limiter.check(1) is None
    now[0] = 130.0
    assert limiter.check(1) == pytest.approx(86_400.0 - 130.0)  # the day's third was used


def test_image_cache_is_bounded_lru():
    cache = ImageCache(max_bytes=10)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # a is now the most recent
    cache.put("c", b"1234")
    assert cache.get("b") is None and cache.get("a") is not None
    cache.put("huge", b"x" * 11)
    assert cache.get("huge") is None and cache.total_bytes <= 10


def test_bot_never_imports_gpu_stack():
    code = (
        "import sys, bot.__main__, bot.app\n"
        "heavy = ('torch', 'diffusers', 'refine_server', 'tensorflow', 'keras', 'h5py', 'onnx')\n"
        "bad = [m for m in heavy if m in sys.modules]\n"
        "assert not bad, bad"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_unusable_data_folder_exits_2(clean_env, capsys, tmp_path):
    clean_env.setenv("TELEGRAM_BOT_TOKEN", BOT_TOKEN)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    clean_env.setenv("BOT_DATA_DIR", str(blocker / "data"))
    assert main() == 2
    assert capsys.readouterr().err.startswith(f"BOT_DATA_DIR: cannot create {blocker / 'data'}")


def test_celery_backend_needs_redis(clean_env, capsys):
    clean_env.setenv("TELEGRAM_BOT_TOKEN", BOT_TOKEN)
    clean_env.setenv("INFERENCE_BACKEND", "celery")
    clean_env.delenv("REDIS_URL", raising=False)
    assert main() == 2
    assert "INFERENCE_BACKEND=celery needs REDIS_URL" in capsys.readouterr().err
    clean_env.setenv("REDIS_URL", "redis://:hunter2-password@127.0.0.1:6379/0")
    settings = BotSettings(_env_file=None)
    assert "hunter2-password" in settings.secrets  # masked in every log line
    assert "hunter2" not in repr(settings)


def test_refine_urls_are_https_or_loopback(clean_env):
    clean_env.setenv("TELEGRAM_BOT_TOKEN", BOT_TOKEN)
    clean_env.setenv("REFINE_URLS", "https://gpu-a.example/, http://127.0.0.1:5000")
    clean_env.setenv("NPOINT_BIN_IDS", "a, b")
    settings = BotSettings()
    assert settings.refine_urls == ["https://gpu-a.example", "http://127.0.0.1:5000"]
    assert settings.npoint_bin_ids == ["a", "b"]
    clean_env.setenv("REFINE_URLS", "https://gpu-a.example,http://gpu-b.example")
    with pytest.raises(ValidationError):
        BotSettings()
