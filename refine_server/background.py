"""The refine server in the background, for notebooks: a log file, a readiness poll, a stop.

Run in a notebook cell, the server blocks the notebook, its log lives only in that cell, and a
second interrupt can leave ngrok running (the free plan allows one agent, so the next start
fails). Here it runs in its own session: stopping the session stops ngrok with it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

PID_FILE = "refine-server.pid"
LOG_FILE = "refine-server.log"
# server.py logs one of these once the start-up is over.
_READY = re.compile(r"Ready at (\S+)")
_LOCAL_ONLY = "serving locally only"


class ServerExited(RuntimeError):
    """The server process ended during start-up; the message ends with its last log lines."""


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our child, and it has exited
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_pid(folder: Path) -> int | None:
    """The pid of the server started from ``folder``, if it still runs."""
    pid_file = folder / PID_FILE
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def start(folder: Path, env: dict[str, str] | None = None) -> int:
    """Start ``python -m refine_server`` in ``folder``, logging to ``folder/refine-server.log``."""
    pid = running_pid(folder)
    if pid is not None:
        raise RuntimeError(f"the refine server already runs (pid {pid}); run the stop cell first")
    log = (folder / LOG_FILE).open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "refine_server"],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: ngrok, its child, stops with it
    )
    log.close()
    (folder / PID_FILE).write_text(str(process.pid))
    return process.pid


def log_tail(folder: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of the server's log."""
    try:
        text = (folder / LOG_FILE).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def wait_ready(folder: Path, port: int, *, timeout_s: float = 1800) -> str | None:
    """Wait until the server answers ``/health`` and its start-up is over; its public URL.

    None when it serves without a tunnel. Raises :class:`ServerExited` if it stops on the way
    and ``TimeoutError`` after ``timeout_s`` (model downloads can take many minutes).
    """
    deadline = time.monotonic() + timeout_s
    log_path = folder / LOG_FILE
    offset = log_path.stat().st_size if log_path.exists() else 0
    pid = running_pid(folder)
    while time.monotonic() < deadline:
        if pid is None or not _alive(pid):
            raise ServerExited("the refine server stopped:\n" + log_tail(folder))
        text = log_path.read_text(errors="replace")[offset:] if log_path.exists() else ""
        ready = _READY.search(text)
        if (ready or _LOCAL_ONLY in text) and _healthy(port):
            return ready.group(1) if ready else None
        time.sleep(1)
    raise TimeoutError(f"the refine server was not ready after {timeout_s:g} s")


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def stop(folder: Path, *, grace_s: float = 20) -> bool:
    """Stop the server and everything it started (ngrok); False if it was not running."""
    pid = running_pid(folder)
    (folder / PID_FILE).unlink(missing_ok=True)
    if pid is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)  # the server alone: it closes its tunnel, then exits
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)  # whatever is left of the group, ngrok included
    return True
