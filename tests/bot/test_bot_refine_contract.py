"""The contract between the parts: the bot's client and discovery against the real refine server.

The real ``refine_server`` app runs the tiny SD 1.5-shaped model and publishes its discovery
document through its own announce code; the bot's RefineLocator and RefineClient use it as in
production. Nothing is mocked: both sides meet only over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import io
from pathlib import Path

import aiohttp
import pytest
from PIL import Image
from pydantic import SecretStr

from bot.services.discovery import RefineLocator
from bot.services.health import RefineHealth
from bot.services.refine_client import RefineClient, RefineRequest, RefineUntrusted, Upload
from bot.services.refine_pool import RefinePool, RefineServer
from tests.support.npoint import BIN_ID, FakeNpoint
from tests.support.refine import FakeRefineServer
from tests.support.sketches import colored_bytes, sketch_bytes
from tests.support.tokens import REFINE_TOKEN

pytest.importorskip("diffusers")  # the refine extra; the bot alone does not install it


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from tests.support.tiny_sd import build_tiny_pipeline

    torch.set_num_threads(1)
    return build_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd15"))


@pytest.fixture
async def published(tiny_model: Path, tmp_path: Path):
    """The real refine server, started and announced to a local npoint; yields that npoint."""
    from refine_server.server import running_server
    from refine_server.settings import Settings

    async with FakeNpoint() as npoint:
        settings = Settings(
            _env_file=None,
            refine_token=REFINE_TOKEN,
            refine_host="127.0.0.1",
            refine_port=0,
            model_balanced=str(tiny_model),
            model_quality=str(tiny_model),
            models_dir=tmp_path / "models",
            device="cpu",
            steps_balanced=1,
            steps_quality=1,
            refine_min_side=64,
            refine_max_side=64,
            tunnel="none",  # announces http://127.0.0.1:PORT: loopback, so the bot accepts http
            npoint_bin_id=BIN_ID,
            npoint_api_base=npoint.url,
            announce_attempts=1,
        )
        async with running_server(settings, warm_up=False) as server:
            assert server.announced is not None and server.announced.published
            yield npoint, server


async def _client(npoint: FakeNpoint, session: aiohttp.ClientSession, rejected: list[str]):
    async def on_rejected(reason: str) -> None:
        rejected.append(reason)

    async def notify(text: str) -> None:
        pass

    locator = RefineLocator(
        session,
        fixed_url=None,
        npoint_api_base=npoint.url,
        npoint_bin_id=BIN_ID,
        token=SecretStr(REFINE_TOKEN),
        on_rejected=on_rejected,
    )
    health = RefineHealth(notify)
    pool = RefinePool([RefineServer("npoint", locator, health)], make_server=None)  # type: ignore[arg-type]
    return RefineClient(session, pool, SecretStr(REFINE_TOKEN), timeout_s=120), health


async def test_bot_refines_through_the_signed_document_of_the_real_server(published):
    npoint, server = published
    rejected: list[str] = []
    async with aiohttp.ClientSession() as session:
        client, health = await _client(npoint, session, rejected)
        [status] = await client.refresh_status()
        assert status["models"] == ["balanced", "quality"] and status["queue"] == 0
        assert health.online is True and client.pool.servers[0].locator.known_url.endswith(
            f":{server.port}"
        )
        request = RefineRequest(
            image=Upload(colored_bytes((80, 56)), "colored.png", "image/png"),
            sketch=Upload(sketch_bytes((80, 56)), "sketch.png", "image/png"),
            model="quality",
            strength=0.3,
            prompt="blue dress",
            seed=5,
        )
        result = await client.refine(request)
    assert (result.model, result.seed, result.size) == ("quality", 5, (80, 56))
    assert Image.open(io.BytesIO(result.png)).format == "PNG"
    assert result.seconds is not None and result.seconds > 0
    assert rejected == []


async def test_a_forged_copy_of_the_real_document_is_refused(published):
    npoint, _ = published
    attacker = await FakeRefineServer(REFINE_TOKEN).start()
    try:
        # Same signature, another URL: what someone who knows the bin id could write.
        npoint.documents[BIN_ID] = {**npoint.documents[BIN_ID], "url": attacker.url}
        rejected: list[str] = []
        async with aiohttp.ClientSession() as session:
            client, health = await _client(npoint, session, rejected)
            [status] = await client.refresh_status()  # each server's document, or its error
            assert isinstance(status, RefineUntrusted)
            with pytest.raises(RefineUntrusted):
                await client.refine(
                    RefineRequest(
                        Upload(colored_bytes(), "colored.png", "image/png"), None, "balanced", 0.3
                    )
                )
        assert rejected == ["its signature does not match REFINE_TOKEN"]  # alerted once
        assert health.online is None  # a forgery is not an outage
        assert attacker.status_reads == 0 and not attacker.requests  # never contacted
    finally:
        await attacker.stop()
