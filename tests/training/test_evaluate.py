"""The color criteria tell colorization from an uncolored sketch and from a uniform wash."""

import numpy as np
from PIL import Image

from training.evaluate import (
    color_criteria,
    flatten,
    main,
    pairs_from_svgs,
    part_mean_oracle,
    part_means,
    psnr_ssim,
    report,
    summarize,
)

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def _picture():
    """A sketch of two enclosed regions on paper, and its colored truth."""
    sketch = np.full((64, 64, 3), 255, np.uint8)
    sketch[10:54, 10] = sketch[10:54, 53] = sketch[10, 10:54] = sketch[53, 10:54] = 0
    sketch[10:54, 32] = 0
    truth = sketch.copy()
    truth[11:53, 11:32] = (220, 40, 40)
    truth[11:53, 33:53] = (40, 90, 220)
    return sketch, truth


def test_truth_passes_everything():
    sketch, truth = _picture()
    scores = summarize([color_criteria(sketch, truth, truth)])
    assert scores["saturation_ratio"] == 1.0
    assert scores["regions_colored"] == 1.0
    assert scores["paper_white"] == 1.0
    assert scores["region_contrast_ratio"] == 1.0


def test_an_uncolored_sketch_fails_saturation_and_regions():
    sketch, truth = _picture()
    scores = summarize([color_criteria(sketch, truth, sketch)])
    assert scores["saturation_ratio"] == 0.0
    assert scores["regions_colored"] == 0.0
    assert scores["paper_white"] == 1.0


def test_a_uniform_tan_wash_fails_paper_and_contrast():
    sketch, truth = _picture()
    wash = (sketch.astype(np.float32) * np.array([0.82, 0.7, 0.55])).astype(np.uint8)
    scores = summarize([color_criteria(sketch, truth, wash)])
    assert scores["paper_white"] < 0.05
    assert scores["region_contrast_ratio"] < 0.05


def test_psnr_ssim_of_identical_sets_is_perfect():
    _, truth = _picture()
    perfect = psnr_ssim([truth], [truth])
    assert perfect["psnr"] == 100.0 and perfect["ssim"] > 0.999


def test_report_pools_each_groups_pictures_like_scoring_the_group_alone():
    """Pictures are scored once and pooled per group: the same numbers as the group alone."""
    sketch, truth = _picture()
    rng = np.random.default_rng(0)
    pairs, images = [], []
    for i in range(5):
        noisy = np.clip(truth + rng.normal(0, 8 + 6 * i, truth.shape), 0, 255).astype(np.uint8)
        pairs.append({"name": f"p{i}", "group": "a/vector" if i < 2 else "b/traced"})
        pairs[-1].update(sketch=sketch, truth=truth)
        images.append(noisy)
    result = report(pairs, {"m": None}, {"m": {"raw": images}})
    for group, index in (("a/vector", [0, 1]), ("b", [2, 3, 4]), ("all", range(5))):
        alone = psnr_ssim([images[i] for i in index], [truth] * len(index))
        flats = [flatten(sketch, truth, images[i]) for i in index]
        scored = result[group]["m/raw"]
        assert scored["psnr"] == alone["psnr"] and scored["ssim"] == alone["ssim"]
        assert scored["psnr_flat"] == psnr_ssim(flats, [truth] * len(index))["psnr"]
    assert result["a/vector"]["m/raw"]["psnr"] > result["b"]["m/raw"]["psnr"]  # less noise


def test_hand_drawn_anime_set_and_cli(tmp_path, capsys):
    pairs = pairs_from_svgs(ROOT / "training" / "eval_art")
    assert len(pairs) == 6 and {p["group"] for p in pairs} == {
        "hand-drawn/vector",
        "hand-drawn/traced",
    }
    out = tmp_path / "report.json"
    assert (
        main(
            [
                "--svgs",
                str(ROOT / "training" / "eval_art"),
                "--model",
                "m=bundled",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    report = __import__("json").loads(out.read_text())
    assert report["hand-drawn"]["pairs"]["count"] == 6
    assert 0.0 <= report["hand-drawn"]["m/raw"]["saturation_ratio"] <= 1.5
    assert main(["--model", "m=bundled"]) == 2


def test_run_model_calls_the_model_once_for_every_style(tiny_onnx, monkeypatch):
    from inference.colorizer import STYLES, Colorizer
    from inference.engine import OnnxEngine
    from training.evaluate import run_model

    calls = []
    real_predict = OnnxEngine.predict
    monkeypatch.setattr(
        OnnxEngine,
        "predict",
        lambda self, batch: calls.append(len(batch)) or real_predict(self, batch),
    )
    sketch, truth = _picture()
    pairs = [{"sketch": sketch, "truth": truth, "group": "g"}] * 3
    outputs = run_model(tiny_onnx, pairs, threads=1)
    assert calls == [3]  # one batch, one model call, whatever the number of styles
    colorizer = Colorizer.load(tiny_onnx, threads=1)
    for style in STYLES:
        expected = colorizer.colorize(Image.fromarray(sketch), style=style).image_array
        assert all(np.array_equal(out, expected) for out in outputs[style])
    assert outputs["raw"][0].shape == (256, 256, 3)


def test_part_means_oracle_paints_each_part_its_styles_mean_and_sets_the_ceiling():
    """The ceiling of the flat margin: parts painted their training mean color per style."""
    sketch, truth = _picture()
    parts = np.zeros(truth.shape[:2], np.uint8)
    parts[11:53, 11:32], parts[11:53, 33:53] = 1, 2  # 1 = left region, 2 = right region
    train = []
    for i, (left, right) in enumerate((((200, 0, 0), (0, 0, 200)), ((0, 200, 0), (0, 0, 100)))):
        t = truth.copy()
        t[parts == 1], t[parts == 2] = left, right
        train.append({"name": f"faces-c_{i}_tiny", "truth": t, "parts": parts})
    train.append({"name": "faces-d_0_other", "truth": truth, "parts": parts})  # another style
    means = part_means(train)
    assert np.allclose(means["tiny", 1], (100, 100, 0)) and np.allclose(
        means["tiny", 2], (0, 0, 150)
    )
    assert ("other", 1) in means and ("", 1) in means

    pair = {"name": "faces-e_9_tiny", "group": "faces/vector", "sketch": sketch, "truth": truth}
    pair["parts"] = parts
    oracle = part_mean_oracle(pair, means)
    assert (oracle[parts == 1] == (100, 100, 0)).all() and (oracle[parts == 2] == (0, 0, 150)).all()
    assert (oracle[parts == 0] == truth[parts == 0]).all()  # lines and paper: the truth
    unknown = part_mean_oracle({**pair, "name": "anime_girl"}, means)  # style unseen: all styles
    assert np.allclose(unknown[parts == 2], means["", 2], atol=0.5)

    plain = {"name": "clip-x", "group": "clip/vector", "sketch": sketch, "truth": truth}
    result = report([pair, plain], {"m": None}, {"m": {"raw": [truth, truth]}}, means)
    ceiling = result["faces"]["ceiling_part_means"]
    assert ceiling["pictures"] == 1 and result["all"]["ceiling_part_means"]["pictures"] == 1
    alone = psnr_ssim([oracle], [truth])["psnr"]
    assert abs(ceiling["psnr"] - alone) < 1e-9
    flat = psnr_ssim([flatten(sketch, truth, oracle)], [truth])["psnr"]
    assert abs(ceiling["flat_margin_db"] - (alone - flat)) < 1e-9
    # The model's own output with only its parts repainted so (here its output is the truth).
    model = result["faces"]["m/raw"]
    assert abs(model["psnr_parts_at_means"] - alone) < 1e-9
    assert abs(model["flat_margin_parts_at_means_db"] - (alone - flat)) < 1e-9
    assert "psnr_parts_at_means" not in result["clip"]["m/raw"]
    assert "ceiling_part_means" not in result["clip"]  # no part maps there
    assert "ceiling_part_means" not in report([pair], {"m": None}, {"m": {"raw": [truth]}})["all"]


def test_criteria_pass_the_truth_and_fail_an_uncolored_copy_against_it(tmp_path, capsys):
    from training.evaluate import FLAT_MARGIN_BAR, SATURATION_BAR, criteria

    pairs = pairs_from_svgs(ROOT / "training" / "eval_art")
    truths = [p["truth"] for p in pairs]
    grays = [np.repeat(t.mean(-1, keepdims=True), 3, -1).astype(np.uint8) for t in truths]
    outputs = {"truth": {"raw": truths, "cel": truths}, "gray": {"raw": grays, "cel": grays}}
    result = report(pairs, dict.fromkeys(outputs), outputs)

    against_gray = criteria(result, "gray")
    assert set(against_gray) == {"truth"} and set(against_gray["truth"]) == {"hand-drawn", "pass"}
    checks = against_gray["truth"]["hand-drawn"]
    assert checks["flat_margin_db"]["value"] == result["hand-drawn"]["truth/cel"]["flat_margin_db"]
    assert checks["flat_margin_db"]["value"] >= FLAT_MARGIN_BAR
    assert checks["saturation_ratio"]["value"] == 1.0 >= SATURATION_BAR
    assert checks["part_hues"] == {
        "value": 1.0,
        "reference": result["hand-drawn"]["gray/cel"]["part_hues"],
        "pass": True,
    }
    assert checks["pass"] and against_gray["truth"]["pass"]

    gray = criteria(result, "truth")["gray"]["hand-drawn"]
    assert gray["saturation_ratio"] == {"value": 0.0, "pass": False}
    assert not gray["part_hues"]["pass"] and not gray["pass"]
    # only the sources with part maps are judged: the raw variant when no style was scored
    raw_only = {s: {k: v for k, v in e.items() if "/cel" not in k} for s, e in result.items()}
    assert criteria(raw_only, "gray")["truth"]["hand-drawn"]["pass"]


def test_criteria_flag_prints_and_saves_the_verdicts(tmp_path, capsys):
    out = tmp_path / "report.json"
    svgs = str(ROOT / "training" / "eval_art")
    args = ["--svgs", svgs, "--model", "a=bundled", "--model", "b=bundled", "--styles", ""]
    assert main([*args, "--criteria", "a", "--out", str(out)]) == 0
    saved = __import__("json").loads(out.read_text())["criteria"]
    assert set(saved) == {"b"}
    # the same model against itself: its part hues are not more than its own
    assert saved["b"]["hand-drawn"]["part_hues"]["pass"] is False and not saved["b"]["pass"]
    printed = capsys.readouterr().out
    assert "## criteria: b against a: FAIL" in printed and "hand-drawn" in printed
    assert main([*args, "--criteria", "nope"]) == 2
    assert "no --model of that name" in capsys.readouterr().err
