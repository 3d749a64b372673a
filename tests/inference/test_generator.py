import numpy as np
import pytest

from inference.generator import build_generator, width_of
from inference.weights import parameter_count

TUTORIAL_PARAMETERS = 54_425_859  # tf.keras pix2pix tutorial Generator().count_params()


def test_full_width_matches_the_tutorial_generator():
    model = build_generator()
    assert model.count_params() == TUTORIAL_PARAMETERS
    assert model.input_shape == (None, 256, 256, 3)
    assert model.output_shape == (None, 256, 256, 3)
    assert width_of(model) == 64


@pytest.mark.parametrize("width", [4, 8, 16])
def test_narrow_generators_keep_the_shape(width):
    model = build_generator(width)
    assert model.output_shape == (None, 256, 256, 3)
    assert width_of(model) == width
    assert model.count_params() == parameter_count(width)


def test_parameter_count_formula_matches_the_reference():
    assert parameter_count(64) == TUTORIAL_PARAMETERS


def test_output_is_in_tanh_range(tiny_generator):
    x = np.random.default_rng(0).uniform(-1, 1, (2, 256, 256, 3)).astype(np.float32)
    y = tiny_generator(x, training=False).numpy()
    assert y.shape == (2, 256, 256, 3)
    assert y.min() >= -1.0 and y.max() <= 1.0


def test_rejects_a_nonsense_width():
    with pytest.raises(ValueError, match="width"):
        build_generator(0)
