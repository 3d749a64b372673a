"""int8: the ConvTranspose rewrite is exact, the quantized copy is cached and close to fp32."""

import os
import shutil

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from PIL import Image, ImageDraw

from inference.colorizer import Colorizer
from inference.engine import OnnxEngine, load_engine
from inference.quantize import (
    RECIPE,
    calibration_inputs,
    int8_for,
    psnr,
    quantize,
    split_conv_transposes,
)
from training.int8_calibration import sketch_inputs


def _run(model, x: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    source = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def _sketches(folder, n=6):
    """Pairs in the training layout (color left, sketch right), lines of several weights."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    for i in range(n):
        pair = Image.new("RGB", (512, 256), "white")
        draw = ImageDraw.Draw(pair)
        draw.rectangle([0, 0, 255, 255], fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
        for _ in range(12):
            x0, y0, x1, y1 = (int(v) for v in rng.integers(0, 256, 4))
            draw.line([(256 + x0, y0), (256 + x1, y1)], fill="black", width=1 + i)
        pair.save(folder / f"s{i}.png")
    return folder


@pytest.fixture(scope="module")
def sketch_dir(tmp_path_factory):
    return _sketches(tmp_path_factory.mktemp("cal") / "train")


def test_phase_convolutions_equal_the_conv_transposes(tiny_onnx):
    model = onnx.load(tiny_onnx)
    split = split_conv_transposes(model)
    ops = [n.op_type for n in split.graph.node]
    assert "ConvTranspose" not in ops and ops.count("DepthToSpace") == 8
    assert "Mul" not in ops  # the BatchNorm scale and shift are folded into the phase convs
    x = np.random.default_rng(0).uniform(-1, 1, (2, 256, 256, 3)).astype(np.float32)
    assert np.abs(_run(split, x) - _run(model, x)).max() < 1e-5


def test_calibration_takes_the_sketch_half_of_pairs(sketch_dir):
    inputs = sketch_inputs([sketch_dir], limit=4)
    assert inputs.shape == (4, 256, 256, 3) and inputs.dtype == np.float32
    assert inputs.min() >= -1 and inputs.max() <= 1
    # The sketch half is black lines on white: no trace of the flat color on the left.
    gray = inputs.mean(axis=3)
    assert (gray > 0.98).mean() > 0.5 and (np.ptp(inputs, axis=3) < 0.02).all()


def test_bundled_calibration_set_is_gray_sketches():
    inputs = calibration_inputs(limit=64)
    assert inputs.shape[0] >= 32 and inputs.shape[1:] == (256, 256, 3)
    paper = (inputs.mean(axis=(1, 2, 3)) + 1) / 2
    assert (paper > 0.6).all()  # mostly paper, as sketches are


def test_int8_is_close_to_fp32_and_cached_beside_it(tiny_onnx, sketch_dir, tmp_path):
    fp32 = tmp_path / "model" / "generator.onnx"
    fp32.parent.mkdir()
    shutil.copy(tiny_onnx, fp32)
    int8 = int8_for(fp32, sketch_inputs([sketch_dir]), cache=tmp_path / "cache")
    assert int8 == fp32.with_suffix(".int8.onnx") and int8.exists()
    meta = {p.key: p.value for p in onnx.load(int8).metadata_props}
    assert meta["pixelpainter.int8"] == RECIPE
    ops = {n.op_type for n in onnx.load(int8).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    # Made once: the second call finds it.
    stamp = int8.stat().st_mtime_ns
    assert (
        int8_for(fp32, sketch_inputs([sketch_dir]), cache=tmp_path / "cache") == int8
        and int8.stat().st_mtime_ns == stamp
    )
    x = sketch_inputs([sketch_dir], limit=6, seed=1)
    assert psnr(_run(fp32, x), _run(int8, x)) > 30


def test_a_changed_fp32_model_is_quantized_again(tiny_onnx, sketch_dir, tmp_path):
    fp32 = tmp_path / "generator.onnx"
    shutil.copy(tiny_onnx, fp32)
    int8 = quantize(fp32, fp32.with_suffix(".int8.onnx"), sketch_inputs([sketch_dir]))
    stamp = int8.stat().st_mtime_ns
    model = onnx.load(fp32)
    model.doc_string = "retrained"
    onnx.save(model, fp32)
    assert (
        int8_for(fp32, sketch_inputs([sketch_dir]), cache=tmp_path / "cache") == int8
        and int8.stat().st_mtime_ns != stamp
    )


def test_read_only_folder_caches_elsewhere(tiny_onnx, sketch_dir, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes to read-only folders")
    folder = tmp_path / "ro"
    folder.mkdir()
    fp32 = folder / "generator.onnx"
    shutil.copy(tiny_onnx, fp32)
    folder.chmod(0o555)
    try:
        int8 = int8_for(fp32, sketch_inputs([sketch_dir]), cache=tmp_path / "cache")
    finally:
        folder.chmod(0o755)
    assert int8.parent == tmp_path / "cache"


def test_colorizer_loads_int8(tiny_onnx, sketch_dir, tmp_path):
    fp32 = tmp_path / "generator.onnx"
    shutil.copy(tiny_onnx, fp32)
    int8_for(fp32, sketch_inputs([sketch_dir]), cache=tmp_path / "cache")
    colorizer = Colorizer.load(fp32, threads=1, precision="int8", cache_dir=tmp_path / "cache")
    assert isinstance(colorizer.engine, OnnxEngine)
    result = colorizer.colorize(Image.new("RGB", (300, 200), "white"))
    assert result.image.size == (300, 200)
    with pytest.raises(ValueError, match="precision"):
        load_engine(fp32, precision="int4")
    with pytest.raises(ValueError, match="int8"):
        load_engine(fp32, backend="tensorflow", precision="int8")


def test_int8_without_the_onnx_package_says_which_extra(tiny_onnx, monkeypatch):
    import importlib.util

    from inference.errors import WeightsError

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "onnx" else real(name, *a)
    )
    with pytest.raises(WeightsError, match=r"pixelpainter-colorize\[int8\]"):
        load_engine(tiny_onnx, precision="int8")
