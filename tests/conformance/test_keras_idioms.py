"""Keras idioms of its guides and tutorials, run on both with `import minicnn as keras`: the learning rate
as the optimizer's first argument, keras.Input in a Sequential, a feature extractor from model.inputs and
layer.output, model.pop(), model.weights, keras.ops and keras.utils.to_categorical."""

import numpy as np
import pytest
from keras_helpers import CF, assert_close, copy_weights, keras, numpy

import minicnn as mc

K = keras.layers


@pytest.mark.parametrize("name,lr", [("Adam", 3e-4), ("RMSprop", 1e-3), ("SGD", 0.1), ("AdamW", 2e-3)])
def test_the_learning_rate_comes_first(name, lr):
    mine, theirs = getattr(mc.optimizers, name)(lr), getattr(keras.optimizers, name)(lr)
    assert mine.learning_rate == pytest.approx(float(numpy(theirs.learning_rate)))
    schedule = mc.schedules.CosineDecay(0.1, 10)
    assert mc.optimizers.Adam(schedule).lr is schedule


def twins():
    mine = mc.Sequential([mc.Input(shape=(1, 8, 8)), mc.layers.Conv2D(3, 3, activation="relu"),
                          mc.layers.MaxPooling2D(2), mc.layers.Flatten(), mc.layers.Dense(4)])
    theirs = keras.Sequential([keras.Input(shape=(1, 8, 8)), K.Conv2D(3, 3, activation="relu", data_format=CF),
                               K.MaxPooling2D(2, data_format=CF), K.Flatten(), K.Dense(4)])
    copy_weights(mine.layers, theirs.layers)
    return mine, theirs


def test_a_sequential_that_starts_with_an_input():
    mine, theirs = twins()
    assert mine.built and theirs.built and mine.count_params() == theirs.count_params()
    assert len(mine.weights) == len(theirs.weights) == 4
    for a, b in zip(mine.weights, theirs.weights):
        assert a.shape == (tuple(b.shape) if a.ndim != 4 else a.shape)
    x = np.random.default_rng(0).normal(size=(5, 1, 8, 8)).astype(np.float32)
    assert_close(mine.predict(x), theirs.predict(x, verbose=0), 1e-5, 1e-5, "predict")


def test_a_feature_extractor_from_inputs_and_layer_outputs():
    mine, theirs = twins()
    extract = mc.Model(inputs=mine.inputs, outputs=[layer.output for layer in mine.layers])
    their_extract = keras.Model(inputs=theirs.inputs, outputs=[layer.output for layer in theirs.layers])
    x = np.random.default_rng(1).normal(size=(3, 1, 8, 8)).astype(np.float32)
    got, want = extract.predict(x), their_extract.predict(x, verbose=0)
    assert len(got) == len(want) == 4
    for a, b in zip(got, want):
        assert_close(a, b, 1e-5, 1e-5, "features")
    assert [o.shape for o in extract(mc.tensor(x))] == [b.shape for b in want]
    with pytest.raises(NotImplementedError, match="several outputs"):
        extract.compile("adam", "mse")


def test_pop_removes_the_last_layer():
    mine, theirs = twins()
    assert type(mine.pop()).__name__ == type(theirs.pop()).__name__ == "Dense"
    assert len(mine.layers) == len(theirs.layers) == 3
    x = np.ones((2, 1, 8, 8), np.float32)
    assert_close(mine.predict(x), theirs.predict(x, verbose=0), 1e-5, 1e-5, "after pop")


def test_ops_of_the_tutorials():
    x = np.random.default_rng(2).normal(size=(2, 3, 4)).astype(np.float32)
    assert_close(mc.ops.expand_dims(x, 0), numpy(keras.ops.expand_dims(x, 0)))
    assert_close(mc.ops.sigmoid(x), numpy(keras.ops.sigmoid(x)), 1e-6, 1e-6)
    assert_close(mc.ops.softmax(x), numpy(keras.ops.softmax(x)), 1e-6, 1e-6)
    assert_close(mc.ops.argmax(x, axis=1), numpy(keras.ops.argmax(x, axis=1)))
    assert_close(mc.ops.ones((2, 3)), numpy(keras.ops.ones((2, 3))))
    assert float(mc.ops.sigmoid(np.float32(0.5))) == pytest.approx(float(keras.ops.sigmoid(np.float32(0.5))))


def test_to_categorical():
    y = np.array([0, 2, 1, 2])
    assert_close(mc.utils.to_categorical(y, 3), keras.utils.to_categorical(y, 3))
    assert_close(mc.utils.to_categorical(y[:, None]), keras.utils.to_categorical(y[:, None]))


def test_a_functional_models_layers_are_keras_layers_after_its_input_layer():
    """model.layers of a functional model with a residual branch: the same layers in the same order
    (Keras lists its InputLayer first, minicnn has none), and a layer called twice listed once."""
    def build(library, layers, shape, **channels):
        inputs = library.Input(shape=shape)
        x = layers.Conv2D(4, 3, padding="same", **channels)(inputs)
        y = layers.Conv2D(4, 1, **channels)(inputs)
        shared = layers.Activation("relu")
        z = shared(layers.add([shared(x), y]))
        return library.Model(inputs, layers.Dense(2)(layers.Flatten()(z)))
    mine = build(mc, mc.layers, (3, 6, 6))
    theirs = build(keras, K, (3, 6, 6), data_format=CF)
    their_layers = [type(layer).__name__ for layer in theirs.layers]
    assert their_layers[0] == "InputLayer"
    assert [type(layer).__name__ for layer in mine.layers] == their_layers[1:]
    assert mine.count_params() == theirs.count_params()
