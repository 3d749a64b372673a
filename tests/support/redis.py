"""A real ``redis-server`` (Debian's package) on a free 127.0.0.1 port, append-only on.

It can be stopped (politely, or with SIGKILL) and started again on the same port and data
folder, as a Redis restarted by its service manager: what its append-only file holds comes back.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Self

import pytest

from tests.support.net import free_port

REDIS_SERVER = os.environ.get("REDIS_SERVER", "redis-server")


def require_redis_server() -> str:
    """The redis-server binary; skips the test without it (fails in CI, which installs it)."""
    found = shutil.which(REDIS_SERVER)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{REDIS_SERVER} is missing; .ci/run installs Debian's redis-server")
        pytest.skip(f"{REDIS_SERVER} is not installed (apt-get install redis-server)")
    return found


class RedisServer:
    """``start()`` / ``stop()`` / ``kill()``; ``url`` is ``redis://127.0.0.1:PORT/0``."""

    def __init__(self, folder: Path, *, fsync: str = "always") -> None:
        self.binary = require_redis_server()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        # "always": every acknowledged write survives even SIGKILL under disk pressure (with
        # "everysec" a busy disk can hold writes back up to ~2 s); benchmarks pass "everysec".
        self.fsync = fsync
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 10.0) -> Self:
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.folder),
            "--appendonly", "yes",
            "--appendfsync", self.fsync,
            "--save", "",
            "--protected-mode", "yes",
            "--daemonize", "no",
            "--loglevel", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if self._answers():
                return self
            time.sleep(0.02)
        self.kill()
        raise TimeoutError(f"redis-server did not answer on port {self.port}")

    def _answers(self) -> bool:
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM (Redis writes its files and exits), then SIGKILL if it hangs."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout_s)
        self.process = None

    def kill(self) -> None:
        """SIGKILL: only what the append-only file holds survives."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def restart(self, *, kill: bool = True) -> None:
        """Die (SIGKILL by default) and come back on the same port and files."""
        if kill:
            self.kill()
        else:
            self.stop()
        self.start()
