"""What the Keras conformance tests share: Keras itself (on the torch backend, see conftest.py), weights
copied from minicnn layers into their Keras twins, twin models, and stand-ins for driving callbacks.

minicnn is NCHW throughout, so the Keras twins are built with data_format="channels_first". Two
layouts differ on purpose (README, "Conventions"):
- minicnn's Conv2D/Conv1D kernel is a true convolution's, (F, C, KH, KW) / (F, C, K); Keras' is the
  cross-correlation kernel (KH, KW, C, F) / (K, C, F): flipped in space, then transposed.
- minicnn's Flatten flattens (C, H, W) in that order, which is Keras' Flatten with its default
  data_format="channels_last" (a plain reshape); Keras' Flatten(data_format="channels_first") first
  moves the channels last.
"""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import minicnn as mc  # noqa: E402
from conftest import assert_close  # noqa: E402,F401   (re-exported for the test modules)

L, K = mc.layers, keras.layers
CF = "channels_first"


def numpy(value):
    """A Keras result (torch tensor, Keras variable, number) as a NumPy array."""
    if isinstance(value, keras.Variable):
        value = value.value
    if hasattr(value, "detach"):        # a torch tensor (np.asarray of one warns on NumPy 2)
        return value.detach().cpu().numpy()
    return np.asarray(value)


def seed(n=0):
    """The same seed for both libraries (weights, dropout, shuffling)."""
    mc.manual_seed(n)
    keras.utils.set_random_seed(n)


def keras_weights(layer):
    """A built minicnn layer's weights in its Keras twin's layout (get_weights order, which is Keras')."""
    weights = layer.get_weights()
    if isinstance(layer, (L.DepthwiseConv2D, L.SeparableConv2D)):
        # (C * M, 1, KH, KW), channel c * M + m -> Keras' (KH, KW, C, M), flipped in space
        depthwise, channels = weights[0], layer.params["depthwise_kernel"].shape[0] // layer.depth_multiplier
        kh, kw = depthwise.shape[2:]
        flipped = np.flip(depthwise[:, 0], (1, 2)).reshape(channels, layer.depth_multiplier, kh, kw)
        weights[0] = np.ascontiguousarray(flipped.transpose(2, 3, 0, 1))
        if isinstance(layer, L.SeparableConv2D):    # (F, C * M, 1, 1) -> (1, 1, C * M, F)
            weights[1] = np.ascontiguousarray(weights[1].transpose(2, 3, 1, 0))
    elif isinstance(layer, L.Conv2D):
        weights[0] = np.ascontiguousarray(np.flip(weights[0], (2, 3)).transpose(2, 3, 1, 0))
    elif isinstance(layer, L.Conv1D):
        weights[0] = np.ascontiguousarray(np.flip(weights[0], 2).transpose(2, 1, 0))
    return weights


def copy_weights(mc_layers, keras_layers):
    """Each minicnn layer's weights into the Keras layer at the same place (both already built)."""
    mc_layers, keras_layers = list(mc_layers), list(keras_layers)
    assert len(mc_layers) == len(keras_layers), (mc_layers, keras_layers)
    for mine, theirs in zip(mc_layers, keras_layers):
        theirs.set_weights(keras_weights(mine))


def assert_same_weights(mc_layers, keras_layers, rtol=1e-5, atol=1e-6, what="weights"):
    for i, (mine, theirs) in enumerate(zip(list(mc_layers), list(keras_layers))):
        for j, (a, b) in enumerate(zip(keras_weights(mine), theirs.get_weights())):
            assert_close(a, b, rtol, atol, f"{what}: layer {i} ({type(mine).__name__}) weight {j}")


def twin_layer(mc_layer, keras_layer, x, **call):
    """Build both layers on x (NCHW), copy minicnn's weights into Keras', return both outputs."""
    mine = mc_layer(mc.tensor(x))
    keras_layer.build(x.shape)
    if mc_layer.get_weights():
        keras_layer.set_weights(keras_weights(mc_layer))
    return mine, numpy(keras_layer(x, **call))


class StandInOptimizer:
    """Just a learning rate, as both libraries' LR callbacks read and write it."""

    def __init__(self, lr):
        self.learning_rate = lr

    def current_lr(self):           # minicnn's callbacks read the rate through this
        return self.learning_rate


class StandInModel:
    """What a callback sees of a model: stop_training, weights, an optimizer, save calls."""

    def __init__(self, lr=0.1):
        self.stop_training = False
        self.weights = [np.zeros(1, np.float32)]
        self.optimizer = StandInOptimizer(lr)
        self.saved = []

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save(self, path, overwrite=True):
        self.saved.append(str(path))

    save_weights = save


def drive(callback, model, sequence, monitor="val_loss", on_epoch_begin=None):
    """Run a callback over epochs whose `monitor` takes the values of `sequence`, as fit would:
    before each epoch, the model's "weights" become [epoch], so a restore shows which epoch it chose.
    Returns the epochs run (stopping where the callback set stop_training) and the rates seen."""
    if hasattr(callback, "set_model"):
        callback.set_model(model)
    else:
        callback.model = model
    callback.on_train_begin()
    epochs, rates = [], []
    for epoch, value in enumerate(sequence):
        model.weights = [np.array([epoch], np.float32)]
        callback.on_epoch_begin(epoch, {})
        callback.on_epoch_end(epoch, {monitor: float(value)})    # a fresh dict: Keras writes into it
        epochs.append(epoch)
        rates.append(float(numpy(model.optimizer.learning_rate)))
        if model.stop_training:
            break
    callback.on_train_end()
    return epochs, rates


def twin_models(units, activation=None, input_shape=(1, 6, 6), seed_=0):
    """A tiny CNN in both libraries with the same weights: Conv2D(2, 3, relu) -> MaxPooling2D(2) ->
    Flatten -> Dense(units, activation). Returns (minicnn Sequential, Keras Sequential)."""
    seed(seed_)
    mine = mc.Sequential([L.Conv2D(2, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(),
                          L.Dense(units, activation=activation)], input_shape=input_shape)
    theirs = keras.Sequential([keras.Input(input_shape), K.Conv2D(2, 3, activation="relu", data_format=CF),
                               K.MaxPooling2D(2, data_format=CF), K.Flatten(), K.Dense(units, activation=activation)])
    copy_weights(mine.layers, theirs.layers)
    return mine, theirs


class Recorder(keras.callbacks.Callback, mc.callbacks.Callback):
    """A callback either library accepts: it keeps fit's params and every call it gets, in order."""

    def __init__(self):
        keras.callbacks.Callback.__init__(self)
        self.calls, self.seen_params = [], None

    @property
    def model(self):                    # Keras' is read-only (set_model); minicnn's fit assigns it
        return self._model

    @model.setter
    def model(self, model):
        self._model = model

    def on_train_begin(self, logs=None):
        self.seen_params = dict(self.params)
        self.calls.append(("train_begin",))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch, dict(logs or {})))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, dict(logs or {})))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end",))
