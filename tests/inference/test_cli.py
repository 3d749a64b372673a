"""``pixelpainter``: never loses work, one line per failure, honest exit codes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from inference import __version__
from inference.cli import main
from inference.weights import TF_INSTALL_HINT
from tests.support.sketches import sketch

ROOT = Path(__file__).resolve().parents[2]


def _sketches(folder: Path, n: int = 3) -> Path:
    folder.mkdir(parents=True)
    for i in range(n):
        sketch((200 + 50 * i, 150), seed=i).save(folder / f"s{i}.png")
    (folder / "readme.txt").write_text("not an image")
    return folder


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_colorize_folder_with_raw_and_layer(tiny_onnx, tmp_path, capsys):
    src = _sketches(tmp_path / "in")
    out = tmp_path / "out"
    code = main(
        ["colorize", str(src), "-o", str(out), "--weights", str(tiny_onnx), "--raw", "--layer"]
    )
    assert code == 0
    for i in range(3):
        assert Image.open(out / f"s{i}.png").size == (200 + 50 * i, 150)
        assert Image.open(out / f"s{i}.raw.png").size == (256, 256)
        assert Image.open(out / f"s{i}.layer.png").size == (200 + 50 * i, 150)
    assert "3 colorized" in capsys.readouterr().out


def test_subfolders_are_mirrored(tiny_onnx, tmp_path):
    src = tmp_path / "in"
    for sub, size in (("a", (40, 30)), ("a/deep", (50, 30)), ("b", (60, 30))):
        (src / sub).mkdir(parents=True)
        sketch(size).save(src / sub / "pic.png")
    out = tmp_path / "out"
    assert main(["colorize", str(src), "-o", str(out), "--weights", str(tiny_onnx)]) == 0
    assert Image.open(out / "a" / "pic.png").size == (40, 30)
    assert Image.open(out / "a" / "deep" / "pic.png").size == (50, 30)
    assert Image.open(out / "b" / "pic.png").size == (60, 30)


def test_same_names_never_share_an_output(tiny_onnx, tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    sources = [tmp_path / "a" / "pic.png", tmp_path / "b" / "pic.png", tmp_path / "pic.jpg"]
    for i, path in enumerate(sources):
        sketch((40 + 10 * i, 30)).save(path)
    out = tmp_path / "out"
    code = main(["colorize", *map(str, sources), "-o", str(out), "--weights", str(tiny_onnx)])
    captured = capsys.readouterr()
    assert code == 0 and "3 colorized" in captured.out
    # Each input has its own output, told apart by its width.
    widths = {p.name: Image.open(p).width for p in out.iterdir()}
    assert widths == {"pic.png": 40, "pic-2.png": 50, "pic-3.png": 60}
    assert f"{sources[1]} → {out / 'pic-2.png'}" in captured.err


def test_output_into_the_input_folder_keeps_the_sketches(tiny_onnx, tmp_path, capsys):
    src = _sketches(tmp_path / "in", 2)
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    assert main(["colorize", str(src), "-o", str(src), "--weights", str(tiny_onnx)]) == 0
    assert {p.name: p.read_bytes() for p in src.iterdir() if p.name in before} == before
    assert {p.name for p in src.iterdir()} - set(before) == {"s0-2.png", "s1-2.png"}
    assert "is that sketch" in capsys.readouterr().err


def test_output_folder_inside_the_input_is_not_read_back(tiny_onnx, tmp_path, capsys):
    src = _sketches(tmp_path / "in", 2)
    for _ in range(2):
        assert (
            main(["colorize", str(src), "-o", str(src / "out"), "--weights", str(tiny_onnx)]) == 0
        )
        assert "2 colorized" in capsys.readouterr().out
    # The second run's results are not colorized again, and do not replace the first run's.
    assert sorted(p.name for p in (src / "out").iterdir()) == [
        "s0-2.png",
        "s0.png",
        "s1-2.png",
        "s1.png",
    ]


def test_one_sketch_to_a_named_file(tiny_onnx, tmp_path, capsys):
    src = _sketches(tmp_path / "in", 1) / "s0.png"
    target = tmp_path / "result.png"
    code = main(["colorize", str(src), "-o", str(target), "--weights", str(tiny_onnx), "--raw"])
    assert code == 0
    assert target.is_file() and Image.open(target).size == (200, 150)
    assert Image.open(tmp_path / "result.raw.png").size == (256, 256)
    assert f"1 colorized into {target}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("result.png", "names one file, but 2 sketches"),
        ("in/s0.png", "names one file, but 2 sketches"),
        ("taken.txt", "is an existing file"),
        ("taken.txt/sub", "cannot create the output folder"),
    ],
)
def test_bad_output_is_one_line_and_exit_2(tiny_onnx, tmp_path, capsys, out, message):
    src = _sketches(tmp_path / "in", 2)
    (tmp_path / "taken.txt").write_text("keep me")
    code = main(["colorize", str(src), "-o", str(tmp_path / out), "--weights", str(tiny_onnx)])
    assert code == 2
    assert message in _one_line(capsys.readouterr().err)
    assert (tmp_path / "taken.txt").read_text() == "keep me"
    assert not (tmp_path / "result.png").exists()


def test_named_output_that_is_the_input_is_refused(tiny_onnx, tmp_path, capsys):
    src = _sketches(tmp_path / "in", 1) / "s0.png"
    before = src.read_bytes()
    assert main(["colorize", str(src), "-o", str(src), "--weights", str(tiny_onnx)]) == 2
    assert "is the sketch itself" in _one_line(capsys.readouterr().err)
    assert src.read_bytes() == before


@pytest.mark.parametrize(
    ("name", "out", "flag"),
    [("pic.raw.png", "pic.png", "--raw"), ("q.layer.png", "q.png", "--layer")],
)
def test_a_named_output_never_replaces_the_input_beside_it(
    tiny_onnx, tmp_path, capsys, name, out, flag
):
    src = tmp_path / name
    sketch((64, 48)).save(src)
    before = src.read_bytes()
    code = main(
        ["colorize", str(src), "-o", str(tmp_path / out), flag, "--weights", str(tiny_onnx)]
    )
    assert code == 2
    assert f"would write {src}, which is the sketch itself" in _one_line(capsys.readouterr().err)
    assert src.read_bytes() == before and not (tmp_path / out).exists()


def test_existing_files_in_the_output_folder_are_kept(tiny_onnx, tmp_path, capsys):
    src = _sketches(tmp_path / "in", 2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "s0.png").write_bytes(b"an earlier picture")
    (out / "s1.layer.png").write_bytes(b"an earlier layer")
    code = main(["colorize", str(src), "-o", str(out), "--layer", "--weights", str(tiny_onnx)])
    assert code == 0
    assert (out / "s0.png").read_bytes() == b"an earlier picture"
    assert (out / "s1.layer.png").read_bytes() == b"an earlier layer"
    assert Image.open(out / "s0-2.png").size == (200, 150)
    assert Image.open(out / "s1-2.layer.png").size == (250, 150)
    assert not (out / "s1.png").exists()  # s1's outputs stay together, as s1-2
    err = capsys.readouterr().err
    assert f"{out / 's0.png'} is taken" in err and f"{out / 's1.layer.png'} is taken" in err


def _colorize_with_a_file_size_limit(args: list[str], limit: int) -> subprocess.CompletedProcess:
    """The CLI in a process whose writes fail past ``limit`` bytes (a disk that fills up)."""
    import resource

    def limit_writes() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "inference", "colorize", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
        preexec_fn=limit_writes,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_write_cut_off_midway_leaves_the_old_file_whole(tiny_onnx, tmp_path):
    src = tmp_path / "s.png"
    sketch((400, 300), seed=3).save(src)
    target = tmp_path / "result.png"
    target.write_bytes(b"the previous result, to keep")
    proc = _colorize_with_a_file_size_limit(
        [str(src), "-o", str(target), "--style", "soft", "--weights", str(tiny_onnx)], 2_000
    )
    assert proc.returncode == 1, proc.stderr
    assert "cannot write" in proc.stderr
    assert target.read_bytes() == b"the previous result, to keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.png", "s.png"]  # no debris


def test_failed_inputs_are_counted_and_exit_1(tiny_onnx, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_text("text")
    good = tmp_path / "good.png"
    sketch((64, 64)).save(good)
    missing = tmp_path / "missing.png"
    out = tmp_path / "o"
    code = main(
        ["colorize", str(bad), str(good), str(missing), "-o", str(out), "--weights", str(tiny_onnx)]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "1 colorized" in captured.out and "2 of 3 sketches failed" in captured.out
    assert f"skipped {bad}: not an image this program can read" in captured.err
    assert f"skipped {missing}: no such file" in captured.err
    assert [p.name for p in out.iterdir()] == ["good.png"]


def test_nothing_found_is_exit_1(tiny_onnx, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code = main(["colorize", str(tmp_path / "empty"), "-o", str(tmp_path / "o")])
    assert code == 1
    assert "no images found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flag", "value"), [("--max-side", "0"), ("--max-side", "big"), ("--batch", "0")]
)
def test_bad_numbers_are_one_line_and_exit_2(tmp_path, capsys, flag, value):
    code = main(["colorize", str(tmp_path), "-o", str(tmp_path / "o"), flag, value])
    assert code == 2
    line = _one_line(capsys.readouterr().err)
    assert flag in line and value in line


def test_downscale_is_announced(tiny_onnx, tmp_path, capsys):
    src = tmp_path / "wide.png"
    sketch((300, 100)).save(src)
    out = tmp_path / "o"
    args = ["colorize", str(src), "-o", str(out), "--weights", str(tiny_onnx), "--max-side", "60"]
    assert main(args) == 0
    assert f"downscaled {src}: 300×100 → 60×20 (--max-side 60)" in capsys.readouterr().err
    assert Image.open(out / "wide.png").size == (60, 20)
    assert main([*args[:-1], "300"]) == 0
    assert "downscaled" not in capsys.readouterr().err


def test_version_and_defaults_in_help(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"pixelpainter {__version__}"
    assert main(["colorize", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: 2048)" in text and "(default: 4)" in text
    assert "the bundled model" in text and "all cores" in text


def test_weights_from_environment(tiny_onnx, tmp_path, monkeypatch):
    monkeypatch.setenv("GENERATOR_WEIGHTS", str(tiny_onnx))
    src = _sketches(tmp_path / "in", 1)
    assert main(["colorize", str(src), "-o", str(tmp_path / "out")]) == 0


def test_bad_setting_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INFERENCE_THREADS", "many")
    code = main(["colorize", str(tmp_path), "-o", str(tmp_path / "o")])
    assert code == 2
    assert "INFERENCE_THREADS" in _one_line(capsys.readouterr().err)


def test_h5_weights_say_they_convert_once(tiny_weights, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PIXELPAINTER_CACHE", str(tmp_path / "cache"))
    src = _sketches(tmp_path / "in", 1)
    args = ["colorize", str(src), "-o", str(tmp_path / "o"), "--weights", str(tiny_weights)]
    assert main(args) == 0
    assert f"Converting {tiny_weights} to ONNX once" in capsys.readouterr().err
    assert main(args) == 0
    assert "Converting" not in capsys.readouterr().err


def test_corrupt_onnx_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07\x12\xff\xff\xff garbage")
    src = _sketches(tmp_path / "in", 1)
    assert main(["colorize", str(src), "-o", str(tmp_path / "o"), "--weights", str(bad)]) == 2
    assert "broken.onnx" in _one_line(capsys.readouterr().err)
    assert main(["info", str(bad)]) == 2
    assert "broken.onnx" in _one_line(capsys.readouterr().err)


def test_info(tiny_weights, tiny_onnx, capsys):
    assert main(["info", str(tiny_weights)]) == 0
    out = capsys.readouterr().out
    assert "Keras 3 weights" in out and "width:      8" in out and "853,795" in out
    assert main(["info", str(tiny_onnx)]) == 0
    out = capsys.readouterr().out
    assert "ONNX model" in out and "width:      8" in out and "853,795" in out


def _run_python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT
    )


def test_info_on_onnx_imports_no_tensorflow():
    code = (
        "import sys\n"
        "from inference.cli import main\n"
        "assert main(['info', sys.argv[1]]) == 0\n"
        "print(sorted({'tensorflow', 'keras', 'onnx', 'h5py'} & set(sys.modules)))\n"
    )
    proc = _run_python(code, str(ROOT / "inference" / "assets" / "default.onnx"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
    assert "width:      16" in proc.stdout


# As if installed without the [tf] extra: importing any of these fails.
WITHOUT_TF = "import sys\nfor m in ('tensorflow', 'keras', 'h5py', 'tf2onnx', 'onnx'):\n    sys.modules[m] = None\n"


def test_h5_weights_without_tensorflow_name_the_extra(tiny_weights, tmp_path):
    src = _sketches(tmp_path / "in", 1)
    code = WITHOUT_TF + "from inference.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    proc = _run_python(
        code, "colorize", str(src), "-o", str(tmp_path / "o"), "--weights", str(tiny_weights)
    )
    assert proc.returncode == 2
    line = _one_line(proc.stderr)
    assert str(tiny_weights) in line and TF_INSTALL_HINT in line


def test_bundled_onnx_colorizes_without_tensorflow(tmp_path):
    code = WITHOUT_TF + "from inference.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    example = ROOT / "inference" / "assets" / "example_sketch.png"
    proc = _run_python(code, "colorize", str(example), "-o", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o" / "example_sketch.png").exists()


def test_bad_weights_one_line_exit_2(tmp_path):
    bogus = tmp_path / "w.h5"
    bogus.write_text("nope")
    proc = subprocess.run(
        [sys.executable, "-m", "inference", "info", str(bogus)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert _one_line(proc.stderr).startswith("pixelpainter:") and "w.h5" in proc.stderr


def test_export_onnx_into_a_folder_is_one_line(tiny_weights, tmp_path, capsys):
    assert main(["export-onnx", str(tiny_weights), str(tmp_path)]) == 2
    assert "is a folder" in _one_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["colorize", "x.png"], "the following arguments are required: -o/--out"),
        (["paint"], "invalid choice: 'paint'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_usage_errors_are_one_line(capsys, argv, message):
    assert main(argv) == 2
    assert message in _one_line(capsys.readouterr().err)


def test_checkpoint_without_tensorflow_is_one_line(tmp_path):
    # A checkpoint is recognised from its file names; converting it is what needs TensorFlow.
    ckpt = ROOT / "tests" / "inference" / "fixtures" / "tf215_checkpoint"
    src = _sketches(tmp_path / "in", 1)
    code = WITHOUT_TF + "from inference.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "colorize",
            str(src),
            "-o",
            str(tmp_path / "o"),
            "--weights",
            str(ckpt),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PIXELPAINTER_CACHE": str(tmp_path / "cache")},
    )
    assert proc.returncode == 2
    assert TF_INSTALL_HINT in _one_line(proc.stderr)


def _boxes(path: Path, size: tuple[int, int]) -> Path:
    """A closed box on white (its inside is one region around the middle)."""
    img = Image.new("RGB", size, "white")
    w, h = size
    ImageDraw.Draw(img).rectangle(
        (w // 8, h // 8, w - w // 8, h - h // 8), outline="black", width=3
    )
    img.save(path)
    return path


def test_hints_color_every_sketch(tiny_hint_onnx, tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    _boxes(src / "a.png", (200, 160))
    _boxes(src / "b.png", (300, 240))
    hints = tmp_path / "hints.json"
    hints.write_text('[{"x": 100, "y": 80, "color": "#d03030"}]')
    out = tmp_path / "out"
    args = ["colorize", str(src), "-o", str(out), "--weights", str(tiny_hint_onnx)]
    assert main([*args, "--hints", str(hints), "--style", "cel"]) == 0
    assert "2 colorized" in capsys.readouterr().out
    for name in ("a.png", "b.png"):
        colored = Image.open(out / name).convert("RGB")
        # Each sketch's own pixel (100, 80) is inside its box: the hint's color, flat.
        assert colored.getpixel((100, 80)) == (0xD0, 0x30, 0x30)
        assert colored.getpixel((140, 100)) == (0xD0, 0x30, 0x30)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('[{"x": 1, "y": 2, "color": "#000000"}, {"x": 1, "y": 2}]', "hint 1: missing 'color'"),
        ("not json", "the hints are not valid JSON"),
        (None, "cannot read it"),
    ],
)
def test_a_bad_hints_file_is_one_line_and_exit_2(
    tiny_hint_onnx, tmp_path, capsys, document, message
):
    src = _boxes(tmp_path / "a.png", (64, 64))
    hints = tmp_path / "hints.json"
    if document is not None:
        hints.write_text(document)
    argv = ["colorize", str(src), "-o", str(tmp_path / "o"), "--weights", str(tiny_hint_onnx)]
    assert main([*argv, "--hints", str(hints)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(f"pixelpainter: --hints {hints}: {message}")
    assert not (tmp_path / "o").exists(), "nothing is done before the hints are read"


def test_hints_for_a_model_without_hint_channels_are_one_line_and_exit_2(
    tiny_onnx, tmp_path, capsys
):
    src = _boxes(tmp_path / "a.png", (64, 64))
    hints = tmp_path / "hints.json"
    hints.write_text('[{"x": 10, "y": 10, "color": "#d03030"}]')
    argv = ["colorize", str(src), "-o", str(tmp_path / "o"), "--weights", str(tiny_onnx)]
    assert main([*argv, "--hints", str(hints)]) == 2
    assert "this model takes no color hints" in _one_line(capsys.readouterr().err)
    assert not list((tmp_path / "o").glob("*.png"))
