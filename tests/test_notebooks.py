"""The Colab and Kaggle notebooks, run here as far as a machine without Colab or Kaggle allows.

Their cells are real Python: the code-fetching, dataset-finding and resume cells run against
local stand-ins (a local git repository, a fake /kaggle/input); the rest must at least compile.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COLAB = ROOT / "refine_server" / "colab.ipynb"
KAGGLE = ROOT / "training" / "kaggle.ipynb"
KERNEL_METADATA = ROOT / "training" / "kernel-metadata.json"
DISTRIBUTION = "pixelpainter-colorize"


def code_cells(path: Path) -> list[str]:
    notebook = json.loads(path.read_text())
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]


def as_python(source: str) -> str:
    """A cell with IPython's ``!shell`` lines made into ``pass``."""
    return "\n".join(
        re.sub(r"^(\s*)!.*$", r"\1pass", line) if line.lstrip().startswith("!") else line
        for line in source.splitlines()
    )


def run_cell(source: str, namespace: dict, **replace: str) -> dict:
    for old, new in replace.items():
        assert old in source, old
        source = source.replace(old, new)
    exec(compile(as_python(source), "<cell>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("path", [COLAB, KAGGLE], ids=lambda p: p.name)
def test_every_cell_compiles_and_has_no_placeholder(path: Path) -> None:
    for source in code_cells(path):
        ast.parse(as_python(source))
        assert "<you>" not in source


def _our_repo(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(f'[project]\nname = "{DISTRIBUTION}"\n')
    git = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(folder)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    return folder


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "set GIT_URL"),
        ("https://github.com/<you>/pixelpainter", "is not a git URL"),
        ("file:///nonexistent/repo", "cannot reach"),
    ],
)
def test_colab_code_cell_stops_with_one_line(url, message, tmp_path) -> None:
    get_code = code_cells(COLAB)[0]
    with pytest.raises(SystemExit, match=message):
        run_cell(
            get_code,
            {},
            **{
                'GIT_URL = ""': f"GIT_URL = {url!r}",
                "'/content/pixelpainter'": repr(str(tmp_path / "code")),
            },
        )


def test_colab_code_cell_clones_a_reachable_repository(tmp_path) -> None:
    repo = _our_repo(tmp_path / "origin")
    code = tmp_path / "code"
    run_cell(
        code_cells(COLAB)[0],
        {},
        **{
            'GIT_URL = ""': f"GIT_URL = {f'file://{repo}'!r}",
            "'/content/pixelpainter'": repr(str(code)),
        },
    )
    assert (code / "pyproject.toml").read_text().count(DISTRIBUTION) == 1


def test_an_uploaded_archive_is_unpacked(tmp_path) -> None:
    repo = _our_repo(tmp_path / "pixelpainter-main")
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in repo.rglob("*"):
            if ".git" not in file.parts and file.is_file():
                zipped.write(file, file.relative_to(tmp_path))
    namespace = run_cell(
        code_cells(COLAB)[0].split("\nif is_our_code(CODE):")[0],  # the helpers, not the run
        {},
        **{"'/content/pixelpainter'": repr(str(tmp_path / "code"))},
    )
    namespace["unpack"](archive)
    assert namespace["is_our_code"](tmp_path / "code")
    with pytest.raises(SystemExit, match="neither"):
        namespace["unpack"](repo / "pyproject.toml")


def test_colab_checks_secrets_before_downloading_and_serves_in_the_background() -> None:
    cells = code_cells(COLAB)
    secrets = next(i for i, c in enumerate(cells) if "check_auth()" in c)
    download = next(i for i, c in enumerate(cells) if "download_models" in c)
    assert secrets < download
    assert not any(re.search(r"^!.*-m refine_server\s*$", c, re.M) for c in cells)
    assert any("background.start(WORK)" in c and "wait_ready" in c for c in cells)
    assert "background.stop(WORK)" in cells[-1]
    installing = next(c for c in cells if "pip" in c)
    assert "--no-deps" in installing and "'diffusers': '0.39'" in installing


@pytest.mark.parametrize(
    "mount", ["datasets/ktaebum/anime-sketch-colorization-pair", "anime-sketch-colorization-pair"]
)
def test_kaggle_finds_the_dataset_and_resumes_a_previous_run(mount, tmp_path) -> None:
    inputs = tmp_path / "input"
    data = inputs / mount / "data"
    for split in ("train", "val"):
        (data / split).mkdir(parents=True)
        (data / split / "1.png").write_bytes(b"png")
    previous = inputs / "pixelpainter-train" / "run" / "checkpoints"
    previous.mkdir(parents=True)
    (previous / "checkpoint").write_text('model_checkpoint_path: "ckpt-2"\n')
    working = tmp_path / "working"
    cells = code_cells(KAGGLE)
    namespace = run_cell(
        cells[0].split("\nattached = ")[0], {}, **{"'/kaggle/working/pixelpainter'": repr("x")}
    )
    paths = {
        "pathlib.Path('/kaggle/input')": f"pathlib.Path({str(inputs)!r})",
        "pathlib.Path('/kaggle/working/run')": f"pathlib.Path({str(working / 'run')!r})",
    }
    run_cell(cells[2], namespace, **paths)
    assert namespace["DATA"] == data
    run_cell(cells[3], namespace, **{k: v for k, v in paths.items() if "input" in k})
    assert (working / "run" / "checkpoints" / "checkpoint").exists()
    shutil.rmtree(inputs / mount)
    with pytest.raises(SystemExit, match="Add Input"):
        run_cell(cells[2], namespace, **paths)


def test_kaggle_metadata_asks_for_dataset_gpu_and_internet() -> None:
    meta = json.loads(KAGGLE.read_text())["metadata"]["kaggle"]
    assert meta["isGpuEnabled"] and meta["isInternetEnabled"]
    [source] = meta["dataSources"]
    slug = f"{source['ownerSlug']}/{source['datasetSlug']}"
    kernel = json.loads(KERNEL_METADATA.read_text())
    assert (KERNEL_METADATA.parent / kernel["code_file"]) == KAGGLE
    assert kernel["dataset_sources"] == [slug]
    assert kernel["enable_gpu"] is True and kernel["enable_internet"] is True
    assert kernel["kernel_type"] == "notebook" and kernel["language"] == "python"
