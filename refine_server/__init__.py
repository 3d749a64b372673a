"""PixelPainter refine server: Stable Diffusion img2img refinement of the GAN's colorings.

Runs on a GPU box (a Colab T4, any CUDA machine); CPU works for tests. Never imports TensorFlow
or the bot; ``pip install "pixelpainter-colorize[refine]"`` is all it needs.
"""

__version__ = "0.1.0"

# The model names clients choose from (``POST /refine`` field ``model``), in the order shown;
# the first is the default. Each has its settings ``MODEL_<NAME>`` and ``STEPS_<NAME>``.
MODEL_NAMES = ("balanced", "quality")
DEFAULT_MODEL = MODEL_NAMES[0]
