"""``pixelpainter serve``'s own failures: one line and an exit code, no traceback."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image
from webapp_samples import area_sketch

from inference.colorizer import Colorizer
from tests.support.net import free_port

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
    port = free_port()
    env = {
        **os.environ,
        "INFERENCE_STYLE": "soft",
        "INFERENCE_PRECISION": "int8",
        "PIXELPAINTER_CACHE": str(tmp_path / "cache"),
    }
    args = ["--port", str(port), "--weights", str(weights), "--threads", "1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "pixelpainter_cli", "serve", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(url, proc)
        served = np.asarray(Image.open(io.BytesIO(_post_sketch(url, sketch))), np.int16)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert weights.with_suffix(".int8.onnx").exists()  # the server quantized the weights

    def expected(style: str, precision: str) -> np.ndarray:
        colorizer = Colorizer.load(weights, threads=1, style=style, precision=precision)
        return np.asarray(colorizer.colorize(sketch).image, np.int16)

    # The same pixels as a soft int8 Colorizer's, and not those of cel or of fp32.
    assert np.array_equal(served, expected("soft", "int8"))
    for other in (expected("cel", "int8"), expected("soft", "fp32")):
        assert not np.array_equal(served, other)


def _wait_until_healthy(url: str, proc: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if json.load(response)["model_loaded"]:
                    return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"serve did not start:\n{proc.communicate()[0]}") from None
            time.sleep(0.3)


def _post_sketch(url: str, sketch: bytes) -> bytes:
    boundary = "pixelpainter-test"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="sketch"; filename="s.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + sketch
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{url}/colorize",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return response.read()
