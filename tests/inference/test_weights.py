import shutil

import keras
import numpy as np
import pytest

from inference.engine import KerasEngine, OnnxEngine, load_engine, onnx_for
from inference.errors import WeightsError
from inference.generator import build_generator
from inference.weights import detect_format, inspect_weights, load_generator, parameter_count


@pytest.fixture(scope="module")
def batch():
    return np.random.default_rng(1).uniform(-1, 1, (2, 256, 256, 3)).astype(np.float32)


def _same(a: keras.Model, b: keras.Model, x: np.ndarray, atol: float = 1e-5) -> None:
    np.testing.assert_allclose(a(x, training=False), b(x, training=False), atol=atol)


def test_keras3_weights_round_trip(tiny_generator, tiny_weights, batch):
    assert detect_format(tiny_weights)[0] == "keras3-weights"
    _same(tiny_generator, load_generator(tiny_weights), batch)


def test_keras_model_file_round_trip(tiny_generator, tmp_path, batch):
    path = tmp_path / "gen.keras"
    tiny_generator.save(path)
    assert detect_format(path)[0] == "keras3-model"
    _same(tiny_generator, load_generator(path), batch)
    assert inspect_weights(path).width == 8


def test_renamed_keras3_weights_still_load(tiny_generator, tiny_weights, tmp_path, batch):
    renamed = tmp_path / "generator_weights.h5"  # a Keras 3 file with a legacy-looking name
    shutil.copy(tiny_weights, renamed)
    _same(tiny_generator, load_generator(renamed), batch)


def test_width_is_read_from_the_file(tmp_path):
    model = build_generator(4)
    path = tmp_path / "w4.weights.h5"
    model.save_weights(path)
    info = inspect_weights(path)
    assert (info.format, info.width, info.parameters) == ("keras3-weights", 4, model.count_params())
    assert load_generator(path).count_params() == parameter_count(4)


def test_onnx_export_matches_keras(tiny_generator, tiny_onnx, batch):
    onnx_out = OnnxEngine(tiny_onnx, threads=1).predict(batch)
    keras_out = KerasEngine(tiny_generator, threads=1).predict(batch)
    assert np.abs(onnx_out - keras_out).max() < 1e-4
    info = inspect_weights(tiny_onnx)
    assert (info.format, info.width, info.parameters) == ("onnx", 8, tiny_generator.count_params())


def test_onnx_export_is_cached_by_content(tiny_weights, tmp_path):
    first = onnx_for(tiny_weights, tmp_path / "cache")
    mtime = first.stat().st_mtime_ns
    assert onnx_for(tiny_weights, tmp_path / "cache") == first and first.stat().st_mtime_ns == mtime
    assert load_engine(tiny_weights, threads=1, cache=tmp_path / "cache").name == "onnxruntime"


def test_garbage_file_is_a_clear_error(tmp_path):
    path = tmp_path / "generator_weights.h5"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(WeightsError, match=r"generator_weights\.h5.*not a weights file"):
        load_generator(path)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(WeightsError, match=r"nope\.weights\.h5: no such file"):
        load_generator(tmp_path / "nope.weights.h5")


def test_folder_without_checkpoint(tmp_path):
    with pytest.raises(WeightsError, match="no TensorFlow checkpoint"):
        load_generator(tmp_path)


def test_weights_of_another_network_are_refused(tmp_path):
    other = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)])
    path = tmp_path / "other.weights.h5"
    other.save_weights(path)
    with pytest.raises(WeightsError, match=r"other\.weights\.h5.*not a pix2pix generator"):
        load_generator(path)


def test_truncated_weights_are_refused(tiny_weights, tmp_path):
    path = tmp_path / "cut.weights.h5"
    path.write_bytes(tiny_weights.read_bytes()[:50_000])
    with pytest.raises(WeightsError, match=r"cut\.weights\.h5"):
        load_generator(path)


def test_keras3_checkpoint_folder_and_prefix(tiny_generator, tmp_path, batch):
    import tensorflow as tf

    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(generator=tiny_generator, step=tf.Variable(3)), tmp_path / "ck", 3
    )
    prefix = manager.save()
    assert detect_format(tmp_path / "ck") == ("tf-checkpoint", tmp_path / "ck" / "ckpt-1")
    _same(tiny_generator, load_generator(tmp_path / "ck"), batch)
    _same(tiny_generator, load_generator(prefix), batch)
    assert inspect_weights(prefix).width == 8


def test_checkpoint_cache_key_is_the_prefix_alone(tiny_generator, tmp_path):
    import tensorflow as tf

    from inference.engine import fingerprint

    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(generator=tiny_generator), tmp_path / "ck", 20
    )
    first = manager.save(checkpoint_number=1)
    before = fingerprint(tmp_path / "ck" / "ckpt-1")
    manager.save(checkpoint_number=10)  # ckpt-10.* must not change ckpt-1's key
    assert fingerprint(tmp_path / "ck" / "ckpt-1") == before
    assert str(first).endswith("ckpt-1")


def test_onnx_width_without_our_metadata_comes_from_the_first_convolution(tiny_onnx, tmp_path):
    import onnx

    model = onnx.load(str(tiny_onnx))
    del model.metadata_props[:]
    plain = tmp_path / "exported-elsewhere.onnx"
    onnx.save(model, str(plain))
    info = inspect_weights(plain)
    assert (info.format, info.width, info.parameters) == ("onnx", 8, parameter_count(8))


def test_truncated_onnx_is_a_clear_error(tiny_onnx, tmp_path):
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(tiny_onnx.read_bytes()[: tiny_onnx.stat().st_size // 2])
    with pytest.raises(WeightsError, match=r"cut\.onnx: not a readable ONNX model"):
        inspect_weights(cut)
