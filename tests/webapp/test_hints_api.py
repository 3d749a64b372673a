"""Color hints through the web app: the ``hints`` field of /colorize and /api/editor."""

from __future__ import annotations

import base64
import io
import json

import aiohttp
import numpy as np
import pytest
from PIL import Image
from webapp_samples import area_sketch

HINTS = [{"x": 40, "y": 60, "color": "#d03030"}, {"x": 120, "y": 20, "color": "#2040e0"}]


def form(sketch: bytes, **fields: str) -> aiohttp.FormData:
    body = aiohttp.FormData()
    body.add_field("sketch", sketch, filename="sketch.png", content_type="image/png")
    for name, value in fields.items():
        body.add_field(name, value)
    return body


def _image(data_url: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))))


@pytest.fixture
async def hint_client(make_client, tiny_hint_colorizer):
    return await make_client(colorizer=tiny_hint_colorizer)


async def test_colorize_with_hints_is_the_models_result_with_them(hint_client, tiny_hint_colorizer):
    sketch = area_sketch((160, 120))
    response = await hint_client.post("/colorize", data=form(sketch, hints=json.dumps(HINTS)))
    assert response.status == 200, await response.text()
    out = np.asarray(Image.open(io.BytesIO(await response.read())), np.int16)
    hints = [(h["x"], h["y"], bytes.fromhex(h["color"][1:])) for h in HINTS]
    expected = tiny_hint_colorizer.colorize(sketch, hints=hints)
    assert np.abs(out - expected.image_array).max() <= 1
    assert tuple(out[60, 40]) == (0xD0, 0x30, 0x30)  # cel: the hint decides its region


async def test_the_editor_says_whether_the_model_takes_hints(
    hint_client, client, tiny_hint_colorizer
):
    sketch = area_sketch((160, 120))
    plain = await (await hint_client.post("/api/editor", data=form(sketch))).json()
    assert plain["hints"] is True
    response = await hint_client.post("/api/editor", data=form(sketch, hints=json.dumps(HINTS)))
    hinted = await response.json()
    layer = _image(hinted["layer"])
    assert tuple(layer[60, 40]) == (0xD0, 0x30, 0x30)
    assert tuple(layer[20, 120]) == (0x20, 0x40, 0xE0)
    assert hinted["layer"] != plain["layer"]
    # An empty field is no hints.
    empty = await (await hint_client.post("/api/editor", data=form(sketch, hints=""))).json()
    assert empty["layer"] == plain["layer"]
    legacy = await (await client.post("/api/editor", data=form(sketch))).json()
    assert legacy["hints"] is False


@pytest.mark.parametrize("path", ["/colorize", "/api/editor"])
@pytest.mark.parametrize(
    ("hints", "words"),
    [
        (
            '[{"x": 1, "y": 2, "color": "#000000"}, {"x": 1, "y": 2, "color": "red"}]',
            "Hint 1: color",
        ),
        ('[{"x": 1, "y": 2}]', "Hint 0: missing 'color'"),
        ("[{", "The hints are not valid JSON"),
        ('{"x": 1}', "The hints must be a JSON list"),
    ],
)
async def test_a_bad_hints_field_is_400_naming_the_entry(hint_client, path, hints, words):
    response = await hint_client.post(path, data=form(area_sketch(), hints=hints))
    assert response.status == 400
    assert (await response.json())["error"].startswith(words)


@pytest.mark.parametrize("path", ["/colorize", "/api/editor"])
async def test_hints_for_a_model_without_hint_channels_are_400(client, path):
    response = await client.post(path, data=form(area_sketch(), hints=json.dumps(HINTS)))
    assert response.status == 400
    error = (await response.json())["error"]
    assert error.startswith("This model takes no color hints") and error.endswith("send no hints.")
    assert "\n" not in error
