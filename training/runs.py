"""What both trainers (TensorFlow: :mod:`training.trainer`, PyTorch: :mod:`training.torch_trainer`)
do alike around a run: the number format, the generator's starting weights, the loss history."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import keras
import numpy as np
from tqdm import tqdm

from inference.color_head import gamut_bins, has_color_head, training_outputs
from inference.generator import build_generator
from training.config import TrainConfig
from training.discriminator import build_discriminator
from training.losses import (
    color_class_loss,
    color_prior,
    generator_loss,
    head_class_loss,
    rebalance_weights,
)

logger = logging.getLogger(__name__)


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX), as oneDNN needs."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def precision_policy(mixed: bool, gpus: list, gpu_policy: str = "mixed_float16") -> str:
    """``gpu_policy`` on GPUs (float16 with loss scaling under TensorFlow; the PyTorch trainer
    asks for bfloat16), bfloat16 on CPUs that have it (≈ 1.25× per step here), else float32."""
    if not mixed:
        return "float32"
    if gpus:
        return gpu_policy
    if cpu_has_bf16():
        return "mixed_bfloat16"
    logger.warning("--mixed-precision: no GPU and no bfloat16 on this CPU; training in float32")
    return "float32"


def networks(
    config: TrainConfig, *, loss_scale: bool = False
) -> tuple[keras.Model, keras.Model, keras.optimizers.Optimizer, keras.optimizers.Optimizer]:
    """The generator, the discriminator and their Adam optimizers (built), as the recipe sets
    them; ``loss_scale`` wraps the optimizers for float16 (TensorFlow on GPUs)."""
    generator = build_generator(config.width, hints=config.hints, color_head=config.color_head)
    discriminator = build_discriminator(config.width)
    adam = {"learning_rate": config.learning_rate, "beta_1": config.beta_1, "beta_2": config.beta_2}
    g_opt, d_opt = keras.optimizers.Adam(**adam), keras.optimizers.Adam(**adam)
    if loss_scale:
        g_opt = keras.optimizers.LossScaleOptimizer(g_opt)
        d_opt = keras.optimizers.LossScaleOptimizer(d_opt)
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)
    return generator, discriminator, g_opt, d_opt


class GeneratorObjective:
    """The generator's loss, alike in both trainers: G = BCE(D(fake), 1) + λ·L1 (+ λ_color·color
    term). For a color-head generator the L1 term reads its RGB branch (the lightness it keeps)
    and the color term is the head's rebalanced classification (:func:`head_class_loss`); else
    L1 and the soft-binned color loss (:func:`color_class_loss`) read the output."""

    def __init__(self, generator: keras.Model, config: TrainConfig) -> None:
        self.config = config
        self.head = has_color_head(generator)
        self.view = training_outputs(generator) if self.head else generator
        self.weights = None

    def set_prior(self, truths: np.ndarray) -> None:
        """The color term's rebalancing weights from true colors ((N, H, W, 3) in [-1, 1])."""
        bins = gamut_bins() if self.head else None
        prior = color_prior(truths, bins=bins)
        weights = rebalance_weights(prior, self.config.rebalance_mix)
        self.weights = keras.ops.convert_to_tensor(weights)

    def forward(self, sketch) -> tuple:
        """(output, what L1 reads, head logits or None) of the generator in training mode."""
        if self.head:
            return tuple(self.view(sketch, training=True))
        fake = self.view(sketch, training=True)
        return fake, fake, None

    def loss(self, fake_logits, outputs: tuple, color) -> tuple:
        """(total, gan, l1, color) of the generator."""
        fake, branch, logits = outputs
        total, gan, l1 = generator_loss(fake_logits, branch, color, self.config.lambda_l1)
        term = keras.ops.zeros(())
        if self.weights is not None:
            if logits is not None:
                term = head_class_loss(logits, color, self.weights)
            else:
                term = color_class_loss(fake, color, self.weights)
            total = total + self.config.lambda_color * term
        return total, gan, l1, term


def init_generator(generator: keras.Model, config: TrainConfig) -> None:
    """A fresh run with ``init_weights`` starts its generator from those weights (fine-tuning).

    A hint run from a hint-less generator gets its weights with zero weights on the hint channels
    (:func:`training.hints.widen_to_hints`); a hint model into a hint-less run, or another width,
    is refused with the reason.
    """
    if config.init_weights is None:
        return
    from inference.generator import copy_generator_weights, input_channels_of, width_of
    from inference.weights import load_generator
    from training.hints import widen_to_hints

    source = load_generator(config.init_weights)
    if width_of(source) != config.width:
        raise ValueError(
            f"--init-weights {config.init_weights} has width {width_of(source)}, "
            f"the run uses --width {config.width}"
        )
    if input_channels_of(source) > input_channels_of(generator):
        raise ValueError(
            f"--init-weights {config.init_weights} is a hint model: train with --hints"
        )
    if has_color_head(source) and not has_color_head(generator):
        raise ValueError(
            f"--init-weights {config.init_weights} has a color head: train with --color-head"
        )
    if input_channels_of(source) < input_channels_of(generator):
        widen_to_hints(source, generator)
    else:
        copy_generator_weights(source, generator)
    logger.info("Generator initialised from %s", config.init_weights)


def load_history(out: Path) -> dict[str, list[float]]:
    """The loss history of a run folder (``history.json``), empty for a new run."""
    path = out / "history.json"
    return json.loads(path.read_text()) if path.exists() else {}


def save_history(out: Path, history: dict[str, list[float]]) -> None:
    (out / "history.json").write_text(json.dumps(history))


class EpochProgress:
    """One epoch's progress bar: the step's losses and the images per second so far."""

    def __init__(self, epoch: int, epochs: int, steps: int) -> None:
        self.bar = tqdm(
            total=steps, desc=f"epoch {epoch + 1}/{epochs}", unit="step", dynamic_ncols=True
        )
        self.started, self.seen = time.perf_counter(), 0

    def step(self, losses: dict[str, float], images: int) -> float:
        """Count a step of ``images``; returns the images per second of the epoch so far."""
        self.seen += images
        rate = self.seen / max(time.perf_counter() - self.started, 1e-9)
        self.bar.set_postfix(
            g=f"{losses['g_total']:.2f}",
            l1=f"{losses['g_l1']:.3f}",
            d=f"{losses['d_total']:.3f}",
            img_s=f"{rate:.1f}",
        )
        self.bar.update(1)
        return rate

    def close(self) -> None:
        self.bar.close()
