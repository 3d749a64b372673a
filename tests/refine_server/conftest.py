"""Fixtures for the refine server tests: a tiny SD 1.5-shaped model on disk, settings, images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from refine_server.refiner import Refiner
from refine_server.settings import Settings
from tests.support.tiny_sd import build_tiny_controlnet, build_tiny_pipeline, export_single_file
from tests.support.tokens import REFINE_TOKEN

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random SD 1.5-shaped img2img pipeline saved in the diffusers layout."""
    return build_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd15"))


@pytest.fixture(scope="session")
def tiny_controlnet_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_controlnet(tiny_model_dir, tmp_path_factory.mktemp("tiny-controlnet"))


@pytest.fixture(scope="session")
def tiny_single_file(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model as one original-layout ``.safetensors`` file."""
    return export_single_file(
        tiny_model_dir, tmp_path_factory.mktemp("single") / "tiny.safetensors"
    )


def build_settings(model_dir: Path, tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "refine_token": REFINE_TOKEN,
        "refine_host": "127.0.0.1",
        "refine_port": 0,
        "model_balanced": str(model_dir),
        "model_quality": str(model_dir),
        "single_file_config": str(model_dir),
        "models_dir": tmp / "models",
        "device": "cpu",
        "steps_balanced": 1,
        "steps_quality": 2,
        "refine_min_side": 64,
        "refine_max_side": 64,
        "tunnel": "none",
        "public_url": "https://refine.example.test",
        "announce_backoff_s": 0.01,
        "announce_attempts": 3,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def make_settings(tiny_model_dir: Path, tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a local test server on the tiny model; keyword arguments override."""
    return lambda **overrides: build_settings(tiny_model_dir, tmp_path, **overrides)


@pytest.fixture(scope="session")
def refiner(
    tiny_model_dir: Path, tiny_controlnet_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Refiner:
    """Both models and the ControlNet, loaded once through the server's own loading code."""
    settings = build_settings(
        tiny_model_dir,
        tmp_path_factory.mktemp("refiner"),
        controlnet_model=str(tiny_controlnet_dir),
    )
    loaded = Refiner.load(settings)
    loaded.warm_up()
    return loaded
