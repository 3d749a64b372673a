"""Model sources: a local diffusers folder and a single .safetensors file, both offline."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from refine_server.refiner import RefineParams, Refiner
from refine_server.sources import parse_source


def test_single_file_loads_offline_with_a_local_config(
    make_settings, tiny_single_file, tiny_model_dir, monkeypatch
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # any hub access would fail the load
    settings = make_settings(
        model_balanced=str(tiny_single_file),
        model_quality="",
        single_file_config=str(tiny_model_dir),
    )
    refiner = Refiner.load(settings)
    assert refiner.models == ["balanced"]
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8))
    params = RefineParams(model="balanced", strength=0.3, prompt="", seed=3)
    first = refiner.refine(image, None, params)
    again = refiner.refine(image, None, params)
    assert first.size == (64, 64) and first.mode == "RGB"
    assert np.array_equal(np.asarray(first), np.asarray(again))  # the seed is honoured


def test_source_kinds(tiny_model_dir, tiny_single_file):
    assert parse_source(str(tiny_model_dir)).kind == "folder"
    assert parse_source(str(tiny_single_file)).kind == "file"
    assert parse_source("xyn-ai/anything-v4.0").kind == "hub_repo"
    hub_file = parse_source("gsdf/Counterfeit-V3.0/Counterfeit-V3.0_fp16.safetensors")
    assert (hub_file.kind, hub_file.filename) == ("hub_file", "Counterfeit-V3.0_fp16.safetensors")
    with pytest.raises(ValueError, match="neither an existing folder"):
        parse_source("./missing/model")
