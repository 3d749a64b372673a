"""Fixtures shared by every test package: a tiny real generator and its colorizer."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Keep TensorFlow quiet and small in tests; every test shares 2 cores.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OMP_NUM_THREADS", "1")

TINY_WIDTH = 8


@pytest.fixture(scope="session")
def tiny_generator():
    """A width-8 generator with fixed random weights (853,795 parameters, same shape as the real one)."""
    import keras

    from inference.generator import build_generator

    keras.utils.set_random_seed(7)
    return build_generator(TINY_WIDTH)


@pytest.fixture(scope="session")
def tiny_weights(tiny_generator, tmp_path_factory) -> Path:
    """``tiny_generator`` saved as a Keras 3 ``.weights.h5`` file."""
    path = tmp_path_factory.mktemp("weights") / "tiny.weights.h5"
    tiny_generator.save_weights(path)
    return path


@pytest.fixture(scope="session")
def tiny_onnx(tiny_generator, tmp_path_factory) -> Path:
    """``tiny_generator`` exported to ONNX."""
    from inference.weights import export_onnx

    return export_onnx(tiny_generator, tmp_path_factory.mktemp("onnx") / "tiny.onnx")


@pytest.fixture(scope="session")
def tiny_colorizer(tiny_onnx):
    """A real :class:`Colorizer` on the tiny generator (ONNX Runtime, 1 thread)."""
    from inference.colorizer import Colorizer

    colorizer = Colorizer.load(tiny_onnx, threads=1)
    colorizer.warm_up()
    return colorizer


@pytest.fixture(scope="session")
def tiny_hint_generator():
    """A width-8 generator that reads color hints (7 input channels), fixed random weights."""
    import keras

    from inference.generator import build_generator

    keras.utils.set_random_seed(11)
    return build_generator(TINY_WIDTH, hints=True)


@pytest.fixture(scope="session")
def tiny_hint_onnx(tiny_hint_generator, tmp_path_factory) -> Path:
    """``tiny_hint_generator`` exported to ONNX."""
    from inference.weights import export_onnx

    return export_onnx(tiny_hint_generator, tmp_path_factory.mktemp("onnx") / "tiny-hints.onnx")


@pytest.fixture(scope="session")
def tiny_hint_colorizer(tiny_hint_onnx):
    """A real :class:`Colorizer` on the tiny hint generator (ONNX Runtime, 1 thread)."""
    from inference.colorizer import Colorizer

    colorizer = Colorizer.load(tiny_hint_onnx, threads=1)
    colorizer.warm_up()
    return colorizer


# Debian's chromium (browser downloads do not work here), headless in a container: no sandbox,
# GPU, QUIC or background traffic; playwright gives it an empty temporary user-data-dir.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_options() -> dict[str, object]:
    """playwright ``launch()`` options for chromium; skips without it (fails in CI)."""
    pytest.importorskip("playwright")
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real redis-server (append-only) on a free loopback port, for the whole run."""
    from tests.support.redis import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    """``redis_server``'s URL, emptied for this test (and started again if a test killed it)."""
    import redis

    if redis_server.process is None:
        redis_server.start()
    with redis.Redis.from_url(redis_server.url) as client:
        client.flushall()
    return redis_server.url
