"""The HTTP API of design.md against the tiny model: success, headers, and every 4xx/503."""

from __future__ import annotations

import asyncio
import io
import threading

import aiohttp
import pytest
from PIL import Image

from refine_server.app import create_app
from refine_server.refiner import Refiner
from refine_server.state import WORKER_KEY
from tests.support.sketches import colored_bytes as gan_image
from tests.support.sketches import sketch_bytes
from tests.support.tokens import REFINE_TOKEN as TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}", "ngrok-skip-browser-warning": "1"}


def form(image: bytes | None = None, **fields: str | bytes) -> aiohttp.FormData:
    data = aiohttp.FormData()
    if image is not None:
        data.add_field("image", image, filename="gan.png", content_type="image/png")
    for name, value in fields.items():
        if isinstance(value, bytes):
            data.add_field(name, value, filename=f"{name}.png", content_type="image/png")
        else:
            data.add_field(name, value)
    return data


@pytest.fixture
async def client(aiohttp_client, make_settings, refiner):
    return await aiohttp_client(create_app(make_settings(), refiner=refiner, warm_up=False))


async def test_health_needs_no_token(client) -> None:
    response = await client.get("/health")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_status_reports_models_queue_and_busy(client) -> None:
    response = await client.get("/status", headers=AUTH)
    assert response.status == 200
    body = await response.json()
    assert body["models"] == ["balanced", "quality"]
    assert body["gpu"] == "cpu"
    assert body["controlnet"] is True
    assert body["queue"] == 0
    assert body["busy"] is False
    assert body["uptime_s"] >= 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
    ],
)
async def test_missing_or_wrong_token_is_401(client, headers) -> None:
    for method, path in (("GET", "/status"), ("POST", "/refine")):
        response = await client.request(method, path, headers=headers)
        assert response.status == 401
        assert "token" in (await response.json())["error"]


async def test_refine_returns_png_of_input_size_with_headers(client) -> None:
    response = await client.post(
        "/refine",
        data=form(gan_image((80, 56)), model="quality", strength="0.4", seed="1234"),
        headers=AUTH,
    )
    assert response.status == 200, await response.text()
    assert response.content_type == "image/png"
    assert response.headers["X-Seed"] == "1234"
    assert response.headers["X-Model"] == "quality"
    assert float(response.headers["X-Refine-Seconds"]) > 0
    image = Image.open(io.BytesIO(await response.read()))
    assert image.format == "PNG"
    assert image.size == (80, 56)


async def test_same_seed_same_picture_and_random_seed_reported(client) -> None:
    bodies = []
    for _ in range(2):
        response = await client.post("/refine", data=form(gan_image(), seed="7"), headers=AUTH)
        assert response.status == 200
        bodies.append(await response.read())
    assert bodies[0] == bodies[1]
    response = await client.post("/refine", data=form(gan_image(fmt="JPEG")), headers=AUTH)
    assert response.status == 200
    assert response.headers["X-Model"] == "balanced"
    assert 0 <= int(response.headers["X-Seed"]) < 2**32


async def test_sketch_goes_through_controlnet(client, refiner: Refiner, monkeypatch) -> None:
    calls: list[str] = []

    class Recorder:
        def __init__(self, name: str, pipe) -> None:
            self.name, self.pipe = name, pipe

        def __call__(self, **kwargs):
            calls.append(self.name)
            assert kwargs["control_image"].size == kwargs["image"].size
            return self.pipe(**kwargs)

    for name, pipe in list(refiner.controlnet_pipelines.items()):
        monkeypatch.setitem(refiner.controlnet_pipelines, name, Recorder(name, pipe))
    response = await client.post(
        "/refine", data=form(gan_image(), sketch=sketch_bytes((80, 56)), seed="3"), headers=AUTH
    )
    assert response.status == 200, await response.text()
    assert calls == ["balanced"]
    assert Image.open(io.BytesIO(await response.read())).size == (80, 56)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"model": "turbo"}, "unknown model"),
        ({"strength": "0.05"}, "strength"),
        ({"strength": "0.9"}, "strength"),
        ({"strength": "a lot"}, "strength"),
        ({"strength": "nan"}, "strength"),
        ({"prompt": "x" * 301}, "301 characters"),
        ({"seed": "-1"}, "seed"),
        ({"seed": "1.5"}, "seed"),
    ],
)
async def test_bad_field_is_400_with_a_sentence(client, fields, words) -> None:
    response = await client.post("/refine", data=form(gan_image(), **fields), headers=AUTH)
    assert response.status == 400
    assert words in (await response.json())["error"]


async def test_prompt_of_300_characters_is_fine(client) -> None:
    response = await client.post("/refine", data=form(gan_image(), prompt="y" * 300), headers=AUTH)
    assert response.status == 200


async def test_missing_image_is_400(client) -> None:
    response = await client.post("/refine", data=form(None, model="balanced"), headers=AUTH)
    assert response.status == 400
    assert "'image'" in (await response.json())["error"]


@pytest.mark.parametrize("payload", [b"definitely not a picture", b"GIF89a" + b"\0" * 32])
async def test_not_an_image_is_415(client, payload) -> None:
    response = await client.post("/refine", data=form(payload), headers=AUTH)
    assert response.status == 415
    assert "PNG, JPEG or WebP" in (await response.json())["error"]


async def test_upload_over_the_limit_is_413(aiohttp_client, make_settings, refiner) -> None:
    app = create_app(make_settings(max_upload_mb=0.05), refiner=refiner, warm_up=False)
    client = await aiohttp_client(app)
    big = gan_image() + b"\0" * 120_000
    response = await client.post("/refine", data=form(big), headers=AUTH)
    assert response.status == 413
    assert "0.05 MB" in (await response.json())["error"]


async def test_too_many_pixels_is_413(aiohttp_client, make_settings, refiner) -> None:
    app = create_app(make_settings(max_image_pixels=100 * 100), refiner=refiner, warm_up=False)
    client = await aiohttp_client(app)
    response = await client.post("/refine", data=form(gan_image((200, 200))), headers=AUTH)
    assert response.status == 413
    assert "too large" in (await response.json())["error"]


async def test_full_queue_is_503_with_retry_after(aiohttp_client, make_settings, refiner) -> None:
    app = create_app(make_settings(queue_size=1), refiner=refiner, warm_up=False)
    client = await aiohttp_client(app)
    worker = app[WORKER_KEY]
    release = threading.Event()
    running = asyncio.ensure_future(worker.submit(lambda should_stop: release.wait(10)))
    for _ in range(100):
        if worker.busy:
            break
        await asyncio.sleep(0.01)
    waiting = asyncio.ensure_future(worker.submit(lambda should_stop: "second"))
    await asyncio.sleep(0.01)
    status = await (await client.get("/status", headers=AUTH)).json()
    assert status["busy"] is True
    assert status["queue"] == 1

    response = await client.post("/refine", data=form(gan_image()), headers=AUTH)
    assert response.status == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert "queue is full" in (await response.json())["error"]

    release.set()
    assert await running is True
    assert await waiting == "second"
    response = await client.post("/refine", data=form(gan_image()), headers=AUTH)
    assert response.status == 200


async def test_request_timeout_is_503_and_frees_the_slot(
    aiohttp_client, make_settings, refiner
) -> None:
    app = create_app(make_settings(request_timeout_s=0.2), refiner=refiner, warm_up=False)
    client = await aiohttp_client(app)
    release = threading.Event()
    blocker = asyncio.ensure_future(app[WORKER_KEY].submit(lambda should_stop: release.wait(10)))
    await asyncio.sleep(0.05)
    response = await client.post("/refine", data=form(gan_image()), headers=AUTH)
    assert response.status == 503
    assert "Retry-After" in response.headers
    assert "did not finish within 0.2 s" in (await response.json())["error"]
    release.set()
    with pytest.raises(Exception, match="not finished"):
        await blocker


async def test_model_not_loaded_is_503(aiohttp_client, make_settings, tiny_model_dir) -> None:
    settings = make_settings(model_quality="")
    only_balanced = Refiner.load(settings)
    client = await aiohttp_client(create_app(settings, refiner=only_balanced, warm_up=False))
    response = await client.post("/refine", data=form(gan_image(), model="quality"), headers=AUTH)
    assert response.status == 503
    assert "Retry-After" in response.headers
    assert "not loaded" in (await response.json())["error"]
    status = await (await client.get("/status", headers=AUTH)).json()
    assert status["models"] == ["balanced"]
    assert status["controlnet"] is False


async def test_unexpected_error_is_500_json(client, refiner: Refiner, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("CUDA out of memory (pretend)")

    monkeypatch.setattr(refiner, "refine", broken)
    response = await client.post("/refine", data=form(gan_image()), headers=AUTH)
    assert response.status == 500
    assert "unexpected" in (await response.json())["error"].lower()


async def test_unknown_path_is_json_404(client) -> None:
    response = await client.get("/nope", headers=AUTH)
    assert response.status == 404
    assert "error" in await response.json()
