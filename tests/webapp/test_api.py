"""The seed's HTTP API and its errors, on a real local server with a tiny real model."""

from __future__ import annotations

import asyncio
import base64
import io
import struct
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

import aiohttp
import numpy as np
import pytest
from PIL import Image
from webapp_samples import area_sketch

from inference.colorizer import Colorizer
from inference.regions import nearest_region
from webapp.editor import (
    FLAT_STRATEGY,
    editor_document,
    pack_regions,
    png_data_url,
    unpack_regions,
)
from webapp.state import ENCODER_KEY, WebAppConfig


def form(field: str, data: bytes, **extra: str) -> aiohttp.FormData:
    body = aiohttp.FormData()
    body.add_field(field, data, filename="sketch.png", content_type="application/octet-stream")
    for name, value in extra.items():
        body.add_field(name, value)
    return body


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A valid PNG header claiming ``width``×``height`` with almost no data (a few hundred bytes)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    row = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", row) + chunk(b"IEND", b"")


async def test_health_says_the_model_is_loaded(client):
    response = await client.get("/health")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "model_loaded": True}


async def test_colorize_returns_png_at_the_sketch_size(client, tiny_colorizer):
    sketch = area_sketch((150, 90))
    response = await client.post("/colorize", data=form("sketch", sketch))
    assert response.status == 200
    assert response.content_type == "image/png"
    out = Image.open(io.BytesIO(await response.read()))
    assert out.size == (150, 90) and out.mode == "RGB"
    expected = np.asarray(tiny_colorizer.colorize(sketch).image, np.int16)
    assert np.abs(np.asarray(out, np.int16) - expected).max() <= 1  # the model's own result


async def test_the_page_and_its_files_are_served(client):
    page = await client.get("/")
    html = await page.text()
    assert page.status == 200 and 'id="result"' in html and 'id="region-color"' in html
    assert 'type="file"' in html and "http" not in html.replace("http-equiv", "")  # no CDN
    script = await client.get("/static/editor.js")
    assert script.status == 200 and "api/editor" in await script.text()
    assert (await client.get("/static/style.css")).status == 200


async def test_bad_uploads_get_json_errors_and_the_server_stays_up(client):
    truncated = area_sketch()[:300]
    cases = [
        (b"just some text, not a picture", 415, "not an image"),
        (truncated, 415, "damaged"),
        (png_bomb(), 413, "too large"),
        (b"", 400, "empty"),
    ]
    for data, status, words in cases:
        response = await client.post("/colorize", data=form("sketch", data))
        assert response.status == status, (words, await response.text())
        body = await response.json()
        assert words in body["error"].lower()
        editor = await client.post("/api/editor", data=form("sketch", data))
        assert editor.status == status
    assert (await client.get("/health")).status == 200
    ok = await client.post("/colorize", data=form("sketch", area_sketch()))
    assert ok.status == 200


async def test_requests_that_are_not_an_upload_are_explained(client):
    not_form = await client.post("/colorize", data=b"raw bytes")
    assert not_form.status == 400 and "multipart" in (await not_form.json())["error"]
    no_field = await client.post("/colorize", data=form("image", area_sketch()))
    assert no_field.status == 400 and "'sketch'" in (await no_field.json())["error"]
    bad_style = await client.post("/colorize", data=form("sketch", area_sketch(), style="neon"))
    assert bad_style.status == 400 and "style" in (await bad_style.json())["error"]
    missing = await client.get("/nothing-here")
    assert missing.status == 404 and "error" in await missing.json()


async def test_upload_over_the_limit_is_413(make_client):
    client = await make_client(WebAppConfig(max_upload_mb=0.1))
    big = np.random.default_rng(0).integers(0, 255, (300, 300, 3), np.uint8)
    buf = io.BytesIO()
    Image.fromarray(big).save(buf, format="PNG", compress_level=0)
    assert len(buf.getvalue()) > 0.2 * 1_048_576
    response = await client.post("/colorize", data=form("sketch", buf.getvalue()))
    assert response.status == 413
    assert "0.1 MB" in (await response.json())["error"]
    assert (await client.get("/health")).status == 200


async def test_a_form_with_thousands_of_fields_is_413_saying_so(client):
    body = aiohttp.FormData()
    for i in range(5_000):
        body.add_field(f"f{i}", "x")
    body.add_field("sketch", area_sketch((40, 30)), filename="s.png")
    response = await client.post("/colorize", data=body)
    assert response.status == 413
    message = (await response.json())["error"]
    assert "too many fields" in message and "MB" not in message


async def test_rate_limit_per_client(make_client):
    client = await make_client(WebAppConfig(requests_per_minute=2))
    statuses = []
    for _ in range(3):
        response = await client.post("/colorize", data=form("sketch", area_sketch((40, 30))))
        statuses.append(response.status)
    assert statuses == [200, 200, 429]
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "Too many" in (await response.json())["error"]


async def test_limits_key_on_the_forwarded_address_only_when_trusted(make_client):
    async def statuses(client, forwarded_for: list[str]) -> list[int]:
        found = []
        for address in forwarded_for:
            response = await client.post(
                "/colorize",
                data=form("sketch", area_sketch((40, 30))),
                headers={"X-Forwarded-For": address},
            )
            found.append(response.status)
        return found

    # Behind one proxy: its X-Forwarded-For tells the clients apart (the last hop is the one
    # the proxy added; what a client wrote before it is not trusted).
    behind = await make_client(WebAppConfig(requests_per_minute=1, trusted_proxies=1))
    assert await statuses(behind, ["203.0.113.1", "203.0.113.2", "203.0.113.1"]) == [200, 200, 429]
    assert await statuses(behind, ["198.51.100.7, 203.0.113.2"]) == [429]  # a forged first hop
    # By default the header is ignored: a client cannot dodge its limit by writing one.
    direct = await make_client(WebAppConfig(requests_per_minute=1))
    assert await statuses(direct, ["203.0.113.1", "203.0.113.2"]) == [200, 429]


def test_serve_trust_forwarded_flag():
    from inference.cli import build_parser
    from webapp.cli import add_serve

    parse = build_parser((add_serve,)).parse_args
    assert parse(["serve"]).trust_forwarded == 0
    assert parse(["serve", "--trust-forwarded"]).trust_forwarded == 1
    assert parse(["serve", "--trust-forwarded", "2"]).trust_forwarded == 2


class _GatedEngine:
    """The real engine, held at the gate: lets a test fill the queue deterministically."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.gate = threading.Event()

    def predict(self, batch):
        self.gate.wait(timeout=30)
        return self.engine.predict(batch)


async def test_full_queue_is_503_with_retry_after(make_client, tiny_colorizer):
    engine = _GatedEngine(tiny_colorizer.engine)
    engine.gate.set()  # let the warm-up through
    client = await make_client(colorizer=Colorizer(engine), max_queue=1)
    engine.gate.clear()
    first = asyncio.create_task(client.post("/colorize", data=form("sketch", area_sketch())))
    await asyncio.sleep(0.5)  # the first one is admitted and waits for the model
    second = await client.post("/colorize", data=form("sketch", area_sketch()))
    assert second.status == 503
    assert int(second.headers["Retry-After"]) > 0
    assert "try again" in (await second.json())["error"].lower()
    engine.gate.set()
    assert (await first).status == 200


def _data_url_image(url: str) -> Image.Image:
    assert url.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


async def test_editor_document_carries_layer_lines_and_regions(client, tiny_colorizer):
    sketch = area_sketch((160, 120))
    response = await client.post("/api/editor", data=form("sketch", sketch, style="cel"))
    assert response.status == 200
    document = await response.json()
    expected = tiny_colorizer.colorize(sketch, style="cel")
    assert (document["width"], document["height"]) == (160, 120)
    layer = np.asarray(_data_url_image(document["layer"]))
    lines = _data_url_image(document["lines"])
    regions = unpack_regions(_data_url_image(document["region_map"]))
    assert lines.mode == "L"
    assert np.array_equal(layer, expected.layer_array)
    assert np.array_equal(np.asarray(lines), expected.lines_array)
    inside = expected.regions > 0
    assert np.array_equal(regions[inside], expected.regions[inside])
    assert (regions > 0).all()  # line pixels belong to their nearest region
    assert document["regions"] == int(expected.regions.max()) >= 4  # frame halves, circle, paper
    # The page's recomposition gives the image /colorize sends.
    recomposed = np.floor(layer * np.asarray(lines, np.float64)[:, :, None] / 255 + 0.5)
    assert np.abs(recomposed - expected.image_array).max() <= 1


async def test_style_reaches_the_colorizer(client, tiny_colorizer):
    sketch = area_sketch((160, 120))
    layers = {}
    for style in ("cel", "soft"):
        response = await client.post("/api/editor", data=form("sketch", sketch, style=style))
        layers[style] = np.asarray(_data_url_image((await response.json())["layer"]))
        want = tiny_colorizer.colorize(sketch, style=style).layer_array
        assert np.array_equal(layers[style], want)
    assert not np.array_equal(layers["cel"], layers["soft"])


def test_region_ids_survive_packing():
    ids = np.array([[0, 1, 255], [256, 65_535, 65_536], [2**24 - 1, 7, 0]], np.int32)
    assert np.array_equal(unpack_regions(pack_regions(ids)), ids)


async def test_editor_images_encoded_side_by_side_are_the_serial_ones(tiny_colorizer):
    result = tiny_colorizer.colorize(area_sketch((160, 120)), style="cel")
    with ThreadPoolExecutor(3) as pool:
        document = await editor_document(result, pool, takes_hints=True)
    regions = nearest_region(result.regions)
    assert document == {
        "width": 160,
        "height": 120,
        "regions": int(regions.max()),
        "layer": png_data_url(result.layer.convert("RGB"), FLAT_STRATEGY),
        "lines": png_data_url(result.lines.convert("L")),
        "region_map": png_data_url(pack_regions(regions), FLAT_STRATEGY),
        "hints": True,
    }


async def test_the_encoding_threads_end_with_the_app(make_client):
    client = await make_client()
    pool = client.app[ENCODER_KEY]
    assert (await client.post("/colorize", data=form("sketch", area_sketch((40, 30))))).ok
    await client.close()
    with pytest.raises(RuntimeError):
        pool.submit(int)
