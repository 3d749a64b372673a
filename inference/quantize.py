"""int8 generators: static QDQ quantization of the ONNX export, calibrated on sketches.

ONNX Runtime's CPU backend has no int8 ConvTranspose: quantized as is, the decoder's eight
transposed convolutions (most of the time) run in fp32 between dequantize and quantize steps and
nothing is gained. So first each stride-2 4×4 ConvTranspose becomes four 2×2 convolutions, one
per output phase, and a DepthToSpace that interleaves them: the same arithmetic (exact in fp32),
in an op that has int8 kernels. The BatchNorm scale and shift that follow are folded in.

Calibration must look like what the model will see: ranges calibrated on thin lines clip bold
ones. The bundled set (``assets/calibration.npz``, :func:`calibration_inputs`; built by
:mod:`training.int8_calibration`) mixes the training sources, light pencil lines, bold shapes
and anime characters. The first two and the last convolution (the sketch's pixels in, the colors
out) stay in fp32: their quantization costs the most quality for the least time.

Quantization checks itself: the int8 model is compared with fp32 on a small shipped check set
(``assets/int8_check.npz``: other sketches of the same families) and refused, with one line and
fp32 instead, when its mean PSNR on any family is under :data:`MIN_PSNR`.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from pathlib import Path

import numpy as np

from inference.engine import cache_dir, fingerprint
from inference.errors import WeightsError
from inference.hints import Hint, hint_planes, with_hint_planes
from inference.quality import psnr_of_mse

logger = logging.getLogger(__name__)

CALIBRATION = Path(__file__).parent / "assets" / "calibration.npz"
CHECK_SET = Path(__file__).parent / "assets" / "int8_check.npz"
# Bumped whenever the recipe changes, so older cached int8 files are made again.
RECIPE = "qdq-u8s8-perchannel-phaseconv-fp32ends-v2"
# Convolutions kept in fp32, counted from each end: on the bundled model, quantizing only the
# first one cost 18–32 dB PSNR against fp32 (mean per check family), only the second 28–35, the
# third 36–43, the last 37–42, any other 40+: the sketch's first features and the colors out.
FP32_FIRST = 2
FP32_LAST = 1
# An int8 model whose raw output is further than this from fp32's (mean PSNR in dB on any
# check-set family) is not used.
MIN_PSNR = 35.0


def split_conv_transposes(model: object) -> object:
    """A copy of ``model`` (onnx.ModelProto) with each stride-2 4×4 ConvTranspose as phase convs.

    ONNX ConvTranspose scatters: ``y[2i + a] += x[m] · W[2i + a + 1 - 2m]`` (pads 1), so output
    rows of phase a = 0 read x[i-1], x[i] with kernel rows 3, 1; phase a = 1 reads x[i], x[i+1]
    with rows 2, 0 (columns alike). A following per-channel Mul and Add (BatchNorm) is folded
    into the phase convs' weights and bias.
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.ModelProto.FromString(model.SerializeToString())  # type: ignore[attr-defined]
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def const(name: str) -> np.ndarray | None:
        return numpy_helper.to_array(inits[name]) if name in inits else None

    def channel_const(node: onnx.NodeProto, channels: int) -> np.ndarray | None:
        """The constant operand of a Mul/Add if it is per channel in NCHW, as (channels,)."""
        for name in node.input:
            value = const(name)
            if value is None:
                continue
            per_channel = value.ndim >= 3 and value.shape[-3:] == (channels, 1, 1)
            if value.size == 1 or (per_channel and value.size == channels):
                return np.broadcast_to(value.reshape(-1), (channels,)).astype(np.float32)
        return None

    new_nodes: list[onnx.NodeProto] = []
    new_inits: list[onnx.TensorProto] = []
    removed: set[int] = set()
    for node in graph.node:
        if id(node) in removed:
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        weight = const(node.input[1]) if len(node.input) > 1 else None
        if not (
            node.op_type == "ConvTranspose"
            and weight is not None
            and weight.shape[2:] == (4, 4)
            and list(attrs.get("strides", [1, 1])) == [2, 2]
            and list(attrs.get("pads", [0, 0, 0, 0])) == [1, 1, 1, 1]
            and attrs.get("group", 1) == 1
            and list(attrs.get("dilations", [1, 1])) == [1, 1]
            and not attrs.get("output_padding")
            and attrs.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET")
        ):
            new_nodes.append(node)
            continue
        out_channels = weight.shape[1]
        bias = const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        scale = np.ones(out_channels, np.float32)
        shift = np.zeros(out_channels, np.float32) if bias is None else bias.astype(np.float32)
        output = node.output[0]
        # Fold Mul then Add by constants (BatchNorm in inference mode), when nothing else reads.
        for op in ("Mul", "Add"):
            users = consumers.get(output, [])
            if len(users) != 1 or users[0].op_type != op:
                break
            value = channel_const(users[0], out_channels)
            if value is None or output in {o.name for o in graph.output}:
                break
            if op == "Mul":
                scale, shift = scale * value, shift * value
            else:
                shift = shift + value
            removed.add(id(users[0]))
            output = users[0].output[0]
        rows = {0: (3, 1), 1: (2, 0)}  # kernel rows (and columns) read by each output phase
        pads = {0: (1, 0), 1: (0, 1)}  # (before, after) padding of each phase's 2-tap window
        phase_outputs = []
        for a in (0, 1):
            for b in (0, 1):
                k = weight[:, :, list(rows[a]), :][:, :, :, list(rows[b])]  # (Cin, Cout, 2, 2)
                k = np.ascontiguousarray(k.transpose(1, 0, 2, 3)) * scale[:, None, None, None]
                w_name = f"{node.name}/phase{a}{b}/W"
                b_name = f"{node.name}/phase{a}{b}/B"
                new_inits += [
                    numpy_helper.from_array(k.astype(np.float32), w_name),
                    numpy_helper.from_array(shift.astype(np.float32), b_name),
                ]
                phase_out = f"{node.name}/phase{a}{b}:0"
                new_nodes.append(
                    helper.make_node(
                        "Conv",
                        [node.input[0], w_name, b_name],
                        [phase_out],
                        name=f"{node.name}/phase{a}{b}",
                        kernel_shape=[2, 2],
                        strides=[1, 1],
                        pads=[pads[a][0], pads[b][0], pads[a][1], pads[b][1]],
                    )
                )
                phase_outputs.append(phase_out)
        concat = f"{node.name}/phases:0"
        new_nodes.append(
            helper.make_node("Concat", phase_outputs, [concat], name=f"{node.name}/phases", axis=1)
        )
        # DCR: channel (a·2 + b)·C + c goes to (c, 2h + a, 2w + b), the concat order above.
        new_nodes.append(
            helper.make_node(
                "DepthToSpace",
                [concat],
                [output],
                name=f"{node.name}/interleave",
                blocksize=2,
                mode="DCR",
            )
        )
    del graph.node[:]
    graph.node.extend(new_nodes)
    graph.initializer.extend(new_inits)
    used = {name for node in graph.node for name in node.input}
    keep = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    onnx.checker.check_model(model)
    return model


def sketch_set(path: Path, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A shipped sketch set: (n, 256, 256, 3) float32 model inputs in [-1, 1] and their family
    names (n,). ``limit``: at most that many, taken from every family in turn."""
    with np.load(path) as data:
        pixels = data["sketches"]
        families = data["families"] if "families" in data.files else np.full(len(pixels), "mix")
    if limit is not None and limit < len(pixels):
        # Round robin over the families: the k-th of each family, k = 0, 1, ...
        rank = np.zeros(len(families), np.intp)
        for name in np.unique(families):
            rank[families == name] = np.arange(int((families == name).sum()))
        keep = np.sort(np.argsort(rank, kind="stable")[:limit])
        pixels, families = pixels[keep], families[keep]
    if pixels.ndim == 3:  # stored gray
        pixels = np.repeat(pixels[..., None], 3, axis=3)
    return pixels.astype(np.float32) / 127.5 - 1.0, families.astype(str)


def calibration_inputs(limit: int = 128) -> np.ndarray:
    """(n, 256, 256, 3) float32 model inputs in [-1, 1] to calibrate with: the bundled set
    (``limit`` sketches at most, from every family in turn). :mod:`training.int8_calibration`
    builds it.
    """
    return sketch_set(CALIBRATION, limit)[0]


def calibration_hints(inputs: np.ndarray, channels: int, seed: int = 0) -> np.ndarray:
    """Sketch inputs (n, 256, 256, 3) for a model of ``channels`` inputs: for a hint model, every
    other sketch gets a few random color dots, so the hint planes' ranges are calibrated too."""
    widened = with_hint_planes(inputs, channels)
    if channels == inputs.shape[-1]:
        return widened
    rng = np.random.default_rng(seed)
    for i in range(1, len(widened), 2):
        dots = [
            Hint(*rng.uniform(8, 248, 2), tuple(int(c) for c in rng.integers(0, 256, 3)))
            for _ in range(int(rng.integers(1, 13)))
        ]
        widened[i, ..., inputs.shape[-1] :] = hint_planes(dots)
    return widened


def quantize(
    fp32: str | Path,
    out: str | Path,
    inputs: np.ndarray,
    *,
    split: bool = True,
    fp32_ends: bool = True,
) -> Path:
    """Write the int8 (QDQ) version of the ONNX generator ``fp32`` to ``out``.

    ``split=False`` keeps the ConvTransposes (plain QDQ: no gain on ONNX Runtime's CPU backend,
    kept for comparisons and for runtimes with int8 deconvolution). ``fp32_ends``: the first
    and last convolutions stay in fp32 (:func:`end_nodes`).
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self, name: str) -> None:
            self._batches = iter(inputs[i : i + 1] for i in range(len(inputs)))
            self._name = name

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._batches, None)
            return None if batch is None else {self._name: batch}

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    source = onnx.load(str(fp32))
    dims = source.graph.input[0].type.tensor_type.shape.dim  # type: ignore[attr-defined]
    inputs = calibration_hints(inputs, dims[-1].dim_value or inputs.shape[-1])
    split = split_conv_transposes(source) if split else source
    tmp_split = out.with_suffix(f".split.{os.getpid()}.tmp.onnx")
    tmp_out = out.with_suffix(f".{os.getpid()}.tmp.onnx")
    onnx.save(split, str(tmp_split))
    try:
        quantize_static(
            str(tmp_split),
            str(tmp_out),
            Reader(split.graph.input[0].name),  # type: ignore[attr-defined]
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=end_nodes(split) if fp32_ends else [],
        )
        quantized = onnx.load(str(tmp_out))
        recipe = RECIPE if split else RECIPE.replace("phaseconv", "plain")
        recipe = recipe if fp32_ends else recipe.replace("-fp32ends", "")
        for key, value in (("pixelpainter.int8", recipe), ("pixelpainter.fp32", fingerprint(fp32))):
            meta = quantized.metadata_props.add()
            meta.key, meta.value = key, value
        onnx.save(quantized, str(tmp_out))
        tmp_out.replace(out)
    finally:
        for tmp in (tmp_split, tmp_out):
            tmp.unlink(missing_ok=True)
    return out


def end_nodes(model: object, first: int = FP32_FIRST, last: int = FP32_LAST) -> list[str]:
    """Names of the nodes of the ``first`` first and ``last`` last convolutions of ``model``
    (onnx.ModelProto), in graph order; a phase-split ConvTranspose counts as one convolution
    (its phase convs, their Concat and DepthToSpace)."""
    layers: dict[str, list[str]] = {}
    for node in model.graph.node:  # type: ignore[attr-defined]
        key = node.name.rsplit("/phase", 1)[0] if "/phase" in node.name else node.name
        if node.op_type in ("Conv", "ConvTranspose"):
            layers.setdefault(key, []).append(node.name)
        elif key in layers:  # the phases' Concat and the interleaving DepthToSpace
            layers[key].append(node.name)
    for node in model.graph.node:  # type: ignore[attr-defined]
        if node.name.endswith("/interleave") and node.name.rsplit("/", 1)[0] in layers:
            layers[node.name.rsplit("/", 1)[0]].append(node.name)
    keys = list(layers)
    chosen = keys[:first] + keys[max(first, len(keys) - last) :]
    return list(dict.fromkeys(name for key in chosen for name in layers[key]))


def check_int8(fp32: str | Path, int8: str | Path, check: Path = CHECK_SET) -> dict[str, float]:
    """Mean PSNR (dB) of the int8 model's raw output against fp32's, per check-set family."""
    from inference.engine import OnnxEngine

    inputs, families = sketch_set(check)
    outputs = {}
    for name, path in (("fp32", fp32), ("int8", int8)):
        engine = OnnxEngine(Path(path))
        inputs = with_hint_planes(inputs, engine.input_channels)
        outputs[name] = np.concatenate(
            [engine.predict(inputs[i : i + 8]) for i in range(0, len(inputs), 8)]
        )
    scores: dict[str, list[float]] = {}
    for family, a, b in zip(families, outputs["fp32"], outputs["int8"], strict=True):
        scores.setdefault(str(family), []).append(psnr(a, b))
    return {family: float(np.mean(values)) for family, values in scores.items()}


def int8_for(
    fp32: Path, inputs: np.ndarray | None = None, *, cache: str | Path | None = None
) -> Path:
    """The int8 ONNX for the fp32 ONNX ``fp32``: made once and cached beside it, calibrated on
    ``inputs`` (model inputs; None = :func:`calibration_inputs`); or ``fp32`` itself when the
    int8 copy is too far from it (see :func:`check_int8`; logged in one line).

    Beside it means ``<name>.int8.onnx`` in the same folder, or in the cache folder (``cache``,
    see :func:`inference.engine.cache_dir`) when that one is read-only (the bundled model in an
    installed package). The check's verdict is kept in the int8 file: made and checked once.
    """
    if importlib.util.find_spec("onnx") is None:
        raise WeightsError(
            f"{fp32}: int8 needs the onnx package, which is not installed: "
            'pip install "pixelpainter-colorize[int8]" (in a clone: pip install -e ".[int8]"), '
            "or use fp32."
        )
    digest = fingerprint(fp32)
    folder = cache_dir(cache)
    candidates = [fp32.with_suffix(".int8.onnx"), folder / f"generator-{digest}.int8.onnx"]
    for path in candidates:
        if path.exists() and _is_current(path, digest):
            return _verdict(fp32, path)
    if inputs is None:
        inputs = calibration_inputs()
    for path in candidates:
        if os.access(path.parent if path.parent.exists() else folder.parent, os.W_OK):
            logger.info("Quantizing %s to int8 (once; cached at %s)", fp32, path)
            try:
                quantize(fp32, path, inputs)
            except PermissionError:
                continue
            _stamp(path, "pixelpainter.check", json.dumps(check_int8(fp32, path)))
            return _verdict(fp32, path)
    raise WeightsError(f"Cannot write an int8 copy of {fp32} beside it or in {folder}")


def _verdict(fp32: Path, int8: Path) -> Path:
    """``int8`` when its check passed, else ``fp32`` with one warning line."""
    scores = json.loads(_metadata(int8).get("pixelpainter.check", "{}"))
    worst = min(scores, key=scores.get, default=None)
    if worst is not None and scores[worst] < MIN_PSNR:
        logger.warning(
            "int8 refused for %s: %.1f dB mean PSNR against fp32 on the %r check sketches "
            "(under %.0f dB); running fp32",
            fp32,
            scores[worst],
            worst,
            MIN_PSNR,
        )
        return fp32
    return int8


def _stamp(path: Path, key: str, value: str) -> None:
    """Set one metadata entry of the ONNX file ``path`` (rewritten atomically)."""
    import onnx

    model = onnx.load(str(path))
    for prop in model.metadata_props:
        if prop.key == key:
            prop.value = value
            break
    else:
        meta = model.metadata_props.add()
        meta.key, meta.value = key, value
    tmp = path.with_suffix(f".{os.getpid()}.tmp.onnx")
    onnx.save(model, str(tmp))
    tmp.replace(path)


def _metadata(path: Path) -> dict[str, str]:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def _is_current(path: Path, digest: str) -> bool:
    try:
        meta = _metadata(path)
    except Exception:  # a torn or foreign file: make it again
        return False
    return (
        meta.get("pixelpainter.int8") == RECIPE
        and meta.get("pixelpainter.fp32") == digest
        and "pixelpainter.check" in meta
    )


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two model outputs in [-1, 1] (peak-to-peak 2)."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return psnr_of_mse(mse, peak=2.0)


def compare(fp32: np.ndarray, int8: np.ndarray) -> dict[str, float]:
    """Quality of int8 outputs against fp32 ones: PSNR (dB) and max |diff|."""
    return {"psnr": psnr(fp32, int8), "max_abs_diff": float(np.abs(fp32 - int8).max())}
