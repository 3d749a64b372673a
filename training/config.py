"""Every knob of a training run, with the seed notebook's recipe as the defaults.

The one place defaults live: ``pixelpainter-train`` builds its flags from these fields (their
``help`` metadata), so ``--help`` shows exactly what a run uses. No TensorFlow import here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


def _knob(default: object, help: str, flag: str | None = None) -> object:
    return field(default=default, metadata={"help": help, "flag": flag})


@dataclass
class TrainConfig:
    """One run; the defaults are the seed's (λ 400, Adam 2e-4 / 0.5, batch 32, 35 epochs)."""

    data: Path = field(metadata={"help": "folder with train/ and val/"})
    out: Path = field(metadata={"help": "checkpoints, logs, exports"})
    epochs: int = _knob(35, "epochs to train in total (a resumed run counts the done ones)")
    batch_size: int = _knob(32, "images per step")
    width: int = _knob(64, "generator base filters (64 = the seed's 54M-parameter model)")
    lambda_l1: float = _knob(400.0, "weight of the L1 loss against the GAN loss")
    lambda_color: float = _knob(
        0.0, "weight of the rebalanced color classification loss (0: off; see training/losses)"
    )
    rebalance_mix: float = _knob(
        0.5,
        "share of the uniform distribution mixed into the colors' prior before the color loss "
        "weights each bin by its inverse (Zhang et al.: 0.5; 1: no rebalancing, plain "
        "cross-entropy; in (0, 1])",
    )
    color_head: bool = _knob(
        False,
        "add the color head (inference/color_head.py: ab-bin logits, annealed mean); "
        "--lambda-color then weights its classification loss",
    )
    hints: bool = _knob(
        False, "train a hint model (7 input channels) on color hints sampled from the truth"
    )
    learning_rate: float = _knob(2e-4, "Adam learning rate", "--lr")
    beta_1: float = _knob(0.5, "Adam beta1", "--beta1")
    beta_2: float = _knob(0.999, "Adam beta2", "--beta2")
    checkpoint_every: int = _knob(7, "epochs between checkpoints (and val metrics)")
    keep: int = _knob(3, "checkpoints kept")
    calibrate_steps: int = _knob(
        100, "batches that re-estimate BatchNorm statistics before each checkpoint (0: off)"
    )
    resume: bool = _knob(True, "resume from the latest checkpoint in --out")
    augment: bool = _knob(False, "pix2pix jitter (286 px, random 256 crop) and mirror")
    vary_lines: bool = _knob(False, "vary line width, gray level, blur and breaks")
    init_weights: Path | None = field(
        default=None,
        metadata={
            "help": "start a fresh run's generator from these weights (fine-tuning; a 3-channel "
            "generator into a --hints run gets zero weights on the hint channels)"
        },
    )
    backend: str = _knob(
        "auto",
        "tensorflow, torch (Keras 3 on PyTorch, for machines without TensorFlow), or auto: "
        "TensorFlow where it is installed, else PyTorch",
    )
    mixed_precision: bool = _knob(
        False, "float16 on GPU (bfloat16 with --backend torch), bfloat16 on CPUs that have it"
    )
    xla: bool = _knob(False, "compile the train step with XLA")
    cache: bool = _knob(True, "decode images once and keep them in memory")
    seed: int = _knob(0, "random seed")
    samples: int = _knob(6, "val pairs in each sample grid")
    log_every: int = _knob(10, "steps between TensorBoard loss points")
    extra: dict[str, str] = field(default_factory=dict, metadata={"help": None})
