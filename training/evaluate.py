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
  truth (one uniform wash scores near 0).
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


def load_pairs(data: Path, split: str = "val", limit: int | None = None) -> list[dict]:
    """``[{"name", "group", "sketch", "truth"}]`` with uint8 256² RGB halves (bicubic)."""
    files = sorted((data / split).glob("*.png"))[:limit]
    pairs = []
    for path in files:
        image = Image.open(path).convert("RGB")
        w, h = image.size
        color = image.crop((0, 0, w // 2, h)).resize((SIZE, SIZE), Image.Resampling.BICUBIC)
        sketch = image.crop((w // 2, 0, w, h)).resize((SIZE, SIZE), Image.Resampling.BICUBIC)
        stem = path.stem.split("#")[0]
        source = stem.split("-", 1)[0] if "-" in stem else "all"
        kind = "traced" if stem != drawing_of(stem) else "vector"
        pairs.append(
            {
                "name": stem,
                "group": f"{source}/{kind}",
                "sketch": np.asarray(sketch),
                "truth": np.asarray(color),
            }
        )
    return pairs


def pairs_from_svgs(folder: Path, group: str = "anime") -> list[dict]:
    """Colored SVGs → pairs with vector and traced line art, as the dataset builders make them."""
    from training.datasets.lineart import extract_lines
    from training.datasets.openclipart import line_render, render

    pairs = []
    for svg in sorted(folder.glob("*.svg")):
        text = svg.read_text()
        color = render(text, SIZE)
        for kind, lines in (("vector", line_render(text, SIZE)), ("traced", extract_lines(color))):
            pairs.append(
                {"name": svg.stem, "group": f"{group}/{kind}", "sketch": lines, "truth": color}
            )
    return pairs


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
    }


def psnr_ssim(outputs: list[np.ndarray], truths: list[np.ndarray]) -> dict[str, float]:
    """Set-level PSNR (from the mean MSE, on [0, 1]) and mean SSIM, as training reports them."""
    import tensorflow as tf

    a = np.stack(outputs).astype(np.float32) / 255.0
    b = np.stack(truths).astype(np.float32) / 255.0
    ssim = float(tf.reduce_mean(tf.image.ssim(tf.constant(a), tf.constant(b), 1.0)))
    return {"psnr": psnr_of_mse(float(np.mean((a - b) ** 2))), "ssim": ssim}


def run_model(weights: Path | None, pairs: list[dict], **colorizer_kw) -> dict[str, list]:
    """Raw 256² outputs and the Colorizer's output in each style for every pair (uint8 RGB)."""
    from inference.colorizer import STYLES, Colorizer
    from inference.settings import InferenceSettings

    # Weights other than .onnx are exported once into the engine's cache (PIXELPAINTER_CACHE).
    colorizer_kw.setdefault("cache_dir", InferenceSettings().pixelpainter_cache)
    colorizer = Colorizer.load(weights, **colorizer_kw)
    outputs: dict[str, list] = {"raw": [], **{style: [] for style in STYLES}}
    for start in range(0, len(pairs), 16):
        prepared = [
            colorizer.prepare(Image.fromarray(p["sketch"])) for p in pairs[start : start + 16]
        ]
        # One model call for every style: the styles differ only in the post-processing.
        out = colorizer.engine.predict(np.stack([p.model_input for p in prepared]))
        for style in STYLES:
            results = [
                colorizer.finish(p, o, style=style) for p, o in zip(prepared, out, strict=True)
            ]
            outputs[style] += [r.image_array for r in results]
        outputs["raw"] += [r.raw_array for r in results]
    return outputs


def report(
    pairs: list[dict], models: dict[str, Path | None], outputs: dict[str, dict] | None = None
) -> dict[str, dict]:
    """``{group: {model/variant: metrics}}`` with ``all`` over every pair and the baseline.

    Variants: ``raw`` (the 256² model output) and each Colorizer style (``cel``, ``soft``).
    ``outputs``: already computed :func:`run_model` results by model name.
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for i, pair in enumerate(pairs):
        groups["all"].append(i)
        groups[pair["group"]].append(i)
        groups[pair["group"].split("/")[0]].append(i)
    outputs = outputs or {name: run_model(path, pairs) for name, path in models.items()}
    result: dict[str, dict] = {}
    for group, index in sorted(groups.items()):
        truths = [pairs[i]["truth"] for i in index]
        sketches = [pairs[i]["sketch"] for i in index]
        entry: dict[str, dict] = {"baseline_sketch_itself": psnr_ssim(sketches, truths)}
        for name, out in outputs.items():
            for variant, images in out.items():
                chosen = [images[i] for i in index]
                metrics = psnr_ssim(chosen, truths)
                metrics.update(
                    summarize(
                        [
                            color_criteria(s, t, o)
                            for s, t, o in zip(sketches, truths, chosen, strict=True)
                        ]
                    )
                )
                entry[f"{name}/{variant}"] = metrics
        entry["pairs"] = {"count": len(index)}
        result[group] = entry
    return result


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
    unit = [
        tuple(
            np.asarray(a, np.float32) / 127.5 - 1.0
            for a in (pairs[i]["sketch"], outputs[style][i], pairs[i]["truth"])
        )
        for i in chosen
    ]
    return sample_grid(unit, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__)
    parser.add_argument("--data", type=Path, help="dataset with val/ pairs")
    parser.add_argument(
        "--svgs", type=Path, help="also score colored SVGs in this folder (line art made here)"
    )
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="NAME=WEIGHTS",
        help="a model to score (repeatable); WEIGHTS 'bundled' = the package's default",
    )
    parser.add_argument("--split", default="val")
    parser.add_argument("--limit", type=int, help="only the first N pairs")
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    parser.add_argument("--grid", type=Path, help="save sketch | output | truth rows (first model)")
    parser.add_argument("--grid-rows", type=int, default=8)
    args = parser.parse_args(argv)
    models: dict[str, Path | None] = {}
    for spec in args.model:
        name, _, path = spec.partition("=")
        models[name] = None if path in ("", "bundled") else Path(path)
    pairs = load_pairs(args.data, args.split, args.limit) if args.data else []
    if args.svgs:
        pairs += pairs_from_svgs(args.svgs)
    if not pairs:
        print(
            "python -m training.evaluate: no pairs (give --data with val/*.png, or --svgs)",
            file=sys.stderr,
        )
        return 2
    outputs = {name: run_model(path, pairs) for name, path in models.items()}
    result = report(pairs, models, outputs)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
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
                    "saturation_ratio",
                    "regions_colored",
                    "paper_white",
                    "region_contrast_ratio",
                )
                if k in m
            )
            print(f"  {name:32s} PSNR {m['psnr']:6.2f}  SSIM {m['ssim']:.4f}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
