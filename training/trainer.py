"""The pix2pix GAN recipe: the train step, checkpoints with auto-resume, validation.

Seed defaults: λ = 400, Adam 2e-4 / β1 0.5 / β2 0.999, batch 32, 35 epochs, a checkpoint every
7 epochs, 3 kept. A run restarted with the same command resumes from its latest checkpoint
(epoch, step, both networks and both optimizers' state) and ends at the same total steps.
"""

from __future__ import annotations

import logging
import math

import keras
import numpy as np
import tensorflow as tf

from training.calibration import recalibrate_on_split
from training.config import TrainConfig
from training.data import Split, make_dataset, scan_dataset
from training.losses import POOL, discriminator_loss
from training.metrics import (
    evaluate,
    identity_baseline,
    loss_curve,
    mean_color,
    sample_grid,
    tint_baseline,
)
from training.runs import (
    EpochProgress,
    GeneratorObjective,
    init_generator,
    load_history,
    networks,
    precision_policy,
    save_history,
)

logger = logging.getLogger(__name__)


class Trainer:
    """Owns the networks, optimizers, checkpoints and logs of one output folder."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        # Bad data ends the run here, before any model is built.
        self.train_split, self.val_split = scan_dataset(config.data)
        gpus = tf.config.list_physical_devices("GPU")
        keras.mixed_precision.set_global_policy(precision_policy(config.mixed_precision, gpus))
        self.strategy = (
            tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
        )
        keras.utils.set_random_seed(config.seed)
        with self.strategy.scope():
            self.generator, self.discriminator, self.g_opt, self.d_opt = networks(
                config, loss_scale=keras.mixed_precision.global_policy().name == "mixed_float16"
            )
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.checkpoint = tf.train.Checkpoint(
            generator=self.generator,
            discriminator=self.discriminator,
            generator_optimizer=self.g_opt,
            discriminator_optimizer=self.d_opt,
            epoch=self.epoch,
            step=self.step,
        )
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, str(config.out / "checkpoints"), max_to_keep=config.keep
        )
        self.global_batch = config.batch_size
        self.steps_per_epoch = math.ceil(len(self.train_split) / self.global_batch)
        self.objective = GeneratorObjective(self.generator, config)
        if config.lambda_color > 0:
            self.objective.set_prior(self._prior_truths())
        self._train_step = self._make_train_step()

    def _prior_truths(self) -> np.ndarray:
        """Training truths (8×8 means) for the color term's prior."""
        ds = make_dataset(self.train_split, 16, shuffle=True, cache=False, seed=self.config.seed)
        truths = [tf.nn.avg_pool2d(color, POOL, POOL, "VALID").numpy() for _, color in ds.take(16)]
        return np.concatenate(truths)

    # -- the GAN step -------------------------------------------------------------------------

    def _make_train_step(self):
        config = self.config
        g, d, g_opt, d_opt = self.generator, self.discriminator, self.g_opt, self.d_opt
        scaled = isinstance(g_opt, keras.optimizers.LossScaleOptimizer)

        objective = self.objective

        def replica_step(sketch: tf.Tensor, color: tf.Tensor) -> dict[str, tf.Tensor]:
            with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
                outputs = objective.forward(sketch)
                # The discriminator judges the coloring of the sketch, hints or not.
                lines = sketch[..., :3]
                real_logits = d([lines, color], training=True)
                fake_logits = d([lines, outputs[0]], training=True)
                g_total, g_gan, g_l1, g_color = objective.loss(fake_logits, outputs, color)
                d_total = discriminator_loss(real_logits, fake_logits)
                # Losses are means over the replica's batch: scale to the global batch.
                replicas = self.strategy.num_replicas_in_sync
                g_scaled, d_scaled = g_total / replicas, d_total / replicas
                if scaled:
                    g_scaled = g_opt.scale_loss(g_scaled)
                    d_scaled = d_opt.scale_loss(d_scaled)
            g_grads = g_tape.gradient(g_scaled, g.trainable_variables)
            d_grads = d_tape.gradient(d_scaled, d.trainable_variables)
            g_opt.apply_gradients(zip(g_grads, g.trainable_variables, strict=True))
            d_opt.apply_gradients(zip(d_grads, d.trainable_variables, strict=True))
            return {
                "g_total": g_total,
                "g_gan": g_gan,
                "g_l1": g_l1,
                "g_color": g_color,
                "d_total": d_total,
            }

        @tf.function(jit_compile=config.xla or None, reduce_retracing=True)
        def train_step(sketch: tf.Tensor, color: tf.Tensor) -> dict[str, tf.Tensor]:
            per_replica = self.strategy.run(replica_step, args=(sketch, color))
            return {
                k: self.strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None)
                for k, v in per_replica.items()
            }

        return train_step

    # -- the run ------------------------------------------------------------------------------

    def restore(self) -> bool:
        """Resume from the latest checkpoint if there is one (and resuming is on).

        A fresh run with ``init_weights`` starts its generator from those weights (fine-tuning);
        the discriminator and both optimizers start new. A hint run from a hint-less generator
        gets its weights with zero weights on the hint channels (:func:`widen_to_hints`).
        """
        latest = self.manager.latest_checkpoint
        if not self.config.resume or latest is None:
            init_generator(self.generator, self.config)
            return False
        self.checkpoint.restore(latest).assert_existing_objects_matched()
        logger.info("Resumed from %s: epoch %d, step %d", latest, int(self.epoch), int(self.step))
        return True

    def fit(self) -> dict[str, object]:
        """Train to ``config.epochs``; returns the final metrics (also in the model card)."""
        config = self.config
        config.out.mkdir(parents=True, exist_ok=True)
        self.restore()
        train_ds = make_dataset(
            self.train_split,
            self.global_batch,
            shuffle=True,
            augment=config.augment,
            vary=config.vary_lines,
            cache=config.cache,
            seed=config.seed,
            hints="sampled" if config.hints else None,
        )
        dist_ds = self.strategy.experimental_distribute_dataset(train_ds)
        writer = tf.summary.create_file_writer(str(config.out / "tensorboard"))
        history = load_history(config.out)
        metrics: dict[str, float] = {}
        first_epoch = int(self.epoch)
        for epoch in range(first_epoch, config.epochs):
            progress = EpochProgress(epoch, config.epochs, self.steps_per_epoch)
            for sketch, color in dist_ds:
                losses = {k: float(v) for k, v in self._train_step(sketch, color).items()}
                self.step.assign_add(1)
                rate = progress.step(losses, _batch_len(sketch))
                step = int(self.step)
                if step % config.log_every == 0:
                    with writer.as_default(step=step):
                        for name, value in losses.items():
                            tf.summary.scalar(f"loss/{name}", value)
                        tf.summary.scalar("speed/images_per_s", rate)
                    for name, value in losses.items():
                        history.setdefault(name, []).append(value)
            progress.close()
            self.epoch.assign(epoch + 1)
            if (epoch + 1) % config.checkpoint_every == 0 or epoch + 1 == config.epochs:
                self.calibrate()
                path = self.manager.save(checkpoint_number=epoch + 1)
                metrics = self.validate(epoch + 1)
                with writer.as_default(step=int(self.step)):
                    for name, value in metrics.items():
                        tf.summary.scalar(f"val/{name}", value)
                save_history(config.out, history)
                logger.info("epoch %d: saved %s; val %s", epoch + 1, path, _fmt(metrics))
        writer.flush()
        save_history(config.out, history)
        loss_curve(history, config.out / "loss_curve.png")
        if not metrics:  # nothing left to train: report on the restored weights
            metrics = self.validate(int(self.epoch))
        return {"epoch": int(self.epoch), "step": int(self.step), "val": metrics}

    def calibrate(self) -> int:
        """BatchNorm statistics as inference will use them (see :mod:`training.calibration`)."""
        return recalibrate_on_split(
            self.generator,
            self.train_split,
            batch_size=self.global_batch,
            steps=self.config.calibrate_steps,
            seed=self.config.seed,
        )

    def predict(self, sketch: tf.Tensor) -> tf.Tensor:
        # training=False: moving BatchNorm statistics and no Dropout, as inference/ runs it, so
        # the metrics describe what a user gets (the tutorial samples with training=True).
        return tf.cast(self.generator(sketch, training=False), tf.float32)

    def validate(self, epoch: int) -> dict[str, float]:
        """Val L1/PSNR/SSIM and a sample grid for this epoch."""
        val_ds = make_dataset(
            self.val_split,
            self.global_batch,
            shuffle=False,
            cache=False,
            hints="empty" if self.config.hints else None,
        )
        metrics = evaluate(self.predict, val_ds)
        rows = []
        for sketch, color in val_ds.unbatch().take(self.config.samples):
            fake = self.predict(sketch[None])[0].numpy()
            rows.append((sketch.numpy()[..., :3], fake, color.numpy()))
        sample_grid(rows, self.config.out / "samples" / f"epoch_{epoch:03d}.png")
        return metrics

    def baselines(self) -> dict[str, dict[str, float]]:
        """The two trivial answers the model must beat, on the same val split."""
        return score_baselines(self.train_split, self.val_split)


def score_baselines(train: Split, val: Split) -> dict[str, dict[str, float]]:
    """Val metrics of the sketch itself and of the sketch tinted by the training mean color."""
    tint = mean_color(make_dataset(train, 64, shuffle=False, cache=False))
    val_ds = make_dataset(val, 64, shuffle=False, cache=False)
    return {
        "sketch_itself": evaluate(identity_baseline, val_ds),
        "sketch_tinted_by_mean_color": evaluate(tint_baseline(tint), val_ds),
    }


def _batch_len(batch: object) -> int:
    values = getattr(batch, "values", None)  # a PerReplica value under MirroredStrategy
    if values is not None:
        return sum(int(v.shape[0]) for v in values)
    return int(batch.shape[0])  # type: ignore[attr-defined]


def _fmt(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
