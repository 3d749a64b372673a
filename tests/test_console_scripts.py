"""Every console script reads the inference settings the same way: a bad one is one line and
exit code 2, never a traceback (``pixelpainter``, ``pixelpainter serve``, ``pixelpainter-bot``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.net import free_port
from tests.support.tokens import BOT_TOKEN

ROOT = Path(__file__).resolve().parents[1]

SCRIPTS = {
    "pixelpainter colorize": ["-m", "pixelpainter_cli", "colorize", "in.png", "-o", "out"],
    "pixelpainter serve": ["-m", "pixelpainter_cli", "serve", "--port", str(free_port())],
    "pixelpainter-bot": ["-m", "bot"],
}
BAD_SETTINGS = {
    "INFERENCE_STYLE": "watercolor",
    "INFERENCE_PRECISION": "int4",
    "INFERENCE_THREADS": "0",
}


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("INFERENCE_", "GENERATOR_", "PIXELPAINTER_", "TELEGRAM_"))
    }
    return {**env, "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": BOT_TOKEN, **extra}


@pytest.mark.parametrize("name", sorted(BAD_SETTINGS))
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_a_bad_inference_setting_is_one_line_and_exit_2(script, name, tmp_path):
    (tmp_path / "in.png").write_bytes(b"")  # never read: the settings fail first
    proc = subprocess.run(
        [sys.executable, *SCRIPTS[script]],
        cwd=tmp_path,  # no .env here
        env=_clean_env(**{name: BAD_SETTINGS[name]}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert name in lines[0]
    assert BAD_SETTINGS[name] not in lines[0].replace(name, "")  # the value is not echoed
