"""The editor page in a real headless browser (Debian's chromium, driven by playwright), against
``pixelpainter serve`` started as a subprocess with the bundled model."""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from webapp_samples import character_sketch

from tests.support.serve import post_sketch, serving
from webapp.editor import unpack_regions

ROOT = Path(__file__).resolve().parents[2]
# Set to a path (e.g. docs/webapp.png) to keep the page's screenshot for the README.
SCREENSHOT = os.environ.get("PIXELPAINTER_SCREENSHOT")

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """``pixelpainter serve`` on a free port, with the bundled weights."""
    with serving("--threads", "1") as url:
        yield url


@pytest.fixture(scope="module")
def sketch(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sketch") / "cat.png"
    path.write_bytes(character_sketch())
    return path


@pytest.fixture(scope="module")
def browser(chromium_options):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(**chromium_options)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1000, "height": 760})
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(server + "/")
    yield page
    context.close()
    blocked = [text for text in console if "Content Security Policy" in text]
    assert not blocked, f"the page's own policy blocked something: {blocked}"


def _post_editor(server: str, sketch: bytes) -> dict:
    return json.loads(post_sketch(f"{server}/api/editor", sketch))


def _image(data_url: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])))


def _canvas_pixels(page) -> np.ndarray:
    """What ``#result`` shows, (H, W, 3) int16 (read as a lossless PNG: fast, exact)."""
    url = page.evaluate("document.getElementById('result').toDataURL('image/png')")
    return np.asarray(_image(url).convert("RGB"), np.int16)


def _inner_pixel(mask: np.ndarray) -> tuple[int, int]:
    """A pixel of ``mask`` as far inside it as a few erosions allow: (x, y)."""
    inner = mask
    for _ in range(12):
        padded = np.pad(inner, 1)
        eroded = inner.copy()
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                eroded &= padded[dy : dy + inner.shape[0], dx : dx + inner.shape[1]]
        if not eroded.any():
            break
        inner = eroded
    ys, xs = np.nonzero(inner)
    k = len(ys) // 2
    return int(xs[k]), int(ys[k])


def _upload(page, sketch: Path) -> None:
    page.set_input_files("#sketch", str(sketch))
    page.wait_for_selector("#result[data-ready='1']", timeout=60_000)


def test_upload_shows_the_colored_result(page, server, sketch):
    _upload(page, sketch)
    document = _post_editor(server, sketch.read_bytes())
    w, h = document["width"], document["height"]
    assert (w, h) == Image.open(sketch).size
    shown = _canvas_pixels(page)
    layer = np.asarray(_image(document["layer"]).convert("RGB"), np.float64)
    lines = np.asarray(_image(document["lines"]), np.float64)[:, :, None]
    expected = np.floor(layer * lines / 255 + 0.5)
    assert np.abs(shown - expected).max() <= 1  # layer × lines / 255, recomposed in the page
    spread = shown.max(axis=2) - shown.min(axis=2)
    assert (spread > 30).mean() > 0.2, "the result should be in color, not gray"
    assert page.text_content("#status").startswith("Done")
    assert page.is_hidden("#send")  # no Telegram here: no "Send to chat"


def test_tap_and_color_recolor_exactly_the_tapped_region(page, server, sketch):
    _upload(page, sketch)
    document = _post_editor(server, sketch.read_bytes())
    w, h = document["width"], document["height"]
    regions = unpack_regions(_image(document["region_map"]))
    lines = np.asarray(_image(document["lines"]), np.float64)
    # The largest region that does not touch the border (not the paper around the drawing).
    border = set(
        np.unique(np.concatenate([regions[0], regions[-1], regions[:, 0], regions[:, -1]]))
    )
    ids, counts = np.unique(regions, return_counts=True)
    inner = [(c, i) for i, c in zip(ids, counts, strict=True) if i != 0 and i not in border]
    assert inner, "the sketch should have enclosed areas"
    target = max(inner)[1]
    x, y = _inner_pixel(regions == target)

    before = _canvas_pixels(page)
    box = page.locator("#result").bounding_box()
    page.mouse.click(
        box["x"] + (x + 0.5) * box["width"] / w, box["y"] + (y + 0.5) * box["height"] / h
    )
    assert page.get_attribute("#result", "data-region") == str(target)
    assert page.is_enabled("#region-color")

    page.locator("#region-color").fill("#e01b24")
    after = _canvas_pixels(page)
    inside = regions == target
    expected = np.stack([lines * 0xE0, lines * 0x1B, lines * 0x24], axis=-1) / 255
    assert np.abs(after[inside] - np.floor(expected[inside] + 0.5)).max() <= 1
    assert np.array_equal(after[~inside], before[~inside]), "only the tapped region may change"
    assert (np.abs(after[inside] - before[inside]).sum(axis=1) > 0).mean() > 0.5

    if SCREENSHOT:
        Path(SCREENSHOT).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOT, type="png", full_page=True)

    with page.expect_download() as download:
        page.click("#download-image")
    assert download.value.suggested_filename == "colored.png"
    assert np.array_equal(np.asarray(Image.open(download.value.path()).convert("RGB")), after)
    with page.expect_download() as download:
        page.click("#download-layer")
    layer = np.asarray(Image.open(download.value.path()).convert("RGB"))
    assert (layer[inside] == (0xE0, 0x1B, 0x24)).all()
    original = np.asarray(_image(document["layer"]).convert("RGB"))
    assert np.array_equal(layer[~inside], original[~inside])

    page.click("#undo")
    assert np.array_equal(_canvas_pixels(page), before)
    page.locator("#region-color").fill("#2050ff")
    page.click("#reset")
    assert np.array_equal(_canvas_pixels(page), before)
    assert page.is_disabled("#undo")


def test_a_bad_file_shows_a_message_and_the_page_still_works(page, server, sketch, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    page.set_input_files("#sketch", str(text))
    page.wait_for_selector("#status[data-state='error']", timeout=30_000)
    assert "not an image" in page.text_content("#status")
    _upload(page, sketch)
    assert page.get_attribute("#status", "data-state") == "ok"


def test_the_page_fits_a_phone_screen(browser, server, sketch):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, has_touch=True
    )
    page = context.new_page()
    page.goto(server + "/")
    _upload(page, sketch)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    box = page.locator("#result").bounding_box()
    context.close()
    assert overflow <= 0
    assert box["width"] <= 390
