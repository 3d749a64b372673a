"""Trainer speed: images/s of the project's trainer vs. a naive tutorial-style loop, one run.

Usage: ``python benchmarks/training.py [--data DIR] [--width 16] [--batch 16] [--rounds 6]``

The naive loop is the tutorial's: a ``tf.function`` train step fed by Python loading each
batch with PIL at every step (no tf.data, no prefetch, no cache); the trainer feeds the same
kind of compiled step from its cached, prefetched tf.data pipeline. Both train the same networks with the same losses; rounds are interleaved
(the host is noisy) and the medians compared. Without ``--data`` a small synthetic set of 1024×512 pairs (the Kaggle size) is made.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def synthetic(root: Path, n: int = 64) -> Path:
    from samples import training_pair

    for split, count in (("train", n), ("val", 4)):
        (root / split).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            training_pair(i, size=512).save(root / split / f"{i:04d}.png")
    return root


def naive_batch(paths: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Tutorial-style loading, in Python, every step."""
    from PIL import Image

    sketches, colors = [], []
    for path in paths:
        img = Image.open(path).convert("RGB")
        w, h = img.size
        color = img.crop((0, 0, w // 2, h)).resize((256, 256), Image.Resampling.BICUBIC)
        sketch = img.crop((w // 2, 0, w, h)).resize((256, 256), Image.Resampling.BICUBIC)
        sketches.append(np.asarray(sketch, np.float32) / 127.5 - 1)
        colors.append(np.asarray(color, np.float32) / 127.5 - 1)
    return np.stack(sketches), np.stack(colors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--steps", type=int, default=4, help="steps per round and variant")
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from inference.generator import build_generator
    from training.config import TrainConfig
    from training.data import make_dataset
    from training.discriminator import build_discriminator
    from training.losses import discriminator_loss, generator_loss
    from training.runs import cpu_has_bf16
    from training.trainer import Trainer

    data = args.data or synthetic(Path(tempfile.mkdtemp()) / "data", 4 * args.batch)

    def trainer_for(mixed: bool) -> Trainer:
        config = TrainConfig(
            data=data,
            out=Path(tempfile.mkdtemp()),
            batch_size=args.batch,
            width=args.width,
            mixed_precision=mixed,
        )
        built = Trainer(config)
        keras.mixed_precision.set_global_policy("float32")  # the policy is global in Keras
        return built

    trainer = trainer_for(False)
    mixed = trainer_for(True) if cpu_has_bf16() else None
    paths = list(trainer.train_split.pairs)
    g, d = build_generator(args.width), build_discriminator(args.width)
    g_opt, d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5)

    @tf.function
    def tutorial_step(sketch: tf.Tensor, color: tf.Tensor) -> None:
        with tf.GradientTape() as gt, tf.GradientTape() as dt:
            fake = g(sketch, training=True)
            real_l, fake_l = d([sketch, color], training=True), d([sketch, fake], training=True)
            g_total, _, _ = generator_loss(fake_l, fake, color, 400.0)
            d_total = discriminator_loss(real_l, fake_l)
        g_opt.apply_gradients(
            zip(gt.gradient(g_total, g.trainable_variables), g.trainable_variables, strict=True)
        )
        d_opt.apply_gradients(
            zip(dt.gradient(d_total, d.trainable_variables), d.trainable_variables, strict=True)
        )

    def naive_step(i: int) -> None:
        batch = [paths[(i * args.batch + k) % len(paths)] for k in range(args.batch)]
        tutorial_step(*(tf.convert_to_tensor(a) for a in naive_batch(batch)))

    def fast(t: Trainer):
        batches = iter(make_dataset(t.train_split, args.batch, shuffle=True).repeat())

        def step(_: int) -> None:
            t._train_step(*next(batches))

        return step

    variants = {"naive tutorial loop (fp32)": naive_step, "trainer (fp32)": fast(trainer)}
    if mixed is not None:
        variants["trainer --mixed-precision (bf16)"] = fast(mixed)
    for step in variants.values():  # warm-up: tracing, cache fill
        for i in range(max(2, len(paths) // args.batch)):
            step(i)
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for r in range(args.rounds):
        for name, step in variants.items():
            t = time.perf_counter()
            for i in range(args.steps):
                step(r * args.steps + i)
            rates[name].append(args.steps * args.batch / (time.perf_counter() - t))
    naive = statistics.median(rates["naive tutorial loop (fp32)"])
    print(
        f"\nwidth {args.width}, batch {args.batch}, {args.rounds} interleaved rounds of {args.steps} steps"
    )
    print(f"data: {data} ({len(paths)} training pairs); CPU bfloat16: {cpu_has_bf16()}")
    print("| loop | images/s (median) | min | max | vs naive |")
    print("|---|---|---|---|---|")
    for name, values in rates.items():
        median = statistics.median(values)
        print(
            f"| {name} | {median:.1f} | {min(values):.1f} | {max(values):.1f} | {median / naive:.2f}× |"
        )
    print("\ntarget: trainer ≥ 1.3× the naive loop")


if __name__ == "__main__":
    main()
