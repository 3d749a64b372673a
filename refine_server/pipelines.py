"""Model loading and the img2img call: Stable Diffusion 1.5 pipelines, optional ControlNet.

A model source is a hub id (``owner/name``), a file in a hub repo (``owner/name/file.safetensors``),
a local diffusers folder, or a local single ``.safetensors``/``.ckpt`` file. Single files load
offline from the SD 1.5 configs of ``SINGLE_FILE_CONFIG`` (a local folder, or a hub id whose
config files are fetched once into ``MODELS_DIR``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from refine_server.images import control_image, working_size
from refine_server.prompts import NEGATIVE_PROMPT, build_prompt
from refine_server.settings import Settings

logger = logging.getLogger(__name__)

SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt")
CONFIG_PATTERNS = ["*.json", "*.txt"]


class JobCancelled(Exception):
    """The caller gave up (timeout, disconnect); the pipeline stopped early."""


@dataclass(frozen=True)
class RefineParams:
    """One refinement: which model, how much to change (0.1–0.5), extra prompt, seed."""

    model: str
    strength: float
    prompt: str
    seed: int


# ---- where a model comes from ----


@dataclass(frozen=True)
class ModelSource:
    """A parsed model setting: ``kind`` is folder | file | hub_repo | hub_file."""

    kind: str
    location: str
    filename: str | None = None


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


# ---- loading ----


def pick_device(setting: str) -> tuple[str, torch.dtype]:
    """``cuda`` runs float16, CPU float32 (CPU half precision is slow and lossy)."""
    use_cuda = setting == "cuda" or (setting == "auto" and torch.cuda.is_available())
    return ("cuda", torch.float16) if use_cuda else ("cpu", torch.float32)


def device_name(device: str) -> str:
    """What ``/status`` and the discovery document call the accelerator, e.g. ``Tesla T4``."""
    return torch.cuda.get_device_name(0) if device == "cuda" else "cpu"


def load_pipeline(source: str, settings: Settings, *, dtype: torch.dtype) -> Any:
    """A ``StableDiffusionImg2ImgPipeline`` from any supported source, on CPU, safety checker off."""
    from diffusers import StableDiffusionImg2ImgPipeline

    parsed = parse_source(source)
    location = fetch_source(parsed, settings.models_dir)
    common: dict[str, Any] = {
        "dtype": dtype,
        "safety_checker": None,
        "requires_safety_checker": False,
    }
    if parsed.kind in ("file", "hub_file"):
        config = fetch_single_file_config(settings)
        # Without `config` diffusers would fetch the original YAML configs from the hub.
        return StableDiffusionImg2ImgPipeline.from_single_file(
            location, config=config, local_files_only=True, **common
        )
    return StableDiffusionImg2ImgPipeline.from_pretrained(location, local_files_only=True, **common)


def load_controlnet(source: str, settings: Settings, *, dtype: torch.dtype) -> Any:
    """A ``ControlNetModel`` from a hub id or local diffusers folder."""
    from diffusers import ControlNetModel

    parsed = parse_source(source)
    if parsed.kind in ("file", "hub_file"):
        raise ValueError(f"CONTROLNET_MODEL {source!r}: use a diffusers folder or hub id")
    location = fetch_source(parsed, settings.models_dir, pipeline=False)
    return ControlNetModel.from_pretrained(location, dtype=dtype, local_files_only=True)


def _place(pipe: Any, settings: Settings, device: str) -> Any:
    from diffusers import DPMSolverMultistepScheduler

    # DPM++ 2M Karras: the usual anime-model sampler; good results in 20–30 steps.
    pipe.scheduler = DPMSolverMultistepScheduler.from_config(
        pipe.scheduler.config, use_karras_sigmas=True
    )
    pipe.set_progress_bar_config(disable=True)
    if settings.vae_tiling:
        pipe.vae.enable_tiling()
    if device == "cuda" and settings.cpu_offload:
        pipe.enable_model_cpu_offload()
    else:
        pipe.to(device)
    return pipe


# ---- refining ----


class Refiner:
    """Loaded pipelines by model name; ``refine`` is blocking and meant for one worker thread."""

    def __init__(
        self,
        pipelines: dict[str, Any],
        *,
        settings: Settings,
        controlnet_pipelines: dict[str, Any] | None = None,
        device: str = "cpu",
    ) -> None:
        self.pipelines = pipelines
        self.controlnet_pipelines = controlnet_pipelines or {}
        self.settings = settings
        self.device = device
        self.gpu = device_name(device)

    @classmethod
    def load(cls, settings: Settings) -> Refiner:
        """Load every configured model; a model that fails is logged and left out (not fatal)."""
        device, dtype = pick_device(settings.device)
        pipelines: dict[str, Any] = {}
        for name, source in settings.models.items():
            started = time.perf_counter()
            try:
                pipelines[name] = _place(
                    load_pipeline(source, settings, dtype=dtype), settings, device
                )
            except (OSError, ValueError, RuntimeError, ImportError) as exc:
                logger.error("Model %s (%s) did not load: %s", name, source, exc)
                continue
            logger.info(
                "Model %s loaded from %s in %.1f s", name, source, time.perf_counter() - started
            )
        if not pipelines:
            raise RuntimeError("no model loaded; check MODEL_BALANCED / MODEL_QUALITY")
        controlnet_pipelines: dict[str, Any] = {}
        if settings.controlnet_model:
            controlnet_pipelines = with_controlnet(
                pipelines,
                load_controlnet(settings.controlnet_model, settings, dtype=dtype),
                settings,
                device,
            )
            logger.info("ControlNet %s loaded", settings.controlnet_model)
        return cls(
            pipelines, settings=settings, controlnet_pipelines=controlnet_pipelines, device=device
        )

    @property
    def models(self) -> list[str]:
        return list(self.pipelines)

    @property
    def controlnet(self) -> bool:
        return bool(self.controlnet_pipelines)

    def warm_up(self) -> None:
        """One tiny call per pipeline so the first request does not pay for kernel set-up."""
        image = Image.new("RGB", (64, 64), (128, 128, 128))
        for name in self.pipelines:
            params = RefineParams(model=name, strength=0.5, prompt="", seed=0)
            self._run(
                name, image, image if self.controlnet else None, params, lambda: False, steps=1
            )

    def refine(
        self,
        image: Image.Image,
        sketch: Image.Image | None,
        params: RefineParams,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Image.Image:
        """Refine ``image`` (RGB) at the working size; the result has the working size, not the input's."""
        steps = (
            self.settings.steps_quality
            if params.model == "quality"
            else self.settings.steps_balanced
        )
        return self._run(params.model, image, sketch, params, should_stop, steps=steps)

    def _run(
        self,
        name: str,
        image: Image.Image,
        sketch: Image.Image | None,
        params: RefineParams,
        should_stop: Callable[[], bool],
        *,
        steps: int,
    ) -> Image.Image:
        size = working_size(
            image.size,
            min_side=self.settings.refine_min_side,
            max_side=self.settings.refine_max_side,
        )
        init = image.resize(size, Image.Resampling.LANCZOS)
        use_control = sketch is not None and name in self.controlnet_pipelines
        pipe = self.controlnet_pipelines[name] if use_control else self.pipelines[name]

        def stop_early(
            pipeline: Any, step: int, timestep: Any, tensors: dict[str, Any]
        ) -> dict[str, Any]:
            if should_stop():
                pipeline._interrupt = True  # diffusers skips the remaining steps
            return tensors

        kwargs: dict[str, Any] = {
            "prompt": build_prompt(params.prompt),
            "negative_prompt": NEGATIVE_PROMPT,
            "image": init,
            "strength": params.strength,
            # img2img runs int(steps × strength) steps: ask for enough that `steps` really run.
            "num_inference_steps": math.ceil(steps / params.strength),
            "guidance_scale": self.settings.guidance_scale,
            "generator": torch.Generator("cpu").manual_seed(params.seed),
            "callback_on_step_end": stop_early,
        }
        if use_control:
            assert sketch is not None
            kwargs["control_image"] = control_image(sketch, size)
            kwargs["controlnet_conditioning_scale"] = self.settings.controlnet_scale
        with torch.inference_mode():
            result = pipe(**kwargs).images[0]
        if should_stop():
            raise JobCancelled("stopped early")
        return result


def with_controlnet(
    pipelines: dict[str, Any], controlnet: Any, settings: Settings, device: str
) -> dict[str, Any]:
    """ControlNet img2img pipelines sharing each loaded pipeline's components (no extra copies)."""
    from diffusers import StableDiffusionControlNetImg2ImgPipeline

    out = {}
    for name, pipe in pipelines.items():
        controlled = StableDiffusionControlNetImg2ImgPipeline.from_pipe(pipe, controlnet=controlnet)
        controlled.set_progress_bar_config(disable=True)
        if device == "cuda" and settings.cpu_offload:
            controlled.enable_model_cpu_offload()
        else:
            controlled.to(device)
        out[name] = controlled
    return out
