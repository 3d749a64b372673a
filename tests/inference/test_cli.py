import subprocess
import sys

from PIL import Image

from inference.cli import main


def _sketches(folder, n=3):
    folder.mkdir()
    for i in range(n):
        Image.new("RGB", (200 + 50 * i, 150), "white").save(folder / f"s{i}.png")
    (folder / "readme.txt").write_text("not an image")
    return folder


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


def test_bad_files_are_skipped_with_a_reason(tiny_onnx, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_text("text")
    good = tmp_path / "good.png"
    Image.new("RGB", (64, 64), "white").save(good)
    code = main(
        ["colorize", str(bad), str(good), "-o", str(tmp_path / "o"), "--weights", str(tiny_onnx)]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert (
        "skipped" in captured.out + captured.err and "not an image" in captured.out + captured.err
    )
    assert (tmp_path / "o" / "good.png").exists()


def test_weights_from_environment(tiny_onnx, tmp_path, monkeypatch):
    monkeypatch.setenv("GENERATOR_WEIGHTS", str(tiny_onnx))
    src = _sketches(tmp_path / "in", 1)
    assert main(["colorize", str(src), "-o", str(tmp_path / "out")]) == 0


def test_info(tiny_weights, capsys):
    assert main(["info", str(tiny_weights)]) == 0
    out = capsys.readouterr().out
    assert "Keras 3 weights" in out and "width:      8" in out and "853,795" in out


def test_bad_weights_one_line_exit_2(tmp_path):
    bogus = tmp_path / "w.h5"
    bogus.write_text("nope")
    proc = subprocess.run(
        [sys.executable, "-m", "inference", "info", str(bogus)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("pixelpainter:") and "w.h5" in proc.stderr
    assert "Traceback" not in proc.stderr
