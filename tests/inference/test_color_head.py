"""The color head (inference/color_head.py): its color math, the network it adds to, and the
way its weights travel through every format to the Colorizer."""

import cv2
import keras
import numpy as np
import pytest
from PIL import Image

from inference.architecture import COLOR_BINS
from inference.color_head import (
    DECODE_NAME,
    HEAD_NAME,
    TEMPERATURE,
    annealed_ab,
    chroma_gain,
    figure_chroma,
    gamut_bins,
    has_color_head,
    lab_to_rgb,
    rgb_to_lab,
    training_outputs,
)
from inference.colorizer import Colorizer
from inference.engine import OnnxEngine
from inference.generator import build_generator, copy_generator_weights
from inference.weights import export_onnx, inspect_weights, load_generator, parameter_count


@pytest.fixture(scope="module")
def head_generator():
    keras.utils.set_random_seed(5)
    model = build_generator(8, hints=True, color_head=True)
    # A head that prefers bins at random per pixel, so the decoded colors are not all one gray.
    head = model.get_layer(HEAD_NAME)
    kernel, bias = head.get_weights()
    rng = np.random.default_rng(0)
    head.set_weights([rng.normal(0, 0.5, kernel.shape).astype(np.float32), bias])
    return model


@pytest.fixture(scope="module")
def batch():
    return np.random.default_rng(2).uniform(-1, 1, (2, 256, 256, 7)).astype(np.float32)


def test_lab_matches_opencv_and_inverts():
    rgb = np.random.default_rng(0).uniform(0, 1, (500, 3)).astype(np.float32)
    ours = keras.ops.convert_to_numpy(rgb_to_lab(rgb * 2 - 1))
    theirs = cv2.cvtColor(rgb[None], cv2.COLOR_RGB2LAB)[0]
    assert np.abs(ours - theirs).max() < 0.5  # L 0..100, a and b ±127
    back = keras.ops.convert_to_numpy(lab_to_rgb(ours[:, :1], ours[:, 1:]))
    assert np.abs((back + 1) / 2 - rgb).max() < 1e-3


def test_gamut_bins_are_the_reachable_part_of_the_grid():
    bins = gamut_bins()
    assert bins.shape == (COLOR_BINS, 2)
    # Pure red, green and blue each fall in (next to) one of them; far corners of ab do not.
    primaries = np.eye(3, dtype=np.float32)[None]
    for ab in cv2.cvtColor(primaries, cv2.COLOR_RGB2LAB)[0, :, 1:]:
        assert np.linalg.norm(bins - ab, axis=1).min() <= 10 / np.sqrt(2) + 0.5
    assert np.linalg.norm(bins - [-110, -110], axis=1).min() > 30


def test_annealed_mean_leans_to_the_mode():
    bins = gamut_bins()
    logits = np.zeros((1, COLOR_BINS), np.float32)
    red = int(np.argmax(bins[:, 0] + bins[:, 1] * 0.2))  # a vivid reddish bin
    logits[0, red] = 3.0
    mean = keras.ops.convert_to_numpy(annealed_ab(logits, temperature=1.0))[0]
    annealed = keras.ops.convert_to_numpy(annealed_ab(logits))[0]
    # The plain mean (T = 1) is pulled to the grid's centre; T = 0.38 lands near the mode.
    assert np.linalg.norm(annealed - bins[red]) < 0.5 * np.linalg.norm(mean - bins[red])
    assert np.linalg.norm(annealed) > np.linalg.norm(mean)


def test_head_generator_has_its_count_and_the_plain_lightness(head_generator, batch):
    assert has_color_head(head_generator)
    assert head_generator.output_shape == (None, 256, 256, 3)
    assert head_generator.count_params() == parameter_count(8, 7, color_head=True)
    assert parameter_count(8, 7, color_head=True) - parameter_count(8, 7) == (32 + 1) * COLOR_BINS
    out, branch, logits = training_outputs(head_generator)(batch, training=False)
    assert tuple(logits.shape) == (2, 64, 64, COLOR_BINS)
    np.testing.assert_allclose(head_generator(batch, training=False), out, atol=1e-6)
    # The final colors keep the branch's lightness where they stay in gamut (most pixels).
    l_out = keras.ops.convert_to_numpy(rgb_to_lab(out))[..., 0]
    l_branch = keras.ops.convert_to_numpy(rgb_to_lab(branch))[..., 0]
    assert np.median(np.abs(l_out - l_branch)) < 1.0
    # ... and the head's colors, not the branch's.
    ab_out = keras.ops.convert_to_numpy(rgb_to_lab(out))[..., 1:]
    ab_branch = keras.ops.convert_to_numpy(rgb_to_lab(branch))[..., 1:]
    assert np.abs(ab_out - ab_branch).mean() > 5.0


def test_plain_weights_carry_over_into_a_head_generator(batch):
    plain = build_generator(8, hints=True)
    head = build_generator(8, hints=True, color_head=True)
    before = head.get_layer(HEAD_NAME).get_weights()
    copy_generator_weights(plain, head)
    _, branch, _ = training_outputs(head)(batch, training=False)
    np.testing.assert_allclose(branch, plain(batch, training=False), atol=1e-6)
    for kept, now in zip(before, head.get_layer(HEAD_NAME).get_weights(), strict=True):
        np.testing.assert_array_equal(kept, now)


@pytest.mark.parametrize("suffix", [".weights.h5", ".keras"])
def test_head_weights_load_from_each_format(head_generator, batch, tmp_path, suffix):
    path = tmp_path / f"head{suffix}"
    if suffix == ".keras":
        head_generator.save(path)
    else:
        head_generator.save_weights(path)
    info = inspect_weights(path)
    assert (info.width, info.input_channels, info.color_head) == (8, 7, True)
    assert info.parameters == head_generator.count_params()
    loaded = load_generator(path)
    assert has_color_head(loaded)
    np.testing.assert_allclose(
        loaded(batch, training=False), head_generator(batch, training=False), atol=1e-5
    )


def test_a_readout_travels_with_the_weights_file(head_generator, batch, tmp_path):
    import h5py

    from inference.color_head import readout_of, set_readout
    from inference.errors import WeightsError
    from inference.weights import READOUT_ATTR, save_weights

    plain = head_generator(batch, training=False)
    set_readout(head_generator, {"temperature": 1.0, "saturation": 2.0, "chroma_target": 30.0})
    try:
        vivid = head_generator(batch, training=False)
        assert np.abs(np.asarray(vivid) - np.asarray(plain)).max() > 1e-2
        path = save_weights(head_generator, tmp_path / "vivid.weights.h5")
        head_generator.save(tmp_path / "vivid.keras")
        for saved in (path, tmp_path / "vivid.keras"):
            loaded = load_generator(saved)
            assert readout_of(loaded) == readout_of(head_generator)
            np.testing.assert_allclose(loaded(batch, training=False), vivid, atol=1e-5)
        # Weights saved without it (Keras's own save_weights) load at the default read-out.
        head_generator.save_weights(tmp_path / "bare.weights.h5")
        bare = load_generator(tmp_path / "bare.weights.h5")
        np.testing.assert_allclose(bare(batch, training=False), plain, atol=1e-5)
        # A damaged read-out is one clear error, not a silent default.
        with h5py.File(path, "a") as f:
            f.attrs[READOUT_ATTR] = '{"temperature": 1.0, "gamma": 2}'
        with pytest.raises(WeightsError, match="read-out is not readable"):
            load_generator(path)
    finally:
        set_readout(
            head_generator, {"temperature": TEMPERATURE, "saturation": 1.0, "chroma_target": None}
        )


def test_head_generator_runs_as_onnx_in_the_colorizer(head_generator, batch, tmp_path):
    path = export_onnx(head_generator, tmp_path / "head.onnx")
    info = inspect_weights(path)
    assert (info.format, info.color_head, info.parameters) == (
        "onnx",
        True,
        head_generator.count_params(),
    )
    onnx_out = OnnxEngine(path, threads=1).predict(batch)
    assert np.abs(onnx_out - head_generator(batch, training=False).numpy()).max() < 1e-3
    colorizer = Colorizer.load(path)
    sketch = Image.new("RGB", (300, 200), "white")
    result = colorizer.colorize(sketch, hints=[(150, 100, (200, 30, 30))])
    assert result.image_array.shape == (200, 300, 3)
    # A plain generator's ONNX file says it has no head.
    plain = export_onnx(build_generator(8), tmp_path / "plain.onnx")
    assert inspect_weights(plain).color_head is False


def test_chroma_gain_lifts_a_muted_figure_to_the_target_and_never_mutes():
    lightness = np.full((3, 8, 8, 1), 60.0, np.float32)
    lightness[:, :, :4] = 97.0  # paper: its chroma does not count
    ab = np.zeros((3, 8, 8, 2), np.float32)
    ab[0, ..., 0] = 10.0  # figure chroma 10
    ab[1, ..., 1] = -40.0  # figure chroma 40: vivid already
    ab[2, :, :4] = 50.0  # colored paper only: the figure is gray (chroma 0)
    chroma = keras.ops.convert_to_numpy(figure_chroma(lightness, ab))
    np.testing.assert_allclose(chroma, [10.0, 40.0, 0.0], atol=1e-3)
    gain = keras.ops.convert_to_numpy(chroma_gain(lightness, ab, 15.0, most=2.0))
    np.testing.assert_allclose(gain, [1.5, 1.0, 2.0], atol=1e-3)
    # No target: every picture by the same factor.
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(chroma_gain(lightness, ab, None, 1.7)), 1.7
    )


def test_saturation_scales_the_heads_colors_keeping_hue_and_lightness(
    head_generator, batch, tmp_path
):
    decode = head_generator.get_layer(DECODE_NAME)
    plain = keras.ops.convert_to_numpy(head_generator(batch, training=False))
    decode.saturation = 1.5
    try:
        vivid = keras.ops.convert_to_numpy(head_generator(batch, training=False))
        path = export_onnx(head_generator, tmp_path / "vivid.onnx")
        decode.chroma_target = 1e6  # out of reach: every picture at the most, 1.5
        capped = keras.ops.convert_to_numpy(head_generator(batch, training=False))
        decode.chroma_target = 1e-3  # already reached: no picture is scaled
        untouched = keras.ops.convert_to_numpy(head_generator(batch, training=False))
    finally:
        decode.saturation, decode.chroma_target = 1.0, None
    lab_plain = keras.ops.convert_to_numpy(rgb_to_lab(plain))
    lab_vivid = keras.ops.convert_to_numpy(rgb_to_lab(vivid))
    # Where neither leaves the sRGB gamut (the clip would change them), a, b scale by 1.5 and the
    # lightness and hue stay.
    inside = (np.abs(plain) < 0.98).all(-1) & (np.abs(vivid) < 0.98).all(-1)
    chroma_plain = np.linalg.norm(lab_plain[..., 1:], axis=-1)
    judged = inside & (chroma_plain > 3.0)
    assert judged.mean() > 0.05
    ratio = np.linalg.norm(lab_vivid[..., 1:], axis=-1)[judged] / chroma_plain[judged]
    assert np.median(ratio) == pytest.approx(1.5, abs=0.05)
    hue = np.arctan2(lab_plain[..., 2], lab_plain[..., 1])
    hue_vivid = np.arctan2(lab_vivid[..., 2], lab_vivid[..., 1])
    assert np.median(np.abs(np.angle(np.exp(1j * (hue_vivid - hue))))[judged]) < 0.05
    assert np.median(np.abs(lab_vivid[..., 0] - lab_plain[..., 0])[judged]) < 1.0
    np.testing.assert_allclose(capped, vivid, atol=1e-5)
    np.testing.assert_allclose(untouched, plain, atol=1e-5)
    # The read-out travels in the ONNX file.
    onnx_out = OnnxEngine(path, threads=1).predict(batch)
    assert np.abs(onnx_out - vivid).max() < 1e-3


def test_saturation_leaves_the_paper_alone_and_white():
    from inference.color_head import PAPER_LIGHTNESS, ColorDecode

    rgb = np.full((1, 16, 16, 3), 0.0, np.float32)  # gray figure (L ≈ 54)
    rgb[:, :, 6:10] = 0.9094  # near-white (L ≈ 96): a light fill, not paper
    rgb[:, :, 10:] = 0.99  # paper (L ≈ 99.7)
    logits = np.zeros((1, 4, 4, COLOR_BINS), np.float32)
    logits[..., int(np.argmax(gamut_bins()[:, 0]))] = 2.0  # leans to a reddish bin everywhere
    lab = {
        s: keras.ops.convert_to_numpy(
            rgb_to_lab(ColorDecode(temperature=1.0, saturation=s)([rgb, logits]))
        )
        for s in (1.0, 2.0)
    }
    chroma = {s: np.linalg.norm(lab[s][0, ..., 1:], axis=-1) for s in lab}
    np.testing.assert_allclose(chroma[2.0][:, :5] / chroma[1.0][:, :5], 2.0, rtol=0.02)
    # A near-white keeps a fainter tint and only part of the gain (none at PAPER_LIGHTNESS).
    light = float(keras.ops.convert_to_numpy(rgb_to_lab(rgb))[0, 0, 7, 0])
    assert 95.0 < light < PAPER_LIGHTNESS
    assert 0.5 < chroma[1.0][:, 7].min() < chroma[1.0][:, 2].min()
    gain = 1.0 + (PAPER_LIGHTNESS - light) / (PAPER_LIGHTNESS - 92.0)  # 1.2 (the figure's: 2)
    ratio = chroma[2.0][:, 7] / chroma[1.0][:, 7]
    assert (ratio > 1.05).all() and (ratio < gain + 0.02).all()
    # The paper is white whatever the head leans to (not its cream average).
    assert chroma[1.0][:, 11:].max() < 0.05
    assert chroma[2.0][:, 11:].max() < 0.05
