"""How close two images are: one PSNR for the engine's checks, the trainer and the benchmarks."""

from __future__ import annotations

import numpy as np

# A perfect match would be infinite dB: the error is floored here (100 dB on [0, 1]).
MIN_MSE = 1e-10


def psnr_of_mse(mse: float, *, peak: float = 1.0) -> float:
    """PSNR in dB of a mean squared error on values whose range is ``peak`` wide
    (1 for [0, 1], 2 for the model's [-1, 1], 255 for uint8)."""
    return float(10.0 * np.log10(peak * peak / max(float(mse), MIN_MSE)))
