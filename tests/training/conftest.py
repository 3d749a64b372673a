"""Fixtures of the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from training_pairs import make_dataset


@pytest.fixture
def tiny_dataset(tmp_path) -> Path:
    return make_dataset(tmp_path / "data")
