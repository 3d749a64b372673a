"""Line-art data: the SVG ink rule, the raster tracer, and the openclipart / lineart / mix builders.

Everything renders for real (resvg, OpenCV) on small hand-written SVGs and images.
"""

import gzip
import io
import json

import numpy as np
import pytest
import resvg_py
from PIL import Image

from training.datasets.__main__ import main
from training.datasets.lineart import build_lineart, extract_lines
from training.datasets.mix import build_mix, drawing_of, parse_source
from training.datasets.openclipart import build_openclipart, judge
from training.datasets.openmoji import DatasetError, split_of
from training.datasets.svglines import hollow_solid_areas, line_svg

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100">{}</svg>'
# A black silhouette under a red disc: the clip-art way of drawing an outline.
RIM = SVG.format(
    '<circle cx="50" cy="50" r="34" fill="#000"/><circle cx="50" cy="50" r="30" fill="#d02020"/>'
)
OUTLINED = SVG.format(
    '<rect x="10" y="10" width="80" height="80" fill="#3080e0" stroke="#111" stroke-width="3"/>'
    '<circle cx="50" cy="50" r="15" fill="#f0c020" stroke="#000" stroke-width="2"/>'
)
GRAY_ONLY = SVG.format(
    '<rect x="10" y="10" width="80" height="80" fill="#999" stroke="#000" stroke-width="2"/>'
)


def render(svg: str, size: int = 100) -> np.ndarray:
    png = resvg_py.svg_to_bytes(svg_string=svg, width=size, height=size, background="#ffffff")
    return np.asarray(Image.open(io.BytesIO(bytes(png))).convert("L"))


def test_light_paint_hides_ink_beneath_it_leaving_the_rim():
    lines = render(line_svg(RIM))
    assert lines[50, 50] == 255  # the red disc is paper in the line art, and hides the black
    assert lines[50, 50 - 32] < 60  # the visible black ring is the outline
    assert lines[5, 5] == 255


def test_dark_threshold_is_per_source():
    brown = SVG.format('<rect x="20" y="20" width="60" height="60" fill="#3e2214"/>')
    assert render(line_svg(brown, dark_below=0.3))[50, 50] < 60  # ink for clip art
    assert render(line_svg(brown, dark_below=0.1))[50, 50] == 255  # a dark skin tone elsewhere


def test_groups_pass_paint_down_and_faint_shapes_are_dropped():
    grouped = SVG.format(
        '<g style="fill:#000"><rect x="10" y="10" width="30" height="30"/></g>'
        '<g opacity="0.2"><rect x="60" y="60" width="30" height="30" fill="#000"/></g>'
    )
    lines = render(line_svg(grouped))
    assert lines[25, 25] < 60
    assert lines[75, 75] == 255


def test_hollow_keeps_lines_and_outlines_solid_areas():
    ink = np.zeros((60, 60), bool)
    ink[10:50, 10:30] = True  # a solid block
    ink[10:50, 40:42] = True  # a 2 px line
    hollow = hollow_solid_areas(ink, keep=2)
    assert hollow[10:50, 40:42].all()
    assert not hollow[20:40, 15:25].any()
    assert hollow[30, 10] and hollow[30, 29] and hollow[10, 20]


def test_tracer_draws_outlines_dark_and_saturated_fills_light():
    color = np.full((128, 128, 3), 255, np.uint8)
    yy, xx = np.mgrid[:128, :128]
    disc = (yy - 64) ** 2 + (xx - 64) ** 2
    color[disc < 40**2] = (0, 0, 0)
    color[disc < 37**2] = (220, 30, 30)
    lines = extract_lines(color)
    assert lines.shape == (128, 128, 3) and lines.dtype == np.uint8
    assert lines[64, 64 - 38, 0] < 100  # the black ring
    assert lines[64, 64, 0] > 240  # the red inside is not ink
    assert lines[5, 5, 0] == 255  # paper


def _clipart(root):
    people = root / "people"
    people.mkdir(parents=True)
    for i in range(6):
        (people / f"outlined_{i}.svg").write_text(OUTLINED.replace("#3080e0", f"#30{i}0e0"))
    (people / "gray.svg").write_text(GRAY_ONLY)
    (people / "photo.svg").write_text(SVG.format('<image href="x.png" width="10" height="10"/>'))
    (root / "shapes").mkdir()
    (root / "shapes" / "star.svg").write_text(OUTLINED)
    return root


def test_judge_names_the_filter():
    assert judge(OUTLINED) == "ok"
    assert judge(GRAY_ONLY) == "little color (outline-only or gray)"
    assert judge(SVG.format('<image href="x.png"/>')) == "embedded raster"


def test_openclipart_filters_renders_both_line_kinds_and_counts(tmp_path):
    src = _clipart(tmp_path / "svg")
    card = build_openclipart(tmp_path / "out", source=src, size=64, workers=1)
    assert card["kept_drawings"] == 6
    assert card["filters"]["other folders (icons, symbols, maps)"] == 1
    assert card["filters"]["little color (outline-only or gray)"] == 1
    assert card["filters"]["embedded raster"] == 1
    files = sorted((tmp_path / "out").glob("*/*.png"))
    assert len(files) == 12  # vector and traced line art per kept drawing
    assert card["pairs"]["train"] + card["pairs"]["val"] == 12
    for f in files:
        assert f.parent.name == split_of(drawing_of(f.stem))
        pair = np.asarray(Image.open(f).convert("RGB"))
        assert pair.shape == (64, 128, 3)
        assert pair[32, 20, 2] > 200 and pair[32, 20, 0] < 100  # blue fill on the left
        assert pair[32, 64 + 20].min() > 200  # no fill in the line art
    saved = json.loads((tmp_path / "out" / "DATACARD.json").read_text())
    assert saved["license"].startswith("Public domain")
    assert saved["version"] == "unknown"  # a bare folder of SVGs says nothing of its package


def test_openclipart_reads_its_version_from_the_unpacked_packages_changelog(tmp_path):
    tree = tmp_path / "x"
    src = _clipart(tree / "usr" / "share" / "openclipart" / "svg")
    doc = tree / "usr" / "share" / "doc" / "openclipart-svg"
    doc.mkdir(parents=True)
    with gzip.open(doc / "changelog.Debian.gz", "wt") as changelog:
        changelog.write("openclipart (1:0.18+dfsg-17) unstable; urgency=medium\n\n  * x\n")
    card = build_openclipart(tmp_path / "out", source=src, size=32, workers=1)
    assert card["version"] == "1:0.18+dfsg-17"


def test_lineart_builder_traces_an_artists_folder_and_skips_broken_files(tmp_path, capsys):
    art = tmp_path / "art"
    (art / "sub").mkdir(parents=True)
    rgba = Image.new("RGBA", (80, 40), (0, 0, 0, 0))
    rgba.paste((200, 40, 40, 255), (10, 10, 70, 30))
    rgba.save(art / "sub" / "transparent.png")
    png = bytes(resvg_py.svg_to_bytes(svg_string=OUTLINED, width=90, background="#ffffff"))
    Image.open(io.BytesIO(png)).convert("RGB").save(art / "a.jpg")
    (art / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (art / "notes.txt").write_text("not an image")
    assert main(["lineart", str(art), "--out", str(tmp_path / "out"), "--size", "64"]) == 0
    assert "wrote" in capsys.readouterr().out
    card = json.loads((tmp_path / "out" / "DATACARD.json").read_text())
    assert card["pairs"]["train"] + card["pairs"]["val"] == 2
    assert len(card["skipped"]) == 1 and "broken.png" in card["skipped"][0]
    pair = np.asarray(Image.open(next((tmp_path / "out").glob("*/art-sub_transparent.png"))))
    assert pair[2, 2].min() == 255  # transparency became paper, not black
    with pytest.raises(DatasetError, match="no images"):
        build_lineart(tmp_path / "out" / "nothing-here", tmp_path / "o2")


def _source(root, names, traced=False, parts=False):
    for name in names:
        if parts:  # a part map per drawing, as the faces builder writes them
            (root / "parts").mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.full((8, 8), 2, np.uint8)).save(root / "parts" / f"{name}.png")
        split = split_of(name)
        (root / split).mkdir(parents=True, exist_ok=True)
        pair = np.full((16, 32, 3), 255, np.uint8)
        pair[4:12, 4:12] = (200, 50, 50)
        pair[4:12, 20] = 0
        Image.fromarray(pair).save(root / split / f"{name}.png")
        if traced:
            Image.fromarray(pair).save(root / split / f"{name}~x.png")
    return root


def test_mix_weights_traces_and_keeps_variants_together(tmp_path):
    a = _source(tmp_path / "a", [f"a{i}" for i in range(30)], parts=True)
    b = _source(tmp_path / "b", [f"b{i}" for i in range(30)], traced=True)
    card = build_mix(tmp_path / "mix", [("faces", a, 2.0), ("clip", b, 1.0)])
    files = {p.name: p.parent.name for p in (tmp_path / "mix").glob("[tv]*/*.png")}
    # Part maps follow their drawing under the prefixed name (traced variants share them).
    parts = sorted(p.name for p in (tmp_path / "mix" / "parts").glob("*.png"))
    assert parts == sorted(f"faces-a{i}.png" for i in range(30))
    # Each drawing and its traced variant share a split; train pairs of faces appear twice.
    for name, split in files.items():
        base = drawing_of(name.split("#")[0].removesuffix(".png"))
        assert split == split_of(base)
    faces_val = sum(1 for n, s in files.items() if n.startswith("faces-") and s == "val")
    faces_train = sum(1 for n, s in files.items() if n.startswith("faces-") and s == "train")
    assert faces_train == 2 * (60 - faces_val)  # weight 2, traced variant added
    assert card["sources"]["faces"]["pairs"]["traced_added"] == 30
    assert card["sources"]["clip"]["pairs"]["traced_added"] == 0
    traced = np.asarray(Image.open(next((tmp_path / "mix").glob("*/faces-a0~x.png"))))
    assert traced[8, 8 + 16].min() > 200 and traced[8, 4 + 16].min() < 200  # lines, no fill
    again = build_mix(tmp_path / "mix2", [("faces", a, 2.0), ("clip", b, 1.0)])
    assert again["pairs"] == card["pairs"]


def test_mix_source_specs():
    assert parse_source("faces=/data/f:0.5") == (
        "faces",
        __import__("pathlib").Path("/data/f"),
        0.5,
    )
    assert parse_source("c=/d")[2] == 1.0
    with pytest.raises(DatasetError, match="NAME=DIR"):
        parse_source("/just/a/dir")


def test_vector_strokes_stay_single_lines_at_the_render_size():
    from training.datasets.openclipart import line_render

    thick = SVG.format(
        '<rect x="20" y="20" width="60" height="60" fill="#e0a040" stroke="#000" stroke-width="1.4"/>'
    )
    lines = line_render(thick, 512)  # the stroke is 7 px wide here, as a bold ink line
    row = lines[256, :, 0]
    ink = np.flatnonzero(row < 128)
    left = ink[ink < 256]
    assert len(left) >= 6 and left.max() - left.min() + 1 == len(left)  # one solid band
