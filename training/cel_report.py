"""Does cel hold on sketches unlike the training data? Figure/paper merging and cel vs soft.

``python -m training.cel_report [--svgs training/eval_art] [--data DATA] [--weights W] [--out R.json]``

Three sets, through the real inference path (:class:`inference.Colorizer`, the bundled model
unless ``--weights``):

- ``--svgs``: colored SVG characters, rendered as :mod:`training.evaluate` renders them, at
  ``--size`` (512: the size people send), with three kinds of line art: vector, traced from the
  color render, and *faint* (the vector lines lightened so the darkest is 200, like pencil);
- ``--data``: the val split of a training folder (Kaggle pairs), when it is on this machine;
- the generated sketches of :data:`training.sketches.SKETCH_VARIANTS` (faint, broken,
  shaded, photographed lines), whose figure and paper are known exactly.

For each: **figure in paper**, the share of figure pixels (off the lines) that end up in the
paper's region (the region holding most of the true paper: a merge shows as a large share);
where there is a truth, PSNR/SSIM of the cel and soft outputs against it; for the generated set,
the worst per-shape standard deviation inside closed shapes (6 px off the lines) and the share
of paper pixels that come out white (≥ 245).
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

from training.evaluate import LINE, WHITE, load_pairs, paper_mask, psnr_ssim
from training.sketches import SKETCH_VARIANTS, geometric

FAINT = 200  # the darkest level of the faint line art


def svg_pairs(folder: Path, size: int) -> list[dict]:
    """Each colored SVG with vector, traced and faint line art: ``{name, group, sketch, truth,
    figure, paper}`` (uint8 RGB at ``size``², bool masks)."""
    from training.datasets.lineart import extract_lines
    from training.datasets.openclipart import line_render, render

    pairs = []
    for svg in sorted(folder.glob("*.svg")):
        text = svg.read_text()
        color = render(text, size)
        vector = line_render(text, size)
        faint = (255 - (255 - vector.astype(np.float32)) * (255 - FAINT) / 255).round()
        kinds = {"vector": vector, "traced": extract_lines(color), "faint": faint.astype(np.uint8)}
        paper = paper_mask(vector, color)
        figure = (color.min(axis=-1) <= WHITE) & (vector.min(axis=-1) > LINE) & ~paper
        for kind, lines in kinds.items():
            pairs.append(
                {
                    "name": svg.stem,
                    "group": f"eval_art/{kind}",
                    "sketch": lines,
                    "truth": color,
                    "figure": figure,
                    "paper": paper,
                }
            )
    return pairs


def val_pairs(data: Path, limit: int | None) -> list[dict]:
    """The val split's pairs with their figure and paper masks (from the truth and sketch);
    ``limit``: that many, spread evenly over the split (every source, both line kinds)."""
    pairs = load_pairs(data, "val")
    if limit and limit < len(pairs):
        pairs = [pairs[round(i * len(pairs) / limit)] for i in range(limit)]
    for pair in pairs:
        pair["paper"] = paper_mask(pair["sketch"], pair["truth"])
        pair["figure"] = (
            (pair["truth"].min(axis=-1) <= WHITE)
            & (pair["sketch"].min(axis=-1) > LINE)
            & ~pair["paper"]
        )
        pair["group"] = f"val/{pair['group']}"
    return pairs


def generated_pairs() -> list[dict]:
    """The generated sketches (no truth): figure, paper and the closed shapes are known."""

    pairs = []
    for name, kwargs in SKETCH_VARIANTS.items():
        drawing = geometric(**kwargs)
        pairs.append(
            {
                "name": name,
                "group": f"generated/{name}",
                "sketch": np.asarray(drawing.image),
                "figure": drawing.figure,
                "paper": drawing.paper,
                "shapes": drawing.shapes,
            }
        )
    return pairs


def _away(mask: np.ndarray, px: int = 6) -> np.ndarray:
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1))
    return cv2.erode(mask.astype(np.uint8), disc) > 0


def figure_in_paper(regions: np.ndarray, figure: np.ndarray, paper: np.ndarray) -> float:
    """Share of ``figure`` pixels in the region that holds most of the ``paper`` pixels."""
    held = regions[paper]
    held = held[held > 0]
    if not held.size or not figure.any():
        return 0.0
    paper_id = int(np.bincount(held).argmax())
    return float((regions[figure] == paper_id).mean())


def measure(pairs: list[dict], weights: Path | None) -> dict[str, dict[str, float]]:
    """Per group (and per set): figure-in-paper, cel/soft PSNR and SSIM, flatness, white paper."""
    from inference.colorizer import Colorizer

    colorizer = Colorizer.load(weights)
    rows: dict[str, list[dict]] = defaultdict(list)
    for pair in pairs:
        sketch = Image.fromarray(pair["sketch"])
        prepared = colorizer.prepare(sketch)
        output = colorizer.engine.predict(prepared.model_input[None])[0]
        cel = colorizer.finish(prepared, output, style="cel")
        soft = colorizer.finish(prepared, output, style="soft")
        row = {
            "figure_in_paper": figure_in_paper(cel.regions, pair["figure"], pair["paper"]),
            "cel": cel.image_array,
            "soft": soft.image_array,
            "truth": pair.get("truth"),
        }
        if "shapes" in pair:
            row["shape_std"] = max(
                float(cel.image_array[_away(s)].astype(np.float64).std(axis=0).max())
                for s in pair["shapes"]
            )
            row["paper_white"] = float(
                (cel.image_array[_away(pair["paper"])].min(axis=1) >= 245).mean()
            )
        for group in (pair["group"], pair["group"].split("/")[0]):
            rows[group].append(row)
    result: dict[str, dict[str, float]] = {}
    for group, group_rows in sorted(rows.items()):
        entry = {
            "pictures": float(len(group_rows)),
            "figure_in_paper": float(np.mean([r["figure_in_paper"] for r in group_rows])),
            "figure_in_paper_worst": float(max(r["figure_in_paper"] for r in group_rows)),
        }
        if all(r["truth"] is not None for r in group_rows):
            truths = [r["truth"] for r in group_rows]
            for style in ("cel", "soft"):
                scores = psnr_ssim([r[style] for r in group_rows], truths)
                entry[f"{style}_psnr"], entry[f"{style}_ssim"] = scores["psnr"], scores["ssim"]
        if all("shape_std" in r for r in group_rows):
            entry["shape_std_worst"] = max(r["shape_std"] for r in group_rows)
            entry["paper_white_worst"] = min(r["paper_white"] for r in group_rows)
        result[group] = entry
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.cel_report", description=__doc__)
    parser.add_argument("--svgs", type=Path, default=Path(__file__).parent / "eval_art")
    parser.add_argument("--data", type=Path, help="a training folder whose val/ split to score")
    parser.add_argument("--limit", type=int, help="only N val pairs, spread over the split")
    parser.add_argument("--size", type=int, default=512, help="render the SVGs this large")
    parser.add_argument("--weights", type=Path, help="generator weights (default: bundled)")
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    args = parser.parse_args(argv)
    pairs = svg_pairs(args.svgs, args.size) + generated_pairs()
    if args.data:
        pairs += val_pairs(args.data, args.limit)
    result = measure(pairs, args.weights)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print("| set | pictures | figure in paper (worst) | cel PSNR / SSIM | soft PSNR / SSIM |")
    print("|---|---|---|---|---|")
    for group, m in result.items():
        cel = f"{m['cel_psnr']:.2f} / {m['cel_ssim']:.3f}" if "cel_psnr" in m else "—"
        soft = f"{m['soft_psnr']:.2f} / {m['soft_ssim']:.3f}" if "soft_psnr" in m else "—"
        extra = ""
        if "shape_std_worst" in m:
            extra = f" (shapes σ ≤ {m['shape_std_worst']:.1f}, paper white ≥ {m['paper_white_worst']:.3f})"
        print(
            f"| {group} | {m['pictures']:.0f} | {m['figure_in_paper']:.3f} "
            f"({m['figure_in_paper_worst']:.3f}){extra} | {cel} | {soft} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
