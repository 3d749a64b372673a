"""Every odd thing a chat can send gives an RGB image or a clear SketchError, never a crash."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from inference.errors import SketchError, SketchProblem
from inference.images import MAX_PIXELS, encode_jpeg, encode_png, open_sketch


def _png(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", **kw)
    return buf.getvalue()


def _png_bomb(side: int) -> bytes:
    """A valid PNG header for a side×side image with a tiny body: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * side
    idat = zlib.compress(row * 16, 9)  # far fewer rows than declared
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_png_bomb_is_refused_before_decoding():
    data = _png_bomb(20_000)
    assert len(data) < 10_000
    with pytest.raises(SketchError) as err:
        open_sketch(data)
    assert err.value.reason is SketchProblem.TOO_MANY_PIXELS
    assert (err.value.size, err.value.limit) == (400_000_000, MAX_PIXELS)


def test_zero_bytes():
    with pytest.raises(SketchError) as err:
        open_sketch(b"")
    assert err.value.reason is SketchProblem.EMPTY


def test_empty_file_on_disk(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(SketchError) as err:
        open_sketch(path)
    assert err.value.reason is SketchProblem.EMPTY


def test_text_named_png(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("hello, this is not an image\n" * 10)
    with pytest.raises(SketchError) as err:
        open_sketch(path)
    assert err.value.reason is SketchProblem.NOT_AN_IMAGE


def test_truncated_png():
    data = _png(Image.effect_noise((300, 300), 60).convert("RGB"))
    with pytest.raises(SketchError) as err:
        open_sketch(data[: len(data) // 2])
    assert err.value.reason is SketchProblem.TRUNCATED


def test_animated_gif_gives_first_frame():
    frames = [Image.new("RGB", (64, 48), c) for c in ("red", "blue", "green")]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=50)
    img = open_sketch(buf.getvalue())
    assert img.mode == "RGB" and img.size == (64, 48)
    r, g, b = img.getpixel((10, 10))
    assert r > 200 and g < 50 and b < 50


def test_cmyk_jpeg():
    buf = io.BytesIO()
    Image.new("CMYK", (80, 60), (0, 255, 255, 0)).save(buf, format="JPEG")
    img = open_sketch(buf.getvalue())
    assert img.mode == "RGB" and img.size == (80, 60)
    r, g, b = img.getpixel((40, 30))
    assert r > 200 and g < 60 and b < 60  # CMYK (0, 255, 255, 0) is red


def test_16_bit_png_keeps_its_tones():
    ramp = (np.linspace(0, 65535, 256, dtype=np.uint16)[None, :].repeat(32, 0)).astype(np.uint16)
    data = _png(Image.fromarray(ramp))
    img = open_sketch(data)
    gray = np.asarray(img.convert("L"), np.float32)
    assert gray[:, 0].mean() < 5 and gray[:, -1].mean() > 250
    assert 100 < gray[:, 128].mean() < 155  # mid-grey, not clipped to white


def test_transparent_png_composited_on_white():
    rgba = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    rgba.paste((0, 0, 0, 255), (20, 20, 30, 30))
    img = open_sketch(_png(rgba))
    assert img.getpixel((0, 0)) == (255, 255, 255)
    assert img.getpixel((25, 25)) == (0, 0, 0)


def test_palette_png_with_transparency():
    p = Image.new("P", (20, 20), 0)
    p.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    p.paste(1, (5, 5, 10, 10))
    img = open_sketch(_png(p, transparency=0))
    assert img.getpixel((0, 0)) == (255, 255, 255)
    assert img.getpixel((6, 6)) == (255, 0, 0)


@pytest.mark.parametrize("mode", ["LA", "1", "L"])
def test_other_png_modes(mode):
    img = open_sketch(_png(Image.new(mode, (17, 9))))
    assert img.mode == "RGB" and img.size == (17, 9)


@pytest.mark.parametrize("mode", ["I", "F", "I;16", "CMYK", "YCbCr", "HSV"])
def test_in_memory_images_of_any_mode(mode):
    img = open_sketch(Image.new(mode, (17, 9)))
    assert img.mode == "RGB" and img.size == (17, 9)


def test_exif_rotated_jpeg_is_upright():
    wide = Image.new("RGB", (120, 40), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buf = io.BytesIO()
    wide.save(buf, format="JPEG", exif=exif)
    img = open_sketch(buf.getvalue())
    assert img.size == (40, 120)


def test_webp_and_bmp_and_tiff():
    for fmt in ("WEBP", "BMP", "TIFF"):
        buf = io.BytesIO()
        Image.new("RGB", (33, 21), "blue").save(buf, format=fmt)
        assert open_sketch(buf.getvalue()).size == (33, 21)


def test_missing_file_is_a_sketch_error(tmp_path):
    with pytest.raises(SketchError) as err:
        open_sketch(tmp_path / "nope.png")
    assert err.value.reason is SketchProblem.UNREADABLE and "No such file" in err.value.detail


def test_encoders_round_trip():
    img = Image.new("RGB", (31, 17), (10, 200, 30))
    assert Image.open(io.BytesIO(encode_png(img))).getpixel((3, 3)) == (10, 200, 30)
    assert Image.open(io.BytesIO(encode_jpeg(img))).size == (31, 17)


def test_a_png_strategy_changes_the_bytes_not_the_pixels():
    rng = np.random.default_rng(0)
    flat = np.repeat(rng.integers(0, 256, (8, 1, 3), np.uint8), 64, axis=1).repeat(8, axis=0)
    img = Image.fromarray(flat, "RGB")  # 64² of flat bands
    runs = encode_png(img, compress_level=6, strategy=zlib.Z_RLE)
    assert runs != encode_png(img, compress_level=6)  # Pillow takes the strategy
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(runs))), flat)
