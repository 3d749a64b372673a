"""The promises the repository makes to a newcomer: README blocks, .env.example, CI."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, flags=re.S)


def test_readme_has_exactly_two_newcomer_blocks():
    sections = re.split(r"^## ", README, flags=re.M)
    quick = next(s for s in sections if s.startswith("Quick start"))
    tests = next(s for s in sections if s.startswith("Running the tests"))
    assert quick.count("```bash") == 1 and tests.count("```bash") == 1
    assert README.count("```bash") == 2  # other snippets are `text` synopses, not recipes
    first, second = _bash_blocks()[:2]
    assert "pixelpainter colorize" in first and "pixelpainter-bot" in first
    assert "pytest" in second


def test_ci_runs_the_readme_test_block():
    ci = (ROOT / ".ci" / "run").read_text()
    test_block = _bash_blocks()[1]
    for line in test_block.strip().splitlines():
        command = line.split("#")[0].strip()
        for part in command.split("&&"):
            assert part.strip() in ci, f"README test step {part.strip()!r} is not what CI runs"


def _settings_classes():
    """Every part's settings class (one ``BaseSettings`` per deployable part)."""
    import importlib

    from pydantic_settings import BaseSettings

    classes = []
    for module in (
        "inference.settings",
        "bot.settings",
        "refine_server.settings",
        "workers.settings",
        "shared_state.settings",
    ):
        mod = importlib.import_module(module)
        classes += [
            obj
            for obj in vars(mod).values()
            if isinstance(obj, type)
            and issubclass(obj, BaseSettings)
            and obj is not BaseSettings
            and obj.__module__ == module
        ]
    return classes


@pytest.mark.parametrize("settings", _settings_classes(), ids=lambda c: c.__module__)
def test_env_example_lists_every_setting(settings):
    from pydantic_settings import BaseSettings

    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, flags=re.M))
    names = set()
    for field_name, field in settings.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseSettings):
            continue  # embedded settings (the bot's inference settings) are checked on their own
        alias = field.validation_alias or field.alias
        names.add(alias.upper() if isinstance(alias, str) else field_name.upper())
    prefix = settings.model_config.get("env_prefix", "")
    missing = {f"{prefix}{n}" for n in names} - listed
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_quick_start_colorizes_the_example(tmp_path):
    block = _bash_blocks()[0]
    line = next(x for x in block.splitlines() if x.startswith("pixelpainter colorize"))
    args = shlex.split(line.split("#")[0])[2:]
    args = [str(tmp_path / "out") if a == "out" else str(ROOT / a) if "/" in a else a for a in args]
    proc = subprocess.run(
        [sys.executable, "-m", "inference", "colorize", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr
    from PIL import Image

    out = Image.open(tmp_path / "out" / "example_sketch.png")
    assert out.size == Image.open(ROOT / "inference/assets/example_sketch.png").size


def test_readme_names_only_files_that_exist():
    """A path in backticks that starts at a top-level folder, or any ``*.md``, is in the repo."""
    top = {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".venv")}
    missing = []
    for token in re.findall(r"`([^`\s]+)`", README):
        path = token.rstrip("/")
        named = path.split("/")[0] in top or path.endswith(".md") or path == "LICENSE"
        if named and not any(ROOT.glob(path)):
            missing.append(token)
    assert not missing, f"README refers to files that are not in the repository: {missing}"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def _requirements(extra: str | None) -> set[str]:
    """Distribution names the base install (``None``) or ``[extra]`` pulls in, extras followed."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + list(project["optional-dependencies"].get(extra, []))
    names: set[str] = set()
    for req in reqs:
        name = re.match(r"[A-Za-z0-9_.-]+", req).group(0).lower()
        if name == project["name"]:  # pixelpainter-colorize[tf]: follow its extras
            for inner in re.search(r"\[(.*?)\]", req).group(1).split(","):
                names |= _requirements(inner.strip())
        else:
            names.add(name)
    return names


@pytest.mark.parametrize("extra", [None, "bot"])
def test_runtime_installs_need_no_tensorflow(extra):
    heavy = {"tensorflow", "tensorflow-cpu", "keras", "h5py", "onnx", "tf2onnx", "torch"}
    assert not heavy & _requirements(extra)


def test_converting_weights_pulls_tensorflow():
    assert {"tensorflow-cpu", "h5py", "onnx", "tf2onnx"} <= _requirements("tf")
    assert {"tensorflow-cpu", "tensorboard"} <= _requirements("train")


def test_aiohttp_floor_has_the_multipart_advisories_fixed():
    # client_max_size enforced late, unbounded multipart headers, unbounded form fields:
    # fixed in 3.13.4 and 3.14.4; the floor is a release with all of them.
    import tomllib

    from packaging.requirements import Requirement
    from packaging.version import Version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = [project["dependencies"], *project["optional-dependencies"].values()]
    found = [Requirement(r) for group in groups for r in group if r.startswith("aiohttp")]
    assert found
    for requirement in found:
        for old in ("3.9.0", "3.13.3", "3.14.3"):
            assert Version(old) not in requirement.specifier, (str(requirement), old)


def test_the_engine_imports_no_front_end():
    """``inference`` is the base: front ends stand on it, never the reverse."""
    import ast

    front_ends = ("webapp", "bot", "training", "refine_server", "pixelpainter_cli")
    found = []
    for path in sorted((ROOT / "inference").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in front_ends]
    assert not found
