"""mc.layers against Keras 3's layers (torch backend): the same weights, the same inputs, the same outputs.

minicnn is NCHW; each Keras twin is built with data_format="channels_first", or, where Keras' meaning
of an axis is tied to its channels-last layout (an activation's softmax over the channels), run
channels-last on transposed inputs. Conv kernels are copied flipped (keras_helpers.keras_weights).
"""

import inspect
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from keras_helpers import CF, K, L, assert_close, keras, keras_weights, mc, numpy, seed, twin_layer

FEW = settings(max_examples=10)       # each example builds and calls Keras layers: slow-ish

# Keras warns of a softmax over an axis of size 1, which hypothesis draws on purpose, and of torch
# tensors given to NumPy (inside Keras)
pytestmark = [pytest.mark.filterwarnings("ignore:You are using a softmax over axis"),
              pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")]

# Every layer minicnn exports, and the Keras reference its tests compare it with.
REFERENCES = {
    "Activation": "keras.layers.Activation", "ReLU": "keras.layers.ReLU", "LeakyReLU": "keras.layers.LeakyReLU",
    "Sigmoid": "keras.layers.Activation('sigmoid')", "Tanh": "keras.layers.Activation('tanh')",
    "Softmax": "keras.layers.Softmax", "Conv2D": "keras.layers.Conv2D", "Conv1D": "keras.layers.Conv1D",
    "DepthwiseConv2D": "keras.layers.DepthwiseConv2D", "SeparableConv2D": "keras.layers.SeparableConv2D",
    "Dense": "keras.layers.Dense", "Dropout": "keras.layers.Dropout", "Flatten": "keras.layers.Flatten",
    "Rescaling": "keras.layers.Rescaling", "Resizing": "keras.layers.Resizing",
    "BatchNormalization": "keras.layers.BatchNormalization", "Normalization": "keras.layers.Normalization",
    "MaxPooling2D": "keras.layers.MaxPooling2D", "AveragePooling2D": "keras.layers.AveragePooling2D",
    "GlobalAveragePooling2D": "keras.layers.GlobalAveragePooling2D",
    "GlobalMaxPooling2D": "keras.layers.GlobalMaxPooling2D", "Add": "keras.layers.Add",
    "Multiply": "keras.layers.Multiply", "Concatenate": "keras.layers.Concatenate",
    "RandomFlip": "keras.layers.RandomFlip", "RandomRotation": "keras.layers.RandomRotation",
    "RandomZoom": "keras.layers.RandomZoom", "RandomContrast": "keras.layers.RandomContrast",
    "RandomTranslation": "keras.layers.RandomTranslation(fill_mode='constant')",
    "RandomRotate90": "keras.layers.RandomRotation(k / 4) for k = 0..3",
    "RandomColorBalance": "none: minicnn's own (tests/test_augmentation.py holds it to a NumPy reference)",
    "Layer": "keras.layers.Layer (weights, names, count_params)",
    "add": "keras.layers.add", "multiply": "keras.layers.multiply", "concatenate": "keras.layers.concatenate",
}
FUNCTIONS = {"add", "multiply", "concatenate"}      # Keras' functional forms of the merge layers

values = st.floats(-4, 4, width=32, allow_subnormal=False)


def arrays(shape, elements=values):
    return hnp.arrays(np.float32, shape, elements=elements)


def channels_last(x):
    return np.ascontiguousarray(np.moveaxis(x, 1, -1))


def channels_first(y):
    return np.moveaxis(numpy(y), -1, 1)


def built(layer, x, rng, positive=()):
    """The minicnn layer built on x, every weight (biases too) redrawn; weights named in `positive` > 0."""
    layer(mc.tensor(x))
    names = [name for name, _ in layer.named_weights()]
    layer.set_weights([np.abs(rng.standard_normal(w.shape)) + 0.5 if name in positive
                       else rng.standard_normal(w.shape) for name, w in zip(names, layer.get_weights())])
    return layer


def test_every_exported_layer_has_a_reference():
    """A layer added to mc.layers must get a Keras reference (and tests) here."""
    assert set(L.__all__) - {"LAYER_TYPES"} == set(REFERENCES)
    assert set(L.LAYER_TYPES) == set(REFERENCES) - {"Layer"} - FUNCTIONS


# --- convolutions and dense layers ---

kernel_sides, stride_sides = st.integers(1, 4), st.integers(1, 3)
ACTIVATIONS = [None, "linear", "relu", "sigmoid", "tanh", "softmax"]


@st.composite
def conv2d_cases(draw):
    kernel = draw(st.one_of(kernel_sides, st.tuples(kernel_sides, kernel_sides)))
    strides = draw(st.one_of(stride_sides, st.tuples(stride_sides, stride_sides)))
    padding = draw(st.sampled_from(["valid", "same"]))
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    low_h, low_w = (kh, kw) if padding == "valid" else (1, 1)
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(low_h, 8)), draw(st.integers(low_w, 8)))
    return draw(arrays(shape)), kernel, strides, padding


@FEW
@given(case=conv2d_cases(), filters=st.integers(1, 4), activation=st.sampled_from(ACTIVATIONS),
       use_bias=st.booleans(), rng_seed=st.integers(0, 2 ** 16))
def test_conv2d(case, filters, activation, use_bias, rng_seed):
    """Conv2D, valid/same padding, strides, bias, activations: Keras' Conv2D with the flipped kernel."""
    x, kernel, strides, padding = case
    args = dict(strides=strides, padding=padding, activation=activation, use_bias=use_bias)
    mine = built(L.Conv2D(filters, kernel, **args), x, np.random.default_rng(rng_seed))
    theirs = K.Conv2D(filters, kernel, **args)           # channels-last: softmax over the channels
    theirs.build(channels_last(x).shape)
    theirs.set_weights(keras_weights(mine))
    assert_close(mine(mc.tensor(x)), channels_first(theirs(channels_last(x))), 1e-4, 1e-5, "Conv2D")


@FEW
@given(case=conv2d_cases(), filters=st.integers(1, 3))
def test_conv2d_channels_first(case, filters):
    """The same layer as Keras' Conv2D(data_format="channels_first") (linear: Keras' softmax would then
    run over the width)."""
    x, kernel, strides, padding = case
    mine, theirs = twin_layer(L.Conv2D(filters, kernel, strides, padding),
                              K.Conv2D(filters, kernel, strides, padding, data_format=CF), x)
    assert_close(mine, theirs, 1e-4, 1e-5, "Conv2D channels_first")


@FEW
@given(case=conv2d_cases(), multiplier=st.integers(1, 3), use_bias=st.booleans(), rng_seed=st.integers(0, 2 ** 16))
def test_depthwise_conv2d(case, multiplier, use_bias, rng_seed):
    """Each channel filtered on its own: Keras' DepthwiseConv2D with the kernel flipped and laid out
    (KH, KW, C, M); outputs, then the gradients of both the input and the kernel."""
    x, kernel, strides, padding = case
    args = dict(strides=strides, padding=padding, depth_multiplier=multiplier, use_bias=use_bias)
    mine = built(L.DepthwiseConv2D(kernel, **args), x, np.random.default_rng(rng_seed))
    theirs = K.DepthwiseConv2D(kernel, data_format=CF, **args)
    theirs.build(x.shape)
    theirs.set_weights(keras_weights(mine))
    assert_close(mine(mc.tensor(x)), numpy(theirs(x)), 1e-4, 1e-5, "DepthwiseConv2D")


@FEW
@given(case=conv2d_cases(), filters=st.integers(1, 4), multiplier=st.integers(1, 2), use_bias=st.booleans(),
       activation=st.sampled_from([None, "relu"]), rng_seed=st.integers(0, 2 ** 16))
def test_separable_conv2d(case, filters, multiplier, use_bias, activation, rng_seed):
    """A depthwise convolution, then a 1x1 one: Keras' SeparableConv2D (channels first)."""
    x, kernel, strides, padding = case
    args = dict(strides=strides, padding=padding, depth_multiplier=multiplier, use_bias=use_bias,
                activation=activation)
    mine = built(L.SeparableConv2D(filters, kernel, **args), x, np.random.default_rng(rng_seed))
    theirs = K.SeparableConv2D(filters, kernel, data_format=CF, **args)
    theirs.build(x.shape)
    theirs.set_weights(keras_weights(mine))
    assert_close(mine(mc.tensor(x)), numpy(theirs(x)), 1e-4, 1e-5, "SeparableConv2D")
    assert mine.count_params() == theirs.count_params()


def test_depthwise_gradients_against_keras():
    """Backward through the depthwise op: input and kernel gradients of sum(out * g), as torch computes
    Keras' (its torch backend differentiates the layer)."""
    import torch
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    mine = built(L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2), x, rng)
    theirs = K.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, data_format=CF)
    theirs.build(x.shape)
    theirs.set_weights(keras_weights(mine))
    mx, tx = mc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_mine, out_theirs = mine(mx), theirs(tx)
    g = np.cos(np.arange(out_mine.size, dtype=np.float32)).reshape(out_mine.shape)
    (out_mine * mc.tensor(g)).sum().backward()
    (out_theirs * torch.tensor(g)).sum().backward()
    assert_close(mx.grad, tx.grad.numpy(), 1e-4, 1e-5, "input gradient")
    kernel_grad = theirs.kernel.value.grad.numpy()                     # (KH, KW, C, M)
    mine_grad = mine.params["depthwise_kernel"].grad.numpy()          # (C * M, 1, KH, KW), flipped
    assert_close(np.flip(mine_grad[:, 0], (1, 2)).reshape(3, 2, 3, 3).transpose(2, 3, 0, 1), kernel_grad,
                 1e-4, 1e-5, "kernel gradient")


def test_conv2d_kernel_is_keras_kernel_flipped():
    """One filter, one channel: minicnn's kernel is Keras' cross-correlation kernel flipped in space."""
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    kernel = np.array([[1, 2], [3, 4]], np.float32)
    mine = L.Conv2D(1, 2, use_bias=False)
    mine(mc.tensor(x))
    mine.set_weights([kernel.reshape(1, 1, 2, 2)])
    theirs = K.Conv2D(1, 2, use_bias=False, data_format=CF)
    theirs.build(x.shape)
    theirs.set_weights([kernel[::-1, ::-1].reshape(2, 2, 1, 1)])
    assert_close(mine(mc.tensor(x)), numpy(theirs(x)), what="flipped kernel")


def test_leaky_relu_activation_by_name():
    """activation="leaky_relu" as Keras means it: keras.activations.leaky_relu, slope 0.2."""
    x = np.linspace(-3, 3, 24, dtype=np.float32).reshape(4, 6)
    mine, theirs = twin_layer(L.Dense(3, activation="leaky_relu"), K.Dense(3, activation="leaky_relu"), x)
    assert_close(mine, theirs, 1e-5, 1e-6, "Dense(activation='leaky_relu')")


@FEW
@given(n=st.integers(1, 3), channels=st.integers(1, 3), filters=st.integers(1, 4), kernel=st.integers(1, 4),
       strides=stride_sides, padding=st.sampled_from(["valid", "same"]), extra=st.integers(0, 6),
       activation=st.sampled_from(ACTIVATIONS), use_bias=st.booleans(), rng_seed=st.integers(0, 2 ** 16))
def test_conv1d(n, channels, filters, kernel, strides, padding, extra, activation, use_bias, rng_seed):
    """Conv1D on (N, C, L): Keras' Conv1D on (N, L, C) with the flipped kernel."""
    rng = np.random.default_rng(rng_seed)
    x = rng.standard_normal((n, channels, kernel + extra)).astype(np.float32)
    args = dict(strides=strides, padding=padding, activation=activation, use_bias=use_bias)
    mine = built(L.Conv1D(filters, kernel, **args), x, rng)
    theirs = K.Conv1D(filters, kernel, **args)
    theirs.build(channels_last(x).shape)
    theirs.set_weights(keras_weights(mine))
    assert_close(mine(mc.tensor(x)), channels_first(theirs(channels_last(x))), 1e-4, 1e-5, "Conv1D")


@FEW
@given(x=st.tuples(st.integers(1, 4), st.integers(1, 6)).flatmap(arrays), units=st.integers(1, 5),
       activation=st.sampled_from(ACTIVATIONS), use_bias=st.booleans(), rng_seed=st.integers(0, 2 ** 16))
def test_dense(x, units, activation, use_bias, rng_seed):
    """Dense: the kernel (in, out) copied as it is."""
    args = dict(activation=activation, use_bias=use_bias)
    mine = built(L.Dense(units, **args), x, np.random.default_rng(rng_seed))
    theirs = K.Dense(units, **args)
    theirs.build(x.shape)
    theirs.set_weights(mine.get_weights())
    assert_close(mine(mc.tensor(x)), numpy(theirs(x)), 1e-5, 1e-5, "Dense")


# --- pooling, flatten ---

pool_sides = st.integers(1, 3)


@st.composite
def pool_cases(draw):
    pool = draw(st.one_of(pool_sides, st.tuples(pool_sides, pool_sides)))
    strides = draw(st.one_of(st.none(), stride_sides, st.tuples(stride_sides, stride_sides)))
    padding = draw(st.sampled_from(["valid", "same"]))
    ph, pw = (pool, pool) if isinstance(pool, int) else pool
    low_h, low_w = (ph, pw) if padding == "valid" else (1, 1)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(low_h, 7)), draw(st.integers(low_w, 7)))
    return draw(arrays(shape)), pool, strides, padding


@FEW
@given(case=pool_cases())
def test_max_pooling2d(case):
    """MaxPooling2D, valid and same padding, strides: Keras' MaxPooling2D."""
    x, pool, strides, padding = case
    mine, theirs = twin_layer(L.MaxPooling2D(pool, strides, padding),
                              K.MaxPooling2D(pool, strides, padding, data_format=CF), x)
    assert_close(mine, theirs, what="MaxPooling2D")


@FEW
@given(case=pool_cases())
def test_average_pooling2d_counts_only_real_cells(case):
    """AveragePooling2D averages a window's real cells, as TensorFlow's "SAME" pooling. Keras on torch
    counts the padded zeros where the padding is uneven, so the reference is Keras' average of x
    divided by Keras' average of ones (the share of real cells): that is Keras' own result wherever
    the padding is even."""
    x, pool, strides, padding = case
    mine = L.AveragePooling2D(pool, strides, padding)(mc.tensor(x))
    pooled = K.AveragePooling2D(pool, strides, padding, data_format=CF)
    assert_close(mine, numpy(pooled(x)) / numpy(pooled(np.ones_like(x))), 1e-5, 1e-6, "AveragePooling2D")


@FEW
@given(x=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 5), st.integers(1, 5)).flatmap(arrays))
def test_global_pooling2d(x):
    """GlobalAveragePooling2D and GlobalMaxPooling2D: (N, C, H, W) -> (N, C)."""
    for mine, theirs in ((L.GlobalAveragePooling2D(), K.GlobalAveragePooling2D(data_format=CF)),
                         (L.GlobalMaxPooling2D(), K.GlobalMaxPooling2D(data_format=CF))):
        assert_close(mine(mc.tensor(x)), numpy(theirs(x)), 1e-5, 1e-6, type(mine).__name__)


@FEW
@given(x=st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple).flatmap(arrays))
def test_flatten_keeps_nchw_order(x):
    """Flatten: (N, C, H, W) -> (N, C*H*W) in NCHW order, which is Keras' Flatten() with its default
    data_format (a reshape); Keras' Flatten(data_format="channels_first") would move channels last."""
    assert_close(L.Flatten()(mc.tensor(x)), numpy(K.Flatten()(x)), what="Flatten")


# --- dropout, batch normalisation, normalisation ---

def test_dropout_in_inference_is_the_identity():
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5)).astype(np.float32)
    mine = L.Dropout(0.5).eval()(mc.tensor(x))
    assert_close(mine, numpy(K.Dropout(0.5)(x, training=False)), what="Dropout inference")
    assert_close(mine, x, what="Dropout inference")


@pytest.mark.parametrize("rate", [0.0, 0.25, 0.6])
def test_dropout_in_training_zeroes_a_share_and_scales_the_rest(rate):
    """Inverted dropout in both: each output is 0 or x / (1 - rate), with about `rate` of them 0."""
    seed(0)
    x = np.random.default_rng(0).uniform(1, 2, (50, 20, 20)).astype(np.float32)
    for name, out in (("minicnn", L.Dropout(rate)(mc.tensor(x)).numpy()),
                      ("Keras", numpy(K.Dropout(rate, seed=0)(x, training=True)))):
        kept = out != 0
        assert_close(out[kept], x[kept] / (1 - rate), 1e-6, 0, f"{name}: kept values")
        assert abs(1 - kept.mean() - rate) < 0.02, f"{name}: dropped {1 - kept.mean():.3f}, rate {rate}"


bn_shapes = st.one_of(st.tuples(st.integers(2, 5), st.integers(1, 4)),
                      st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)))


@FEW
@given(x=bn_shapes.flatmap(arrays), momentum=st.sampled_from([0.99, 0.9, 0.5]),
       epsilon=st.sampled_from([1e-3, 1e-5, 0.1]), rng_seed=st.integers(0, 2 ** 16))
def test_batch_normalization_inference(x, momentum, epsilon, rng_seed):
    """Inference: gamma (x - moving_mean) / sqrt(moving_variance + epsilon) + beta, per channel (axis 1)."""
    mine = built(L.BatchNormalization(momentum, epsilon), x, np.random.default_rng(rng_seed),
                 positive=("moving_variance",)).eval()
    theirs = K.BatchNormalization(axis=1, momentum=momentum, epsilon=epsilon)
    theirs.build(x.shape)
    theirs.set_weights(mine.get_weights())          # gamma, beta, moving_mean, moving_variance: Keras' order
    assert_close(mine(mc.tensor(x)), numpy(theirs(x, training=False)), 1e-5, 1e-5, "BatchNormalization")


@FEW
@given(batches=bn_shapes.flatmap(lambda shape: st.lists(arrays((max(shape[0], 2),) + shape[1:]),
                                                        min_size=1, max_size=3)),
       momentum=st.sampled_from([0.99, 0.9, 0.5]), epsilon=st.sampled_from([1e-3, 1e-5]))
def test_batch_normalization_training(batches, momentum, epsilon):
    """Training calls: outputs normalised by each batch's own statistics (biased variance), and the
    moving statistics updated as moving = momentum * moving + (1 - momentum) * batch (Keras' rule)."""
    mine = L.BatchNormalization(momentum, epsilon)
    theirs = K.BatchNormalization(axis=1, momentum=momentum, epsilon=epsilon)
    for i, x in enumerate(batches):
        assert_close(mine(mc.tensor(x)), numpy(theirs(x, training=True)), 1e-4, 1e-4, f"batch {i}")
    for name, a, b in zip(("gamma", "beta", "moving_mean", "moving_variance"), mine.get_weights(),
                          theirs.get_weights()):
        assert_close(a, b, 1e-5, 1e-5, name)


def test_frozen_batch_normalization_runs_in_inference_mode():
    """trainable=False: a training call normalises with the moving statistics and leaves them alone."""
    x = np.random.default_rng(1).standard_normal((6, 2, 3, 3)).astype(np.float32) * 3 + 2
    mine = built(L.BatchNormalization(), x, np.random.default_rng(2), positive=("moving_variance",))
    theirs = K.BatchNormalization(axis=1)
    theirs.build(x.shape)
    theirs.set_weights(mine.get_weights())
    mine.trainable = theirs.trainable = False
    assert_close(mine(mc.tensor(x)), numpy(theirs(x, training=True)), 1e-5, 1e-5, "frozen output")
    for a, b in zip(mine.get_weights(), theirs.get_weights()):
        assert_close(a, b, what="frozen statistics")


def test_batch_normalization_weight_counts():
    """gamma and beta are trained, the moving statistics are not."""
    x = np.zeros((2, 3, 4, 4), np.float32)
    mine, theirs = L.BatchNormalization(), K.BatchNormalization(axis=1)
    mine(mc.tensor(x))
    theirs.build(x.shape)
    assert len(mine.trainable_weights) == len(theirs.trainable_weights) == 2
    assert len(mine.non_trainable_weights) == len(theirs.non_trainable_weights) == 2


def test_batch_normalization_count_params():
    x = np.zeros((2, 3, 4, 4), np.float32)
    mine, theirs = L.BatchNormalization(), K.BatchNormalization(axis=1)
    mine(mc.tensor(x))
    theirs.build(x.shape)
    assert mine.count_params() == theirs.count_params()


def test_count_params_of_conv_and_dense():
    x = np.zeros((2, 3, 6, 6), np.float32)
    for mine, theirs in ((L.Conv2D(4, 3), K.Conv2D(4, 3, data_format=CF)),
                         (L.Conv2D(4, (2, 3), use_bias=False), K.Conv2D(4, (2, 3), use_bias=False, data_format=CF))):
        mine(mc.tensor(x))
        theirs.build(x.shape)
        assert mine.count_params() == theirs.count_params()
    mine, theirs = L.Dense(5), K.Dense(5)
    mine(mc.tensor(np.zeros((2, 7), np.float32)))
    theirs.build((2, 7))
    assert mine.count_params() == theirs.count_params() == 40


@FEW
@given(x=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)).flatmap(arrays),
       rng_seed=st.integers(0, 2 ** 16))
def test_normalization_with_given_statistics(x, rng_seed):
    """(x - mean) / sqrt(variance) per channel (axis 1), mean and variance given (variance not tiny:
    see test_normalization_with_a_tiny_variance)."""
    rng = np.random.default_rng(rng_seed)
    mean = rng.standard_normal(x.shape[1]).astype(np.float32)
    variance = rng.uniform(1e-2, 10, x.shape[1]).astype(np.float32)
    theirs = K.Normalization(axis=1, mean=mean, variance=variance)
    theirs.build(x.shape)
    assert_close(L.Normalization(mean, variance)(mc.tensor(x)), numpy(theirs(x)), 1e-5, 1e-5, "Normalization")


@FEW
@given(data=st.tuples(st.integers(2, 8), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda shape: arrays(shape, st.floats(0, 255, width=32))))
def test_normalization_adapt(data):
    """adapt(data): the mean and (biased) variance of each channel over the rest, as Keras'."""
    if np.ptp(data.reshape(data.shape[0], data.shape[1], -1).transpose(1, 0, 2).reshape(data.shape[1], -1),
              axis=1).min() < 1:
        data = data + np.arange(data.size, dtype=np.float32).reshape(data.shape)   # no constant channel
    mine = L.Normalization().adapt(data)
    theirs = K.Normalization(axis=1)
    theirs.adapt(data)
    assert_close(mine.mean, numpy(theirs.mean).reshape(-1), 1e-5, 1e-4, "mean")
    assert_close(mine.variance, numpy(theirs.variance).reshape(-1), 1e-4, 1e-3, "variance")
    assert_close(mine(mc.tensor(data)), numpy(theirs(data)), 1e-4, 1e-4, "normalised data")


def test_normalization_with_a_tiny_variance():
    x = np.array([[[[0.0, 1e-3, 2e-3]]]], np.float32)
    theirs = K.Normalization(axis=1, mean=[0.0], variance=[1e-6])
    theirs.build(x.shape)
    assert_close(L.Normalization([0.0], [1e-6])(mc.tensor(x)), numpy(theirs(x)), 1e-4, 1e-6, "Normalization")


# --- activations, rescaling, resizing ---

@FEW
@given(x=st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple).flatmap(arrays),
       name=st.sampled_from(["relu", "sigmoid", "tanh", "linear", None]))
def test_activation_layers(x, name):
    """Activation(name), and ReLU / Sigmoid / Tanh against Keras' ReLU and Activation(...)."""
    assert_close(L.Activation(name)(mc.tensor(x)), numpy(K.Activation(name)(x)), 1e-6, 1e-6, f"Activation({name})")
    for mine, theirs in ((L.ReLU(), K.ReLU()), (L.Sigmoid(), K.Activation("sigmoid")),
                         (L.Tanh(), K.Activation("tanh"))):
        assert_close(mine(mc.tensor(x)), numpy(theirs(x)), 1e-6, 1e-6, type(mine).__name__)


@FEW
@given(x=st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple).flatmap(arrays),
       max_value=st.sampled_from([None, 0.5, 6.0]), slope=st.sampled_from([0.0, 0.1]),
       threshold=st.sampled_from([0.0, 0.3, 0.7]))
def test_relu_layer_with_kerass_options(x, max_value, slope, threshold):
    """ReLU(max_value, negative_slope, threshold): Keras' formula; negative values refused, as Keras does."""
    args = {"max_value": max_value, "negative_slope": slope, "threshold": threshold}
    assert_close(L.ReLU(**args)(mc.tensor(x)), numpy(K.ReLU(**args)(x)), 1e-6, 1e-6, f"ReLU({args})")
    for argument in ("max_value", "negative_slope", "threshold"):
        with pytest.raises(ValueError):
            K.ReLU(**{argument: -1.0})
        with pytest.raises(ValueError, match=f"ReLU: {argument} must be a non-negative number"):
            L.ReLU(**{argument: -1.0})


@FEW
@given(x=st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple).flatmap(arrays),
       slope=st.sampled_from([None, 0.01, 0.2, 1.5]))
def test_leaky_relu_layer(x, slope):
    """LeakyReLU: Keras' default slope 0.3, or the one given."""
    args = {} if slope is None else {"negative_slope": slope}
    assert_close(L.LeakyReLU(**args)(mc.tensor(x)), numpy(K.LeakyReLU(**args)(x)), 1e-6, 1e-6, "LeakyReLU")


@FEW
@given(x=st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple).flatmap(arrays))
def test_softmax_over_the_channels(x):
    """Softmax() and Activation("softmax") normalise over the channels (axis 1 of NCHW), which is what
    Keras' default axis=-1 means in its channels-last layout (for (N, classes), the same axis)."""
    reference = channels_first(K.Softmax()(channels_last(x)))
    assert_close(L.Softmax()(mc.tensor(x)), reference, 1e-5, 1e-6, "Softmax()")
    assert_close(L.Softmax()(mc.tensor(x)), numpy(K.Softmax(axis=1)(x)), 1e-5, 1e-6, "Softmax() as axis=1")
    assert_close(L.Activation("softmax")(mc.tensor(x)), reference, 1e-5, 1e-6, "Activation('softmax')")


@FEW
@given(x=st.lists(st.integers(1, 4), min_size=3, max_size=4).map(tuple).flatmap(arrays), axis=st.sampled_from([-1, 2]))
def test_softmax_along_a_given_axis(x, axis):
    assert_close(L.Softmax(axis)(mc.tensor(x)), numpy(K.Softmax(axis=axis)(x)), 1e-5, 1e-6, f"Softmax({axis})")


@FEW
@given(x=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda shape: arrays(shape, st.integers(0, 255).map(float))),
    scale=st.sampled_from([1 / 255, 1 / 127.5, 2.0]), offset=st.sampled_from([0.0, -1.0, 0.5]),
    as_uint8=st.booleans())
def test_rescaling(x, scale, offset, as_uint8):
    """x * scale + offset, float32 out also for uint8 images."""
    x = x.astype(np.uint8) if as_uint8 else x
    mine, theirs = L.Rescaling(scale, offset)(mc.tensor(x)), numpy(K.Rescaling(scale, offset)(x))
    assert mine.dtype == theirs.dtype == np.float32
    assert_close(mine, theirs, 1e-6, 1e-6, "Rescaling")


@FEW
@given(x=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 9), st.integers(1, 9)).flatmap(arrays),
       height=st.integers(1, 12), width=st.integers(1, 12))
def test_resizing(x, height, width):
    """Bilinear resizing with half-pixel centres, up and down: Keras' Resizing (antialias=False)."""
    mine, theirs = twin_layer(L.Resizing(height, width), K.Resizing(height, width, data_format=CF), x)
    assert_close(mine, theirs, 1e-5, 1e-5, "Resizing")


def test_resizing_uint8_images_gives_float32():
    """uint8 images come out float32, the bilinear values as they are; Keras (torch backend) rounds
    them back to uint8, so they agree to within the rounding."""
    x = np.random.default_rng(0).integers(0, 256, (2, 3, 7, 5)).astype(np.uint8)
    mine, theirs = twin_layer(L.Resizing(4, 9), K.Resizing(4, 9, data_format=CF), x)
    assert mine.dtype == np.float32 and theirs.dtype == np.uint8
    assert_close(mine, theirs, 0, 0.5 + 1e-3, "Resizing uint8")
    assert_close(mine, numpy(K.Resizing(4, 9, data_format=CF)(x.astype(np.float32))), 1e-5, 1e-3, "as floats")


# --- merging ---

@FEW
@given(inputs=st.tuples(st.integers(2, 3), st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple)).flatmap(
    lambda case: st.lists(arrays(case[1]), min_size=case[0], max_size=case[0])))
def test_add_and_multiply(inputs):
    tensors = [mc.tensor(x) for x in inputs]
    assert_close(L.Add()(tensors), numpy(K.Add()(inputs)), 1e-6, 1e-6, "Add")
    assert_close(L.Multiply()(tensors), numpy(K.Multiply()(inputs)), 1e-5, 1e-5, "Multiply")
    assert_close(L.add(tensors), numpy(keras.layers.add(inputs)), 1e-6, 1e-6, "add")
    assert_close(L.multiply(tensors), numpy(keras.layers.multiply(inputs)), 1e-5, 1e-5, "multiply")


@FEW
@given(shape=st.lists(st.integers(1, 3), min_size=2, max_size=4).map(tuple), sizes=st.lists(st.integers(1, 3),
       min_size=2, max_size=3), data=st.data())
def test_concatenate(shape, sizes, data):
    """Concatenate(axis) as Keras'; the default axis is 1, the channels of NCHW (Keras' default -1
    is the channels of its channels-last layout)."""
    axis = data.draw(st.sampled_from([None] + list(range(1, len(shape))) + [-1]), "axis")
    where = 1 if axis is None else axis % len(shape)
    inputs = [data.draw(arrays(shape[:where] + (size,) + shape[where + 1:])) for size in sizes]
    mine = (L.Concatenate() if axis is None else L.Concatenate(axis))([mc.tensor(x) for x in inputs])
    assert_close(mine, numpy(K.Concatenate(axis=1 if axis is None else axis)(inputs)), what="Concatenate")
    tensors = [mc.tensor(x) for x in inputs]
    assert_close(L.concatenate(tensors) if axis is None else L.concatenate(tensors, axis),
                 numpy(keras.layers.concatenate(inputs, axis=1 if axis is None else axis)), what="concatenate")


def test_merging_tensors_of_different_shapes_is_refused():
    a, b = np.zeros((2, 3, 4), np.float32), np.zeros((2, 3, 5), np.float32)
    for mine, theirs in ((L.Add(), K.Add()), (L.Multiply(), K.Multiply()), (L.Concatenate(1), K.Concatenate(1))):
        with pytest.raises(ValueError):
            mine([mc.tensor(a), mc.tensor(b)])
        with pytest.raises(ValueError):
            theirs([a, b])


# --- augmentation: identity at inference, Keras' transformation when training ---

AUGMENTATIONS = [
    (lambda: L.RandomFlip("horizontal_and_vertical"), lambda: K.RandomFlip("horizontal_and_vertical", data_format=CF)),
    (lambda: L.RandomRotation(0.2), lambda: K.RandomRotation(0.2, data_format=CF)),
    (lambda: L.RandomZoom(0.3, 0.2), lambda: K.RandomZoom(0.3, 0.2, data_format=CF)),
    (lambda: L.RandomContrast(0.4), lambda: K.RandomContrast(0.4, data_format=CF)),
    (lambda: L.RandomTranslation(0.2, 0.3), lambda: K.RandomTranslation(0.2, 0.3, data_format=CF)),
    (lambda: L.RandomRotate90(), lambda: K.RandomRotation(0.5, data_format=CF)),
]


@pytest.mark.parametrize("mine, theirs", AUGMENTATIONS, ids=lambda f: type(f()).__name__)
def test_augmentation_at_inference_is_the_identity(mine, theirs):
    x = np.random.default_rng(0).uniform(0, 255, (3, 2, 6, 6)).astype(np.float32)
    assert_close(mine().eval()(mc.tensor(x)), x, what="minicnn")
    assert_close(numpy(theirs()(x, training=False)), x, what="Keras")


images = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(2, 8), st.integers(2, 8)).flatmap(
    lambda shape: arrays(shape, st.floats(0, 255, width=32)))
fill_modes = st.sampled_from(["reflect", "wrap", "nearest", "constant"])


@FEW
@given(x=images, turn=st.floats(-0.5, 0.5), fill_mode=fill_modes, fill_value=st.sampled_from([0.0, 7.0]))
def test_random_rotation_by_a_fixed_angle(x, turn, fill_mode, fill_value):
    """factor (f, f) turns by exactly f * 360 degrees, counter-clockwise: Keras' bilinear rotation
    with each fill mode."""
    args = dict(fill_mode=fill_mode, fill_value=fill_value)
    mine = L.RandomRotation((turn, turn), **args)(mc.tensor(x))
    theirs = K.RandomRotation((turn, turn), data_format=CF, **args)(x, training=True)
    assert_close(mine, numpy(theirs), 1e-5, 2e-3, "RandomRotation")


@FEW
@given(x=images, zoom=st.floats(-0.6, 0.6), width=st.one_of(st.none(), st.floats(-0.6, 0.6)), fill_mode=fill_modes,
       fill_value=st.sampled_from([0.0, 7.0]))
def test_random_zoom_by_a_fixed_factor(x, zoom, width, fill_mode, fill_value):
    """height_factor (f, f) zooms by exactly 1 + f (positive zooms out); width_factor None keeps the
    aspect ratio: Keras' RandomZoom."""
    width = None if width is None else (width, width)
    args = dict(fill_mode=fill_mode, fill_value=fill_value)
    mine = L.RandomZoom((zoom, zoom), width, **args)(mc.tensor(x))
    theirs = K.RandomZoom((zoom, zoom), width, data_format=CF, **args)(x, training=True)
    assert_close(mine, numpy(theirs), 1e-5, 2e-3, "RandomZoom")


def test_random_rotate90_turns_by_a_quarter_turn_keras_makes():
    """Each image comes out turned by k quarter turns (k = 0..3), as Keras' RandomRotation((k/4, k/4))."""
    seed(0)
    x = np.random.default_rng(0).uniform(0, 255, (12, 2, 5, 5)).astype(np.float32)
    out = L.RandomRotate90()(mc.tensor(x)).numpy()
    turned = [x] + [numpy(K.RandomRotation((k / 4, k / 4), data_format=CF)(x, training=True)) for k in (1, 2, 3)]
    chosen = set()
    for i in range(len(x)):
        matches = [k for k in range(4) if np.allclose(out[i], turned[k][i], atol=1e-3)]
        assert len(matches) == 1, f"image {i} is no quarter turn of the input"
        chosen.add(matches[0])
    assert chosen == {0, 1, 2, 3}


def _flips(x, mode, copies=32):
    """The distinct images Keras' RandomFlip(mode) makes of the image x (1, C, H, W)."""
    theirs = numpy(K.RandomFlip(mode, seed=1, data_format=CF)(np.repeat(x, copies, 0), training=True))
    return np.unique(theirs.round(3), axis=0)


def _which(images, flips):
    """For each image, the index of the flip it is (None where it is none of them)."""
    distance = np.abs(images[:, None] - flips[None]).reshape(len(images), len(flips), -1).max(axis=2)
    return [int(d.argmin()) if d.min() < 1e-3 else None for d in distance]


@pytest.mark.parametrize("mode", ["horizontal", "vertical"])
def test_random_flip_gives_one_of_keras_flips(mode):
    """Each image comes out as it is or mirrored along the mode's axis, the two images Keras makes."""
    seed(0)
    x = np.random.default_rng(0).uniform(0, 255, (1, 2, 4, 5)).astype(np.float32)
    flips = _flips(x, mode)
    assert len(flips) == 2
    chosen = _which(L.RandomFlip(mode)(mc.tensor(np.repeat(x, 16, 0))).numpy(), flips)
    assert set(chosen) == {0, 1}


def test_random_flip_both_axes_gives_all_four_mirror_images():
    """A deliberate difference (docs/conformance.md): minicnn draws each axis on its own (Keras 2's rule),
    so besides Keras 3's two outcomes (identity, half turn) it also gives the two single mirrors."""
    seed(0)
    x = np.random.default_rng(0).uniform(0, 255, (1, 2, 4, 5)).astype(np.float32)
    keras_flips = _flips(x, "horizontal_and_vertical")
    assert len(keras_flips) == 2
    image = x[0]
    mirrors = np.stack([image, image[..., ::-1], image[..., ::-1, :], image[..., ::-1, ::-1]])
    chosen = _which(L.RandomFlip("horizontal_and_vertical")(mc.tensor(np.repeat(x, 32, 0))).numpy(), mirrors)
    assert set(chosen) == {0, 1, 2, 3}
    assert set(_which(keras_flips, mirrors)) == {0, 3}


def test_random_flip_default_mode():
    assert L.RandomFlip().mode == K.RandomFlip().mode


def test_random_translation_is_keras_integer_shift_with_zero_fill():
    """Each image is shifted by whole pixels (at most factor * side) and the uncovered border is 0:
    Keras' RandomTranslation by that same fixed shift with fill_mode="constant" (Keras' default fill
    is "reflect", and its shifts are fractional)."""
    seed(3)
    x = np.random.default_rng(0).uniform(1, 255, (4, 2, 6, 7)).astype(np.float32)
    out = L.RandomTranslation(0.34, 0.3)(mc.tensor(x)).numpy()
    shifts = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)]    # int(0.34 * 6), int(0.3 * 7)
    for image, shifted in zip(x, out):
        theirs = {(dy, dx): numpy(K.RandomTranslation((dy / 6, dy / 6), (dx / 7, dx / 7), fill_mode="constant",
                                                      data_format=CF)(image[None], training=True))[0]
                  for dy, dx in shifts}
        matches = [shift for shift, reference in theirs.items() if np.allclose(shifted, reference, atol=1e-3)]
        assert len(matches) == 1, "the image is no whole-pixel shift with zero fill"


def test_random_contrast_is_keras_contrast_adjustment():
    """Each image's deviations from its per-channel mean scaled by one factor in [1 - f, 1 + f],
    clipped to value_range: Keras' RandomContrast transformation with that factor. (Keras 3.15 draws
    a number factor f from [1, 1 + f] only, against its own documentation; minicnn follows the
    documented range.)"""
    seed(0)
    f = 0.6
    x = np.random.default_rng(0).uniform(0, 255, (64, 2, 5, 5)).astype(np.float32)
    out = L.RandomContrast(f, value_range=(0, 255))(mc.tensor(x)).numpy()
    centred = x - x.mean(axis=(2, 3), keepdims=True)
    inside = (out > 0) & (out < 255) & (np.abs(centred) > 1)
    factors = np.array([np.median(((o - x_i.mean(axis=(1, 2), keepdims=True)) / c)[m])
                        for o, x_i, c, m in zip(out, x, centred, inside)], np.float32)
    assert factors.min() >= 1 - f - 1e-4 and factors.max() <= 1 + f + 1e-4
    assert factors.min() < 0.7 and factors.max() > 1.3                 # both sides of 1 are used
    theirs = K.RandomContrast(f, value_range=(0, 255), data_format=CF)
    transformed = theirs.transform_images(
        keras.ops.convert_to_tensor(x), {"contrast_factor": keras.ops.convert_to_tensor(factors.reshape(-1, 1, 1, 1))},
        training=True)
    assert_close(out, numpy(transformed), 1e-4, 1e-2, "RandomContrast")


# --- what every layer shares: names, defaults ---

KERAS_TWINS = {"Sigmoid": None, "Tanh": None, "RandomRotate90": None, "RandomColorBalance": None}


@pytest.mark.parametrize("name", sorted(set(L.LAYER_TYPES) - set(KERAS_TWINS)))
def test_layer_names_follow_keras(name):
    """Default names are Keras' snake case (conv2d, max_pooling2d, re_lu, ...), numbered _1, _2 after."""
    def base(layer_name):
        return re.sub(r"_\d+$", "", layer_name)

    args = {"Activation": ("relu",), "Conv2D": (2, 3), "Conv1D": (2, 3), "SeparableConv2D": (2, 3),
            "DepthwiseConv2D": (3,), "Dense": (2,), "Dropout": (0.1,),
            "Rescaling": (1.0,), "Resizing": (2, 2), "RandomRotation": (0.1,), "RandomZoom": (0.1,),
            "RandomContrast": (0.1,), "RandomTranslation": (0.1, 0.1), "AveragePooling2D": (2,)}.get(name, ())
    assert base(L.LAYER_TYPES[name](*args).name) == base(getattr(K, name)(*args).name)


# minicnn's documented departures from Keras' defaults (the layout, NCHW)
DEFAULTS_THAT_DIFFER = {("Softmax", "axis"): (1, -1), ("Concatenate", "axis"): (1, -1)}


def _same(a, b):
    """Keras' (2, 2) and (1, 1) are minicnn's 2 and 1."""
    pair = (lambda v: (v, v) if isinstance(v, int) and not isinstance(v, bool) else v)
    return a == b or pair(a) == pair(b)


@pytest.mark.parametrize("name", sorted(set(L.LAYER_TYPES) - set(KERAS_TWINS) - {"RandomFlip"}))
def test_default_arguments_are_keras(name):
    """Every argument minicnn shares with the Keras layer has Keras' default (where Keras has one)."""
    mine = inspect.signature(L.LAYER_TYPES[name].__init__).parameters
    theirs = inspect.signature(getattr(K, name).__init__).parameters
    for arg, parameter in mine.items():
        if arg in ("self", "name") or arg not in theirs or theirs[arg].default is inspect.Parameter.empty:
            continue
        if (name, arg) in DEFAULTS_THAT_DIFFER:
            assert (parameter.default, theirs[arg].default) == DEFAULTS_THAT_DIFFER[name, arg]
        else:
            assert _same(parameter.default, theirs[arg].default), f"{name}({arg}=...)"
