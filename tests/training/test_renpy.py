"""The Ren'Py evaluation set: sprite rules, DEP-5 licences, pairs, and evaluation only.

The packages are faked as unpacked trees (``dpkg-deb -x`` layout) with sprites drawn by Pillow,
so nothing is fetched.
"""

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from training.cli import main as train_main
from training.data import DataError, scan_dataset
from training.datacard import EVALUATION_ONLY, is_evaluation_only
from training.datasets.__main__ import main as datasets_main
from training.datasets.mix import build_mix
from training.datasets.openmoji import DatasetError
from training.datasets.renpy import DUPLICATE, build_renpy, judge, licence_of
from training.evaluate import main as evaluate_main

COPYRIGHT = """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Renpy

Files: *
Copyright: 2004-2022 Tom Rothamel <pytom@bishoujo.us>
           2007-2014 by the Sphinx team
License:   Expat

Files: the_question/game/images/sylvie*
Copyright: 2010 An Artist
License: CC-BY-SA-4.0
Comment: a later paragraph overrides Files: * for the files it names

Files: debian/*
Copyright: 2016-2022, Markus Koschany <apo@debian.org>
License: Expat

License: Expat
 Permission is hereby granted, free of charge, ...
"""


def sprite(hair: str, *, width: int = 240, height: int = 520, soft: bool = False) -> Image.Image:
    """A standing figure on a transparent canvas: head and dress outlined in black."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((60, 20, 180, 160), fill=hair, outline="black", width=4)
    draw.polygon([(120, 150), (20, 510), (220, 510)], fill="#3080e0", outline="black", width=4)
    if soft:  # a glow: every visible pixel partly transparent
        image.putalpha(Image.eval(image.getchannel("A"), lambda a: a * 3 // 5))
    return image


def package(root, name, game, images):
    tree = root / name
    folder = tree / "usr/share/games/renpy" / game / "game"
    for rel, image in images.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        image.save(folder / rel)
    doc = tree / "usr/share/doc" / name
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(COPYRIGHT)
    with gzip.open(doc / "changelog.Debian.gz", "wt") as log:
        log.write("renpy (8.0.3+dfsg-1) unstable; urgency=medium\n\n  * New upstream.\n")


@pytest.fixture
def source(tmp_path):
    root = tmp_path / "debs"
    package(
        root,
        "renpy-thequestion",
        "the_question",
        {
            "images/sylvie green smile.png": sprite("#a04010"),
            "images/sylvie green normal.png": sprite("#603010"),
            "images/sylvie zz copy.png": sprite("#a04010"),  # same pixels as "green smile"
            "images/bg meadow.png": Image.new("RGBA", (640, 520), "#70c070"),
            "images/glow.png": sprite("#ffff80", soft=True),
            "gui/button/idle_background.png": sprite("#ffffff"),
        },
    )
    package(
        root,
        "renpy-demo",
        "demo",
        {
            "images/eileen happy.png": sprite("#402080"),
            "images/bar full idle.png": sprite("#c0c0c0", width=400, height=30),
            "images/spotlight.png": sprite("#ffffff", width=520, height=520),
            "images/concert1.png": Image.new("RGB", (300, 520), "#203040"),
        },
    )
    return root


def test_pairs_only_in_val_named_by_game(source, tmp_path):
    out = tmp_path / "renpy"
    card = build_renpy(out, source=source, size=64)
    assert sorted(p.name for p in (out / "val").iterdir()) == [
        "renpy-demo-eileen_happy~x.png",
        "renpy-thequestion-sylvie_green_normal~x.png",
        "renpy-thequestion-sylvie_green_smile~x.png",
    ]
    assert not (out / "train").exists() and card["pairs"] == {"val": 3}
    pair = np.asarray(Image.open(out / "val" / "renpy-demo-eileen_happy~x.png").convert("RGB"))
    assert pair.shape == (64, 128, 3)
    color, lines = pair[:, :64], pair[:, 64:]
    assert (color[0, 0] == 255).all() and (color[:, 32] < 200).any()  # figure on white
    assert lines.min() < 100 and np.median(lines) > 200  # dark lines on white paper
    assert json.loads((out / "DATACARD.json").read_text()) == card


def test_each_drop_rule_is_counted(source, tmp_path):
    filters = build_renpy(tmp_path / "renpy", source=source, size=64)["filters"]
    assert filters == {
        "ok": 3,
        DUPLICATE: 1,
        "background or logo (bg / logo tag)": 1,
        "soft alpha (glow or effect)": 1,
        "outside game/images (GUI, icons)": 1,
        "too small (under 480 px high)": 1,
        "not a standing figure (under 1.3× as high as wide)": 1,
        "no transparency": 1,
    }


def test_card_records_licence_and_holders_per_package(source, tmp_path):
    card = build_renpy(tmp_path / "renpy", source=source, size=64)
    assert card["use"] == EVALUATION_ONLY
    question, demo = card["packages"]["renpy-thequestion"], card["packages"]["renpy-demo"]
    assert question["version"] == demo["version"] == "8.0.3+dfsg-1"
    assert question["license"] == ["CC-BY-SA-4.0"] and question["copyright"] == ["2010 An Artist"]
    assert demo["license"] == ["Expat"]
    assert demo["copyright"] == [
        "2004-2022 Tom Rothamel <pytom@bishoujo.us>",
        "2007-2014 by the Sphinx team",
    ]
    assert demo["files"]["renpy-demo-eileen_happy~x"]["file"] == "demo/game/images/eileen happy.png"
    assert card["license"] == ["CC-BY-SA-4.0", "Expat"]
    assert "Tom Rothamel" in card["attribution"] and "never committed" in card["redistribution"]


def test_licence_of_takes_the_last_matching_paragraph():
    assert licence_of(COPYRIGHT, "the_question/game/images/sylvie a.png")["license"] == (
        "CC-BY-SA-4.0"
    )
    assert licence_of(COPYRIGHT, "demo/game/images/eileen happy.png")["license"] == "Expat"
    assert licence_of("Format: x\n", "a.png") == {"license": "unknown", "copyright": []}


def test_judge_wants_a_sprite_in_game_images():
    assert judge(Path("game/images/lucy mad.png"), sprite("#e0a0a0")) == "ok"
    assert judge(Path("game/lucy mad.png"), sprite("#e0a0a0")).startswith("outside")
    assert judge(Path("game/images/logo base.png"), sprite("#e0a0a0")).startswith("background")
    empty = Image.new("RGBA", (240, 520), (0, 0, 0, 0))
    assert judge(Path("game/images/x.png"), empty).startswith("figure covers")


def test_missing_package_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="renpy-thequestion/copyright"):
        build_renpy(tmp_path / "out", source=tmp_path)


def test_cli_builds_it(source, tmp_path, capsys):
    out = tmp_path / "renpy"
    assert datasets_main(["renpy", "--source", str(source), "--out", str(out), "--size", "64"]) == 0
    assert f"wrote 3 val pairs to {out}" in capsys.readouterr().out
    assert is_evaluation_only(out)


def test_mix_and_trainer_refuse_it_and_say_why(source, tmp_path, capsys):
    data = tmp_path / "renpy"
    build_renpy(data, source=source, size=64)
    (data / "train").mkdir()  # even with a train/ folder beside val/
    refusal = f'{data}: its DATACARD.json says "use": "evaluation only": never train or tune on it'
    with pytest.raises(DatasetError, match="never train or tune on it"):
        build_mix(tmp_path / "mix", [("renpy", data, 1.0)])
    assert not (tmp_path / "mix").exists()
    code = datasets_main(["mix", "--source", f"renpy={data}", "--out", str(tmp_path / "mix")])
    assert code == 2 and refusal in capsys.readouterr().err
    with pytest.raises(DataError, match="evaluation only"):
        scan_dataset(data)
    code = train_main(["--data", str(data), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("pixelpainter-train: bad data:") and refusal in err
    assert err.count("\n") == 1 and not (tmp_path / "run").exists()


def test_evaluate_scores_it_without_train(source, tmp_path, tiny_onnx):
    data = tmp_path / "renpy"
    build_renpy(data, source=source, size=64)
    report = tmp_path / "report.json"
    args = ["--data", str(data), "--model", f"m={tiny_onnx}", "--styles", "cel"]
    assert evaluate_main([*args, "--out", str(report)]) == 0
    groups = json.loads(report.read_text())
    assert groups["renpy/traced"]["pairs"]["count"] == 3
    assert "psnr" in groups["renpy/traced"]["m/cel"]
