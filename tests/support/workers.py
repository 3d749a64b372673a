"""Real ``pixelpainter worker`` processes for tests: started, awaited, killed, always stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """One ``pixelpainter worker`` (``python -m pixelpainter_cli worker``) with the given weights, on the Redis at ``redis_url``."""

    def __init__(
        self,
        redis_url: str,
        weights: Path,
        log: Path,
        *,
        name: str,
        max_batch: int = 4,
        visibility_timeout_s: float = 5.0,
        prefix: str = "pixelpainter",
    ) -> None:
        self.redis_url = redis_url
        self.name = name
        self.prefix = prefix
        self.log = log
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": prefix,
            "GENERATOR_WEIGHTS": str(weights),
            "INFERENCE_THREADS": "1",
            "INFERENCE_MAX_BATCH": str(max_batch),
            "CELERY_VISIBILITY_TIMEOUT_S": str(visibility_timeout_s),
            "LOG_LEVEL": "WARNING",
            "OMP_NUM_THREADS": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> WorkerProcess:
        """Start it and wait for its first heartbeat (model loaded and warm)."""
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pixelpainter_cli", "worker", "--name", self.name],
            cwd=REPO,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        key = f"{self.prefix}:worker:{self.name}"
        deadline = time.monotonic() + timeout_s
        with redis.Redis.from_url(self.redis_url) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"worker exited with {self.process.returncode}: {self.output()}"
                    )
                if client.exists(key):
                    time.sleep(0.3)  # the heartbeat comes just before Celery starts consuming
                    return self
                time.sleep(0.1)
        self.kill()
        raise TimeoutError(f"worker {self.name} did not start: {self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole worker: no goodbye, no acknowledgement of what it held."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self._close()

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM (Celery's warm shutdown), then SIGKILL if it hangs."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close()

    def _close(self) -> None:
        if getattr(self, "_log_file", None) is not None:
            self._log_file.close()
            self._log_file = None
