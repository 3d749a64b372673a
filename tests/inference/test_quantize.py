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
    CALIBRATION,
    CHECK_SET,
    MIN_PSNR,
    RECIPE,
    calibration_inputs,
    check_int8,
    end_nodes,
    int8_for,
    psnr,
    quantize,
    sketch_set,
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


def test_the_first_two_and_the_last_convolutions_stay_fp32(tiny_onnx, sketch_dir, tmp_path):
    split = split_conv_transposes(onnx.load(tiny_onnx))
    kept = end_nodes(split)
    convs = [n.name for n in split.graph.node if n.op_type == "Conv"]
    assert kept[:2] == convs[:2]
    assert set(convs[-4:]) <= set(kept)  # the last ConvTranspose's four phases
    assert not set(convs[2:-4]) & set(kept)
    int8 = onnx.load(quantize(tiny_onnx, tmp_path / "q.onnx", sketch_inputs([sketch_dir])))
    producers = {o: n for n in int8.graph.node for o in n.output}
    for node in int8.graph.node:
        if node.op_type == "Conv":
            weight = producers.get(node.input[1])
            fp32 = node.name in kept
            assert (weight is None or weight.op_type != "DequantizeLinear") == fp32, node.name


def test_the_check_set_is_small_and_varied():
    assert CHECK_SET.stat().st_size < 400_000
    inputs, families = sketch_set(CHECK_SET)
    assert inputs.shape[1:] == (256, 256, 3)
    assert {"mix", "pencil", "bold", "anime"} <= set(families)
    assert all((families == f).sum() >= 6 for f in set(families))
    # None of the check sketches is in the calibration set.
    calibration = sketch_set(CALIBRATION)[0]
    flat = calibration.reshape(len(calibration), -1)
    for sketch in inputs.reshape(len(inputs), -1):
        assert np.abs(flat - sketch).max(axis=1).min() > 0


def _touchy(tiny_onnx, path):
    """The tiny generator with its last convolution's weights ×10,000: every rounding error
    upstream comes out 10,000 times larger (as in a model whose colors flip on a level of
    noise), so its int8 copy is far from it."""
    from onnx import numpy_helper

    model = onnx.load(tiny_onnx)
    last = [n for n in model.graph.node if n.op_type == "ConvTranspose"][-1]
    for tensor in model.graph.initializer:
        if tensor.name == last.input[1]:
            scaled = numpy_helper.to_array(tensor) * 10_000
            tensor.CopyFrom(numpy_helper.from_array(scaled, tensor.name))
    onnx.save(model, path)
    return path


def test_an_int8_model_far_from_fp32_is_refused_in_one_line(tiny_onnx, tmp_path, caplog):
    cache = tmp_path / "cache"
    fp32 = _touchy(tiny_onnx, tmp_path / "generator.onnx")
    with caplog.at_level("WARNING", logger="inference.quantize"):
        chosen = int8_for(fp32, cache=cache)
    assert chosen == fp32
    [line] = [r.getMessage() for r in caplog.records if r.name == "inference.quantize"]
    assert "int8 refused" in line and "running fp32" in line and "\n" not in line
    int8 = fp32.with_suffix(".int8.onnx")
    assert min(check_int8(fp32, int8).values()) < MIN_PSNR
    # The verdict is kept with the file: the next load falls back at once, with the same line.
    stamp = int8.stat().st_mtime_ns
    caplog.clear()
    with caplog.at_level("WARNING", logger="inference.quantize"):
        engine = load_engine(fp32, precision="int8", threads=1, cache=cache)
    assert int8.stat().st_mtime_ns == stamp
    assert [r.getMessage() for r in caplog.records if r.name == "inference.quantize"] == [line]
    x = calibration_inputs(limit=2)
    assert np.array_equal(engine.predict(x), OnnxEngine(fp32, 1).predict(x))  # fp32 runs


def test_a_close_int8_model_passes_its_check(tiny_onnx, tmp_path, caplog):
    fp32 = tmp_path / "generator.onnx"
    shutil.copy(tiny_onnx, fp32)
    with caplog.at_level("WARNING", logger="inference.quantize"):
        chosen = int8_for(fp32, cache=tmp_path / "cache")
    assert chosen == fp32.with_suffix(".int8.onnx")
    assert not [r for r in caplog.records if r.name == "inference.quantize"]
    assert min(check_int8(fp32, chosen).values()) >= MIN_PSNR
