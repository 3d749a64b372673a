"""PixelPainter refine server: Stable Diffusion img2img refinement of the GAN's colorings.

Runs on a GPU box (a Colab T4, any CUDA machine); CPU works for tests. Never imports TensorFlow
or the other PixelPainter packages, so ``pip install pixelpainter[refine]`` is all it needs.
"""

__version__ = "0.1.0"

# The discovery document's schema version (design.md).
DISCOVERY_VERSION = 1
