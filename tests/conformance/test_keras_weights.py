"""A Keras 3 Sequential CNN's .weights.h5 read into the minicnn Sequential of the same architecture
(mc.io.load_keras_weights): channels-last kernels transposed and turned 180 degrees, the Dense after
Flatten reordered; then minicnn, on the images transposed to channels-first, predicts what Keras does."""

import numpy as np
import pytest

import minicnn as mc

keras = pytest.importorskip("keras")
pytest.importorskip("h5py")
L = mc.layers


def test_a_keras_sequential_cnns_weights_give_its_predictions_in_minicnn(tmp_path):
    K = keras.layers
    keras.utils.set_random_seed(0)
    reference = keras.Sequential([
        keras.Input((12, 12, 3)), K.Conv2D(4, 3, padding="same", activation="relu"), K.BatchNormalization(),
        K.MaxPooling2D(2), K.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), K.SeparableConv2D(5, 3),
        K.Conv2D(3, 2, strides=2, activation="tanh"), K.Flatten(), K.Dense(6, activation="relu"), K.Dense(2)])
    batchnorm = reference.layers[1]
    rng = np.random.default_rng(0)
    batchnorm.set_weights([rng.uniform(0.5, 1.5, 4), rng.normal(size=4), rng.normal(size=4), rng.uniform(0.5, 2, 4)])
    reference.save_weights(tmp_path / "model.weights.h5")

    mine = mc.Sequential([
        L.Conv2D(4, 3, padding="same", activation="relu", name="first"), L.BatchNormalization(), L.MaxPooling2D(2),
        L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), L.SeparableConv2D(5, 3),
        L.Conv2D(3, 2, strides=2, activation="tanh"), L.Flatten(), L.Dense(6, activation="relu"), L.Dense(2)],
        input_shape=(3, 12, 12))
    mc.io.load_keras_weights(mine, tmp_path / "model.weights.h5")
    images = rng.normal(size=(4, 12, 12, 3)).astype(np.float32)
    expected = keras.ops.convert_to_numpy(reference(images, training=False))
    got = mine.predict(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_a_file_of_another_architecture_is_refused(tmp_path):
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]).save_weights(tmp_path / "dense.weights.h5")
    with pytest.raises(ValueError, match="holds shape \\(4, 3\\) for layer '.*', which wants \\(5, 3\\)"):
        mc.io.load_keras_weights(mc.Sequential([L.Dense(3)], input_shape=(5,)), tmp_path / "dense.weights.h5")
    with pytest.raises(ValueError, match="no weights in the file for layer"):
        mc.io.load_keras_weights(mc.Sequential([L.Conv1D(2, 1), L.Flatten()], input_shape=(4, 3)),
                                 tmp_path / "dense.weights.h5")
