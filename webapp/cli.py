"""``pixelpainter serve``: the web app's subcommand of the ``pixelpainter`` command line.

Only argparse and the engine's CLI helpers are imported here, so ``pixelpainter --help`` works in
an install without the [web] extra; aiohttp is imported when ``serve`` runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from inference.cli import CliError, announce_conversion, int_at_least, read_settings

if TYPE_CHECKING:
    from shared_state.settings import ScaleSettings


def add_serve(sub: argparse._SubParsersAction) -> None:
    """Register ``serve`` on the ``pixelpainter`` parser."""
    serve = sub.add_parser(
        "serve",
        help="the web app: HTTP API and the region editor page",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int_at_least(1), default=5000, help="port to listen on")
    serve.add_argument(
        "--weights", type=Path, help="generator weights (default: $GENERATOR_WEIGHTS, else bundled)"
    )
    serve.add_argument(
        "--threads",
        type=int_at_least(1),
        help="CPU threads (default: $INFERENCE_THREADS, else all cores)",
    )
    serve.add_argument("--max-upload-mb", type=float, default=20.0, help="largest upload")
    serve.add_argument(
        "--rate-limit", type=int_at_least(1), default=30, help="requests per client per minute"
    )
    serve.add_argument(
        "--trust-forwarded",
        type=int_at_least(1),
        nargs="?",
        const=1,
        default=0,
        metavar="PROXIES",
        help="behind PROXIES reverse proxies (1 without a number): limit each client by the "
        "address they put in X-Forwarded-For, not the proxy's own (0: the header is ignored)",
    )
    serve.set_defaults(run=serve_command)


def read_scale_settings() -> ScaleSettings:
    """``REDIS_URL``, ``INFERENCE_BACKEND``...; a bad one is a :class:`CliError`."""
    from pydantic import ValidationError

    from inference.settings import describe_settings_error
    from shared_state.settings import ScaleSettings

    try:
        return ScaleSettings()
    except ValidationError as err:
        raise CliError(describe_settings_error(err)) from err


def serve_command(args: argparse.Namespace) -> int:
    """``pixelpainter serve``: the HTTP API and the region editor page (style, precision and
    cache folder from the inference settings)."""
    if args.max_upload_mb <= 0 or args.rate_limit < 1:
        raise CliError("--max-upload-mb and --rate-limit must be positive.")
    settings = read_settings()
    scale = read_scale_settings()
    try:
        from webapp.serve import serve
        from webapp.state import WebAppConfig
    except ImportError as err:
        raise CliError(f"{err}; install it with: pip install 'pixelpainter-colorize[web]'") from err
    settings = settings.model_copy(
        update={
            "generator_weights": args.weights or settings.generator_weights,
            "inference_threads": args.threads or settings.inference_threads,
        }
    )
    if scale.inference_backend == "local":  # workers load their own model
        announce_conversion(settings)
    try:
        serve(
            settings,
            host=args.host,
            port=args.port,
            config=WebAppConfig(
                max_upload_mb=args.max_upload_mb,
                requests_per_minute=args.rate_limit,
                trusted_proxies=args.trust_forwarded,
            ),
            scale=scale,
        )
    except OSError as err:  # the port is taken, or the address is not this machine's
        print(f"pixelpainter: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr)
        return 1
    return 0
