"""Reading generator weights in every format people hold, and describing them.

Formats (detected from the file, not trusted from the name):
- ``.onnx``: an exported generator, run by ONNX Runtime without TensorFlow;
- Keras 3 ``.weights.h5`` and ``.keras``;
- legacy tf.keras 2.x ``save_weights("generator_weights.h5")`` files (HDF5 with ``layer_names``);
- ``tf.train.Checkpoint(generator=...)`` directories or prefixes, such as ``checkpoints_gan/ckpt-5``.

Only ``.onnx`` runs without TensorFlow (the ``[tf]`` extra); the other formats are converted to
ONNX once. TensorFlow is imported lazily, so only formats that need it pay for it, and without it
they fail with a :class:`WeightsError` that names the extra to install.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from inference.architecture import COLOR_BINS, INPUT_CHANNELS, parameter_count
from inference.errors import WeightsError
from inference.onnx_header import OnnxFormatError, read_onnx_header

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "assets"
DEFAULT_WEIGHTS = ASSETS / "default.weights.h5"
# The HDF5 attribute of a .weights.h5 file that holds a color-head model's read-out (JSON).
READOUT_ATTR = "pixelpainter.readout"
DEFAULT_ONNX = ASSETS / "default.onnx"

Format = Literal["onnx", "keras3-weights", "keras3-model", "legacy-h5", "tf-checkpoint"]

FORMAT_NAMES: dict[Format, str] = {
    "onnx": "ONNX model",
    "keras3-weights": "Keras 3 weights (.weights.h5)",
    "keras3-model": "Keras 3 model (.keras)",
    "legacy-h5": "legacy tf.keras 2 weights (save_weights .h5)",
    "tf-checkpoint": "tf.train.Checkpoint",
}

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
# What reading, building and exporting the TensorFlow formats imports (the `[tf]` extra).
TF_MODULES = ("tensorflow", "h5py", "tf2onnx", "onnx")
TF_INSTALL_HINT = 'pip install "pixelpainter-colorize[tf]" (in a clone: pip install -e ".[tf]")'

__all__ = [
    "DEFAULT_ONNX",
    "DEFAULT_WEIGHTS",
    "FORMAT_NAMES",
    "WeightsInfo",
    "detect_format",
    "export_onnx",
    "inspect_weights",
    "load_generator",
    "parameter_count",
    "require_tensorflow",
]


@dataclass(frozen=True)
class WeightsInfo:
    """What a weights file holds."""

    path: Path
    format: Format
    width: int
    parameters: int
    input_channels: int = 3  # 7: the generator reads color hints (inference.hints)
    color_head: bool = False  # the generator has the color head (inference.color_head)


def detect_format(path: str | Path) -> tuple[Format, Path]:
    """Return the format of ``path`` and the path to read (a checkpoint dir resolves to a prefix)."""
    p = Path(path)
    if p.is_dir():
        prefix = _latest_checkpoint(p)
        if prefix is None:
            raise WeightsError(
                f"{p}: folder holds no TensorFlow checkpoint (no 'checkpoint' file)."
            )
        return "tf-checkpoint", prefix
    if not p.exists():
        if Path(f"{p}.index").exists():
            return "tf-checkpoint", p
        raise WeightsError(f"{p}: no such file.")
    with p.open("rb") as f:
        head = f.read(8)
    if head == _HDF5_MAGIC:
        require_tensorflow(p, "an HDF5 weights file (.h5)")
        import h5py

        try:
            with h5py.File(p, "r") as h5:
                legacy = "layer_names" in h5.attrs or "model_weights" in h5
        except OSError as err:
            raise WeightsError(f"{p}: unreadable HDF5 file (truncated or damaged): {err}") from err
        return ("legacy-h5" if legacy else "keras3-weights"), p
    if head.startswith(b"PK") and zipfile.is_zipfile(p):
        return "keras3-model", p
    if p.suffix == ".index" and Path(str(p)[: -len(".index")] + ".data-00000-of-00001").exists():
        return "tf-checkpoint", Path(str(p)[: -len(".index")])
    if p.suffix == ".onnx":
        return "onnx", p
    raise WeightsError(
        f"{p}: not a weights file I know (expected .weights.h5, .h5, .keras, .onnx "
        "or a TensorFlow checkpoint folder)."
    )


def require_tensorflow(path: str | Path, what: str) -> None:
    """Raise a :class:`WeightsError` naming the extra when the TensorFlow stack is missing."""
    missing = [m for m in TF_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise WeightsError(
            f"{path}: {what} needs TensorFlow, which is not installed "
            f"({', '.join(missing)} missing): {TF_INSTALL_HINT}, or use an .onnx file."
        )


KERAS3_FORMATS = ("keras3-weights", "keras3-model")


def _require_keras(path: str | Path, fmt: str) -> None:
    """Keras 3 files load on any Keras backend (PyTorch too, as the PyTorch trainer runs);
    the older formats (legacy .h5, TensorFlow checkpoints) need TensorFlow."""
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    ready = importlib.util.find_spec("keras") and importlib.util.find_spec(backend)
    if fmt in KERAS3_FORMATS and backend != "tensorflow" and ready:
        return
    require_tensorflow(path, FORMAT_NAMES[fmt])


def _latest_checkpoint(folder: Path) -> Path | None:
    state = folder / "checkpoint"
    if state.exists():
        match = re.search(r'model_checkpoint_path:\s*"([^"]+)"', state.read_text())
        if match:
            prefix = folder / match.group(1)  # an absolute path replaces `folder`
            if Path(f"{prefix}.index").exists():
                return prefix
            # Written on another machine (say /kaggle/working/...): look beside this file.
            return folder / prefix.name
    indexes = sorted(folder.glob("*.index"), key=lambda q: q.stat().st_mtime)
    return Path(str(indexes[-1])[: -len(".index")]) if indexes else None


def load_generator(path: str | Path) -> keras.Model:
    """Build the generator at the file's width and load its weights (TensorFlow formats)."""
    fmt, source = detect_format(path)
    if fmt == "onnx":
        raise WeightsError(f"{path}: an ONNX file cannot be turned back into a Keras model.")
    _require_keras(path, fmt)
    from inference.generator import build_generator

    try:
        if fmt == "keras3-model":
            return _load_keras_model(source)
        width, channels, head = _input_of_file(fmt, source)
        model = build_generator(width, hints=channels != 3, color_head=head)
        if fmt == "tf-checkpoint":
            _restore_checkpoint(model, source)
        else:
            _load_h5(model, fmt, source)
    except WeightsError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise WeightsError(
            f"{path}: {FORMAT_NAMES[fmt]} does not fit the generator: {err}"
        ) from err
    return model


def inspect_weights(path: str | Path) -> WeightsInfo:
    """Format, width and parameter count of a weights file, without building a model if possible."""
    fmt, source = detect_format(path)
    if fmt == "onnx":
        # The export folds BatchNorm into the convolutions; report the generator's own count.
        width, channels, head = _onnx_input(source)
        count = parameter_count(width, channels, head)
        return WeightsInfo(Path(path), fmt, width, count, channels, head)
    require_tensorflow(path, FORMAT_NAMES[fmt])
    if fmt == "keras3-model":
        gen = _load_keras_model(source)
        from inference.color_head import has_color_head
        from inference.generator import input_channels_of, width_of

        return WeightsInfo(
            Path(path),
            fmt,
            width_of(gen),
            gen.count_params(),
            input_channels_of(gen),
            has_color_head(gen),
        )
    width, channels, head = _input_of_file(fmt, source)
    count = parameter_count(width, channels, head)
    return WeightsInfo(Path(path), fmt, width, count, channels, head)


def _onnx_input(source: Path) -> tuple[int, int, bool]:
    """(width, input channels, color head) of an ONNX generator: our export's metadata, else its
    first convolution and a 1×1 kernel of the head's size."""
    try:
        header = read_onnx_header(source)
    except (OSError, OnnxFormatError) as err:
        raise WeightsError(f"{source}: not a readable ONNX model ({err}).") from err
    if "pixelpainter.width" in header.metadata:
        try:
            width = int(header.metadata["pixelpainter.width"])
            channels = int(header.metadata.get("pixelpainter.input_channels", "3"))
        except ValueError as err:
            raise WeightsError(f"{source}: bad pixelpainter metadata: {err}") from err
        if channels not in INPUT_CHANNELS:
            raise WeightsError(f"{source}: bad pixelpainter.input_channels metadata: {channels}")
        return width, channels, header.metadata.get("pixelpainter.color_head") == "1"
    # ONNX convolution weights are (out, in, kh, kw): the first one reads the input channels.
    kernels = [(s[2], s[3], s[1], s[0]) for s in header.weight_shapes if len(s) == 4]
    found = _first_convolution(kernels)
    if found is None:
        raise WeightsError(
            f"{source}: ONNX model has no 4×4 convolution over 3 channels: not a generator."
        )
    return (*found, _head_kernel(kernels))


def _head_kernel(kernels: list[tuple[int, ...]]) -> bool:
    """Whether 4-D kernels in Keras order include the color head's 1×1 one (…, COLOR_BINS)."""
    return any(k[:2] == (1, 1) and k[3] == COLOR_BINS for k in kernels)


def _first_convolution(kernels: list[tuple[int, ...]]) -> tuple[int, int] | None:
    """(width, input channels) from 4-D kernels in Keras order (kh, kw, in, out).

    A hint model's first kernel is the only 4×4 one over 7 channels. Over 3 channels there are
    two: the first conv (width filters) and the last Conv2DTranspose (4, 4, 3, 2·width).
    """
    for channels in reversed(INPUT_CHANNELS):
        widths = [k[3] for k in kernels if k[:3] == (4, 4, channels)]
        if widths:
            return min(widths), channels
    return None


def _input_of_file(fmt: Format, source: Path) -> tuple[int, int, bool]:
    """(width, input channels, color head) of an .h5 file or a checkpoint, from its first conv's
    kernel and the head's 1×1 one."""
    shapes: list[tuple[int, ...]] = []
    if fmt == "tf-checkpoint":
        import tensorflow as tf

        # All variables, not only "generator/...": a Keras 3 checkpoint that also holds the
        # optimizers files trainable variables under the optimizer's (shorter) path.
        # The discriminator's first kernel reads 6 channels, so it never matches below.
        try:
            shapes = [tuple(s) for _, s in tf.train.list_variables(str(source))]
        except (tf.errors.OpError, ValueError) as err:
            raise WeightsError(f"{source}: unreadable TensorFlow checkpoint: {err}") from err
    else:
        import h5py

        def visit(_: str, obj: object) -> None:
            if isinstance(obj, h5py.Dataset):
                shapes.append(tuple(obj.shape))

        try:
            with h5py.File(source, "r") as h5:
                h5.visititems(visit)
        except OSError as err:
            raise WeightsError(f"{source}: unreadable HDF5 file: {err}") from err
    # Conv2D kernels are (4, 4, in, out); the last Conv2DTranspose is (4, 4, out=3, in=2·width).
    kernels = [s for s in shapes if len(s) == 4]
    found = _first_convolution(kernels)
    if found is None:
        raise WeightsError(
            f"{source}: no 4×4×3 input convolution found: this is not a pix2pix generator."
        )
    return (*found, _head_kernel(kernels))


def save_weights(model: keras.Model, path: str | Path) -> Path:
    """``model.save_weights(path)`` (a Keras 3 ``.weights.h5``), with a color-head model's
    read-out (temperature, saturation, chroma target: not weights) kept in the file's
    :data:`READOUT_ATTR` attribute, so :func:`load_generator` gives the same outputs."""
    import h5py

    from inference.color_head import readout_of

    path = Path(path)
    model.save_weights(str(path))
    readout = readout_of(model)
    if readout is not None:
        with h5py.File(path, "a") as f:
            f.attrs[READOUT_ATTR] = json.dumps(readout)
    return path


def _load_h5(model: keras.Model, fmt: Format, source: Path) -> None:
    # Keras picks its loader from the suffix: Keras 3 needs ".weights.h5", the legacy loader ".h5".
    # Files are often renamed, so read through a link with the suffix that matches the content.
    suffix = ".weights.h5" if fmt == "keras3-weights" else ".h5"
    named_right = source.name.endswith(".weights.h5") == (fmt == "keras3-weights")
    if named_right and source.suffix == ".h5":
        model.load_weights(str(source))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            link = Path(tmp) / f"generator{suffix}"
            try:
                os.symlink(source.resolve(), link)
            except OSError:
                shutil.copyfile(source, link)
            model.load_weights(str(link))
    if fmt == "keras3-weights":
        _apply_saved_readout(model, source)


def _apply_saved_readout(model: keras.Model, source: Path) -> None:
    """Give a color-head model the read-out :func:`save_weights` kept in ``source``, if any."""
    import h5py

    from inference.color_head import has_color_head, set_readout

    with h5py.File(source, "r") as f:
        saved = f.attrs.get(READOUT_ATTR)
    if saved is None or not has_color_head(model):
        return
    try:
        set_readout(model, json.loads(saved))
    except (ValueError, TypeError) as err:
        raise WeightsError(f"{source}: its color-head read-out is not readable: {err}") from err


def _load_keras_model(source: Path) -> keras.Model:
    import keras

    from inference.generator import build_generator

    try:
        loaded = keras.saving.load_model(str(source), compile=False)
    except (OSError, ValueError, TypeError, KeyError) as err:
        raise WeightsError(f"{source}: cannot read this .keras file: {err}") from err
    inputs = tuple(loaded.input_shape)
    if (
        inputs[:3] != (None, 256, 256)
        or inputs[3] not in INPUT_CHANNELS
        or loaded.output_shape != (None, 256, 256, 3)
    ):
        raise WeightsError(
            f"{source}: model maps {loaded.input_shape} → {loaded.output_shape}, "
            "expected a 256×256×3 (or ×7 with hints) → 256×256×3 generator."
        )
    # Rebuild from the one definition so inference never depends on pickled layer code.
    from inference.color_head import has_color_head, readout_of, set_readout
    from inference.generator import width_of

    model = build_generator(
        width_of(loaded), hints=inputs[3] != 3, color_head=has_color_head(loaded)
    )
    model.set_weights(loaded.get_weights())
    readout = readout_of(loaded)
    if readout is not None:
        set_readout(model, readout)
    return model


def _restore_checkpoint(model: keras.Model, prefix: Path) -> None:
    """Restore the ``generator`` object of a ``tf.train.Checkpoint`` into ``model``."""
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(prefix))
    names = {n for n in reader.get_variable_to_shape_map() if n.startswith("generator/")}
    if not names:
        raise WeightsError(f"{prefix}: checkpoint holds no 'generator' object.")
    if any("/layer_with_weights-" in n for n in names):
        _restore_tf_keras2_checkpoint(model, prefix, reader, names)
        return
    # Written by Keras 3 (our own trainer): the object graph matches, restore it natively.
    status = tf.train.Checkpoint(generator=model).read(str(prefix)).expect_partial()
    try:
        status.assert_existing_objects_matched()
    except AssertionError as err:
        raise WeightsError(f"{prefix}: checkpoint does not fit the generator: {err}") from err


def _restore_tf_keras2_checkpoint(
    model: keras.Model, prefix: Path, reader: object, names: set[str]
) -> None:
    """Copy a tf.keras 2 checkpoint into the Keras 3 model, variable by variable.

    Keras 3 layers do not match the tf.keras 2 object graph, so ``tf.train.Checkpoint.restore``
    would silently skip them. tf.keras 2 names a variable by the index of its layer among the
    layers that own weights (``layer_with_weights-N``), nested once per ``Sequential`` block.
    """
    assigned = 0
    for n, layer in enumerate(x for x in model.layers if x.weights):
        nested = hasattr(layer, "layers")
        sublayers = [s for s in layer.layers if s.weights] if nested else [layer]
        for m, sub in enumerate(sublayers):
            inner = f"layer_with_weights-{m}/" if nested else ""
            for var in sub.weights:
                attr = var.path.rsplit("/", 1)[-1]
                key = f"generator/layer_with_weights-{n}/{inner}{attr}/.ATTRIBUTES/VARIABLE_VALUE"
                if key not in names:
                    raise WeightsError(f"{prefix}: checkpoint lacks {key}.")
                value = reader.get_tensor(key)  # type: ignore[attr-defined]
                if tuple(value.shape) != tuple(var.shape):
                    raise WeightsError(
                        f"{prefix}: {key} has shape {value.shape}, "
                        f"the generator expects {tuple(var.shape)}."
                    )
                var.assign(value)
                assigned += 1
    logger.info("Restored %d generator variables from %s", assigned, prefix)


def export_onnx(model: keras.Model, out: str | Path) -> Path:
    """Write ``model`` (inference mode, batch of any size) as ONNX; returns ``out``."""
    require_tensorflow(out, "exporting to ONNX")
    import tensorflow as tf
    import tf2onnx

    from inference.generator import input_channels_of, width_of

    channels = input_channels_of(model)
    spec = (tf.TensorSpec((None, 256, 256, channels), tf.float32, name="sketch"),)

    @tf.function(input_signature=spec, autograph=False)
    def forward(x: tf.Tensor) -> tf.Tensor:
        # training=False: BatchNorm uses its moving statistics and Dropout is off, so the same
        # sketch always gives the same colors (the tutorial samples with training=True).
        return tf.identity(model(x, training=False), name="colors")

    proto, _ = tf2onnx.convert.from_function(forward, input_signature=spec, opset=17)
    meta = proto.metadata_props.add()
    meta.key, meta.value = "pixelpainter.width", str(width_of(model))
    meta = proto.metadata_props.add()
    meta.key, meta.value = "pixelpainter.input_channels", str(channels)
    from inference.color_head import has_color_head

    meta = proto.metadata_props.add()
    meta.key, meta.value = "pixelpainter.color_head", "1" if has_color_head(model) else "0"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(proto.SerializeToString())
    tmp.replace(out)
    return out
