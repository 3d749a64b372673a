"""Settings of a colorize worker (``pixelpainter worker``), from the environment or ``.env``."""

from __future__ import annotations

from pydantic import Field, SecretStr

from inference.settings import InferenceSettings
from shared_state.settings import ScaleSettings


class WorkerSettings(InferenceSettings, ScaleSettings):
    """The engine's settings (weights, threads, precision, style), the broker's (``REDIS_URL``,
    required here; ``REDIS_PREFIX``; ``CELERY_VISIBILITY_TIMEOUT_S``: a job whose worker died is
    given to another after this long), and ``INFERENCE_MAX_BATCH`` (jobs one worker takes at
    once and colorizes in one model call)."""

    redis_url: SecretStr  # type: ignore[assignment]  # required: the broker
    inference_max_batch: int = Field(default=4, ge=1)
    log_level: str = "INFO"
