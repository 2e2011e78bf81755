"""mc.layers: shapes, parameter counts, initialisation, modes, devices, augmentation."""

import numpy as np
import pytest

import minicnn as mc
from helpers import on

L = mc.layers


def test_parameter_counts_of_the_lecture():
    dense = mc.Sequential([L.Flatten(), L.Dense(500)], input_shape=(1, 64, 64))
    assert dense.count_params() == 2_048_500
    conv = mc.Sequential([L.Conv2D(32, 3)], input_shape=(1, 64, 64))
    assert conv.count_params() == 320
    assert conv.summary(print_fn=lambda line: None) is None          # Keras' summary prints, returns None


def test_summary_prints_output_shapes_and_total():
    lines = []
    model = mc.Sequential([L.Conv2D(8, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                           L.GlobalAveragePooling2D(), L.Dense(2)], input_shape=(3, 16, 16))
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, 8, 16, 16)" in text and "(None, 8, 8, 8)" in text and "(None, 8)" in text
    assert "Total params: 242" in text          # 8*3*9 + 8 + 8*2 + 2


def test_input_channels_and_features_are_inferred():
    x = mc.randn(2, 5, 7, 7)
    conv = L.Conv2D(4, (3, 2), strides=2, padding="same")
    assert conv(x).shape == (2, 4, 4, 4)
    assert conv.params["kernel"].shape == (4, 5, 3, 2) and conv.params["kernel"].dtype == np.float32
    dense = L.Dense(3)
    assert dense(mc.randn(2, 6)).shape == (2, 3)
    assert dense.params["kernel"].shape == (6, 3)
    conv1d = L.Conv1D(4, 3, padding="same")
    assert conv1d(mc.randn(2, 5, 10)).shape == (2, 4, 10)


def test_channels_last_input_says_how_to_transpose():
    with pytest.raises(ValueError, match=r"channels-last .* x.transpose\(0, 3, 1, 2\)"):
        L.Conv2D(8, 3)(mc.zeros(2, 64, 64, 3))
    model = mc.Sequential([L.Conv2D(8, 3)], input_shape=(3, 32, 32))
    with pytest.raises(ValueError, match="channels-last"):
        model(mc.zeros(2, 32, 32, 3))


@pytest.mark.parametrize("shape", [(2, 32, 48, 3), (2, 24, 40, 1), (2, 40, 24, 4)])
def test_channels_last_images_that_are_not_square_are_refused_at_the_model_entry(shape):
    images = np.zeros(shape, np.uint8)
    unbuilt = mc.Sequential([L.Conv2D(4, 3), L.Flatten(), L.Dense(2)])      # would learn 32 "channels"
    with pytest.raises(ValueError, match=r"model got input of shape .* channels-last .*transpose"):
        unbuilt(mc.tensor(images))
    assert not unbuilt.built
    model = mc.Sequential([L.Conv2D(4, 3), L.Flatten(), L.Dense(2)], input_shape=(shape[3], shape[1], shape[2]))
    model.compile("sgd", mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    for entry in (lambda: model.fit(images, np.zeros(2, int), verbose=0), lambda: model.predict(images)):
        with pytest.raises(ValueError, match="channels-last"):
            entry()
    # inside a network, feature maps are not second-guessed: (N, 256, 4, 4) after four poolings
    deep = mc.Sequential([L.Conv2D(256, 3, padding="same"), L.MaxPooling2D(2), L.Conv2D(8, 3, padding="same")],
                         input_shape=(3, 8, 8))
    assert deep(mc.zeros(1, 3, 8, 8)).shape == (1, 8, 4, 4)
    assert L.Conv2D(2, 3, padding="same")(mc.zeros(1, 256, 4, 4)).shape == (1, 2, 4, 4)


def test_dense_on_images_asks_for_flatten():
    with pytest.raises(ValueError, match="add a Flatten"):
        L.Dense(3)(mc.zeros(2, 3, 4, 4))


def test_initialisers_have_the_right_scale():
    mc.manual_seed(0)
    dense = L.Dense(400)
    dense(mc.zeros(2, 600))
    w = dense.params["kernel"].numpy()
    limit = np.sqrt(6 / (600 + 400))
    assert w.dtype == np.float32 and np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit
    he = L.Conv2D(64, 3, kernel_initializer="he_normal")
    he(mc.zeros(1, 32, 8, 8))
    assert he.params["kernel"].numpy().std() == pytest.approx(np.sqrt(2 / (32 * 9)), rel=0.05)
    with pytest.raises(ValueError, match="kernel_initializer must be one of"):
        L.Dense(3, kernel_initializer="ones")(mc.zeros(1, 2))


def test_batch_normalization_training_and_inference():
    mc.manual_seed(0)
    bn = L.BatchNormalization(momentum=0.5)
    x = mc.randn(16, 3, 4, 4) * 3.0 + 2.0
    y = bn(x).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-2)
    data = x.numpy()
    np.testing.assert_allclose(bn.buffers["moving_mean"].numpy(), 0.5 * data.mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(bn.buffers["moving_variance"].numpy(), 0.5 + 0.5 * data.var(axis=(0, 2, 3)), rtol=1e-4)
    bn.eval()
    expected = (data - bn.buffers["moving_mean"].numpy()[:, None, None]) / np.sqrt(
        bn.buffers["moving_variance"].numpy()[:, None, None] + 1e-3)
    np.testing.assert_allclose(bn(x).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_batch_normalization_gradient(device):
    bn = L.BatchNormalization().to(device)
    x = on(device, np.random.default_rng(1).normal(size=(4, 2, 3, 3)))
    assert mc.gradcheck(lambda t: bn(t), x, atol=1e-4)


def test_global_average_pooling():
    x = np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4)
    np.testing.assert_allclose(L.GlobalAveragePooling2D()(mc.tensor(x)).numpy(), x.mean(axis=(2, 3)))


def test_dropout_and_augmentation_only_act_in_training():
    x = mc.randn(4, 3, 8, 8)
    for layer in (L.Dropout(0.5), L.RandomFlip(), L.RandomRotate90(), L.RandomTranslation(0.2, 0.2)):
        layer.eval()
        assert layer(x) is x
        layer.train()
        assert not np.array_equal(layer(x).numpy(), x.numpy())


def test_random_flip_and_rotation_give_exact_flips_and_rotations():
    mc.manual_seed(3)
    x = np.random.default_rng(0).normal(size=(32, 2, 5, 5)).astype(np.float32)
    flipped = L.RandomFlip("horizontal")(mc.tensor(x)).numpy()
    same = [np.array_equal(f, i) for f, i in zip(flipped, x)]
    mirrored = [np.array_equal(f, i[..., ::-1]) for f, i in zip(flipped, x)]
    assert all(s or m for s, m in zip(same, mirrored)) and 5 < sum(mirrored) < 27
    rotated = L.RandomRotate90()(mc.tensor(x)).numpy()
    turns = [[k for k in range(4) if np.array_equal(r, np.rot90(i, k, axes=(1, 2)))] for r, i in zip(rotated, x)]
    assert all(len(t) == 1 for t in turns) and len({t[0] for t in turns}) == 4


def test_random_translation_shifts_and_fills_with_zeros():
    mc.manual_seed(1)
    x = np.arange(1, 1 + 16 * 1 * 10 * 10, dtype=np.float32).reshape(16, 1, 10, 10)
    out = L.RandomTranslation(0.2, 0.2)(mc.tensor(x)).numpy()
    for o, i in zip(out, x):
        matches = []
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                shifted = np.zeros_like(i)
                shifted[:, max(dy, 0):10 + min(dy, 0), max(dx, 0):10 + min(dx, 0)] = \
                    i[:, max(-dy, 0):10 + min(-dy, 0), max(-dx, 0):10 + min(-dx, 0)]
                matches.append(np.array_equal(o, shifted))
        assert sum(matches) == 1


def test_layers_and_models_move_between_devices():
    model = mc.Sequential([L.Conv2D(4, 3, activation="relu"), L.BatchNormalization(), L.Flatten(), L.Dense(2)],
                          input_shape=(1, 6, 6))
    x = np.random.default_rng(0).normal(size=(3, 1, 6, 6)).astype(np.float32)
    expected = model(mc.tensor(x)).numpy()
    model.to("strict")
    assert all(p.device == "strict" and p.is_leaf for p in model.parameters())
    np.testing.assert_allclose(model(mc.tensor(x, device="strict")).numpy(), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="different devices"):
        model(mc.tensor(x))


def test_fused_batch_norm_matches_the_textbook_formula_and_its_gradient(device):
    rng = np.random.default_rng(2)
    x = rng.normal(2, 3, size=(5, 3, 4, 2))
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    y, mean, var = mc.F.batch_norm(on(device, x), on(device, gamma), on(device, beta), epsilon=1e-3)
    m, v = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    textbook = (x - m[:, None, None]) / np.sqrt(v[:, None, None] + 1e-3) * gamma[:, None, None] + beta[:, None, None]
    np.testing.assert_allclose(y.numpy(), textbook, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mean.numpy(), m, rtol=1e-5)
    np.testing.assert_allclose(var.numpy(), v, rtol=1e-4)
    assert y.dtype == np.float32
    inputs = [on(device, a, requires_grad=True) for a in (x[:, :, :2, :], gamma, beta)]
    assert mc.gradcheck(lambda *t: mc.F.batch_norm(*t)[0], *inputs, atol=1e-4)


@pytest.mark.parametrize("make, function", [
    (lambda: L.Conv2D(3, 3, padding="same", activation="relu"),
     lambda x, p: mc.F.conv2d(x, p["kernel"], p["bias"], 1, "same")),
    (lambda: L.Conv1D(3, 3, activation="relu"), lambda x, p: mc.F.conv1d(x, p["kernel"], p["bias"])),
    (lambda: L.Dense(4, activation="relu"), lambda x, p: mc.F.linear(x, p["kernel"], p["bias"])),
])
def test_layers_with_relu_in_place_match_the_functional_form(device, make, function):
    """Conv2D, Conv1D and Dense overwrite their own output with its ReLU (F.relu_): same values and
    gradients as F.relu on a kept output, and the layer's input is left alone."""
    layer = make()
    shape = {"Conv2D": (2, 2, 5, 5), "Conv1D": (2, 2, 7), "Dense": (2, 6)}[type(layer).__name__]
    x_host = np.random.default_rng(3).normal(size=shape).astype(np.float32)
    layer(mc.tensor(x_host))                    # builds the weights
    layer.to(device)
    x1, x2 = on(device, x_host, requires_grad=True), on(device, x_host, requires_grad=True)
    y1 = layer(x1)
    y2 = mc.F.relu(function(x2, layer.params))
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    g = np.random.default_rng(4).normal(size=y1.shape).astype(np.float32)
    grads = []
    for x, y in ((x1, y1), (x2, y2)):
        for p in layer.params.values():
            p.zero_grad()
        (y * on(device, g)).sum().backward()
        grads.append([x.grad.numpy()] + [p.grad.numpy() for p in layer.params.values()])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(x1.numpy(), x_host)


class Residual(L.Layer):
    """A user's block: x + Dense(Dense(x)), with dropout, written as a layer that holds layers."""

    def __init__(self, units):
        super().__init__()
        self.inner = L.Dense(units, activation="relu")
        self.outer = L.Dense(units)
        self.extras = [L.Dropout(0.5)]

    def forward(self, x):
        return mc.F.relu(x + self.extras[0](self.outer(self.inner(x))))


def _residual_model():
    mc.manual_seed(0)
    return mc.Sequential([L.Flatten(), L.Dense(6), Residual(6), L.Dense(2)], input_shape=(1, 4, 4))


def test_a_layer_that_holds_layers_trains_saves_and_moves_them(tmp_path):
    model = _residual_model()
    block = model.layers[2]
    assert [name for name, _ in block.named_parameters()] == ["inner.kernel", "inner.bias",
                                                              "outer.kernel", "outer.bias"]
    assert len(model.parameters()) == 2 + 4 + 2
    assert model.count_params() == 16 * 6 + 6 + 2 * (6 * 6 + 6) + 6 * 2 + 2

    model.eval()
    assert not block.inner.training and not block.extras[0].training
    model.train()
    before = block.inner.params["kernel"].numpy()
    model.compile(mc.optimizers.SGD(lr=0.5), mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).normal(size=(16, 1, 4, 4)).astype(np.float32)
    model.fit(x, np.arange(16) % 2, epochs=2, batch_size=8, verbose=0)
    assert not np.array_equal(block.inner.params["kernel"].numpy(), before)        # trained

    model.save_weights(tmp_path / "w.npz")
    assert "2.inner.kernel" in np.load(tmp_path / "w.npz").files
    again = _residual_model()
    again.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    with pytest.raises(ValueError, match=r"layer 'residual' is a Residual of your own.* save_weights"):
        model.save(tmp_path / "m.npz")          # load_model could not rebuild it: refused before a file exists
    assert not (tmp_path / "m.npz").exists()

    again.to("strict")
    assert all(p.device == "strict" for p in again.parameters()) and again.layers[2].outer.device == "strict"
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)


def test_a_layer_used_twice_shares_its_weights_and_is_updated_once():
    shared = L.Dense(4)
    model = mc.Sequential([L.Flatten(), shared, shared], input_shape=(1, 2, 2))
    assert len(model.parameters()) == 2


def test_what_keras_students_type_on_layers():
    mc.manual_seed(0)
    dense = L.Dense(3)
    dense(mc.zeros(2, 4))
    assert dense.kernel is dense.params["kernel"] and dense.bias.shape == (3,)
    kernel, bias = dense.get_weights()
    assert kernel.shape == (4, 3) and bias.shape == (3,)
    dense.set_weights([np.ones((4, 3)), np.arange(3.0)])
    np.testing.assert_array_equal(dense(mc.ones(1, 4)).numpy(), [[4.0, 5.0, 6.0]])
    assert dense.kernel.dtype == np.float32
    with pytest.raises(ValueError, match=r"kernel has shape \(4, 3\), got \(3, 4\)"):
        dense.set_weights([np.ones((3, 4)), np.zeros(3)])
    with pytest.raises(ValueError, match="got 1 arrays, the layer has 2"):
        dense.set_weights([np.ones((4, 3))])
    bn = L.BatchNormalization()
    bn(mc.zeros(2, 3, 4, 4))
    assert bn.gamma.shape == bn.moving_mean.shape == (3,) and len(bn.get_weights()) == 4
    with pytest.raises(AttributeError, match="has no attribute 'kernel'"):
        _ = L.Flatten().kernel


def test_global_max_pooling_and_its_gradient(device):
    x = on(device, np.random.default_rng(3).normal(size=(2, 3, 4, 5)), requires_grad=True)
    y = L.GlobalMaxPooling2D()(x)
    np.testing.assert_array_equal(y.numpy(), x.numpy().max(axis=(2, 3)))
    assert mc.gradcheck(lambda t: L.GlobalMaxPooling2D()(t), x)


def test_optimizers_take_keras_learning_rate():
    adam = mc.optimizers.Adam(learning_rate=0.02)
    assert adam.lr == adam.learning_rate == 0.02
    adam.learning_rate = 0.01
    assert adam.current_lr() == 0.01
    assert mc.optimizers.SGD(learning_rate=0.5).lr == 0.5 and mc.optimizers.RMSprop(learning_rate=0.3).lr == 0.3


def test_layer_names_are_unique_keras_style_and_found_by_get_layer(tmp_path):
    first, second = L.Conv2D(4, 3), L.Conv2D(4, 3)
    assert first.name.startswith("conv2d") and second.name != first.name
    model = mc.Sequential([first, L.MaxPooling2D(2, name="pool"), second, L.Flatten(), L.Dense(2, name="head")],
                          input_shape=(1, 12, 12))
    assert model.get_layer("head") is model.layers[-1] and model.get_layer(index=1).name == "pool"
    with pytest.raises(ValueError, match=r"no layer named 'tail'; the model's layers are \[.*'head'\]"):
        model.get_layer("tail")
    with pytest.raises(ValueError, match="two layers named 'head'"):
        mc.Sequential([L.Dense(2, name="head"), L.Dense(2, name="head")])
    lines = []
    model.summary(print_fn=lines.append)
    assert any(line.startswith("head (Dense)") for line in lines)
    assert "Dense(units=2" in repr(model) and "name='pool'" in repr(model)
    model.save(tmp_path / "m.npz")
    assert [layer.name for layer in mc.load_model(tmp_path / "m.npz").layers] == [layer.name for layer in model.layers]
