"""``pixelpainter-bot`` / ``python -m bot``: run the Telegram bot (polling, or webhook by setting)."""

from __future__ import annotations

import asyncio
import sys

from pydantic import ValidationError
from telegram import Bot, Update
from telegram.error import InvalidToken, TelegramError

from bot.settings import BotSettings, describe_settings_error

EXIT_CONFIG = 2


def _fail(line: str, code: int = EXIT_CONFIG) -> int:
    print(line, file=sys.stderr)
    return code


async def _check_telegram(settings: BotSettings) -> tuple[str, int] | None:
    """None if Telegram accepts the token, else the line to print and the exit code.

    Done before ``run_polling``, whose own start-up logs a traceback for a rejected token.
    """
    bot = Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=f"{settings.telegram_api_base}/bot",
        base_file_url=f"{settings.telegram_api_base}/file/bot",
    )
    try:
        async with bot:
            return None
    except InvalidToken:
        return "TELEGRAM_BOT_TOKEN was rejected by Telegram; check it with @BotFather", EXIT_CONFIG
    except TelegramError as err:
        return f"Cannot reach Telegram at {settings.telegram_api_base}: {err}", 1


def main() -> int:
    """Read settings, load the model, serve until interrupted; 2 on bad configuration."""
    try:
        settings = BotSettings()
    except ValidationError as err:
        return _fail(describe_settings_error(err))
    weights = settings.inference.generator_weights
    if weights is not None and not weights.exists():
        return _fail(f"GENERATOR_WEIGHTS: {weights} does not exist")
    try:  # in-flight refines are recorded there (SQLite)
        settings.bot_data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return _fail(f"BOT_DATA_DIR: cannot create {settings.bot_data_dir}: {err.strerror}")

    # Imported late: settings errors should not wait for the model libraries to load.
    from bot.app import build_application
    from bot.logs import configure_logging
    from bot.services.miniapp import MiniAppError
    from inference.errors import WeightsError

    configure_logging(settings.log_level, settings.secrets)
    problem = asyncio.run(_check_telegram(settings))
    if problem is not None:
        return _fail(*problem)
    application = build_application(settings)
    try:
        if settings.webhook_url:
            from bot.webhook import serve_webhook

            asyncio.run(serve_webhook(application, settings))
        else:
            application.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        return _fail("TELEGRAM_BOT_TOKEN was rejected by Telegram; check it with @BotFather")
    except WeightsError as err:
        return _fail(f"GENERATOR_WEIGHTS: {err}")
    except MiniAppError as err:
        return _fail(str(err))
    except TelegramError as err:
        return _fail(f"Cannot reach Telegram at {settings.telegram_api_base}: {err}", 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
