"""Does a model color like the truth? Val metrics per source, color criteria, model comparisons.

``python -m training.evaluate --data DATA --weights A.onnx [--weights B.onnx ...] --out report.json``

For every model and every group of val pairs (the source prefix of the mix's file names, and
vector vs traced lines), through the real inference path (:class:`inference.Colorizer`):

- PSNR / SSIM of the raw 256² output and of what a person gets (the Colorizer's output), beside
  the sketch-itself baseline;
- **saturation ratio**: mean saturation of figure pixels in the output / in the truth (a model that
  leaves sketches uncolored scores 0);
- **regions colored**: of the regions (areas enclosed by the sketch's lines) that are colored in
  the truth, the share that is colored in the output;
- **paper white**: the share of paper pixels (white in truth and sketch, connected to the border)
  that stay white in the output (a model that washes everything tan fails this);
- **region contrast**: mean color distance between a picture's regions in the output / in the
  truth (one uniform wash scores near 0);
- **flat margin**: PSNR of the output minus PSNR of the output *flattened to its own mean color*
  (the figure painted in one color under the sketch's lines, paper kept): a coloring that puts
  colors in the wrong places scores no better than its own flat version (target ≥ 1 dB);
- **part hues** (where the data has part maps, ``parts/NAME.png``: skin, hair, eyes, clothes):
  the share of parts whose mean output color has the truth's hue within 30° (or is, like the
  truth's, achromatic: gray, black, white).

``--ceiling``: what the flat margin can reach without hints where part colors are drawn at random
(the character data): an oracle that knows every part and paints it the training set's mean color
of that part for the drawing's style (the best constant guess under squared error), every other
pixel from the truth, as ``ceiling_part_means`` per group of pairs with part maps; and for each
model, its output with only the parts repainted so (``*_parts_at_means``): how much of its
shortfall lies in the parts' colors.

``--criteria REF``: the issue-15 bar for every other model, per source that has part maps (the
characters, the hand-drawn set), on the cel output (raw without styles): beats its own flat
output by ≥ 1 dB, keeps ≥ 0.8 of the truth's saturation, and gets more part hues right than the
model named REF; printed as one line per model and source, and kept as ``criteria`` in ``--out``.
What picks a checkpoint: score each (exported) one beside the bundled model and read the lines.

``--hints 4 --hints 12``: the same for hint models with that many hints sampled from the truth
(:func:`training.hints.sample_hints`, the same dots for every model), beside no hints, as
``NAME/raw+4h`` and, for each style, ``NAME/cel+4h`` (what a person gets: in cel a hint decides
its region's color): what each hint count gains.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from inference.quality import psnr_of_mse
from training.datasets.mix import drawing_of

SIZE = 256
WHITE = 235  # a channel above this on every channel is paper
LINE = 200  # a sketch pixel darker than this is line art
MIN_REGION = 24  # px at 256²: smaller areas are line texture, not a region
COLORED = 0.18  # mean saturation above which a region counts as colored
HUE_TOLERANCE = 30.0  # degrees: a part's hue this close to the truth's is right
ACHROMATIC = 0.2  # a part's mean color below this saturation (or value) has no hue
MIN_PART = 20  # px at 256²: smaller parts are not judged
FLAT_MARGIN_BAR = 1.0  # dB a coloring must beat its own flat version by (--criteria)
SATURATION_BAR = 0.8  # share of the truth's saturation a coloring must keep (--criteria)


def load_pairs(
    data: Path, split: str = "val", limit: int | None = None, every: int = 1
) -> list[dict]:
    """``[{"name", "group", "sketch", "truth"[, "parts"]}]`` with uint8 256² RGB halves (bicubic)
    and, where ``data/parts/DRAWING.png`` exists, the part map (uint8 256², 0 = no part).
    """
    files = sorted((data / split).glob("*.png"))[::every][:limit]
    pairs = []
    for path in files:
        image = Image.open(path).convert("RGB")
        w, h = image.size
        color = image.crop((0, 0, w // 2, h)).resize((SIZE, SIZE), Image.Resampling.BICUBIC)
        sketch = image.crop((w // 2, 0, w, h)).resize((SIZE, SIZE), Image.Resampling.BICUBIC)
        stem = path.stem.split("#")[0]
        source = stem.split("-", 1)[0] if "-" in stem else "all"
        kind = "traced" if stem != drawing_of(stem) else "vector"
        pair = {
            "name": stem,
            "group": f"{source}/{kind}",
            "sketch": np.asarray(sketch),
            "truth": np.asarray(color),
        }
        part_file = data / "parts" / f"{drawing_of(stem)}.png"
        if part_file.exists():
            parts = Image.open(part_file).convert("L")
            if parts.size != (SIZE, SIZE):
                parts = parts.resize((SIZE, SIZE), Image.Resampling.NEAREST)
            pair["parts"] = np.asarray(parts)
        pairs.append(pair)
    return pairs


def pairs_from_svgs(folder: Path, group: str = "hand-drawn") -> list[dict]:
    """Colored SVGs → pairs with vector and traced line art, as the dataset builders make them."""
    from training.datasets.lineart import extract_lines
    from training.datasets.openclipart import line_render, render

    parts_file = folder / "parts.json"
    known = json.loads(parts_file.read_text()) if parts_file.exists() else {}
    pairs = []
    for svg in sorted(folder.glob("*.svg")):
        text = svg.read_text()
        color = render(text, SIZE)
        for kind, lines in (("vector", line_render(text, SIZE)), ("traced", extract_lines(color))):
            pair = {"name": svg.stem, "group": f"{group}/{kind}", "sketch": lines, "truth": color}
            if svg.stem in known.get("drawings", {}):
                pair["parts"] = parts_by_color(color, known["drawings"][svg.stem], known["index"])
            pairs.append(pair)
    return pairs


def parts_by_color(color: np.ndarray, fills: dict[str, str], index: list[str]) -> np.ndarray:
    """A part map of a flat-colored render: pixels of each part's fill color (within 6 levels,
    so anti-aliased edges stay out) get the part's index in ``index``; the rest 0."""
    parts = np.zeros(color.shape[:2], np.uint8)
    for part, fill in fills.items():
        rgb = np.array([int(fill[i : i + 2], 16) for i in (1, 3, 5)])
        parts[np.abs(color.astype(int) - rgb).max(axis=-1) <= 6] = index.index(part)
    return parts


def saturation(rgb: np.ndarray) -> np.ndarray:
    """HSV saturation in [0, 1] of uint8 (..., 3)."""
    x = rgb.astype(np.float32)
    top = x.max(axis=-1)
    return (top - x.min(axis=-1)) / np.maximum(top, 1.0)


def paper_mask(sketch: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Paper: white in truth and sketch and connected to the border. bool (H, W)."""
    white = (truth.min(axis=-1) > WHITE) & (sketch.min(axis=-1) > WHITE)
    _, labels = cv2.connectedComponents(white.astype(np.uint8), connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return np.isin(labels, border[border > 0]) & white


def regions(sketch: np.ndarray, paper: np.ndarray) -> list[np.ndarray]:
    """Areas enclosed by the sketch's lines (not paper, not tiny), as bool masks."""
    inside = (sketch.min(axis=-1) > LINE) & ~paper
    count, labels, stats, _ = cv2.connectedComponentsWithStats(inside.astype(np.uint8), 4)
    return [labels == i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= MIN_REGION]


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.reshape(1, -1, 3).astype(np.uint8), cv2.COLOR_RGB2LAB)[0].astype(
        np.float32
    )


def color_criteria(sketch: np.ndarray, truth: np.ndarray, output: np.ndarray) -> dict[str, float]:
    """Per-picture sums for the color criteria (see the module docstring)."""
    paper = paper_mask(sketch, truth)
    figure = (truth.min(axis=-1) <= WHITE) & (sketch.min(axis=-1) > LINE)
    result = {
        "figure_px": float(figure.sum()),
        "sat_truth": float(saturation(truth)[figure].sum()),
        "sat_output": float(saturation(output)[figure].sum()),
        "paper_px": float(paper.sum()),
        "paper_white_px": float((paper & (output.min(axis=-1) > WHITE - 15)).sum()),
        "regions_colored_truth": 0.0,
        "regions_colored_both": 0.0,
    }
    means_truth, means_output = [], []
    for mask in regions(sketch, paper):
        t, o = truth[mask], output[mask]
        if saturation(t).mean() > COLORED:
            result["regions_colored_truth"] += 1
            result["regions_colored_both"] += float(saturation(o).mean() > COLORED / 2)
        means_truth.append(t.mean(axis=0))
        means_output.append(o.mean(axis=0))
    if len(means_truth) >= 2:
        lt, lo = _lab(np.array(means_truth)), _lab(np.array(means_output))
        dt = np.linalg.norm(lt[:, None] - lt[None], axis=-1).mean()
        do = np.linalg.norm(lo[:, None] - lo[None], axis=-1).mean()
        result["contrast_truth"], result["contrast_output"] = float(dt), float(do)
    return result


def flatten(sketch: np.ndarray, truth: np.ndarray, output: np.ndarray) -> np.ndarray:
    """The output flattened to its own mean color: the figure (all but the paper) painted in the
    mean output color of its unlined pixels, times the sketch's lines; the paper as output.
    """
    paper = paper_mask(sketch, truth)
    figure = ~paper & (sketch.min(axis=-1) > LINE)
    mean = output[figure].mean(axis=0) if figure.any() else np.full(3, 255.0)
    lines = sketch.min(axis=-1, keepdims=True).astype(np.float32) / 255.0
    flat = np.where(paper[..., None], output.astype(np.float32), mean * lines)
    return np.clip(flat + 0.5, 0, 255).astype(np.uint8)


def _hsv_of(rgb: np.ndarray) -> tuple[float, float, float]:
    """Hue (degrees), saturation and value of one mean RGB color (0–255 floats)."""
    hsv = cv2.cvtColor(np.clip(rgb, 0, 255).astype(np.uint8).reshape(1, 1, 3), cv2.COLOR_RGB2HSV)
    h, s, v = hsv[0, 0].astype(np.float32)
    return float(h) * 2.0, float(s) / 255.0, float(v) / 255.0


def hue_right(truth_rgb: np.ndarray, output_rgb: np.ndarray) -> bool:
    """Whether a part's mean output color has the truth's hue (within ``HUE_TOLERANCE``°), or
    both are achromatic (saturation or value below ``ACHROMATIC``)."""
    ht, st, vt = _hsv_of(truth_rgb)
    ho, so, vo = _hsv_of(output_rgb)
    gray_t, gray_o = min(st, vt) < ACHROMATIC, min(so, vo) < ACHROMATIC
    if gray_t or gray_o:
        return gray_t and gray_o
    return min(abs(ht - ho), 360.0 - abs(ht - ho)) <= HUE_TOLERANCE


def part_hues(
    sketch: np.ndarray, truth: np.ndarray, output: np.ndarray, parts: np.ndarray
) -> tuple[int, int]:
    """(parts with the right hue, parts judged) of one picture; lines are left out."""
    unlined = sketch.min(axis=-1) > LINE
    right = judged = 0
    for part in np.unique(parts):
        mask = (parts == part) & unlined
        if part == 0 or mask.sum() < MIN_PART:
            continue
        judged += 1
        right += hue_right(truth[mask].mean(axis=0), output[mask].mean(axis=0))
    return right, judged


def style_of(name: str) -> str:
    """A drawing's style: the last ``_`` word of its name (the character generator's style, as
    in ``faces-face0_00001_adventurer``)."""
    return drawing_of(name).rsplit("_", 1)[-1]


def part_means(pairs: Sequence[dict]) -> dict[tuple[str, int], np.ndarray]:
    """Mean truth color (float RGB) of each part over the pairs with part maps, per style and
    over all styles (style ``""``)."""
    sums: dict[tuple[str, int], list] = defaultdict(lambda: [np.zeros(3), 0])
    for pair in pairs:
        if "parts" not in pair:
            continue
        for part in np.unique(pair["parts"]):
            if part == 0:
                continue
            pixels = pair["truth"][pair["parts"] == part].astype(np.float64)
            for key in ((style_of(pair["name"]), int(part)), ("", int(part))):
                sums[key][0] += pixels.sum(axis=0)
                sums[key][1] += len(pixels)
    return {key: total / count for key, (total, count) in sums.items()}


def part_mean_oracle(
    pair: dict, means: dict[tuple[str, int], np.ndarray], base: np.ndarray | None = None
) -> np.ndarray:
    """``base`` (default: the pair's truth) with every part painted its mean color (its style's,
    else all styles'); parts the means do not know keep ``base``."""
    out = (pair["truth"] if base is None else base).astype(np.float64)
    for part in np.unique(pair["parts"]):
        mean = means.get((style_of(pair["name"]), int(part)), means.get(("", int(part))))
        if part != 0 and mean is not None:
            out[pair["parts"] == part] = mean
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def summarize(rows: list[dict[str, float]]) -> dict[str, float]:
    total: dict[str, float] = defaultdict(float)
    for row in rows:
        for key, value in row.items():
            total[key] += value
    return {
        "saturation_ratio": total["sat_output"] / max(total["sat_truth"], 1e-9),
        "regions_colored": total["regions_colored_both"] / max(total["regions_colored_truth"], 1),
        "paper_white": total["paper_white_px"] / max(total["paper_px"], 1),
        "region_contrast_ratio": total["contrast_output"] / max(total["contrast_truth"], 1e-9),
        "pictures": float(len(rows)),
        **(
            {"part_hues": total["parts_right"] / total["parts_judged"]}
            if total["parts_judged"]
            else {}
        ),
    }


def picture_scores(
    outputs: list[np.ndarray], truths: list[np.ndarray], *, ssim: bool = True
) -> dict[str, np.ndarray]:
    """Per-picture MSE (on [0, 1]) and, with ``ssim``, SSIM: float64 arrays, one value a picture.
    Groups of pictures then take :func:`set_scores` of any subset without scoring pictures again.
    """
    a = np.stack(outputs).astype(np.float32) / 255.0
    b = np.stack(truths).astype(np.float32) / 255.0
    scores = {"mse": np.mean((a - b) ** 2, axis=(1, 2, 3), dtype=np.float64)}
    if ssim:
        import tensorflow as tf

        scores["ssim"] = np.concatenate(
            [
                tf.image.ssim(tf.constant(a[i : i + 64]), tf.constant(b[i : i + 64]), 1.0).numpy()
                for i in range(0, len(a), 64)
            ]
        ).astype(np.float64)
    return scores


def set_scores(scores: dict[str, np.ndarray], index: Sequence[int] | None = None) -> dict:
    """Set-level PSNR (from the mean MSE) and mean SSIM of the pictures ``index`` (default all)."""
    pick = slice(None) if index is None else np.asarray(index, dtype=np.int64)
    result = {"psnr": psnr_of_mse(float(scores["mse"][pick].mean()))}
    if "ssim" in scores:
        result["ssim"] = float(scores["ssim"][pick].mean())
    return result


def psnr_ssim(outputs: list[np.ndarray], truths: list[np.ndarray]) -> dict[str, float]:
    """Set-level PSNR (from the mean MSE, on [0, 1]) and mean SSIM, as training reports them."""
    return set_scores(picture_scores(outputs, truths))


def sampled_hints(pairs: list[dict], count: int, seed: int = 0) -> list[list]:
    """``count`` hints per pair sampled from its truth (model pixels = pair pixels at 256²);
    the same for every model scored with the same ``seed``."""
    from training.hints import sample_hints

    rng = np.random.default_rng(seed + count)
    return [sample_hints(p["truth"], rng, sketch=p["sketch"], count=count) for p in pairs]


def run_model(
    weights: Path | None,
    pairs: list[dict],
    *,
    hint_counts: Sequence[int] = (),
    styles: Sequence[str] | None = None,
    **colorizer_kw,
) -> dict[str, list]:
    """Raw 256² outputs and the Colorizer's output in each style for every pair (uint8 RGB);
    for a hint model also ``raw+Kh`` and ``STYLE+Kh``: the raw output and each style's with K
    hints sampled from the truth.
    """
    from inference.colorizer import STYLES, Colorizer, to_pixels
    from inference.settings import InferenceSettings

    # Weights other than .onnx are exported once into the engine's cache (PIXELPAINTER_CACHE).
    colorizer_kw.setdefault("cache_dir", InferenceSettings().pixelpainter_cache)
    colorizer = Colorizer.load(weights, **colorizer_kw)
    channels = colorizer.engine.input_channels
    styles = STYLES if styles is None else styles
    counts = [k for k in hint_counts if channels != 3]
    hints = {k: sampled_hints(pairs, k) for k in counts}
    outputs: dict[str, list] = {
        "raw": [],
        **{style: [] for style in styles},
        **{f"{variant}+{k}h": [] for k in counts for variant in ("raw", *styles)},
    }

    def run(prepared: list, suffix: str = "") -> None:
        """One model call for ``prepared`` sketches, then the raw output and every style (they
        differ only in the post-processing), appended under ``raw`` / ``STYLE`` + ``suffix``."""
        out = colorizer.engine.predict(np.stack([p.model_input for p in prepared]))
        outputs[f"raw{suffix}"] += list(to_pixels(out))
        for style in styles:  # in cel a hint decides its region: what a person gets
            outputs[f"{style}{suffix}"] += [
                colorizer.finish(p, o, style=style).image_array
                for p, o in zip(prepared, out, strict=True)
            ]

    for start in range(0, len(pairs), 16):
        chunk = pairs[start : start + 16]
        run([colorizer.prepare(Image.fromarray(p["sketch"])) for p in chunk])
        for k in counts:  # the same sketches with hints (256² pairs: sketch = model pixels)
            dots = hints[k][start : start + 16]
            run(
                [
                    colorizer.prepare(Image.fromarray(p["sketch"]), hints=h)
                    for p, h in zip(chunk, dots, strict=True)
                ],
                f"+{k}h",
            )
    return outputs


def report(
    pairs: list[dict],
    models: dict[str, Path | None],
    outputs: dict[str, dict] | None = None,
    means: dict[tuple[str, int], np.ndarray] | None = None,
) -> dict[str, dict]:
    """``{group: {model/variant: metrics}}`` with ``all`` over every pair and the baseline.

    Variants: ``raw`` (the 256² model output) and each Colorizer style (``cel``, ``soft``).
    ``outputs``: already computed :func:`run_model` results by model name. ``means``
    (:func:`part_means` of training pairs): add ``ceiling_part_means`` to each group that has
    pairs with part maps (see the module's docstring).
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for i, pair in enumerate(pairs):
        groups["all"].append(i)
        groups[pair["group"]].append(i)
        groups[pair["group"].split("/")[0]].append(i)
    outputs = outputs or {name: run_model(path, pairs) for name, path in models.items()}
    # Per-picture work once per output (every pair is in three groups): MSE and SSIM of the
    # output, MSE of its flat version, and the color-criteria sums; the groups then pool them.
    truths = [pair["truth"] for pair in pairs]
    sketch_scores = picture_scores([pair["sketch"] for pair in pairs], truths)
    with_parts = [i for i, pair in enumerate(pairs) if "parts" in pair] if means else []
    scores: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    flat_scores: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    rows: dict[tuple[str, str], list[dict[str, float]]] = {}
    # The parts repainted at their means (--ceiling): scores over ``with_parts`` only.
    at_means: dict[tuple[str, str], tuple[dict, dict]] = {}
    for name, out in outputs.items():
        for variant, images in out.items():
            key = (name, variant)
            flats, rows[key] = [], []
            for pair, o in zip(pairs, images, strict=True):
                flats.append(flatten(pair["sketch"], pair["truth"], o))
                row = color_criteria(pair["sketch"], pair["truth"], o)
                if "parts" in pair:
                    right, judged = part_hues(pair["sketch"], pair["truth"], o, pair["parts"])
                    row.update(parts_right=float(right), parts_judged=float(judged))
                rows[key].append(row)
            scores[key] = picture_scores(images, truths)
            flat_scores[key] = picture_scores(flats, truths, ssim=False)
            if with_parts:
                at_means[key] = _margin_scores(
                    pairs,
                    with_parts,
                    [part_mean_oracle(pairs[i], means, images[i]) for i in with_parts],  # type: ignore[arg-type]
                )
    if with_parts:
        at_means[("", "ceiling")] = _margin_scores(
            pairs,
            with_parts,
            [part_mean_oracle(pairs[i], means) for i in with_parts],  # type: ignore[arg-type]
        )
    result: dict[str, dict] = {}
    for group, index in sorted(groups.items()):
        entry: dict[str, dict] = {"baseline_sketch_itself": set_scores(sketch_scores, index)}
        members = set(index)
        mine = [k for k, i in enumerate(with_parts) if i in members]
        if mine:
            entry["ceiling_part_means"] = {
                **_margin(*at_means["", "ceiling"], mine),
                "pictures": float(len(mine)),
            }
        for name, variant in rows:
            metrics = set_scores(scores[name, variant], index)
            metrics["psnr_flat"] = set_scores(flat_scores[name, variant], index)["psnr"]
            metrics["flat_margin_db"] = metrics["psnr"] - metrics["psnr_flat"]
            metrics.update(summarize([rows[name, variant][i] for i in index]))
            if mine:
                repainted = _margin(*at_means[name, variant], mine)
                metrics["psnr_parts_at_means"] = repainted["psnr"]
                metrics["flat_margin_parts_at_means_db"] = repainted["flat_margin_db"]
            entry[f"{name}/{variant}"] = metrics
        entry["pairs"] = {"count": len(index)}
        result[group] = entry
    return result


def _margin_scores(
    pairs: list[dict], index: list[int], images: list[np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-picture MSE of ``images`` (one for each pair of ``index``) and of their flat versions."""
    truths = [pairs[i]["truth"] for i in index]
    flats = [
        flatten(pairs[i]["sketch"], pairs[i]["truth"], o)
        for i, o in zip(index, images, strict=True)
    ]
    return picture_scores(images, truths, ssim=False), picture_scores(flats, truths, ssim=False)


def _margin(scores: dict, flat_scores: dict, index: list[int]) -> dict[str, float]:
    """Set PSNR, flat PSNR and flat margin of the pictures ``index``."""
    psnr = set_scores(scores, index)["psnr"]
    flat = set_scores(flat_scores, index)["psnr"]
    return {"psnr": psnr, "psnr_flat": flat, "flat_margin_db": psnr - flat}


def grid(
    pairs: list[dict], outputs: dict[str, list], path: Path, rows: int = 8, style: str = "cel"
) -> Path:
    """Rows of sketch | output in ``style`` | truth, spread over the groups (vector lines first)."""
    from training.metrics import sample_grid

    by_group: dict[str, list[int]] = defaultdict(list)
    for i, pair in enumerate(pairs):
        by_group[pair["group"]].append(i)
    order = sorted(by_group, key=lambda g: (not g.endswith("vector"), g))
    chosen: list[int] = []
    while len(chosen) < min(rows, len(pairs)):
        for group in order:
            if by_group[group] and len(chosen) < rows:
                chosen.append(by_group[group].pop(0))
    style = style if style in outputs else "raw"
    unit = [
        tuple(
            np.asarray(a, np.float32) / 127.5 - 1.0
            for a in (pairs[i]["sketch"], outputs[style][i], pairs[i]["truth"])
        )
        for i in chosen
    ]
    return sample_grid(unit, path)


def before_after(
    pairs: list[dict],
    old: Path | None,
    new: Path | None,
    path: Path,
    *,
    names: Sequence[str],
    hints: int = 4,
    style: str = "cel",
) -> Path:
    """Rows of sketch | old model | new model | new model with ``hints`` hints (dots drawn) |
    truth, for the pairs named ``names`` (``name`` or ``name/kind``), in ``style``.
    """
    from inference.colorizer import Colorizer
    from training.metrics import sample_grid

    chosen = [p for n in names for p in pairs if n in (p["name"], f"{p['name']}/{p['group']}")]
    chosen = [p for p in chosen if p["group"].endswith("vector")] or chosen
    before, after = Colorizer.load(old), Colorizer.load(new)
    dots = sampled_hints(chosen, hints)
    unit = lambda a: np.asarray(a, np.float32) / 127.5 - 1.0  # noqa: E731
    rows = []
    for pair, pair_hints in zip(chosen, dots, strict=True):
        image = Image.fromarray(pair["sketch"])
        hinted = after.run([after.prepare(image, hints=pair_hints)], style=style)[0]
        shown = np.asarray(hinted.image.convert("RGB")).copy()
        for h in pair_hints:  # the dots a person placed, ringed so they show on any color
            center = (round(h.x), round(h.y))
            cv2.circle(shown, center, 5, (0, 0, 0), 1, cv2.LINE_AA)
            cv2.circle(shown, center, 4, (255, 255, 255), 1, cv2.LINE_AA)
            cv2.circle(shown, center, 3, tuple(int(c) for c in h.color), -1, cv2.LINE_AA)
        rows.append(
            tuple(
                unit(a)
                for a in (
                    pair["sketch"],
                    np.asarray(before.colorize(image, style=style).image.convert("RGB")),
                    np.asarray(after.colorize(image, style=style).image.convert("RGB")),
                    shown,
                    pair["truth"],
                )
            )
        )
    return sample_grid(rows, path)


def criteria(result: dict[str, dict], reference: str, style: str = "cel") -> dict[str, dict]:
    """``{model: {source: checks, ..., "pass": bool}}`` for every model of ``result`` (a
    :func:`report`) but ``reference``, on each top-level source whose pairs have part maps.

    ``checks``: ``flat_margin_db`` (≥ ``FLAT_MARGIN_BAR``), ``saturation_ratio`` (≥
    ``SATURATION_BAR``) and ``part_hues`` (more than ``reference``'s), each ``{"value", "pass"}``
    (``part_hues`` with ``"reference"``), and ``"pass"``: all three.
    """
    table: dict[str, dict] = defaultdict(dict)
    for source, entry in result.items():
        if source == "all" or "/" in source:
            continue
        variant = style if f"{reference}/{style}" in entry else "raw"
        ref = entry.get(f"{reference}/{variant}", {})
        if "part_hues" not in ref:
            continue
        for key, m in entry.items():
            name, _, kind = key.partition("/")
            if kind != variant or name == reference:
                continue
            checks: dict = {
                "flat_margin_db": {
                    "value": m["flat_margin_db"],
                    "pass": m["flat_margin_db"] >= FLAT_MARGIN_BAR,
                },
                "saturation_ratio": {
                    "value": m["saturation_ratio"],
                    "pass": m["saturation_ratio"] >= SATURATION_BAR,
                },
                "part_hues": {
                    "value": m["part_hues"],
                    "reference": ref["part_hues"],
                    "pass": m["part_hues"] > ref["part_hues"],
                },
            }
            checks["pass"] = all(c["pass"] for c in checks.values())
            table[name][source] = checks
    for sources in table.values():
        sources["pass"] = all(c["pass"] for c in sources.values())
    return dict(table)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__)
    parser.add_argument("--data", type=Path, help="dataset with val/ pairs")
    parser.add_argument(
        "--svgs",
        type=Path,
        help="also score colored SVGs in this folder (line art made here; group hand-drawn)",
    )
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="NAME=WEIGHTS",
        help="a model to score (repeatable); WEIGHTS 'bundled' = the package's default",
    )
    parser.add_argument("--split", default="val")
    parser.add_argument(
        "--criteria",
        metavar="REF",
        help="judge every other model on the issue-15 bar against the model named REF",
    )
    parser.add_argument("--limit", type=int, help="only the first N pairs")
    parser.add_argument(
        "--every", type=int, default=1, help="only every K-th pair (a spread-out subset)"
    )
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="also report the part-means oracle's scores (needs --data with parts/ and train/)",
    )
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    parser.add_argument("--grid", type=Path, help="save sketch | output | truth rows (first model)")
    parser.add_argument("--grid-rows", type=int, default=8)
    parser.add_argument(
        "--hints",
        type=int,
        action="append",
        default=[],
        metavar="K",
        help="also score hint models with K hints sampled from the truth (repeatable)",
    )
    parser.add_argument(
        "--styles",
        default="cel,soft",
        help="Colorizer styles to score beside the raw output (comma-separated; '' for none)",
    )
    args = parser.parse_args(argv)
    models: dict[str, Path | None] = {}
    for spec in args.model:
        name, _, path = spec.partition("=")
        models[name] = None if path in ("", "bundled") else Path(path)
    pairs = load_pairs(args.data, args.split, args.limit, args.every) if args.data else []
    if args.svgs:
        pairs += pairs_from_svgs(args.svgs)
    if not pairs:
        print(
            "python -m training.evaluate: no pairs (give --data with val/*.png, or --svgs)",
            file=sys.stderr,
        )
        return 2
    styles = [s for s in args.styles.split(",") if s]
    if args.criteria is not None and args.criteria not in models:
        print(
            f"python -m training.evaluate: --criteria {args.criteria}: no --model of that name",
            file=sys.stderr,
        )
        return 2
    outputs = {
        name: run_model(path, pairs, hint_counts=args.hints, styles=styles)
        for name, path in models.items()
    }
    means = None
    if args.ceiling:
        if args.data is None:
            print("python -m training.evaluate: --ceiling needs --data", file=sys.stderr)
            return 2
        means = part_means(load_pairs(args.data, "train", every=3))
    result = report(pairs, models, outputs, means)
    verdicts = {}
    if args.criteria is not None:
        verdicts = criteria(result, args.criteria, styles[0] if styles else "raw")
    if args.out:
        saved = {**result, "criteria": verdicts} if args.criteria is not None else result
        args.out.write_text(json.dumps(saved, indent=2) + "\n")
    if args.grid:
        grid(pairs, outputs[next(iter(models))], args.grid, args.grid_rows)
    for group, entry in result.items():
        print(f"## {group} ({entry['pairs']['count']} pairs)")
        for name, m in entry.items():
            if name == "pairs":
                continue
            extra = "".join(
                f"  {k} {m[k]:.2f}"
                for k in (
                    "flat_margin_db",
                    "flat_margin_parts_at_means_db",
                    "saturation_ratio",
                    "part_hues",
                    "regions_colored",
                    "paper_white",
                    "region_contrast_ratio",
                )
                if k in m
            )
            ssim = f"  SSIM {m['ssim']:.4f}" if "ssim" in m else ""
            print(f"  {name:32s} PSNR {m['psnr']:6.2f}{ssim}{extra}")
    for name, sources in verdicts.items():
        print(f"## criteria: {name} against {args.criteria}: {_verdict(sources['pass'])}")
        for source, c in sources.items():
            if source != "pass":
                hues = c["part_hues"]
                print(
                    f"  {source:12s} flat margin {c['flat_margin_db']['value']:5.2f} dB "
                    f"{_verdict(c['flat_margin_db']['pass'])}  saturation "
                    f"{c['saturation_ratio']['value']:.2f} {_verdict(c['saturation_ratio']['pass'])}"
                    f"  part hues {hues['value']:.2f} vs {hues['reference']:.2f} "
                    f"{_verdict(hues['pass'])}"
                )
    return 0


def _verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


if __name__ == "__main__":
    sys.exit(main())
