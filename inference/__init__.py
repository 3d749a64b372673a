"""PixelPainter's colorize engine: the pix2pix U-Net generator and fast CPU inference.

Model I/O everywhere in this package: RGB, 256×256, float32 in [-1, 1].
"""

from inference.errors import (
    HintsError,
    HintsProblem,
    QueueFullError,
    SketchError,
    SketchProblem,
    WeightsError,
)

__version__ = "0.1.0"

__all__ = [
    "HintsError",
    "HintsProblem",
    "QueueFullError",
    "SketchError",
    "SketchProblem",
    "WeightsError",
    "__version__",
]
