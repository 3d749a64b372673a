"""The refine server hardened: disconnects free the GPU, safe defaults, float16 without NaN."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace

import aiohttp
import numpy as np
import pytest
import torch
from PIL import Image
from pydantic import ValidationError

from refine_server.app import create_app
from refine_server.loading import load_pipeline, place
from refine_server.refiner import (
    MAX_SCHEDULED_STEPS,
    JobCancelled,
    RefineParams,
    Refiner,
    scheduled_steps,
)
from refine_server.server import running_server
from refine_server.state import WORKER_KEY
from tests.support.sketches import colored_bytes
from tests.support.tokens import REFINE_TOKEN

AUTH = {"Authorization": f"Bearer {REFINE_TOKEN}"}


def _form() -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("image", colored_bytes(), filename="colored.png", content_type="image/png")
    return form


async def _until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


async def test_a_client_that_leaves_cancels_its_running_and_queued_jobs(
    make_settings, refiner, monkeypatch
):
    started, stopped = threading.Event(), threading.Event()
    calls: list[int] = []

    def held(image, sketch, params, should_stop):
        calls.append(1)
        started.set()
        deadline = time.monotonic() + 20
        while not should_stop():  # a GPU job checks this between denoising steps
            if time.monotonic() > deadline:
                raise AssertionError("the job was never told to stop")
            time.sleep(0.01)
        stopped.set()
        raise JobCancelled("stopped early")

    monkeypatch.setattr(refiner, "refine", held)
    async with running_server(make_settings(), refiner=refiner, warm_up=False) as server:
        worker = server.app[WORKER_KEY]
        url = f"http://127.0.0.1:{server.port}/refine"

        async def post() -> int:
            async with (
                aiohttp.ClientSession() as session,
                session.post(url, data=_form(), headers=AUTH) as response,
            ):
                return response.status

        running = asyncio.create_task(post())
        assert await asyncio.to_thread(started.wait, 10)
        queued = asyncio.create_task(post())
        await _until(lambda: worker.waiting == 1)
        queued.cancel()
        running.cancel()  # both clients hang up: their connections close
        assert await asyncio.to_thread(stopped.wait, 10)
        await _until(lambda: not worker.busy and worker.waiting == 0)
        assert calls == [1]  # the queued job never reached the GPU

        monkeypatch.undo()
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=_form(), headers=AUTH) as response,
        ):
            assert response.status == 200  # the GPU is free for the next one


def test_binds_loopback_when_tunnelled(make_settings):
    assert make_settings(refine_host=None, tunnel="ngrok").host == "127.0.0.1"
    assert make_settings(refine_host=None, tunnel="none").host == "0.0.0.0"
    assert make_settings(refine_host="10.1.2.3", tunnel="ngrok").host == "10.1.2.3"


def test_never_more_scheduled_steps_than_the_scheduler_has(make_settings):
    assert scheduled_steps(20, 0.3) == 67  # int(67 × 0.3) = 20 steps really run
    assert scheduled_steps(100, 0.1) == MAX_SCHEDULED_STEPS == 1000
    assert scheduled_steps(30, 0.1) == 300
    with pytest.raises(ValidationError, match="100"):
        make_settings(steps_quality=101)


def test_float16_pipeline_keeps_its_vae_in_float32(make_settings, tiny_model_dir):
    settings = make_settings(model_quality="")
    pipe = load_pipeline(str(tiny_model_dir), settings, dtype=torch.float16)
    pipe = place(pipe, settings, "cpu", torch.float16)
    assert pipe.unet.dtype == torch.float16 and pipe.text_encoder.dtype == torch.float16
    assert pipe.vae.dtype == torch.float32
    refiner = Refiner({"balanced": pipe}, settings=settings)
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8))
    out = refiner.refine(image, None, RefineParams("balanced", 0.5, "", seed=1))
    assert out.size == (64, 64) and out.mode == "RGB"


async def test_nan_output_is_a_500_with_a_sentence_not_a_black_image(
    aiohttp_client, make_settings, refiner, monkeypatch, caplog
):
    def overflowing(**kwargs):
        return SimpleNamespace(images=[np.full((64, 64, 3), np.nan, np.float32)])

    monkeypatch.setitem(refiner.pipelines, "balanced", overflowing)
    client = await aiohttp_client(create_app(make_settings(), refiner=refiner, warm_up=False))
    response = await client.post("/refine", data=_form(), headers=AUTH)
    assert response.status == 500
    assert "broken image" in (await response.json())["error"]
    assert "NaN" in caplog.text
