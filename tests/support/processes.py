"""Real processes for tests (bot replicas, refine servers): ``python -m ...``, logged to a file,
always stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Self

from tests.support.net import free_port
from tests.support.tokens import BOT_TOKEN

REPO = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "replica-secret-0123456789abcdef"


class LoggedProcess:
    """A real ``python -m MODULE`` process in its own session, logged to a file, killable.

    Subclasses set ``module``, ``ready`` (the log text that says it serves) and ``env``.
    """

    module: str
    ready: str
    ready_timeout_s = 60.0
    poll_s = 0.1

    def __init__(self, folder: Path, log_name: str) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.env: dict[str, str] = {}
        self.log = folder / log_name
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> Self:
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", self.module,
                cwd=self.folder,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )  # fmt: skip
        return self

    async def wait_ready(self, timeout_s: float | None = None) -> None:
        """Until its log says it serves; raises when it exits first."""
        async with asyncio.timeout(timeout_s or self.ready_timeout_s):
            while self.ready not in self.output():
                if self.process is not None and self.process.returncode is not None:
                    raise RuntimeError(
                        f"{self.module} exited {self.process.returncode}: {self.output()[-2000:]}"
                    )
                await asyncio.sleep(self.poll_s)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM and wait (SIGKILL past ``timeout_s``); the exit code."""
        if self.process is None or self.process.returncode is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), timeout_s)
        except TimeoutError:
            await self.kill()
            return None

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            await self.process.wait()


def _child_env(settings: dict[str, str], overrides: dict[str, str]) -> dict[str, str]:
    """This environment, the tree under test first, ``settings``, then the test's ``overrides``."""
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **settings, **overrides}


class BotReplica(LoggedProcess):
    """One bot process in webhook mode on its own port; ``address`` is its webhook endpoint."""

    module = "bot"
    ready = "Webhook served on"  # the model or worker client is ready

    def __init__(self, folder: Path, env: dict[str, str], *, public_url: str) -> None:
        super().__init__(folder, "bot.log")
        self.address = f"http://127.0.0.1:{self.port}/hook"
        self.env = _child_env(
            {
                "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
                "WEBHOOK_URL": public_url,
                "WEBHOOK_LISTEN": "127.0.0.1",
                "WEBHOOK_PORT": str(self.port),
                "WEBHOOK_SECRET": WEBHOOK_SECRET,
                "BOT_DATA_DIR": str(folder / "data"),
                "LOG_LEVEL": "INFO",
            },
            env,
        )


class RefineProcess(LoggedProcess):
    """A real refine server (``python -m refine_server``) on a tiny SD model, publishing its
    signed discovery document to ``bin_id`` on the npoint stand-in; killable mid-job."""

    module = "refine_server"
    ready = "Published"  # models loaded, document published
    ready_timeout_s = 120.0
    poll_s = 0.2

    def __init__(self, folder: Path, model_dir: Path, env: dict[str, str], *, bin_id: str) -> None:
        super().__init__(folder, "refine.log")
        self.url = f"http://127.0.0.1:{self.port}"
        self.bin_id = bin_id
        self.env = _child_env(
            {
                "REFINE_HOST": "127.0.0.1",
                "REFINE_PORT": str(self.port),
                "MODEL_BALANCED": str(model_dir),
                "MODEL_QUALITY": str(model_dir),
                "SINGLE_FILE_CONFIG": str(model_dir),
                "MODELS_DIR": str(folder / "models"),
                "DEVICE": "cpu",
                "TUNNEL": "none",
                "PUBLIC_URL": self.url,
                "NPOINT_BIN_ID": bin_id,
                "ANNOUNCE_BACKOFF_S": "0.1",
            },
            env,
        )
