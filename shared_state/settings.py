"""Settings of running past one process: Redis, and where colorizing happens.

One class for every front end that may scale out (the bot, ``pixelpainter serve``) and the
workers, read from the environment or ``.env`` like the others.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared_state.keys import DEFAULT_PREFIX


class ScaleSettings(BaseSettings):
    """``REDIS_URL`` (empty: each process alone), ``REDIS_PREFIX``, ``INFERENCE_BACKEND``
    (local | celery), ``INFERENCE_TIMEOUT_S`` and ``CELERY_VISIBILITY_TIMEOUT_S``."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore"
    )

    redis_url: SecretStr | None = None  # may hold a password
    redis_prefix: str = Field(default=DEFAULT_PREFIX, min_length=1)
    inference_backend: Literal["local", "celery"] = "local"
    inference_timeout_s: float = Field(default=120.0, gt=0)
    celery_visibility_timeout_s: float = Field(default=60.0, gt=0)

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _celery_needs_redis(self) -> ScaleSettings:
        if self.inference_backend == "celery" and self.redis_url is None:
            raise ValueError("INFERENCE_BACKEND=celery needs REDIS_URL (the workers' broker)")
        return self

    @property
    def secrets(self) -> list[str]:
        """The Redis URL and its password: never in a log line."""
        if self.redis_url is None:
            return []
        url = self.redis_url.get_secret_value()
        password = urlparse(url).password
        return [url, password] if password else [url]
