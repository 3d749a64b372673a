"""The anime builder for real: characters drawn, rendered by resvg, written as pairs with part maps."""

import json

import cv2
import numpy as np
import pytest
from PIL import Image

from training.datasets.__main__ import main
from training.datasets.anime import FRAMINGS, SKIN, build_anime, draw_character, to_svg
from training.datasets.faces import PART_SIZE, PARTS
from training.datasets.openmoji import DatasetError, split_of
from training.evaluate import style_of

SIZE = 128
COUNT = 12


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("anime")
    return out, build_anime(out, count=COUNT, size=SIZE, seed=3, workers=1)


def _halves(path):
    pair = np.asarray(Image.open(path).convert("RGB"), np.int16)
    assert pair.shape == (SIZE, 2 * SIZE, 3)
    return pair[:, :SIZE], pair[:, SIZE:]


def _rgb(hex_color):
    return np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])


def test_pairs_in_kaggle_layout(built):
    out, counts = built
    files = sorted(p for split in ("train", "val") for p in (out / split).glob("*.png"))
    assert counts["train"] + counts["val"] == COUNT == len(files)
    saturations = []
    for f in files:
        assert f.parent.name == split_of(f.stem)
        assert style_of(f.stem) == "anime"  # one style for the per-style part means
        assert f.stem.split("_")[0].split("-")[1] in FRAMINGS
        color, line = _halves(f)
        hi, lo = color.max(-1), color.min(-1)
        figure = lo < 245
        assert 0.1 < figure.mean() < 0.9
        saturations.append(((hi - lo) / np.maximum(hi, 1))[figure].mean())
        assert (line.min(-1) > 240).mean() > 0.7  # the line art is mostly paper,
        assert 0.01 < (line.max(-1) < 100).mean() < 0.25  # with dark lines,
        assert (line.max(-1) - line.min(-1)).max() < 40  # and no color
    # Colored on the whole (a character in black and white with pale skin is fine).
    assert np.mean(saturations) > 0.2


def test_part_maps_mark_skin_hair_eyes_and_clothes(built):
    out, _ = built
    chars = json.loads((out / "characters.json").read_text())
    assert len(chars) == COUNT
    for c in chars:
        parts = Image.open(out / "parts" / f"{c['name']}.png")
        assert parts.size == (PART_SIZE, PART_SIZE)
        parts = np.asarray(parts.resize((SIZE, SIZE), Image.Resampling.NEAREST))
        color, line = _halves(out / split_of(c["name"]) / f"{c['name']}.png")
        for part in ("skin", "hair", "eyes", "clothes"):
            mask = parts == PARTS.index(part)
            assert mask.sum() >= 3, (c["name"], part)
            if part == "eyes":  # irises are small and carry a pupil and highlights
                continue
            mask = cv2.erode(mask.astype(np.uint8), np.ones((3, 3))) > 0
            # Most of the part carries its base color; cel shadows and shines cover the rest.
            close = np.abs(color[mask] - _rgb(c[part])).max(axis=-1) < 40
            assert close.mean() > 0.5, (c["name"], part, close.mean())
        # Lines are no part: where the line art is ink, the map says 0 (but for anti-aliasing).
        ink = line.max(-1) < 128
        assert ink.sum() > 50 and (parts[ink] == 0).mean() > 0.5, (parts[ink] == 0).mean()


def test_same_seed_same_pairs_and_resume(built, tmp_path):
    out, _ = built
    again = tmp_path / "again"
    build_anime(again, count=COUNT, size=SIZE, seed=3, workers=2)
    first = {p.relative_to(out): p.read_bytes() for p in out.glob("*/*.png")}
    assert {p.relative_to(again): p.read_bytes() for p in again.glob("*/*.png")} == first
    stamps = {p: p.stat().st_mtime_ns for p in again.glob("*/*.png")}
    build_anime(again, count=COUNT, size=SIZE, seed=3, workers=1)
    assert {p: p.stat().st_mtime_ns for p in again.glob("*/*.png")} == stamps  # kept
    assert to_svg(draw_character(0, 3), "color") != to_svg(draw_character(0, 4), "color")


def test_line_art_has_no_shadows_and_colors_vary():
    chars = [draw_character(i, 0) for i in range(300)]
    # Cel shadows and highlights are fill-only shapes: they never reach the line art.
    char = next(c for c in chars if any(not s.outline for s in c.shapes))
    line = to_svg(char, "line")
    for s in char.shapes:
        if not s.outline:
            assert s.d not in line
    # No part has one usual color; skin follows the anime convention, mostly light.
    assert len({c.palette.hair for c in chars}) > 150
    assert len({c.palette.clothes for c in chars}) > 200
    tones = [c.palette.skin_tone for c in chars]
    assert 0.7 < tones.count("light") / len(tones) < 0.9
    assert set(tones) == set(SKIN)
    assert {c.framing for c in chars} == set(FRAMINGS)


def test_data_card(built):
    out, counts = built
    card = json.loads((out / "DATACARD.json").read_text())
    assert card["dataset"] == "anime" and card["count"] == COUNT and card["seed"] == 3
    assert card["licence"].startswith("MIT")
    assert sum(card["framings"].values()) == COUNT
    assert card["part_maps"]["index"] == list(PARTS)
    assert counts == {
        "train": sum(split_of(f.stem) == "train" for f in (out / "train").glob("*.png")),
        "val": sum(split_of(f.stem) == "val" for f in (out / "val").glob("*.png")),
    }


def test_cli(tmp_path, capsys):
    assert main(["anime", "--out", str(tmp_path / "a"), "--count", "2", "--size", "64"]) == 0
    assert "pairs to" in capsys.readouterr().out
    assert len(list((tmp_path / "a").glob("*/anime*.png"))) == 2 + 2  # pairs and part maps
    assert main(["anime", "--out", str(tmp_path / "b"), "--count", "0"]) == 2
    assert "--count must be at least 1" in capsys.readouterr().err
    with pytest.raises(DatasetError):
        build_anime(tmp_path / "c", count=-1)
