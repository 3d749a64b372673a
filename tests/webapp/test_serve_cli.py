"""``pixelpainter serve``'s own failures: one line and an exit code, no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

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
