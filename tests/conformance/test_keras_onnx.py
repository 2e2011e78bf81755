"""Keras 3 CNNs exported by Keras' own exporter (model.export(path, format="onnx"), on the torch backend),
loaded by mc.onnx.load: channels-last files (input (N, H, W, C), transposes around each Conv and
pooling, biases and batch normalisation as Add/Sub/Mul, global pooling as ReduceMean) become the same
network channels-first, predicting what Keras predicts on the images transposed to (N, C, H, W)."""

import warnings

import numpy as np
import pytest

import minicnn as mc

keras = pytest.importorskip("keras")
pytest.importorskip("onnx")


def sequential_with_flatten():
    K = keras.layers
    return keras.Sequential([
        keras.Input((16, 16, 3)), K.Conv2D(4, 3, padding="same", activation="relu"), K.BatchNormalization(),
        K.MaxPooling2D(2), K.Conv2D(6, 3, strides=2, activation="tanh"), K.AveragePooling2D(2), K.Flatten(),
        K.Dropout(0.3), K.Dense(5, activation="relu"), K.Dense(3, activation="softmax")])


def functional_with_global_pool():
    K = keras.layers
    x = keras.Input((12, 12, 3))
    h = K.Conv2D(4, 3, padding="same", use_bias=False)(x)
    h = K.Activation("relu")(K.BatchNormalization()(h))
    h = K.Add()([h, K.Conv2D(4, 1)(h)])                  # a residual connection
    h = K.GlobalAveragePooling2D()(K.MaxPooling2D(2)(h))
    return keras.Model(x, K.Dense(1, activation="sigmoid")(h))


@pytest.mark.parametrize("build", [sequential_with_flatten, functional_with_global_pool])
def test_a_keras_exported_cnn_loads_and_predicts_what_keras_does(tmp_path, build):
    keras.utils.set_random_seed(0)
    reference = build()
    rng = np.random.default_rng(0)
    for layer in reference.layers:                       # moving statistics that are not 0 and 1
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, c), rng.normal(size=c), rng.normal(size=c),
                               rng.uniform(0.5, 2, c)])
    images = rng.normal(size=(4, *reference.input_shape[1:])).astype(np.float32)
    expected = reference.predict(images, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                  # the exporter's tracer warnings
        reference.export(str(tmp_path / "keras.onnx"), format="onnx", verbose=False)
    model = mc.onnx.load(tmp_path / "keras.onnx")
    assert model.input_shape == (images.shape[3], *images.shape[1:3])      # minicnn's channels-first
    np.testing.assert_allclose(model.predict(images.transpose(0, 3, 1, 2)), expected, rtol=1e-4, atol=1e-5)
    kinds = {type(layer).__name__ for layer in model.layers}
    assert "BatchNormalization" in kinds and "Conv2D" in kinds
    model.compile("adam", mc.losses.BinaryCrossentropy() if expected.shape[1] == 1 else
                  mc.losses.SparseCategoricalCrossentropy())
    labels = (expected[:, 0] > 0.5).astype(np.int64) if expected.shape[1] == 1 else expected.argmax(1)
    model.fit(mc.data.ImageDataset(images.transpose(0, 3, 1, 2), labels), epochs=1, verbose=0)   # it trains
