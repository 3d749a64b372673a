"""Debian packages as data sources: ``apt-get download`` + ``dpkg-deb -x`` into a cache folder.

Nothing is installed on the system; the ``.deb`` stays in the cache, so a second build reuses it.
"""

from __future__ import annotations

import glob
import gzip
import re
import shutil
import subprocess
from pathlib import Path

from training.datasets.openmoji import DatasetError


def fetch_deb(package: str, cache: Path, dest: Path) -> Path:
    """Download ``package``'s ``.deb`` into ``cache`` (once) and unpack it into ``dest`` (once)."""
    if dest.is_dir():
        return dest
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise DatasetError("apt-get and dpkg-deb are needed (Debian/Ubuntu), or pass --source DIR")
    cache.mkdir(parents=True, exist_ok=True)
    debs = glob.glob(str(cache / f"{package}_*.deb"))
    if not debs:
        proc = subprocess.run(
            ["apt-get", "download", package], cwd=cache, capture_output=True, text=True
        )
        debs = glob.glob(str(cache / f"{package}_*.deb"))
        if proc.returncode != 0 or not debs:
            raise DatasetError(
                f"apt-get download {package} failed (run `apt-get update` first?): "
                + proc.stderr.strip()[-300:]
            )
    # Unpacked beside dest and renamed: an interrupted run leaves no half tree that looks done.
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["dpkg-deb", "-x", debs[0], str(partial)], capture_output=True)
    if proc.returncode != 0 or not partial.is_dir():
        raise DatasetError(f"dpkg-deb -x {debs[0]} failed: {proc.stderr.decode()[-300:]}")
    partial.rename(dest)
    return dest


def changelog_version(tree: Path, package: str) -> str:
    """The version on the first line of an unpacked package's ``changelog.Debian.gz``."""
    changelog = tree / "usr" / "share" / "doc" / package / "changelog.Debian.gz"
    try:
        with gzip.open(changelog, "rt", errors="replace") as text:
            first = text.readline()
    except OSError:
        return "unknown"
    match = re.match(r"\S+ \(([^)]+)\)", first)
    return match.group(1) if match else "unknown"
