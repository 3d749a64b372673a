"""Pieces on their own: settings, image helpers, stopping early, the worker, download_models."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest
from PIL import Image

from refine_server.download_models import download_all, planned_downloads
from refine_server.images import match_colors, working_size
from refine_server.refiner import JobCancelled, RefineParams, scheduled_steps
from refine_server.worker import GpuWorker, QueueFull, WorkerClosed
from tests.support.tokens import REFINE_TOKEN


def test_settings_parse_admin_ids_and_refuse_open_servers(make_settings) -> None:
    settings = make_settings(admin_chat_ids="11, 22")
    assert settings.admin_chat_ids == [11, 22]
    assert settings.models == {
        "balanced": settings.model_balanced,
        "quality": settings.model_quality,
    }
    assert REFINE_TOKEN in settings.secrets
    with pytest.raises(ValueError, match="REFINE_TOKEN is not set"):
        make_settings(refine_token="").check_auth()
    make_settings(refine_token="", refine_allow_open=True, tunnel="none").check_auth()
    with pytest.raises(ValueError, match="TUNNEL=none"):
        make_settings(refine_token="", refine_allow_open=True, tunnel="ngrok").check_auth()


def test_working_size_is_a_multiple_of_8_within_bounds() -> None:
    assert working_size((256, 256), min_side=512, max_side=768) == (512, 512)
    assert working_size((1000, 500), min_side=512, max_side=768) == (768, 384)
    width, height = working_size((300, 170), min_side=512, max_side=768)
    assert width % 8 == 0 and height % 8 == 0 and width == 512


def test_match_colors_restores_the_reference_palette() -> None:
    rng = np.random.default_rng(0)
    reference = Image.fromarray(rng.integers(0, 255, (32, 32, 3), np.uint8))
    drifted = Image.fromarray(
        np.clip(np.asarray(reference, np.int16) + np.array((60, -40, 0)), 0, 255).astype(np.uint8)
    )
    matched = match_colors(drifted, reference)

    def chroma(image: Image.Image) -> np.ndarray:
        return np.asarray(image.convert("YCbCr"), np.float32)[..., 1:].mean(axis=(0, 1))

    assert np.abs(chroma(matched) - chroma(reference)).max() < 2
    assert np.abs(chroma(drifted) - chroma(reference)).max() > 10


def test_refine_stops_early_when_the_caller_gives_up(refiner) -> None:
    image = Image.new("RGB", (64, 64), (200, 100, 50))
    params = RefineParams(model="quality", strength=0.5, prompt="", seed=1)
    steps: list[int] = []

    def should_stop() -> bool:
        steps.append(1)
        return True

    unet = refiner.pipelines["quality"].unet
    calls: list[int] = []
    hook = unet.register_forward_hook(lambda module, args, output: calls.append(1))
    try:
        with pytest.raises(JobCancelled):
            refiner.refine(image, None, params, should_stop)
    finally:
        hook.remove()
    planned = scheduled_steps(refiner.settings.steps("quality"), params.strength)
    scheduled = int(planned * params.strength)  # img2img runs strength × steps of them
    assert scheduled >= 2
    # Asked to stop after the first step: far fewer UNet calls than scheduled steps.
    assert len(steps) >= 1 and 1 <= len(calls) < scheduled


async def test_worker_runs_one_job_at_a_time_and_fails_waiters_on_close() -> None:
    worker = GpuWorker(queue_size=1, timeout_s=5)
    worker.start()
    release, running = threading.Event(), threading.Event()

    def block(should_stop):
        running.set()
        release.wait(5)
        return "first"

    first = asyncio.ensure_future(worker.submit(block))
    await asyncio.to_thread(running.wait, 5)
    second = asyncio.ensure_future(worker.submit(lambda should_stop: "second"))
    await asyncio.sleep(0.01)
    assert worker.busy and worker.waiting == 1
    with pytest.raises(QueueFull) as full:
        await worker.submit(lambda should_stop: "third")
    assert full.value.retry_after >= 1
    closing = asyncio.ensure_future(worker.close())
    await asyncio.sleep(0.01)
    release.set()
    await closing
    with pytest.raises(WorkerClosed):
        await second
    with pytest.raises(WorkerClosed):
        await worker.submit(lambda should_stop: "late")
    first.cancel()


def test_download_models_plans_everything_and_keeps_local_sources(
    make_settings, tiny_model_dir, tiny_single_file, capsys
) -> None:
    settings = make_settings(
        model_quality=str(tiny_single_file), controlnet_model=str(tiny_model_dir / "unet")
    )
    assert set(planned_downloads(settings)) == {
        "balanced",
        "quality",
        "controlnet",
        "single-file config",
    }
    done = download_all(settings)
    assert done["balanced"] == str(tiny_model_dir)
    assert done["quality"] == str(tiny_single_file)
    assert "[4/4]" in capsys.readouterr().out


def test_refine_server_never_imports_the_bot_or_tensorflow() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, refine_server.__main__, refine_server.server, refine_server.background\n"
        "bad = [m for m in ('bot', 'inference', 'tensorflow', 'telegram') if m in sys.modules]\n"
        "assert not bad, bad"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
