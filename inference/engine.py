"""Model runtimes: one ``predict`` for a batch of model inputs, whichever library runs it.

The fast path is ONNX Runtime on an ONNX export of the Keras weights (about 1.7× faster than a
compiled ``tf.function`` on a 2-core CPU, and it starts without importing TensorFlow).
TensorFlow stays the source of truth: exports are made from the Keras model and cached by the
weights file's hash, and :class:`KerasEngine` is the reference the export is tested against.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from inference.errors import WeightsError
from inference.weights import DEFAULT_ONNX, DEFAULT_WEIGHTS, detect_format, load_generator

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)


class Engine(Protocol):
    """Runs the generator: (n, 256, 256, C) float32 in [-1, 1] → (n, 256, 256, 3), same range.

    ``input_channels`` C is 3 (the sketch) or 7 (the sketch and the hint planes of
    :mod:`inference.hints`).
    """

    name: str
    input_channels: int

    def predict(self, batch: np.ndarray) -> np.ndarray: ...


def default_threads() -> int:
    """Threads for one model run: every core (the box runs one model call at a time)."""
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


class OnnxEngine:
    """ONNX Runtime on the CPU, all graph optimisations on."""

    name = "onnxruntime"

    def __init__(self, model: str | Path | bytes, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle pool threads would spin for a while after each call, on the cores the sketch's
        # decoding and post-processing need next: measured here, prepare + finish of a 1024²
        # sketch took 80–108 ms behind spinning threads, 36–56 ms without.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        source = model if isinstance(model, bytes) else str(model)
        try:
            self._session = ort.InferenceSession(
                source, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # ORT raises its own untyped Fail/InvalidGraph errors
            raise WeightsError(
                f"{model if not isinstance(model, bytes) else 'ONNX model'}: {err}"
            ) from err
        first = self._session.get_inputs()[0]
        self._input = first.name
        channels = first.shape[-1]
        self.input_channels = channels if isinstance(channels, int) else 3

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._input: np.ascontiguousarray(batch, np.float32)})[0]


class KerasEngine:
    """The Keras model behind a compiled ``tf.function`` with a fixed input signature."""

    name = "tensorflow"

    def __init__(self, model: keras.Model, threads: int | None = None) -> None:
        import tensorflow as tf

        _set_tf_threads(threads)
        self.model = model
        self.input_channels = int(model.input_shape[-1])

        @tf.function(
            input_signature=(tf.TensorSpec((None, 256, 256, self.input_channels), tf.float32),),
            reduce_retracing=True,
        )
        def forward(x: tf.Tensor) -> tf.Tensor:
            # training=False: moving BatchNorm statistics and no Dropout → deterministic colors.
            return model(x, training=False)

        self._forward = forward

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return self._forward(np.asarray(batch, np.float32)).numpy()


def _set_tf_threads(threads: int | None) -> None:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads or default_threads())
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # already initialised by an earlier TensorFlow call: keep its settings


def cache_dir(folder: str | Path | None = None) -> Path:
    """Where ONNX exports are kept: ``folder`` (``PIXELPAINTER_CACHE`` in the settings), else
    ``~/.cache/pixelpainter``."""
    return Path(folder) if folder else Path.home() / ".cache" / "pixelpainter"


def fingerprint(path: str | Path) -> str:
    """The first 24 hex digits of the SHA-256 of a weights file (or checkpoint prefix's files):
    cached exports are named by it."""
    path = Path(path)
    digest = hashlib.sha256()
    # A checkpoint prefix: its .index and .data-* files (not ckpt-10.* beside ckpt-1).
    files = [path] if path.exists() else sorted(path.parent.glob(path.name + ".*"))
    for file in files:
        with file.open("rb") as f:
            for chunk in iter(lambda f=f: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:24]


def onnx_path(weights: str | Path | None, cache: str | Path | None = None) -> Path:
    """The ONNX file that runs ``weights`` (None = bundled): the file itself or its cache entry
    in :func:`cache_dir` of ``cache``.

    The cache entry may not exist yet: :func:`onnx_for` creates it.
    """
    if weights is None:
        if DEFAULT_ONNX.exists():
            return DEFAULT_ONNX
        if not DEFAULT_WEIGHTS.exists():
            raise WeightsError(
                "No generator weights: set GENERATOR_WEIGHTS or pass --weights "
                "(train some with `pixelpainter-train`, see the README)."
            )
        weights = DEFAULT_WEIGHTS
    fmt, source = detect_format(weights)
    if fmt == "onnx":
        return source
    return cache_dir(cache) / f"generator-{fingerprint(source)}.onnx"


def onnx_for(weights: str | Path | None, cache: str | Path | None = None) -> Path:
    """An ONNX file for ``weights`` (None = bundled), exported once and then cached."""
    target = onnx_path(weights, cache)
    if target.exists():
        return target
    logger.info("Exporting %s to ONNX (once; cached at %s)", weights, target)
    from inference.weights import export_onnx

    return export_onnx(load_generator(weights or DEFAULT_WEIGHTS), target)


Precision = Literal["fp32", "int8"]
PRECISIONS: tuple[Precision, ...] = ("fp32", "int8")


def load_engine(
    weights: str | Path | None = None,
    *,
    threads: int | None = None,
    backend: str = "onnx",
    precision: Precision = "fp32",
    calibration: np.ndarray | None = None,
    cache: str | Path | None = None,
) -> Engine:
    """The engine for ``weights``: ``backend`` "onnx" (fast, default) or "tensorflow".

    ``precision`` "int8" (ONNX only) runs a statically quantized copy of the ONNX model, made
    once from ``calibration`` model inputs (None = the bundled set) and cached beside it; see
    :mod:`inference.quantize`. ``cache``: the folder for exports (see :func:`cache_dir`).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be 'fp32' or 'int8', got {precision!r}")
    if backend == "onnx":
        path = onnx_for(weights, cache)
        if precision == "int8":
            from inference.quantize import int8_for

            path = int8_for(path, calibration, cache=cache)
        return OnnxEngine(path, threads)
    if backend == "tensorflow":
        if precision != "fp32":
            raise ValueError("int8 needs the ONNX backend")
        return KerasEngine(load_generator(weights or DEFAULT_WEIGHTS), threads)
    raise ValueError(f"backend must be 'onnx' or 'tensorflow', got {backend!r}")
