"""mc.onnx.export: onnxruntime runs the exported graph and gives minicnn's predict, within 1e-4, for
random architectures (hypothesis), the examples' own networks after a save and load, functional and
subclassed models; and what has no ONNX form is refused by name."""

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minicnn as mc

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
L = mc.layers
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_onnx(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})


def assert_exports(model, tmp_path, x, opset=13):
    path = mc.onnx.export(model, tmp_path / "model.onnx", opset=opset)
    expected = model.predict(x)
    got = run_onnx(path, x)[0]
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    return path


def randomise_statistics(model, rng):
    """BatchNormalization's moving statistics and gains away from 0 and 1, so that a wrong formula shows."""
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            channels = layer.params["gamma"].shape[0]
            layer.buffers["moving_mean"].data[...] = rng.normal(size=channels).astype(np.float32)
            layer.buffers["moving_variance"].data[...] = rng.uniform(0.5, 2, channels).astype(np.float32)
            layer.params["gamma"].data[...] = rng.uniform(0.5, 1.5, channels).astype(np.float32)
            layer.params["beta"].data[...] = rng.normal(size=channels).astype(np.float32)


ACTIVATIONS = st.sampled_from([None, "relu", "sigmoid", "tanh", "leaky_relu"])


@st.composite
def feature_layers(draw, size):
    """A layer that keeps (N, C, H, W) and its output side."""
    kind = draw(st.sampled_from(["conv", "conv", "depthwise", "separable", "maxpool", "avgpool", "batchnorm",
                                 "activation", "dropout"]))
    kernel = draw(st.integers(1, min(3, size)))
    stride = draw(st.integers(1, 2))
    padding = draw(st.sampled_from(["valid", "same", 1]) if kernel > 1 else st.sampled_from(["valid", "same"]))
    if kind in ("maxpool", "avgpool"):
        pool = draw(st.integers(2, max(2, min(3, size))))
        padding = draw(st.sampled_from(["valid", "same"]))
        layer = (L.MaxPooling2D if kind == "maxpool" else L.AveragePooling2D)(pool, draw(st.sampled_from([None, 1, 2])),
                                                                             padding)
        kernel, stride = pool, layer.strides or pool
    elif kind == "conv":
        layer = L.Conv2D(draw(st.integers(1, 5)), kernel, stride, padding, activation=draw(ACTIVATIONS),
                         use_bias=draw(st.booleans()))
    elif kind == "depthwise":
        layer = L.DepthwiseConv2D(kernel, stride, padding if padding != 1 else "same",
                                  depth_multiplier=draw(st.integers(1, 2)), activation=draw(ACTIVATIONS))
    elif kind == "separable":
        layer = L.SeparableConv2D(draw(st.integers(1, 4)), kernel, stride, padding if padding != 1 else "valid",
                                  activation=draw(ACTIVATIONS), use_bias=draw(st.booleans()))
    else:
        layer = {"batchnorm": L.BatchNormalization(epsilon=draw(st.sampled_from([1e-3, 1e-5]))),
                 "activation": draw(st.sampled_from([L.ReLU, L.Sigmoid, L.Tanh, lambda: L.LeakyReLU(0.1),
                                                     lambda: L.Activation("relu"), L.Softmax]))(),
                 "dropout": L.Dropout(0.5)}[kind]
        return layer, size
    pad = {"valid": 0, 1: 2}.get(layer.padding)
    out = -(-size // stride) if pad is None else (size + pad - kernel) // stride + 1
    return layer, out


@st.composite
def sequential_models(draw):
    channels, size = draw(st.integers(1, 3)), draw(st.integers(5, 11))
    layers = [L.Rescaling(1 / 8, -0.5)] if draw(st.booleans()) else []
    side = size
    for _ in range(draw(st.integers(1, 4))):
        layer, out = draw(feature_layers(side))
        if out < 1:
            break
        layers.append(layer)
        side = out
    head = draw(st.sampled_from(["gap", "gmp", "flatten"]))
    layers.append({"gap": L.GlobalAveragePooling2D(), "gmp": L.GlobalMaxPooling2D(), "flatten": L.Flatten()}[head])
    if draw(st.booleans()):
        layers += [L.Dense(draw(st.integers(1, 6)), activation=draw(ACTIVATIONS)), L.BatchNormalization()]
    layers.append(L.Dense(draw(st.integers(1, 4)), activation=draw(st.sampled_from([None, "softmax", "sigmoid"]))))
    return layers, (channels, size, size), draw(st.integers(0, 2 ** 16))


@settings(max_examples=40)
@given(sequential_models())
def test_random_sequential_models_run_the_same_in_onnxruntime(tmp_path_factory, drawn):
    layers, shape, seed = drawn
    rng = np.random.default_rng(seed)
    try:
        model = mc.Sequential(layers, input_shape=shape)
    except ValueError:          # the drawn layers leave no image (a pooling window larger than its input)
        return
    randomise_statistics(model, rng)
    x = rng.normal(size=(3, *shape)).astype(np.float32) * 2
    assert_exports(model, tmp_path_factory.mktemp("onnx"), x)


def example_network(name, size, tmp_path):
    """An example's own network, built as the example builds it, saved and loaded as runs/<example>/model.npz."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        module = __import__(name)
    finally:
        sys.path.remove(str(EXAMPLES))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (16, 3, size, size)).astype(np.uint8)
    train = mc.data.as_dataset(images, rng.integers(0, 3, 16))
    model = module.build_model(train, size, 3) if name == "aerial_scenes" else module.build_model(train, size)
    randomise_statistics(model, rng)
    model.save(tmp_path / "model.npz")
    return mc.load_model(tmp_path / "model.npz"), images


@pytest.mark.parametrize("name, size", [("cats_dogs", 96), ("aerial_scenes", 64), ("aerial_scenes", 128)])
def test_the_examples_saved_models_export_and_agree(tmp_path, name, size):
    model, images = example_network(name, size, tmp_path)
    x = images[:4].astype(np.float32)
    path = assert_exports(model, tmp_path, x)
    ops = {node.op_type for node in onnx.load(path).graph.node}
    assert "Conv" in ops and "Dropout" not in ops and "RandomUniform" not in ops   # augmentation left out


def test_a_functional_model_with_branches_exports(tmp_path):
    inputs = mc.Input(shape=(2, 9, 9))
    h = L.Conv2D(4, 3, padding="same", activation="relu")(L.Normalization(mean=[1, 2], variance=[4, 0.25])(inputs))
    a = L.Conv2D(4, 3, padding="same")(h)
    b = L.Multiply()([h, L.Activation("sigmoid")(L.Conv2D(4, 1)(h))])
    h = L.Concatenate()([L.Add()([h, a]), b])
    h = L.Resizing(5, 7)(h)
    outputs = L.Dense(3)(L.GlobalAveragePooling2D()(h))
    model = mc.Model(inputs, outputs)
    x = np.random.default_rng(1).normal(size=(2, 2, 9, 9)).astype(np.float32)
    assert_exports(model, tmp_path, x, opset=17)
    assert model.export(tmp_path / "keras.onnx", format="onnx") == str(tmp_path / "keras.onnx")
    np.testing.assert_allclose(run_onnx(tmp_path / "keras.onnx", x)[0], model.predict(x), rtol=1e-4, atol=1e-4)


def test_a_conv1d_model_exports(tmp_path):
    model = mc.Sequential([L.Conv1D(3, 3, padding="same", activation="tanh"), L.Conv1D(2, 2, strides=2),
                           L.Flatten(), L.Dense(2)], input_shape=(2, 11))
    assert_exports(model, tmp_path, np.random.default_rng(2).normal(size=(4, 2, 11)).astype(np.float32))


class Net(mc.Model):
    def __init__(self):
        super().__init__()
        self.conv, self.pool, self.dense = L.Conv2D(3, 3, activation="relu"), L.GlobalMaxPooling2D(), L.Dense(2)

    def forward(self, x):
        return self.dense(self.pool(self.conv(x)))


class Arithmetic(Net):
    def forward(self, x):
        return self.dense(self.pool(self.conv(x) * 2))


def test_a_subclassed_model_exports_its_layer_calls_and_refuses_code_between_them(tmp_path):
    model = Net()
    model.build((1, 6, 6))
    assert_exports(model, tmp_path, np.random.default_rng(3).normal(size=(2, 1, 6, 6)).astype(np.float32))
    other = Arithmetic()
    other.build((1, 6, 6))
    with pytest.raises(ValueError, match="Arithmetic.forward does more than call minicnn layers"):
        mc.onnx.export(other, tmp_path / "other.onnx")
    assert not (tmp_path / "other.onnx").exists()


class Doubling(L.Layer):
    def forward(self, x):
        return x * 2


def test_what_has_no_onnx_form_is_refused_by_name(tmp_path):
    model = mc.Sequential([L.Flatten(), Doubling(name="twice"), L.Dense(2)], input_shape=(1, 2, 2))
    with pytest.raises(ValueError, match="layer 'twice' \\(Doubling\\) has no ONNX form"):
        mc.onnx.export(model, tmp_path / "m.onnx")

    class MyConv(L.Conv2D):         # a subclass may compute something else: refused too
        pass
    with pytest.raises(ValueError, match="MyConv"):
        mc.onnx.export(mc.Sequential([MyConv(2, 1), L.Flatten()], input_shape=(1, 3, 3)), tmp_path / "m.onnx")
    built = mc.Sequential([L.Flatten(), L.Dense(2)], input_shape=(1, 2, 2))
    with pytest.raises(ValueError, match="opset must be an int from 13 to 21, got 11"):
        mc.onnx.export(built, tmp_path / "m.onnx", opset=11)
    with pytest.raises(ValueError, match="not built"):
        mc.onnx.export(mc.Sequential([L.Dense(2)]), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="format must be one of \\['onnx'\\] in minicnn, got 'tf_saved_model'"):
        built.export(tmp_path / "saved")
    with pytest.raises(TypeError, match="model must be an mc.Model"):
        mc.onnx.export(L.Dense(2), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_the_kernel_crosses_flipped_and_unflipped_it_would_be_wrong(tmp_path):
    """ONNX's Conv is cross-correlation, minicnn's the lecture's convolution: the exported kernel is
    minicnn's turned by 180 degrees, and the same graph with the kernel as minicnn stores it is wrong."""
    model = mc.Sequential([L.Conv2D(1, 3, use_bias=False)], input_shape=(1, 5, 5))
    kernel = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)      # not symmetric: its flip differs
    model.layers[0].params["kernel"].data[...] = kernel
    path = mc.onnx.export(model, tmp_path / "conv.onnx")
    proto = onnx.load(path)
    exported, = [onnx.numpy_helper.to_array(t) for t in proto.graph.initializer if t.name.startswith("kernel")]
    np.testing.assert_array_equal(exported, kernel[..., ::-1, ::-1])
    x = np.random.default_rng(4).normal(size=(1, 1, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(path, x)[0], model.predict(x), rtol=1e-5, atol=1e-5)
    for tensor in proto.graph.initializer:
        if tensor.name.startswith("kernel"):
            tensor.CopyFrom(onnx.numpy_helper.from_array(kernel, tensor.name))
    onnx.save(proto, tmp_path / "unflipped.onnx")
    assert np.abs(run_onnx(tmp_path / "unflipped.onnx", x)[0] - model.predict(x)).max() > 0.5
