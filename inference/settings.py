"""Settings of the colorize engine, shared by every front end, and the one place that builds the
:class:`~inference.colorizer.Colorizer` from them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from inference.colorizer import DEFAULT_MAX_SIDE, DEFAULT_STYLE, Colorizer, Style


class InferenceSettings(BaseSettings):
    """``GENERATOR_WEIGHTS`` (empty = bundled weights), ``INFERENCE_THREADS`` (empty = cores),
    ``INFERENCE_PRECISION`` (fp32 | int8), ``INFERENCE_STYLE`` (cel | soft) and
    ``PIXELPAINTER_CACHE`` (empty = ``~/.cache/pixelpainter``)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    generator_weights: Path | None = None
    inference_threads: int | None = Field(default=None, ge=1)
    inference_precision: Literal["fp32", "int8"] = "fp32"
    inference_style: Style = DEFAULT_STYLE
    pixelpainter_cache: Path | None = None

    @field_validator(
        "generator_weights",
        "inference_threads",
        "inference_precision",
        "inference_style",
        "pixelpainter_cache",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object, info: ValidationInfo) -> object:
        if value != "":
            return value
        return cls.model_fields[info.field_name].default


def load_colorizer(settings: InferenceSettings, *, max_side: int = DEFAULT_MAX_SIDE) -> Colorizer:
    """The Colorizer these settings describe (weights, threads, style, precision, cache folder).

    Raises :class:`~inference.errors.WeightsError` for weights that do not load, and ``OSError``
    when the cache folder cannot be written.
    """
    return Colorizer.load(
        settings.generator_weights,
        threads=settings.inference_threads,
        max_side=max_side,
        style=settings.inference_style,
        precision=settings.inference_precision,
        cache_dir=settings.pixelpainter_cache,
    )


def model_takes_hints(settings: InferenceSettings) -> bool:
    """Whether the weights these settings name read color hints, without loading a model
    where the file says so (an ONNX header); False for weights that cannot be read."""
    from inference.errors import WeightsError
    from inference.weights import DEFAULT_ONNX, DEFAULT_WEIGHTS, inspect_weights

    weights = settings.generator_weights or (
        DEFAULT_ONNX if DEFAULT_ONNX.exists() else DEFAULT_WEIGHTS
    )
    try:
        return inspect_weights(weights).input_channels > 3
    except (WeightsError, OSError):
        return False


def describe_settings_error(err: ValidationError) -> str:
    """One line naming each bad variable, without echoing its (possibly secret) value."""
    problems = []
    for item in err.errors(include_input=False, include_url=False):
        name = str(item["loc"][0]).upper() if item["loc"] else "settings"
        message = "is not set" if item["type"] == "missing" else item["msg"]
        message = message.removeprefix("Value error, ")
        problems.append(f"{name} {message}")
    return (
        "Configuration error: "
        + "; ".join(problems)
        + " (set it in the environment or in .env; .env.example lists every setting)"
    )
