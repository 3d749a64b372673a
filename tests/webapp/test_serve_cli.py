"""``pixelpainter serve``: its own failures are one line and an exit code, no traceback; the
inference settings decide how it colors."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from webapp_samples import area_sketch

from inference.colorizer import Colorizer
from tests.support.serve import post_sketch, serving

ROOT = Path(__file__).resolve().parents[2]


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pixelpainter_cli", "serve", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bad_limits_are_refused():
    proc = _serve("--rate-limit", "0")
    assert proc.returncode == 2
    assert "--rate-limit: must be at least 1" in proc.stderr and "Traceback" not in proc.stderr
    proc = _serve("--max-upload-mb", "-3")
    assert proc.returncode == 2
    assert "must be positive" in proc.stderr and "Traceback" not in proc.stderr


def test_a_taken_port_is_one_line(tiny_onnx):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _serve("--port", str(port), "--weights", str(tiny_onnx), "--threads", "1")
    assert proc.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_weights_are_one_line(tmp_path):
    proc = _serve("--weights", str(tmp_path / "nope.onnx"))
    assert proc.returncode == 2
    assert "nope.onnx" in proc.stderr and "Traceback" not in proc.stderr


def test_serve_colors_with_the_style_and_precision_settings(tiny_onnx, tmp_path):
    """``INFERENCE_STYLE=soft INFERENCE_PRECISION=int8 pixelpainter serve``: soft int8 colors."""
    weights = tmp_path / "model" / "generator.onnx"
    weights.parent.mkdir()
    shutil.copy(tiny_onnx, weights)
    sketch = area_sketch((150, 90))
    env = {
        **os.environ,
        "INFERENCE_STYLE": "soft",
        "INFERENCE_PRECISION": "int8",
        "PIXELPAINTER_CACHE": str(tmp_path / "cache"),
    }
    with serving("--weights", str(weights), "--threads", "1", env=env) as url:
        served = np.asarray(
            Image.open(io.BytesIO(post_sketch(f"{url}/colorize", sketch))), np.int16
        )
    assert weights.with_suffix(".int8.onnx").exists()  # the server quantized the weights

    def expected(style: str, precision: str) -> np.ndarray:
        colorizer = Colorizer.load(weights, threads=1, style=style, precision=precision)
        return np.asarray(colorizer.colorize(sketch).image, np.int16)

    # The same pixels as a soft int8 Colorizer's, and not those of cel or of fp32.
    assert np.array_equal(served, expected("soft", "int8"))
    for other in (expected("cel", "int8"), expected("soft", "fp32")):
        assert not np.array_equal(served, other)
