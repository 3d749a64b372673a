"""Loading models and placing them on the device: Stable Diffusion 1.5 img2img, optional ControlNet.

On CUDA the UNet and text encoder run in float16 and the VAE stays in float32: the VAEs of the
NovelAI family (Anything, Counterfeit) overflow in float16 and decode to NaN, i.e. black images.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

from refine_server.settings import Settings
from refine_server.sources import fetch_single_file_config, fetch_source, parse_source

logger = logging.getLogger(__name__)

# What a model load can fail with: missing or corrupt files, wrong layout, no network, no memory.
LOAD_ERRORS = (OSError, ValueError, RuntimeError, ImportError, KeyError)


class ModelLoadError(RuntimeError):
    """No configured model could be loaded; the message says which setting to check."""


@dataclass
class LoadedModels:
    """Pipelines by model name, their ControlNet twins, and where they run."""

    pipelines: dict[str, Any]
    controlnet_pipelines: dict[str, Any]
    device: str


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
    # `torch_dtype`, not `dtype`: diffusers accepts `dtype` only from 0.40, and Colab has 0.39.
    common: dict[str, Any] = {
        "torch_dtype": dtype,
        "safety_checker": None,
        "requires_safety_checker": False,
    }
    with _torch_dtype_accepted():
        if parsed.single_file:
            config = fetch_single_file_config(settings)
            # Without `config` diffusers would fetch the original YAML configs from the hub.
            return StableDiffusionImg2ImgPipeline.from_single_file(
                location, config=config, local_files_only=True, **common
            )
        return StableDiffusionImg2ImgPipeline.from_pretrained(
            location, local_files_only=True, **common
        )


def load_controlnet(source: str, settings: Settings, *, dtype: torch.dtype) -> Any:
    """A ``ControlNetModel`` from a hub id or local diffusers folder."""
    from diffusers import ControlNetModel

    parsed = parse_source(source)
    if parsed.single_file:
        raise ValueError(f"CONTROLNET_MODEL {source!r}: use a diffusers folder or hub id")
    location = fetch_source(parsed, settings.models_dir, pipeline=False)
    with _torch_dtype_accepted():
        return ControlNetModel.from_pretrained(location, torch_dtype=dtype, local_files_only=True)


@contextlib.contextmanager
def _torch_dtype_accepted() -> Iterator[None]:
    """Silence diffusers ≥ 0.40's notice that ``torch_dtype`` is deprecated: it is on purpose."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=".*torch_dtype.* is deprecated", category=FutureWarning
        )
        yield


def keep_vae_float32(pipe: Any, compute_dtype: torch.dtype) -> None:
    """Run ``pipe``'s VAE in float32 while the rest runs in ``compute_dtype``.

    The pipeline hands the VAE tensors in ``compute_dtype``: hooks cast them to float32 on the
    way in and the encoded latents back to ``compute_dtype`` on the way out (the decoded image
    stays float32, which the image post-processor takes as it is).
    """
    vae = pipe.vae
    if compute_dtype == torch.float32 or getattr(vae, "_pixelpainter_float32", False):
        return
    vae.to(torch.float32)

    def inputs_to_float32(module: torch.nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(a.float() if torch.is_tensor(a) else a for a in args)

    def output_to_compute(module: torch.nn.Module, args: Any, output: torch.Tensor) -> Any:
        return output.to(compute_dtype)

    vae.encoder.register_forward_pre_hook(inputs_to_float32)
    (vae.quant_conv or vae.encoder).register_forward_hook(output_to_compute)
    (vae.post_quant_conv or vae.decoder).register_forward_pre_hook(inputs_to_float32)
    vae._pixelpainter_float32 = True


def place(pipe: Any, settings: Settings, device: str, dtype: torch.dtype) -> Any:
    """Scheduler, VAE precision and device for a loaded pipeline."""
    from diffusers import DPMSolverMultistepScheduler

    # DPM++ 2M Karras: the usual anime-model sampler; good results in 20–30 steps.
    pipe.scheduler = DPMSolverMultistepScheduler.from_config(
        pipe.scheduler.config, use_karras_sigmas=True
    )
    pipe.set_progress_bar_config(disable=True)
    keep_vae_float32(pipe, dtype)
    if settings.vae_tiling:
        pipe.vae.enable_tiling()
    if device == "cuda" and settings.cpu_offload:
        pipe.enable_model_cpu_offload()
    else:
        pipe.to(device)
    return pipe


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


def load_models(settings: Settings) -> LoadedModels:
    """Every configured model; one that fails is logged once and left out.

    Raises :class:`ModelLoadError` when none loads, or when a configured ControlNet does not.
    """
    device, dtype = pick_device(settings.device)
    pipelines: dict[str, Any] = {}
    for name, source in settings.models.items():
        started = time.perf_counter()
        try:
            pipelines[name] = place(
                load_pipeline(source, settings, dtype=dtype), settings, device, dtype
            )
        except LOAD_ERRORS as exc:
            logger.error("Model %s (%s) did not load: %s", name, source, _first_line(exc))
            continue
        logger.info(
            "Model %s loaded from %s in %.1f s", name, source, time.perf_counter() - started
        )
    if not pipelines:
        raise ModelLoadError("no model loaded; check MODEL_BALANCED / MODEL_QUALITY")
    controlnet_pipelines: dict[str, Any] = {}
    if settings.controlnet_model:
        try:
            controlnet = load_controlnet(settings.controlnet_model, settings, dtype=dtype)
        except LOAD_ERRORS as exc:
            raise ModelLoadError(
                f"CONTROLNET_MODEL {settings.controlnet_model!r} did not load: {_first_line(exc)}"
            ) from None
        controlnet_pipelines = with_controlnet(pipelines, controlnet, settings, device)
        logger.info("ControlNet %s loaded", settings.controlnet_model)
    return LoadedModels(pipelines, controlnet_pipelines, device)


def _first_line(exc: BaseException) -> str:
    """The first line of an error: library messages can run to pages of advice."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
