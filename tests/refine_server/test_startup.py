"""Start-up end to end: load → serve → tunnel → publish → notify, against local stand-ins only."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from pixelpainter_common.discovery import verify
from refine_server.announce import ServerInfo, announce
from refine_server.server import running_server
from tests.support.ngrok import read_record, write_fake_ngrok
from tests.support.npoint import FakeNpoint
from tests.support.telegram import FakeTelegram
from tests.support.tokens import BOT_TOKEN, NGROK_TOKEN
from tests.support.tokens import REFINE_TOKEN as TOKEN

ROOT = Path(__file__).resolve().parents[2]


def _announced_through_ngrok(make_settings, ngrok_path, tmp_path, npoint, telegram, **kw):
    """Settings for a full start-up: ngrok stand-in, local npoint and Telegram."""
    return make_settings(
        tunnel="ngrok",
        ngrok_path=ngrok_path,
        ngrok_config=tmp_path / "ngrok.yml",
        ngrok_authtoken=NGROK_TOKEN,
        npoint_api_base=npoint.url,
        npoint_bin_id="bin",
        telegram_api_base=telegram.base,
        telegram_bot_token=BOT_TOKEN,
        **kw,
    )


def _info(**kw) -> ServerInfo:
    values = dict(
        url="https://abcd.ngrok-free.app",
        models=["balanced", "quality"],
        gpu="Tesla T4",
        controlnet=True,
        started_at=1764000000,
    )
    return ServerInfo(**{**values, **kw})


async def test_publish_then_notify_every_admin(make_settings, caplog):
    caplog.set_level(logging.DEBUG)
    async with FakeNpoint() as npoint, FakeTelegram(BOT_TOKEN) as telegram:
        settings = make_settings(
            npoint_api_base=npoint.url,
            npoint_bin_id="abc123",
            telegram_api_base=telegram.base,
            telegram_bot_token=BOT_TOKEN,
            admin_chat_ids="11, 22",
        )
        result = await announce(settings, _info())
        assert result.published and result.notified == 2
        document = npoint.documents["abc123"]
        assert {k: v for k, v in document.items() if k != "sig"} == {
            "url": "https://abcd.ngrok-free.app",
            "started_at": 1764000000,
            "models": ["balanced", "quality"],
            "gpu": "Tesla T4",
            "controlnet": True,
            "version": 2,
        }
        assert verify(document, TOKEN)  # signed with the shared token
        assert not verify({**document, "url": "https://evil.example"}, TOKEN)
        notices = [c for c in telegram.calls if c.method == "sendMessage"]
        assert [c.chat_id for c in notices] == [11, 22]
        assert all("https://abcd.ngrok-free.app" in c.params["text"] for c in notices)
        assert all(
            "Tesla T4" in c.params["text"] and "quality" in c.params["text"] for c in notices
        )
        # The bot discovers the server by reading the same document back.
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{npoint.url}/abc123") as response,
        ):
            assert (await response.json())["url"] == "https://abcd.ngrok-free.app"
    public = str(npoint.requests)
    assert TOKEN not in public  # the refine token is never published
    assert BOT_TOKEN not in caplog.text and TOKEN not in caplog.text


async def test_flaky_services_are_retried(make_settings):
    async with FakeNpoint() as npoint, FakeTelegram(BOT_TOKEN) as telegram:
        npoint.failures, telegram.failures = 2, 1
        settings = make_settings(
            npoint_api_base=npoint.url,
            npoint_bin_id="bin",
            telegram_api_base=telegram.base,
            telegram_bot_token=BOT_TOKEN,
            admin_chat_ids="7",
            announce_attempts=3,
        )
        result = await announce(settings, _info())
    assert result.published and result.notified == 1
    assert len(npoint.requests) == 3 and len(telegram.requests) == 2


async def test_dead_services_are_logged_never_raised(make_settings, caplog):
    async with FakeNpoint() as npoint:
        dead = npoint.url  # closed when the block ends
    caplog.set_level(logging.DEBUG)
    settings = make_settings(
        npoint_api_base=dead,
        npoint_bin_id="bin",
        telegram_api_base=dead,
        telegram_bot_token=BOT_TOKEN,
        admin_chat_ids="7",
        announce_attempts=2,
    )
    result = await announce(settings, _info())
    assert not result.published and result.notified == 0
    assert "Publishing to npoint failed" in caplog.text
    assert BOT_TOKEN not in caplog.text


async def test_a_wrong_bot_token_is_not_retried(make_settings):
    async with FakeTelegram(BOT_TOKEN) as telegram:
        settings = make_settings(
            telegram_api_base=telegram.base,
            telegram_bot_token="999:AAwrong-token-0123456789012345678901",
            admin_chat_ids="7",
        )
        result = await announce(settings, _info())
    assert result.notified == 0 and len(telegram.requests) == 1  # 401: retrying cannot help


async def test_full_start_through_the_ngrok_stand_in(make_settings, refiner, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    ngrok_path, record = write_fake_ngrok(tmp_path / "ngrok")
    async with FakeNpoint() as npoint, FakeTelegram(BOT_TOKEN) as telegram:
        settings = _announced_through_ngrok(
            make_settings,
            ngrok_path,
            tmp_path,
            npoint,
            telegram,
            admin_chat_ids="42",
        )
        async with running_server(settings, refiner=refiner, warm_up=False) as server:
            assert server.public_url and server.public_url.endswith(".ngrok-free.app")
            assert server.announced and server.announced.published
            assert npoint.documents["bin"]["url"] == server.public_url
            assert telegram.sent(42, "sendMessage")
            connect = next(e for e in read_record(record) if e["event"] == "connect")
            assert connect["body"]["upstream"]["url"].endswith(f":{server.port}")
            # The local server really serves while the tunnel is up.
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{server.port}/health") as response,
            ):
                assert (await response.json()) == {"status": "ok"}
    events = [e["event"] for e in read_record(record)]
    assert events[0] == "start" and "connect" in events
    assert any(e["authtoken"] == NGROK_TOKEN for e in read_record(record) if e["event"] == "start")
    for secret in (NGROK_TOKEN, BOT_TOKEN, TOKEN):
        assert secret not in caplog.text


async def test_tunnel_failure_keeps_serving_locally(make_settings, refiner, tmp_path, caplog):
    ngrok_path, _ = write_fake_ngrok(tmp_path / "ngrok", mode="auth_error")
    settings = make_settings(
        tunnel="ngrok",
        ngrok_path=ngrok_path,
        ngrok_config=tmp_path / "ngrok.yml",
        ngrok_authtoken=NGROK_TOKEN,
    )
    async with running_server(settings, refiner=refiner, warm_up=False) as server:
        assert server.public_url is None and server.announced is None
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{server.port}/health") as response,
        ):
            assert response.status == 200
    assert "No tunnel" in caplog.text


async def test_tunnel_none_publishes_public_url(make_settings, refiner):
    async with FakeNpoint() as npoint:
        settings = make_settings(
            tunnel="none",
            public_url="https://gpu.example.test",
            npoint_api_base=npoint.url,
            npoint_bin_id="b",
        )
        async with running_server(settings, refiner=refiner, warm_up=False) as server:
            assert server.public_url == "https://gpu.example.test"
            assert npoint.documents["b"]["url"] == "https://gpu.example.test"
            assert npoint.documents["b"]["models"] == ["balanced", "quality"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "REFINE_TOKEN is not set"),
        ({"REFINE_ALLOW_OPEN": "true", "REFINE_HOST": "0.0.0.0"}, "loopback"),
        ({"REFINE_TOKEN": "t", "REFINE_PORT": "99999"}, "REFINE_PORT"),
        ({"REFINE_TOKEN": "short-but-not-empty"}, "at least 24"),
        ({"REFINE_TOKEN": "replace-with-a-long-random-string"}, "placeholder"),
    ],
)
def test_bad_settings_exit_2_with_one_line(env, message, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "refine_server"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT), **env},
        timeout=120,
    )
    assert proc.returncode == 2
    assert message.lower() in proc.stderr.lower() and "Traceback" not in proc.stderr


async def test_publish_and_notify_failures_do_not_stop_the_server(make_settings, refiner, tmp_path):
    ngrok_path, record = write_fake_ngrok(tmp_path / "ngrok")
    async with FakeNpoint() as npoint, FakeTelegram(BOT_TOKEN) as telegram:
        npoint.failures = telegram.failures = 100  # every call answers 500
        settings = _announced_through_ngrok(
            make_settings,
            ngrok_path,
            tmp_path,
            npoint,
            telegram,
            admin_chat_ids="1,2",
            announce_attempts=2,
        )
        async with running_server(settings, refiner=refiner, warm_up=False) as server:
            assert server.announced is not None
            assert not server.announced.published and server.announced.notified == 0
            assert len(npoint.requests) == 2 and len(telegram.requests) == 4
            async with (
                aiohttp.ClientSession() as session,
                session.get(
                    f"http://127.0.0.1:{server.port}/status",
                    headers={"Authorization": f"Bearer {TOKEN}"},
                ) as response,
            ):
                assert response.status == 200
    # On shutdown the tunnel is closed through ngrok's API.
    assert [e["event"] for e in read_record(record)][-1] == "disconnect"


def test_models_that_do_not_load_exit_1_with_each_line_once(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "REFINE_TOKEN": TOKEN,
        "TUNNEL": "none",
        "REFINE_PORT": "0",
        "MODEL_BALANCED": "./missing/balanced",
        "MODEL_QUALITY": "./missing/quality",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "refine_server"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=240,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1] == (
        "pixelpainter-refine: no model loaded; check MODEL_BALANCED / MODEL_QUALITY"
    )
    for name in ("balanced", "quality"):
        assert sum(f"Model {name} " in line for line in lines) == 1, proc.stderr
    assert len(lines) == len(set(lines))  # no line logged twice
