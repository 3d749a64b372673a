"""One sketch at the size caps costs at most 300 MB, measured as the peak RSS of a real process.

The files are tiny (a few hundred KB) but decode to 64 MP of 16-bit gray or 50 MP of RGBA or
float: the cases that once took 1.2 to 1.8 GB through float64 arrays.
"""

from __future__ import annotations

import math
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inference import images
from inference.errors import SketchError, SketchProblem

ROOT = Path(__file__).resolve().parents[2]
PEAK_LIMIT_MB = 300
# The largest square each mode may have: 64 MP of 2-byte pixels, MAX_DECODED_BYTES of 4-byte ones.
GRAY16_SIDE = math.isqrt(images.MAX_PIXELS)
WIDE_SIDE = math.isqrt(getattr(images, "MAX_DECODED_BYTES", 192 * 1024 * 1024) // 4)

# VmHWM is the peak RSS of this process image (ru_maxrss would carry pytest's, across exec);
# writing 5 to clear_refs resets it to the current RSS, just before the one colorize measured.
MEASURE = """
import gc, sys
from inference.colorizer import Colorizer

def kb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))

colorizer = Colorizer.load(sys.argv[1], threads=1)
colorizer.warm_up()
data = open(sys.argv[2], "rb").read()
gc.collect()
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")
before = kb("VmRSS:")
result = colorizer.colorize(data)
print(result.image.size[0], result.image.size[1], (kb("VmHWM:") - before) / 1000)
"""


def _save(kind: str, side: int | None, path: Path) -> Path:
    """A sketch of ``kind``, ``side`` pixels square (None: the largest that mode may have)."""
    if kind == "gray16":
        side = side or GRAY16_SIDE
        lines = np.full((side, side), 52000, np.uint16)
        lines[::40, :] = 3000
        Image.fromarray(lines).save(path, format="PNG")
    elif kind == "rgba":
        side = side or WIDE_SIDE
        pixels = np.zeros((side, side, 4), np.uint8)
        pixels[::40, :, 3] = 255  # black lines on a transparent sheet
        Image.fromarray(pixels, "RGBA").save(path, format="PNG")
    else:
        side = side or WIDE_SIDE
        sheet = np.full((side, side), 0.95, np.float32)
        sheet[::40, :] = 0.05
        Image.fromarray(sheet).save(path, format="TIFF", compression="tiff_adobe_deflate")
    return path


@pytest.mark.parametrize("kind", ["gray16", "rgba", "float"])
# At the caps; and just under twice the output size, the largest that is not shrunk first.
@pytest.mark.parametrize("side", [None, 2 * 2048 - 1])
def test_one_sketch_peaks_under_300_mb(tiny_onnx, tmp_path, kind, side):
    sketch = _save(kind, side, tmp_path / f"{kind}.img")
    assert sketch.stat().st_size < 1_000_000  # small files, large images
    with Image.open(sketch) as img:
        assert {"gray16": "I;16", "rgba": "RGBA", "float": "F"}[kind] == img.mode
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, str(tiny_onnx), str(sketch)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    width, height, peak_mb = proc.stdout.split()
    assert (int(width), int(height)) == (2048, 2048)  # colorized, at the output cap
    assert float(peak_mb) <= PEAK_LIMIT_MB, f"{kind}: {float(peak_mb):.0f} MB"


def _png_header(side: int, color_type: int, depth: int = 8) -> bytes:
    """A PNG that claims ``side``² pixels and holds almost no data (a few hundred bytes)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, depth, color_type, 0, 0, 0)
    data = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def test_a_wide_image_over_the_cap_is_refused_before_decoding():
    with pytest.raises(SketchError) as refused:
        images.open_sketch(_png_header(WIDE_SIDE + 1, color_type=6), max_side=2048)  # RGBA
    assert refused.value.reason is SketchProblem.TOO_MANY_PIXELS
    assert refused.value.limit == images.MAX_DECODED_BYTES // 4
    # The same size in 8-bit gray takes a quarter of the memory: it passes the cap (and is then
    # found truncated, having no pixels).
    with pytest.raises(SketchError) as truncated:
        images.open_sketch(_png_header(WIDE_SIDE + 1, color_type=0), max_side=2048)
    assert truncated.value.reason is SketchProblem.TRUNCATED
