"""The pix2pix losses: a conditional GAN loss plus λ·L1 for the generator."""

from __future__ import annotations

import keras
import tensorflow as tf


def generator_loss(
    disc_fake: tf.Tensor, fake: tf.Tensor, target: tf.Tensor, lambda_l1: float
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """G = BCE(D(fake), 1) + λ·L1(fake, target); returns (total, gan, l1)."""
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    gan = bce(tf.ones_like(disc_fake), disc_fake)
    l1 = tf.reduce_mean(tf.abs(tf.cast(target, tf.float32) - tf.cast(fake, tf.float32)))
    return gan + lambda_l1 * l1, gan, l1


def discriminator_loss(disc_real: tf.Tensor, disc_fake: tf.Tensor) -> tf.Tensor:
    """D = BCE(D(real), 1) + BCE(D(fake), 0)."""
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    return bce(tf.ones_like(disc_real), disc_real) + bce(tf.zeros_like(disc_fake), disc_fake)
