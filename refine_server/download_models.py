"""``python -m refine_server.download_models``: fetch every configured model into ``MODELS_DIR``.

Downloads run in parallel (one thread per model, Hugging Face's own bars for the files) so that
the server's first start, and its first request, do not wait for the network.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from pydantic import ValidationError

from refine_server.settings import Settings
from refine_server.sources import (
    SINGLE_FILE_SUFFIXES,
    fetch_single_file_config,
    fetch_source,
    parse_source,
)

logger = logging.getLogger(__name__)


def planned_downloads(settings: Settings) -> dict[str, tuple[str, bool]]:
    """Label → (source, is_pipeline) for everything the server will load."""
    plan = {name: (source, True) for name, source in settings.models.items()}
    if settings.controlnet_model:
        plan["controlnet"] = (settings.controlnet_model, False)
    if any(source.strip().endswith(SINGLE_FILE_SUFFIXES) for source in settings.models.values()):
        plan["single-file config"] = (settings.single_file_config, False)
    return plan


def _fetch(label: str, source: str, is_pipeline: bool, settings: Settings) -> str:
    if label == "single-file config":
        return fetch_single_file_config(settings)
    return fetch_source(parse_source(source), settings.models_dir, pipeline=is_pipeline)


def download_all(settings: Settings, *, workers: int = 4) -> dict[str, str]:
    """Fetch in parallel; return label → local path. Raises if any download failed."""
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    plan = planned_downloads(settings)
    done: dict[str, str] = {}
    failed: dict[str, str] = {}
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(plan)))) as pool:
        futures = {
            pool.submit(_fetch, label, source, is_pipeline, settings): label
            for label, (source, is_pipeline) in plan.items()
        }
        for future in as_completed(futures):
            label = futures[future]
            try:
                done[label] = future.result()
            except (OSError, ValueError) as exc:
                failed[label] = str(exc)
                print(
                    f"[{len(done) + len(failed)}/{len(plan)}] {label}: FAILED ({exc})", flush=True
                )
                continue
            elapsed = time.perf_counter() - started
            print(
                f"[{len(done) + len(failed)}/{len(plan)}] {label}: {plan[label][0]} → {done[label]} "
                f"({elapsed:.0f} s)",
                flush=True,
            )
    if failed:
        raise RuntimeError(f"{len(failed)} download(s) failed: {', '.join(failed)}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m refine_server.download_models",
        description="Pre-fetch MODEL_BALANCED, MODEL_QUALITY, CONTROLNET_MODEL (and the SD 1.5 "
        "configs single files need) into MODELS_DIR.",
    )
    parser.add_argument("--workers", type=int, default=4, help="parallel downloads (default 4)")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"bad settings: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    try:
        download_all(settings, workers=args.workers)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"All models are in {settings.models_dir.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
