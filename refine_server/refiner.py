"""The img2img call: refine one image with a loaded model, optionally guided by the sketch."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from refine_server.images import control_image, working_size
from refine_server.loading import device_name, load_models
from refine_server.prompts import NEGATIVE_PROMPT, build_prompt
from refine_server.settings import Settings

# The schedulers are trained on 1,000 timesteps: more scheduled steps than that is an error.
MAX_SCHEDULED_STEPS = 1000


class JobCancelled(Exception):
    """The caller gave up (timeout, disconnect); the pipeline stopped early."""


class BadOutput(RuntimeError):
    """The model produced NaN or infinite pixels (a float16 overflow): no image to send."""


@dataclass(frozen=True)
class RefineParams:
    """One refinement: which model, how much to change (0.1–0.5), extra prompt, seed."""

    model: str
    strength: float
    prompt: str
    seed: int


def scheduled_steps(steps: int, strength: float) -> int:
    """Steps to schedule so that ``steps`` really run: img2img runs int(scheduled × strength)."""
    return min(math.ceil(steps / strength), MAX_SCHEDULED_STEPS)


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
        """Load every configured model (see :func:`refine_server.loading.load_models`)."""
        loaded = load_models(settings)
        return cls(
            loaded.pipelines,
            settings=settings,
            controlnet_pipelines=loaded.controlnet_pipelines,
            device=loaded.device,
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
        steps = self.settings.steps(params.model)
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
            "num_inference_steps": scheduled_steps(steps, params.strength),
            "guidance_scale": self.settings.guidance_scale,
            "generator": torch.Generator("cpu").manual_seed(params.seed),
            "callback_on_step_end": stop_early,
            "output_type": "np",  # floats in [0, 1]: NaN is still visible here, not in a PIL image
        }
        if use_control:
            assert sketch is not None
            kwargs["control_image"] = control_image(sketch, size)
            kwargs["controlnet_conditioning_scale"] = self.settings.controlnet_scale
        with torch.inference_mode():
            pixels = pipe(**kwargs).images[0]
        if should_stop():
            raise JobCancelled("stopped early")
        return to_image(pixels)


def to_image(pixels: np.ndarray) -> Image.Image:
    """(H, W, 3) floats in [0, 1] → RGB image; :class:`BadOutput` for NaN or infinite values."""
    if not np.isfinite(pixels).all():
        raise BadOutput("the model produced NaN pixels (a float16 overflow in the VAE?)")
    return Image.fromarray((np.clip(pixels, 0.0, 1.0) * 255).round().astype(np.uint8), "RGB")
