"""Only the README's formats are ever opened as sketches: never Ghostscript, PSD, ICO and the like.

Pillow finds Ghostscript on PATH when its EPS plugin is imported, so each check runs in a fresh
process whose PATH starts with a fake ``gs`` that leaves a mark if anything runs it.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from inference.errors import SketchProblem

ROOT = Path(__file__).resolve().parents[2]

EPS = b"""%!PS-Adobe-3.0 EPSF-3.0
%%BoundingBox: 0 0 32 32
%%EndComments
newpath 0 0 moveto 32 32 lineto stroke
showpage
%%EOF
"""


def _psd(width: int = 8, height: int = 8) -> bytes:
    """A minimal RGB Photoshop file (raw image data), which Pillow reads."""
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, height, width, 8, 3)
    sections = struct.pack(">III", 0, 0, 0)  # color mode data, image resources, layers: empty
    return header + sections + struct.pack(">H", 0) + b"\x80" * (3 * width * height)


def _saved(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(buf, format=fmt)
    return buf.getvalue()


REFUSED = {
    "eps": EPS,
    "pdf": _saved("PDF"),
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><path d="M0 0h8"/></svg>',
    "psd": _psd(),
    "ico": _saved("ICO"),
    "tga": _saved("TGA"),
    "pcx": _saved("PCX"),
}
# MPO: the multi-picture JPEG many phone cameras write.
ACCEPTED = {fmt: _saved(fmt) for fmt in ("PNG", "JPEG", "MPO", "WEBP", "BMP", "GIF", "TIFF")}

OPEN = """
import sys
from pathlib import Path
from inference.errors import SketchError
from inference.images import open_sketch

for path in sys.argv[1:]:
    for source in (Path(path), Path(path).read_bytes()):
        try:
            print(path, "opened", open_sketch(source, max_side=64).size)
        except SketchError as err:
            print(path, "refused", err.reason)
"""


@pytest.fixture
def fake_gs(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose ``gs`` is a script that writes ``mark`` when run on a file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mark = tmp_path / "gs-ran"
    gs = bin_dir / "gs"
    # Pillow asks for the version when its EPS plugin loads; anything else is running PostScript.
    gs.write_text(
        f'#!/bin/sh\nif [ "$1" = --version ]; then echo 10.02.1; exit 0; fi\ntouch {mark}\nexit 1\n'
    )
    gs.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    return {**env, "PYTHONPATH": str(ROOT)}, mark


def _open_in_fresh_process(env: dict[str, str], files: dict[str, bytes], folder: Path) -> list[str]:
    """Each of ``files`` (name → bytes) opened by path and by bytes: a line per try."""
    for name, data in files.items():
        (folder / name).write_bytes(data)
    proc = subprocess.run(
        [sys.executable, "-c", OPEN, *(str(folder / name) for name in files)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2 * len(files)
    return lines


def test_other_formats_are_not_an_image_and_gs_never_runs(fake_gs, tmp_path):
    env, mark = fake_gs
    # Named and sent as PNG: only the bytes decide, and only the allowed formats are tried.
    files = {f"{kind}-looks.png": data for kind, data in REFUSED.items()}
    for line in _open_in_fresh_process(env, files, tmp_path):
        assert line.endswith(f"refused {SketchProblem.NOT_AN_IMAGE}"), line
    assert not mark.exists(), "Ghostscript was run on an upload"


def test_the_readme_formats_still_open(fake_gs, tmp_path):
    env, mark = fake_gs
    files = {f"sketch.{fmt.lower()}": data for fmt, data in ACCEPTED.items()}
    for line in _open_in_fresh_process(env, files, tmp_path):
        assert " opened (16, 16)" in line, line
    assert not mark.exists()
