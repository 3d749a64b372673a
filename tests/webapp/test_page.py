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

from tests.support.page_forms import RECORD_FORMS
from tests.support.serve import post_sketch, serving
from webapp.editor import unpack_regions

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


def _post_editor(server: str, sketch: bytes, hints: list | None = None) -> dict:
    fields = {} if hints is None else {"hints": json.dumps(hints)}
    return json.loads(post_sketch(f"{server}/api/editor", sketch, **fields))


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
    assert page.is_hidden("#hint-tools") == (not document["hints"])  # only for a hint model


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


@pytest.fixture(scope="module")
def hint_server(tiny_hint_onnx) -> Iterator[str]:
    """``pixelpainter serve`` with a (tiny, random) generator that takes color hints."""
    with serving("--threads", "1", "--weights", str(tiny_hint_onnx)) as url:
        yield url


def _click_pixel(page, x: int, y: int, w: int, h: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Click the picture's pixel (x, y) at the nearest whole CSS pixel (a click's clientX is
    whole); returns (that CSS point, the picture pixel it falls in)."""
    box = page.locator("#result").bounding_box()
    at = (
        round(box["x"] + (x + 0.5) * box["width"] / w),
        round(box["y"] + (y + 0.5) * box["height"] / h),
    )
    page.mouse.click(*at)
    return at, _pixel_at(page, at, w, h)


def _pixel_at(page, at: tuple[int, int], w: int, h: int) -> tuple[int, int]:
    box = page.locator("#result").bounding_box()
    return (
        int((at[0] - box["x"]) * w // box["width"]),
        int((at[1] - box["y"]) * h // box["height"]),
    )


def test_hint_dots_are_placed_moved_removed_and_applied(browser, hint_server, sketch):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    page.goto(hint_server + "/")
    _upload(page, sketch)
    assert page.is_visible("#hint-tools") and page.is_disabled("#apply-hints")
    plain = _post_editor(hint_server, sketch.read_bytes())
    w, h = plain["width"], plain["height"]
    regions = unpack_regions(_image(plain["region_map"]))
    ids, counts = np.unique(regions, return_counts=True)
    big = [i for _, i in sorted(zip(counts, ids, strict=True), reverse=True)[:3]]
    a, b, c = (_inner_pixel(regions == i) for i in big)
    before = _canvas_pixels(page)

    page.click("#hint-mode")
    assert page.get_attribute("#hint-mode", "aria-pressed") == "true"
    page.locator("#hint-color").fill("#d03030")
    _, a = _click_pixel(page, *a, w, h)
    page.locator("#hint-color").fill("#2040e0")
    start, b = _click_pixel(page, *b, w, h)
    _click_pixel(page, *c, w, h)
    assert page.locator(".hint-dot").count() == 3
    assert np.array_equal(_canvas_pixels(page), before), "dots are shown over the picture"

    # Drag the second dot 25 CSS pixels to the right, then tap the third one away.
    end = (start[0] + 25, start[1])
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=6)
    page.mouse.up()
    moved = _pixel_at(page, end, w, h)
    page.locator(".hint-dot").nth(2).click()
    assert page.locator(".hint-dot").count() == 2

    page.evaluate(RECORD_FORMS)
    page.click("#apply-hints")
    page.wait_for_selector("#status:has-text('Hints applied')", timeout=60_000)
    [form] = page.evaluate("window.sentForms")
    assert form["url"].endswith("api/editor")
    sent = json.loads(form["fields"]["hints"])
    assert sent == [
        {"x": a[0], "y": a[1], "color": "#d03030"},
        {"x": moved[0], "y": moved[1], "color": "#2040e0"},
    ]
    # The page shows the server's coloring for exactly those hints.
    hinted = _post_editor(hint_server, sketch.read_bytes(), sent)
    layer = np.asarray(_image(hinted["layer"]).convert("RGB"), np.float64)
    lines = np.asarray(_image(hinted["lines"]), np.float64)[:, :, None]
    shown = _canvas_pixels(page)
    assert np.abs(shown - np.floor(layer * lines / 255 + 0.5)).max() <= 1
    assert tuple(shown[a[1], a[0]]) == (0xD0, 0x30, 0x30)  # cel: the dot decides its area
    assert not np.array_equal(shown, before)
    assert page.locator(".hint-dot").count() == 2, "the dots stay for the next try"
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    # The flat recolor still works on the new coloring.
    page.click("#hint-mode")
    _click_pixel(page, *c, w, h)
    assert page.get_attribute("#result", "data-region") == str(regions[c[1], c[0]])
    # Another style keeps the applied hints.
    page.select_option("#style", "soft")
    page.wait_for_function("window.sentForms.length === 2")
    page.wait_for_selector("#status:has-text('Done')", timeout=60_000)
    assert json.loads(page.evaluate("window.sentForms")[1]["fields"]["hints"]) == sent
    context.close()


def test_hint_swatches_pick_the_color_in_one_tap(browser, hint_server, sketch):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    page.goto(hint_server + "/")
    _upload(page, sketch)
    swatches = page.locator("#hint-swatches .swatch")
    assert swatches.count() == 12
    assert page.get_attribute("#hint-mode", "aria-pressed") == "false"

    page.click("#hint-swatches .swatch[data-color='#5a2e17']")  # dark skin
    assert page.get_attribute("#hint-mode", "aria-pressed") == "true", "a swatch starts placing"
    assert page.input_value("#hint-color") == "#5a2e17"
    assert page.locator(".swatch[aria-pressed='true']").count() == 1
    plain = _post_editor(hint_server, sketch.read_bytes())
    regions = unpack_regions(_image(plain["region_map"]))
    ids, counts = np.unique(regions, return_counts=True)
    x, y = _inner_pixel(regions == ids[np.argmax(counts)])
    _click_pixel(page, x, y, plain["width"], plain["height"])
    dot = page.locator(".hint-dot")
    assert dot.count() == 1
    assert dot.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(90, 46, 23)"

    page.locator("#hint-color").fill("#123456")  # a color of one's own: no swatch is marked
    assert page.locator(".swatch[aria-pressed='true']").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    context.close()
