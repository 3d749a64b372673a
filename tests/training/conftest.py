"""Fixtures of the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.sketches import training_set


@pytest.fixture
def tiny_dataset(tmp_path) -> Path:
    return training_set(tmp_path / "data")
