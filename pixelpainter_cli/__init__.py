"""``pixelpainter``: the one console entry. The engine's commands (``colorize``, ``info``,
``export-onnx``, from :mod:`inference.cli`), the front ends' (``serve``, from :mod:`webapp.cli`)
and the workers' (``worker``, from :mod:`workers.cli`): the engine never imports a front end,
this package stands above them."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from inference.cli import main as engine_main
from webapp.cli import add_serve
from workers.cli import add_worker_command


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pixelpainter``; returns the exit code."""
    return engine_main(argv, commands=(add_serve, add_worker_command))


if __name__ == "__main__":
    sys.exit(main())
