"""``pixelpainter worker``: a Celery worker that colorizes (a thin wrapper over ``celery worker``)."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

from pydantic import ValidationError

if TYPE_CHECKING:
    from workers.settings import WorkerSettings

EXIT_CONFIG = 2


def add_worker_command(sub: argparse._SubParsersAction) -> None:
    """Add ``worker`` to the ``pixelpainter`` command line."""
    worker = sub.add_parser(
        "worker",
        help="colorize jobs from the Redis queue (INFERENCE_BACKEND=celery front ends send them)",
        description="A Celery worker over REDIS_URL: loads the model once, takes up to "
        "INFERENCE_MAX_BATCH jobs at a time and colorizes them in one model call.",
    )
    worker.add_argument("--name", help="worker name (default: colorize-PID@HOST)")
    worker.set_defaults(run=worker_command)


def worker_command(args: argparse.Namespace) -> int:
    """Read settings, load the model, consume jobs until SIGTERM/SIGINT."""
    from inference.settings import describe_settings_error
    from workers.settings import WorkerSettings

    try:
        settings = WorkerSettings()
    except ValidationError as err:
        print(describe_settings_error(err), file=sys.stderr)
        return EXIT_CONFIG
    return run_worker(settings, name=args.name)


def run_worker(settings: WorkerSettings, *, name: str | None = None) -> int:
    """Serve colorize jobs with ``settings`` until the worker is told to stop."""
    from inference.errors import WeightsError
    from inference.settings import load_colorizer
    from shared_state.keys import Keys
    from workers.celery_app import TASK_NAME, create_celery, queue_name
    from workers.worker import WorkerRuntime, colorize_task, set_runtime, worker_name

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        colorizer = load_colorizer(settings)
    except WeightsError as err:
        print(f"GENERATOR_WEIGHTS: {err}", file=sys.stderr)
        return EXIT_CONFIG
    name = name or worker_name()
    app = create_celery(
        settings.redis_url.get_secret_value(),
        prefix=settings.redis_prefix,
        visibility_timeout_s=settings.celery_visibility_timeout_s,
    )
    app.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)(colorize_task)
    runtime = WorkerRuntime(
        colorizer,
        settings.redis_url.get_secret_value(),
        Keys(settings.redis_prefix),
        max_batch=settings.inference_max_batch,
        name=name,
    )
    runtime.start()
    set_runtime(runtime)
    try:
        app.worker_main(
            [
                "worker",
                "--pool=threads",
                f"--concurrency={settings.inference_max_batch}",
                f"--queues={queue_name(settings.redis_prefix)}",
                f"--hostname={name}",
                f"--loglevel={settings.log_level.upper()}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )
    finally:
        set_runtime(None)
        runtime.stop()
    return 0
