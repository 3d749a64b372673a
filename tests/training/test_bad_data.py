"""Every kind of bad data stops the run before training, with the files named."""

import pytest
from PIL import Image

from tests.support.sketches import training_pair, training_set
from training.cli import main
from training.data import DataError, scan_dataset


def test_empty_folder(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "val").mkdir()
    with pytest.raises(DataError, match="no images"):
        scan_dataset(tmp_path)


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="no such folder"):
        scan_dataset(tmp_path / "nope")


def test_missing_val(tmp_path):
    training_set(tmp_path, train=2, val=0)
    (tmp_path / "val").rmdir()
    with pytest.raises(DataError, match="val/"):
        scan_dataset(tmp_path)


def test_wrong_image_size_names_the_file(tmp_path):
    training_set(tmp_path, train=3, val=1)
    Image.new("RGB", (300, 300)).save(tmp_path / "train" / "square.png")
    with pytest.raises(DataError, match=r"square\.png \(300×300\)"):
        scan_dataset(tmp_path)


def test_non_image_files_are_named(tmp_path):
    training_set(tmp_path, train=3, val=1)
    (tmp_path / "train" / "notes.txt").write_text("hi")
    (tmp_path / "train" / "broken.png").write_text("not a png")
    with pytest.raises(DataError, match=r"notes\.txt"):
        scan_dataset(tmp_path)
    (tmp_path / "train" / "notes.txt").unlink()
    with pytest.raises(DataError, match=r"broken\.png"):
        scan_dataset(tmp_path)


def test_unpaired_names_in_paired_folders(tmp_path):
    for split in ("train", "val"):
        for kind in ("sketch", "color"):
            (tmp_path / split / kind).mkdir(parents=True)
        for name in ("a", "b"):
            pair = training_pair(ord(name))
            pair.crop((64, 0, 128, 64)).save(tmp_path / split / "sketch" / f"{name}.png")
            pair.crop((0, 0, 64, 64)).save(tmp_path / split / "color" / f"{name}.png")
    (tmp_path / "train" / "sketch" / ".DS_Store").write_bytes(b"\0")  # hidden files are ignored
    train, val = scan_dataset(tmp_path)
    assert len(train) == len(val) == 2
    Image.new("RGB", (64, 64)).save(tmp_path / "train" / "sketch" / "lonely.png")
    with pytest.raises(DataError, match=r"lonely\.png"):
        scan_dataset(tmp_path)


def test_cli_reports_bad_data_in_one_line(tmp_path, capsys):
    (tmp_path / "train").mkdir()
    (tmp_path / "val").mkdir()
    code = main(["--data", str(tmp_path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("pixelpainter-train: bad data:") and "no images" in err
    assert not (tmp_path / "out").exists()  # nothing was started
