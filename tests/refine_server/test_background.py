"""The notebooks' way of running the server: in the background, polled, stopped with its ngrok."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from refine_server import background
from tests.support.net import free_port
from tests.support.ngrok import read_record, write_fake_ngrok
from tests.support.tokens import NGROK_TOKEN, REFINE_TOKEN

ROOT = Path(__file__).resolve().parents[2]


def _group(pgid: int) -> list[int]:
    """Live processes of process group ``pgid`` (from /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(entry.name))
    return members


@pytest.mark.slow  # about 20 s: a real server process loads the tiny model
def test_start_poll_and_stop_take_ngrok_down_too(tiny_model_dir, tmp_path):
    ngrok_path, record = write_fake_ngrok(tmp_path / "ngrok")
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "REFINE_TOKEN": REFINE_TOKEN,
        "REFINE_PORT": str(port),
        "MODEL_BALANCED": str(tiny_model_dir),
        "MODEL_QUALITY": str(tiny_model_dir),
        "DEVICE": "cpu",
        "STEPS_BALANCED": "1",
        "STEPS_QUALITY": "1",
        "REFINE_MIN_SIDE": "64",
        "REFINE_MAX_SIDE": "64",
        "TUNNEL": "ngrok",
        "NGROK_PATH": str(ngrok_path),
        "NGROK_CONFIG": str(tmp_path / "ngrok.yml"),
        "NGROK_AUTHTOKEN": NGROK_TOKEN,
    }
    folder = tmp_path / "work"
    folder.mkdir()
    pid = background.start(folder, env)
    try:
        with pytest.raises(RuntimeError, match="already runs"):
            background.start(folder, env)  # one server, one ngrok agent
        url = background.wait_ready(folder, port, timeout_s=180)
        assert url is not None and url.endswith(".ngrok-free.app")
        assert len(_group(pid)) >= 2  # the server and its ngrok agent
        assert "Ready at" in background.log_tail(folder)
        assert REFINE_TOKEN not in (folder / background.LOG_FILE).read_text()
    finally:
        assert background.stop(folder)
    assert _group(pid) == []  # nothing left behind: the next start gets its ngrok agent
    assert background.running_pid(folder) is None
    assert not background.stop(folder)
    assert read_record(record)[-1]["event"] == "disconnect"  # closed its tunnel on SIGTERM
    assert os.environ.get("REFINE_TOKEN") != REFINE_TOKEN  # the notebook env stays the caller's


def test_a_server_that_cannot_start_is_reported_with_its_log(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "REFINE_TOKEN": "too-short",
    }
    pid = background.start(tmp_path, env)
    assert pid > 0
    with pytest.raises(background.ServerExited, match="at least 24"):
        background.wait_ready(tmp_path, free_port(), timeout_s=120)
