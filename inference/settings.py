"""Settings of the colorize engine and its CLI, from the environment or ``.env``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from inference.colorizer import DEFAULT_STYLE, Style


class InferenceSettings(BaseSettings):
    """``GENERATOR_WEIGHTS`` (empty = bundled weights), ``INFERENCE_THREADS`` (empty = cores),
    ``INFERENCE_PRECISION`` (fp32 | int8) and ``INFERENCE_STYLE`` (cel | soft)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    generator_weights: Path | None = None
    inference_threads: int | None = None
    inference_precision: Literal["fp32", "int8"] = "fp32"
    inference_style: Style = DEFAULT_STYLE

    @field_validator(
        "generator_weights",
        "inference_threads",
        "inference_precision",
        "inference_style",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object, info: ValidationInfo) -> object:
        if value != "":
            return value
        return cls.model_fields[info.field_name].default
