"""Settings of a colorize worker (``pixelpainter worker``), from the environment or ``.env``."""

from __future__ import annotations

from pydantic import Field

from inference.settings import InferenceSettings


class WorkerSettings(InferenceSettings):
    """The engine's settings (weights, threads, precision, style) plus the broker and batching.

    ``REDIS_URL`` (required), ``REDIS_PREFIX``, ``INFERENCE_MAX_BATCH`` (jobs one worker takes at
    once and colorizes in one model call), ``CELERY_VISIBILITY_TIMEOUT_S`` (a job whose worker
    died is given to another after this long).
    """

    redis_url: str
    redis_prefix: str = "pixelpainter"
    inference_max_batch: int = Field(default=4, ge=1)
    celery_visibility_timeout_s: float = Field(default=60.0, gt=0)
    log_level: str = "INFO"
