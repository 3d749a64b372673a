"""Real bot replicas for tests: ``python -m bot`` processes, logged to a file, always stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.support.net import free_port
from tests.support.tokens import BOT_TOKEN

REPO = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "replica-secret-0123456789abcdef"


class BotReplica:
    """One bot process in webhook mode on its own port; ``address`` is its webhook endpoint."""

    def __init__(self, folder: Path, env: dict[str, str], *, public_url: str) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.address = f"http://127.0.0.1:{self.port}/hook"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "OMP_NUM_THREADS": "1",
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "WEBHOOK_URL": public_url,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(self.port),
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "BOT_DATA_DIR": str(folder / "data"),
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.log = folder / "bot.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> BotReplica:
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot",
                cwd=self.folder,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )  # fmt: skip
        return self

    async def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Until its log says it serves the webhook (the model or worker client is ready)."""
        async with asyncio.timeout(timeout_s):
            while "Webhook served on" not in self.output():
                if self.process is not None and self.process.returncode is not None:
                    raise RuntimeError(f"bot exited {self.process.returncode}: {self.output()}")
                await asyncio.sleep(0.1)

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


class RefineProcess:
    """A real refine server (``python -m refine_server``) on a tiny SD model, publishing its
    signed discovery document to ``bin_id`` on the npoint stand-in; killable mid-job."""

    def __init__(self, folder: Path, model_dir: Path, env: dict[str, str], *, bin_id: str) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.bin_id = bin_id
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "OMP_NUM_THREADS": "1",
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
            **env,
        }
        self.log = folder / "refine.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> RefineProcess:
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "refine_server",
                cwd=self.folder,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )  # fmt: skip
        return self

    async def wait_ready(self, timeout_s: float = 120.0) -> None:
        """Until its models are loaded and its document is published."""
        async with asyncio.timeout(timeout_s):
            while "Published" not in self.output():
                if self.process is not None and self.process.returncode is not None:
                    raise RuntimeError(f"refine server exited: {self.output()[-2000:]}")
                await asyncio.sleep(0.2)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            await self.process.wait()
