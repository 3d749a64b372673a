"""The bot's settings: read once from the environment and `.env`, then passed down."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from inference.settings import InferenceSettings, describe_settings_error
from pixelpainter_common.discovery import REFINE_URL_RULE, is_safe_url
from pixelpainter_common.settings_values import check_url, split_ids
from shared_state.settings import ScaleSettings

__all__ = ["BotSettings", "describe_settings_error"]

# "<bot id>:<35 characters>" as issued by @BotFather; checked before any network call.
_TOKEN_RE = re.compile(r"^\d{4,}:[A-Za-z0-9_-]{30,}$")

# Telegram's alphabet for a webhook's secret_token (1-256 characters); ours asks for 24 or more.
MIN_WEBHOOK_SECRET = 24
_WEBHOOK_SECRET_RE = re.compile(rf"^[A-Za-z0-9_-]{{{MIN_WEBHOOK_SECRET},256}}$")

IdList = Annotated[list[int], NoDecode]
TextList = Annotated[list[str], NoDecode]


class BotSettings(BaseSettings):
    """Everything the bot reads from its environment (design.md names, plus bot-only extras)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore"
    )

    telegram_bot_token: SecretStr
    telegram_api_base: str = "https://api.telegram.org"
    admin_chat_ids: IdList = Field(default_factory=list)
    allowed_user_ids: IdList = Field(default_factory=list)
    # The engine's own settings (GENERATOR_WEIGHTS, INFERENCE_*, PIXELPAINTER_CACHE), read from
    # the same environment by the engine's settings class.
    inference: InferenceSettings = Field(default_factory=InferenceSettings)

    refine_url: str | None = None
    refine_token: SecretStr = SecretStr("")
    npoint_bin_id: str = ""
    # A pool of refine servers: fixed addresses, and one discovery document per GPU server.
    refine_urls: TextList = Field(default_factory=list)
    npoint_bin_ids: TextList = Field(default_factory=list)
    npoint_api_base: str = "https://api.npoint.io"
    # A little over the refine server's own 300 s limit, so its answer arrives first.
    refine_timeout_s: float = Field(default=330.0, gt=0)
    health_check_interval_s: float = Field(default=60.0, gt=0)
    # In-flight refines are recorded here (SQLite), so a restart can answer them.
    bot_data_dir: Path = Path("bot-data")
    # On shutdown, refines still running after this many seconds are told to tap again.
    shutdown_grace_s: float = Field(default=5.0, ge=0)

    rate_limit_per_minute: int = Field(default=6, ge=1)
    rate_limit_per_day: int = Field(default=100, ge=1)
    max_image_mb: float = Field(default=20.0, gt=0)
    inference_max_batch: int = Field(default=4, ge=1)
    inference_max_queue: int = Field(default=64, ge=1)
    image_cache_mb: int = Field(default=256, ge=0)

    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    # Required in webhook mode: without it anyone who finds the port could post updates.
    webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
    # False on all but one replica (or when the operator registers the webhook by hand).
    webhook_register: bool = True
    log_level: str = "INFO"

    # Past one machine (docs/deploy.md): REDIS_URL, INFERENCE_BACKEND..., read from the same
    # environment by their own settings class.
    scale: ScaleSettings = Field(default_factory=ScaleSettings)

    # Mini App (region editor): the page's public https address turns it on.
    webapp_url: str | None = None
    webapp_host: str = "127.0.0.1"
    webapp_port: int = Field(default=8080, ge=0, le=65535)

    @field_validator("telegram_bot_token")
    @classmethod
    def _check_token(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN_RE.match(value.get_secret_value().strip()):
            raise ValueError("does not look like a token from @BotFather (digits:secret)")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("refine_urls", "npoint_bin_ids", mode="before")
    @classmethod
    def _split_texts(cls, value: object) -> object:
        return split_ids(value)

    @field_validator("refine_urls")
    @classmethod
    def _check_urls(cls, value: list[str]) -> list[str]:
        # The bot sends REFINE_TOKEN and users' images there: the discovery document's rule.
        urls = [check_url(url) or "" for url in value]
        if not all(is_safe_url(url) for url in urls):
            raise ValueError("must be https:// addresses (http:// only to this machine)")
        return urls

    @field_validator("admin_chat_ids", "allowed_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        return split_ids(value)

    @field_validator("telegram_api_base", "npoint_api_base", "refine_url", "webhook_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return check_url(value)

    @field_validator("refine_url")
    @classmethod
    def _check_refine_url(cls, value: str | None) -> str | None:
        # The bot sends REFINE_TOKEN and users' images there: the discovery document's rule.
        if value is not None and not is_safe_url(value):
            raise ValueError(REFINE_URL_RULE)
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if not info.data.get("webhook_url"):
            return value
        secret = value.get_secret_value() if value is not None else ""
        if not _WEBHOOK_SECRET_RE.match(secret):
            raise ValueError(
                f"must be set in webhook mode: {MIN_WEBHOOK_SECRET}-256 random letters, digits,"
                " _ or - (Telegram sends it with every update; without it anyone could post"
                " updates as any user)"
            )
        return value

    @field_validator("webapp_url")
    @classmethod
    def _check_webapp_url(cls, value: str | None) -> str | None:
        # Telegram opens Mini Apps over https only.
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// address (Telegram opens Mini Apps over https)")
        return value

    @property
    def secrets(self) -> list[str]:
        """The secret values that must never reach a log line."""
        values = [self.telegram_bot_token, self.refine_token, self.webhook_secret]
        found = [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]
        return found + self.scale.secrets
