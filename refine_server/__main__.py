"""``pixelpainter-refine`` / ``python -m refine_server``: start the refine server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

from pydantic import ValidationError

from refine_server.loading import ModelLoadError
from refine_server.logs import configure_logging
from refine_server.server import serve_forever
from refine_server.settings import Settings

logger = logging.getLogger("refine_server")


def main(argv: list[str] | None = None) -> int:
    """Read settings, start the server and serve until interrupted.

    Exit codes: 0 stopped, 1 no model could be loaded, 2 bad settings; one line, no traceback.
    """
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print(
            "usage: pixelpainter-refine\n\n"
            "Starts the PixelPainter refine server. Configure it with environment variables or a "
            ".env file (REFINE_TOKEN, MODEL_BALANCED, MODEL_QUALITY, CONTROLNET_MODEL, TUNNEL, "
            "NGROK_AUTHTOKEN, NPOINT_BIN_ID, TELEGRAM_BOT_TOKEN, ADMIN_CHAT_IDS, ...; see "
            ".env.example). Pre-fetch models with: python -m refine_server.download_models"
        )
        return 0
    try:
        settings = Settings()
        settings.check_auth()
    except (ValidationError, ValueError) as exc:
        print(f"pixelpainter-refine: bad settings: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.secrets)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_forever(settings))
    except ModelLoadError as exc:
        # Each failed model was logged once as it failed; this is the one closing line.
        print(f"pixelpainter-refine: {exc}", file=sys.stderr)
        return 1
    logger.info("Stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
