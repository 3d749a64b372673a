"""``pixelpainter serve`` as a subprocess on a free port, and multipart posts to it (stdlib only,
so the server is tested from outside)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

from tests.support.net import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def serving(
    *args: str, env: Mapping[str, str] | None = None, timeout_s: float = 120
) -> Iterator[str]:
    """``pixelpainter serve ARGS`` until the block ends; yields its URL once the model is loaded."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pixelpainter_cli", "serve", "--port", str(port), *args],
        cwd=ROOT,
        env=None if env is None else dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if json.load(response)["model_loaded"]:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    output = proc.communicate()[0]
                    raise AssertionError(f"serve did not start:\n{output}") from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def post_sketch(url: str, sketch: bytes, **fields: str) -> bytes:
    """POST ``sketch`` as the multipart ``sketch`` field (and ``fields`` as text fields) to
    ``url``; the 200 answer's body."""
    boundary = "----pixelpainter-test"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="sketch"; filename="s.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + sketch
        + b"\r\n"
    )
    for name, value in fields.items():
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    body += f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return response.read()
