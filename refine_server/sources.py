"""Where a model comes from, and fetching it into ``MODELS_DIR`` (no torch, no loading here).

A model source is a hub id (``owner/name``), a file in a hub repo (``owner/name/file.safetensors``),
a local diffusers folder, or a local single ``.safetensors``/``.ckpt`` file. Single files load
offline from the SD 1.5 configs of ``SINGLE_FILE_CONFIG`` (a local folder, or a hub id whose
config files are fetched once into ``MODELS_DIR``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from refine_server.settings import Settings

SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt")
CONFIG_PATTERNS = ["*.json", "*.txt"]


@dataclass(frozen=True)
class ModelSource:
    """A parsed model setting: ``kind`` is folder | file | hub_repo | hub_file."""

    kind: str
    location: str
    filename: str | None = None

    @property
    def single_file(self) -> bool:
        return self.kind in ("file", "hub_file")


def parse_source(source: str) -> ModelSource:
    """Classify a ``MODEL_*`` / ``CONTROLNET_MODEL`` value; raise ``ValueError`` naming a bad one."""
    source = source.strip()
    path = Path(source).expanduser()
    if path.is_dir():
        return ModelSource("folder", str(path))
    if path.is_file():
        if path.suffix not in SINGLE_FILE_SUFFIXES:
            raise ValueError(f"{source!r}: a single-file model must be .safetensors or .ckpt")
        return ModelSource("file", str(path))
    parts = source.split("/")
    looks_local = source.startswith(("/", ".", "~")) or "\\" in source
    if not looks_local and len(parts) == 2 and all(parts):
        return ModelSource("hub_repo", source)
    if not looks_local and len(parts) >= 3 and source.endswith(SINGLE_FILE_SUFFIXES):
        return ModelSource("hub_file", "/".join(parts[:2]), "/".join(parts[2:]))
    raise ValueError(
        f"{source!r} is neither an existing folder or .safetensors file nor a hub id "
        "(owner/name or owner/name/file.safetensors)"
    )


def fetch_source(source: ModelSource, models_dir: Path, *, pipeline: bool = True) -> str:
    """Download a hub source into ``models_dir`` (cached) and return what loaders take."""
    from huggingface_hub import hf_hub_download

    if source.kind in ("folder", "file"):
        return source.location
    if source.kind == "hub_file":
        assert source.filename is not None
        return hf_hub_download(source.location, source.filename, cache_dir=models_dir)
    if pipeline:
        from diffusers import DiffusionPipeline

        # Fetches only what the pipeline needs (no .ckpt duplicates, no unused variants).
        return str(DiffusionPipeline.download(source.location, cache_dir=models_dir))
    from huggingface_hub import snapshot_download

    return snapshot_download(
        source.location,
        cache_dir=models_dir,
        allow_patterns=[*CONFIG_PATTERNS, "*.safetensors"],
        ignore_patterns=["*.fp16.safetensors"],
    )


def fetch_single_file_config(settings: Settings) -> str:
    """The SD 1.5 config folder that single files load against (configs only, no weights)."""
    from huggingface_hub import snapshot_download

    config = settings.single_file_config
    if Path(config).expanduser().is_dir():
        return str(Path(config).expanduser())
    return snapshot_download(config, cache_dir=settings.models_dir, allow_patterns=CONFIG_PATTERNS)
