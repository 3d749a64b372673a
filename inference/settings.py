"""Settings of the colorize engine and its CLI, from the environment or ``.env``."""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class InferenceSettings(BaseSettings):
    """``GENERATOR_WEIGHTS`` (empty = bundled weights) and ``INFERENCE_THREADS`` (empty = cores)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    generator_weights: Path | None = None
    inference_threads: int | None = None

    @field_validator("generator_weights", "inference_threads", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value
