"""The pix2pix GAN recipe on PyTorch, for machines that have PyTorch and no TensorFlow.

Colab's runtime and most rented GPU machines ship PyTorch only. The networks
(:mod:`inference.generator`, :mod:`training.discriminator`), the losses (:mod:`training.losses`),
the augmentations (:mod:`training.augment`), the hint sampler (:mod:`training.hints`) and the
BatchNorm re-estimate (:mod:`training.calibration`) are the TensorFlow trainer's own code, run by
Keras 3 on its PyTorch backend. What is PyTorch's here: the step (autograd; both networks'
gradients from one forward pass, as the TensorFlow step's two tapes), the input pipeline (pairs
decoded once into memory, augmented and given hints by ``DataLoader`` workers) and the
checkpoints: one folder per checkpoint with both networks' Keras weight files, both optimizers'
variables and the epoch and step, so a run restarted with the same command resumes there.

``pixelpainter-train --backend torch --data DATA --out OUT`` (the backend must be chosen before
Keras loads: the CLI sets ``KERAS_BACKEND=torch``). The exported ``generator.weights.h5`` is a
Keras 3 file that every part of PixelPainter loads, and ``pixelpainter-train export`` turns a
checkpoint's weights into a model card (and the ONNX tools into an ``.onnx`` file) as usual.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from pathlib import Path

import keras
import numpy as np

from inference.architecture import INPUT_CHANNELS
from inference.generator import input_channels_of
from inference.hints import with_hint_planes
from inference.quality import psnr_of_mse
from training import augment
from training.calibration import recalibrate_batchnorm
from training.config import TrainConfig
from training.hints import sampled_planes
from training.losses import POOL, discriminator_loss
from training.runs import (
    EpochProgress,
    GeneratorObjective,
    init_generator,
    load_history,
    networks,
    precision_policy,
    save_history,
)
from training.splits import IMAGE_SIZE, Split, read_pair, scan_dataset

logger = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
STATE = "state.json"
PRIOR_PAIRS = 256  # training truths that estimate the color prior (the TF trainer: 16 × 16)


def require_torch_backend() -> None:
    """Refuse to start unless Keras runs on PyTorch (it picks its backend once, at import)."""
    if keras.backend.backend() != "torch":
        raise RuntimeError(
            f"Keras runs on {keras.backend.backend()}; the PyTorch trainer needs KERAS_BACKEND=torch "
            "set before Keras is imported (pixelpainter-train --backend torch does that)"
        )


# -- data ---------------------------------------------------------------------------------------


def decode_split(split: Split, workers: int) -> np.ndarray:
    """Every pair of a split decoded once: uint8 (N, 2, 256, 256, 3), ≈ 0.4 MB a pair."""
    import torch.utils.data as tud

    loader = tud.DataLoader(
        SplitFiles(split), batch_size=64, num_workers=workers, collate_fn=np.stack, shuffle=False
    )
    images = np.empty((len(split), 2, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)  # filled in place
    start = 0
    for batch in loader:
        images[start : start + len(batch)] = batch
        start += len(batch)
    return images


class SplitFiles:
    """A split's pairs read from disk, one item a pair (a map-style dataset: any object with
    ``__len__`` and ``__getitem__`` is one to a ``DataLoader``; module-level, so workers started
    by spawning, not forking, can unpickle it)."""

    def __init__(self, split: Split) -> None:
        self.split = split

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int) -> np.ndarray:
        return read_pair(self.split, index)


class TrainingPairs:
    """Model-ready (input, truth) float32 pairs in [-1, 1] from decoded uint8 pairs.

    Each item's randomness comes from (seed, epoch, index): a resumed run sees the same
    augmentations and hints as an uninterrupted one, whatever the number of workers.
    """

    def __init__(
        self,
        images: np.ndarray,
        *,
        augment_pairs: bool = False,
        vary: bool = False,
        hints: str | None = None,
        seed: int = 0,
    ) -> None:
        self.images, self.augment, self.vary, self.hints = images, augment_pairs, vary, hints
        self.seed, self.epoch = seed, 0

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        sketch, color = self.images[index]
        if self.augment:
            sketch, color = augment.jitter(sketch, color, rng)
        if self.vary:
            sketch = augment.vary_lines(sketch, rng)
        x = sketch.astype(np.float32) / 127.5 - 1.0
        y = color.astype(np.float32) / 127.5 - 1.0
        if self.hints == "sampled":
            planes = sampled_planes(x, y, rng.integers(0, 2**31 - 1, size=2))
            x = np.concatenate([x, planes], axis=-1)
        elif self.hints == "empty":
            x = with_hint_planes(x[None], INPUT_CHANNELS[-1])[0]
        return x, y


def batches(pairs: TrainingPairs, batch_size: int, *, shuffle: bool, workers: int, epoch: int = 0):
    """A ``DataLoader`` over ``pairs`` for one epoch (order and randomness fixed by the epoch)."""
    import torch
    import torch.utils.data as tud

    pairs.epoch = epoch
    order = torch.Generator().manual_seed(pairs.seed * 100_003 + epoch)
    return tud.DataLoader(
        pairs,  # type: ignore[arg-type]  (a map-style dataset)
        batch_size=batch_size,
        shuffle=shuffle,
        generator=order if shuffle else None,
        num_workers=workers,
        pin_memory=torch.cuda.is_available(),
        drop_last=False,
    )


# -- the trainer --------------------------------------------------------------------------------


class TorchTrainer:
    """Owns the networks, optimizers, checkpoints and logs of one output folder (PyTorch)."""

    def __init__(self, config: TrainConfig, workers: int | None = None) -> None:
        require_torch_backend()
        import torch

        self.config = config
        self.train_split, self.val_split = scan_dataset(config.data)
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.workers = min(8, os.cpu_count() or 1) if workers is None else workers
        cuda = self.device.type == "cuda"
        keras.mixed_precision.set_global_policy(
            precision_policy(
                config.mixed_precision, [self.device] if cuda else [], "mixed_bfloat16"
            )
        )
        keras.utils.set_random_seed(config.seed)
        self.generator, self.discriminator, self.g_opt, self.d_opt = networks(config)
        self.epoch = self.step = 0
        self.steps_per_epoch = math.ceil(len(self.train_split) / config.batch_size)
        self._train_images: np.ndarray | None = None
        self._val_images: np.ndarray | None = None
        self.objective = GeneratorObjective(self.generator, config)

    # -- checkpoints ----------------------------------------------------------------------------

    @property
    def checkpoint_dir(self) -> Path:
        return self.config.out / CHECKPOINTS

    def checkpoints(self) -> list[Path]:
        """This run's checkpoint folders, oldest first."""
        if not self.checkpoint_dir.is_dir():
            return []
        found = [p for p in self.checkpoint_dir.glob("ckpt-*") if (p / STATE).exists()]
        return sorted(found, key=lambda p: json.loads((p / STATE).read_text())["step"])

    def save(self) -> Path:
        """Write a checkpoint folder atomically (a half-written one is never resumed from)."""
        folder = self.checkpoint_dir / f"ckpt-{self.epoch}"
        partial = folder.with_name("partial-" + folder.name)  # never matches ckpt-*
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        self.generator.save_weights(partial / "generator.weights.h5")
        self.discriminator.save_weights(partial / "discriminator.weights.h5")
        np.savez(
            partial / "optimizers.npz",
            **{f"g{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(self.g_opt.variables)},
            **{f"d{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(self.d_opt.variables)},
        )
        state = {"epoch": self.epoch, "step": self.step, "backend": "torch"}
        (partial / STATE).write_text(json.dumps(state) + "\n")
        shutil.rmtree(folder, ignore_errors=True)
        partial.rename(folder)
        for old in self.checkpoints()[: -self.config.keep]:
            shutil.rmtree(old)
        return folder

    def restore(self) -> bool:
        """Resume from the latest checkpoint if there is one (and resuming is on); else a fresh
        run, from ``init_weights`` when given (see :func:`training.runs.init_generator`)."""
        if (self.checkpoint_dir / "checkpoint").exists():
            raise ValueError(
                f"{self.checkpoint_dir} holds TensorFlow checkpoints: resume with --backend "
                "tensorflow, or give this run another --out"
            )
        found = self.checkpoints()
        if not self.config.resume or not found:
            init_generator(self.generator, self.config)
            return False
        latest = found[-1]
        self.generator.load_weights(latest / "generator.weights.h5")
        self.discriminator.load_weights(latest / "discriminator.weights.h5")
        with np.load(latest / "optimizers.npz") as saved:
            for prefix, opt in (("g", self.g_opt), ("d", self.d_opt)):
                for i, variable in enumerate(opt.variables):
                    variable.assign(saved[f"{prefix}{i}"])
        state = json.loads((latest / STATE).read_text())
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        logger.info("Resumed from %s: epoch %d, step %d", latest, self.epoch, self.step)
        return True

    # -- the GAN step ---------------------------------------------------------------------------

    def train_step(self, sketch, color) -> dict[str, float]:
        """One step on a batch (backend tensors on the device); returns the losses."""
        import torch

        g, d = self.generator, self.discriminator
        outputs = self.objective.forward(sketch)
        lines = sketch[..., :3]  # the discriminator judges the coloring of the sketch
        real_logits = d([lines, color], training=True)
        fake_logits = d([lines, outputs[0]], training=True)
        g_total, g_gan, g_l1, g_color = self.objective.loss(fake_logits, outputs, color)
        d_total = discriminator_loss(real_logits, fake_logits)
        g_vars, d_vars = g.trainable_variables, d.trainable_variables
        g_grads = torch.autograd.grad(g_total, [v.value for v in g_vars], retain_graph=True)
        d_grads = torch.autograd.grad(d_total, [v.value for v in d_vars])
        with torch.no_grad():
            self.g_opt.apply(list(g_grads), g_vars)
            self.d_opt.apply(list(d_grads), d_vars)
        values = torch.stack([v.float() for v in (g_total, g_gan, g_l1, g_color, d_total)]).tolist()
        return dict(zip(("g_total", "g_gan", "g_l1", "g_color", "d_total"), values, strict=True))

    # -- the run --------------------------------------------------------------------------------

    def train_images(self) -> np.ndarray:
        if self._train_images is None:
            started = time.perf_counter()
            self._train_images = decode_split(self.train_split, self.workers)
            logger.info(
                "decoded %d training pairs in %.1f s",
                len(self._train_images),
                time.perf_counter() - started,
            )
        return self._train_images

    def _prior_truths(self) -> np.ndarray:
        """Training truths (8×8 means) for the color term's prior."""
        images = self.train_images()
        rng = np.random.default_rng(self.config.seed)
        pick = rng.choice(len(images), min(PRIOR_PAIRS, len(images)), replace=False)
        truths = images[pick, 1].astype(np.float32) / 127.5 - 1.0
        n, h, w, _ = truths.shape
        pooled = truths.reshape(n, h // POOL, POOL, w // POOL, POOL, 3).mean(axis=(2, 4))
        return pooled

    def fit(self) -> dict[str, object]:
        """Train to ``config.epochs``; returns the final metrics (also in the model card)."""

        config = self.config
        config.out.mkdir(parents=True, exist_ok=True)
        self.restore()
        history = load_history(config.out)
        metrics: dict[str, float] = {}
        if self.epoch < config.epochs:
            pairs = TrainingPairs(
                self.train_images(),
                augment_pairs=config.augment,
                vary=config.vary_lines,
                hints="sampled" if config.hints else None,
                seed=config.seed,
            )
            if config.lambda_color > 0:
                self.objective.set_prior(self._prior_truths())
        for epoch in range(self.epoch, config.epochs):
            progress = EpochProgress(epoch, config.epochs, self.steps_per_epoch)
            loader = batches(
                pairs, config.batch_size, shuffle=True, workers=self.workers, epoch=epoch
            )
            for sketch, color in loader:
                losses = self.train_step(
                    sketch.to(self.device, non_blocking=True),
                    color.to(self.device, non_blocking=True),
                )
                self.step += 1
                rate = progress.step(losses, int(sketch.shape[0]))
                if self.step % config.log_every == 0:
                    for name, value in losses.items():
                        history.setdefault(name, []).append(value)
                    history.setdefault("images_per_s", []).append(rate)
            progress.close()
            self.epoch = epoch + 1
            if self.epoch % config.checkpoint_every == 0 or self.epoch == config.epochs:
                self.calibrate()
                path = self.save()
                metrics = self.validate()
                save_history(config.out, history)
                logger.info("epoch %d: saved %s; val %s", self.epoch, path, metrics)
        save_history(config.out, history)
        if not metrics:  # nothing left to train: report on the restored weights
            metrics = self.validate()
        return {"epoch": self.epoch, "step": self.step, "val": metrics}

    def calibrate(self) -> int:
        """BatchNorm statistics as inference will use them (see :mod:`training.calibration`):
        un-augmented training sketches, hints sampled as in training for a hint model."""
        import torch

        if self.config.calibrate_steps <= 0:
            return 0
        hints = "sampled" if input_channels_of(self.generator) != 3 else None
        pairs = TrainingPairs(self.train_images(), hints=hints, seed=self.config.seed + 1)
        loader = batches(pairs, 16, shuffle=True, workers=self.workers)
        sketches = (sketch.to(self.device) for sketch, _ in loader)
        with torch.no_grad():  # statistics only: no graph for gradients
            return recalibrate_batchnorm(self.generator, sketches, self.config.calibrate_steps)

    def validate(self) -> dict[str, float]:
        """Val L1 (on [-1, 1], as the loss) and PSNR (of the set's mean squared error on [0, 1])
        without hints, in the mode inference runs (``training=False``)."""
        import torch

        hints = "empty" if self.config.hints else None
        if self._val_images is None:  # decoded once, scored at every checkpoint
            self._val_images = decode_split(self.val_split, self.workers)
        pairs = TrainingPairs(self._val_images, hints=hints)
        l1 = squared = 0.0
        n = 0
        with torch.no_grad():
            for sketch, color in batches(pairs, self.config.batch_size, shuffle=False, workers=0):
                fake = self.generator(sketch.to(self.device), training=False)
                fake = torch.clamp(fake.float(), -1.0, 1.0).cpu().numpy()
                truth = color.numpy()
                l1 += float(np.abs(fake - truth).mean(axis=(1, 2, 3)).sum())
                squared += float((((fake - truth) / 2.0) ** 2).mean(axis=(1, 2, 3)).sum())
                n += len(truth)
        if n == 0:
            raise ValueError("no validation images")
        return {"l1": l1 / n, "psnr": psnr_of_mse(squared / n)}
