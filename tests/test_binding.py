"""State that could bind silently: a model must never train less (or more) than its user thinks."""

import numpy as np
import pytest

import minicnn as mc

L = mc.layers


def bars(n):
    """n grey 6x6 images: class 1 has a bright vertical bar, class 0 a horizontal one."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.1, (n, 1, 6, 6)).astype(np.float32)
    y = np.arange(n) % 2
    x[y == 1, 0, :, 2] += 1
    x[y == 0, 0, 2, :] += 1
    return x, y


def small(input_shape=(1, 6, 6), **compile_args):
    model = mc.Sequential([L.Flatten(), L.Dense(4, activation="relu"), L.Dense(2)], input_shape=input_shape)
    if compile_args:
        model.compile(**compile_args)
    return model


def loss():
    return mc.losses.SparseCategoricalCrossentropy(from_logits=True)


def test_one_optimizer_for_two_models_is_refused():
    optimizer = mc.optimizers.SGD(lr=0.1)
    small(optimizer=optimizer, loss=loss())
    with pytest.raises(ValueError, match="already trains the model"):
        small(optimizer=optimizer, loss=loss())


def test_compiling_one_model_twice_with_its_optimizer_is_fine():
    optimizer = mc.optimizers.SGD(lr=0.1)
    model = small(optimizer=optimizer, loss=loss())
    model.compile(optimizer, loss())
    assert optimizer.params == model.parameters()


def test_a_layer_added_after_compile_is_trained():
    x, y = bars(16)
    model = mc.Sequential([L.Conv2D(2, 3, padding="same")], input_shape=(1, 6, 6))
    model.compile(mc.optimizers.SGD(lr=0.1), loss())
    model.add(L.Flatten())
    model.add(L.Dense(2))
    model.build((1, 6, 6))
    before = model.layers[-1].kernel.numpy()
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(model.layers[-1].kernel.numpy(), before)


def test_a_frozen_layer_keeps_its_weights_and_the_others_train():
    x, y = bars(16)
    model = small()
    model.layers[1].trainable = False
    model.compile(mc.optimizers.SGD(lr=0.1), loss())
    frozen, trained = model.layers[1].kernel.numpy(), model.layers[2].kernel.numpy()
    model.fit(x, y, epochs=2, verbose=0)
    np.testing.assert_array_equal(model.layers[1].kernel.numpy(), frozen)
    assert not np.array_equal(model.layers[2].kernel.numpy(), trained)
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2


def test_freezing_after_compile_counts_and_unfreezing_trains_again():
    x, y = bars(16)
    model = small(optimizer=mc.optimizers.SGD(lr=0.1), loss=loss())
    model.trainable = False
    weights = model.get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    model.trainable = True
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(weights[0], model.get_weights()[0])


def test_a_frozen_layer_gets_no_gradient_and_survives_saving(tmp_path):
    model = small()
    model.layers[1].trainable = False
    out = model(mc.randn(3, 1, 6, 6)).sum()
    out.backward()
    assert model.layers[1].kernel.grad is None and model.layers[2].kernel.grad is not None
    model.save(tmp_path / "m.npz")
    again = mc.load_model(tmp_path / "m.npz")
    assert not again.layers[1].trainable and again.layers[2].trainable
    assert [name for name, _ in again.named_weights()] == [name for name, _ in model.named_weights()]


def test_a_frozen_batch_norm_normalises_with_its_moving_statistics():
    layer = L.BatchNormalization()
    x = mc.randn(8, 3, 4, 4) * 5 + 2
    layer(x)                                    # built, moving statistics moved once
    layer.trainable = False
    mean = layer.moving_mean.numpy()
    y = layer(x)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), mean)
    expected = (x.numpy() - mean[None, :, None, None]) / np.sqrt(layer.moving_variance.numpy()[None, :, None, None]
                                                                  + 1e-3)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_layers_in_nested_lists_and_dicts_are_registered():
    class Net(mc.Model):
        def __init__(self):
            super().__init__()
            self.stages = [[L.Dense(3), L.Dense(3)], {"head": [L.Dense(2)]}]

        def forward(self, x):
            for layer in self.stages[0] + self.stages[1]["head"]:
                x = layer(x)
            return x

    net = Net()
    net(mc.randn(2, 4))
    assert [name for name, _ in net.named_parameters()] == [
        "stages.0.0.kernel", "stages.0.0.bias", "stages.0.1.kernel", "stages.0.1.bias",
        "stages.1.head.0.kernel", "stages.1.head.0.bias"]
    net.eval()
    assert not net.stages[1]["head"][0].training


def test_an_optimizer_of_a_network_not_built_yet_is_refused():
    net = mc.Sequential([L.Flatten(), L.Dense(2)])       # lazily built: no weights yet
    with pytest.raises(ValueError, match="empty parameter list.*input_shape"):
        mc.optimizers.SGD(net.parameters(), lr=0.1)


@pytest.mark.parametrize("params, error, message", [
    (lambda net: net.parameters, TypeError, r"a method: call it, model.parameters\(\)"),
    (lambda net: net.parameters()[0], TypeError, "iterable of tensors"),
    (lambda net: [1.0], TypeError, "mc.Tensor parameters"),
    (lambda net: [net.parameters()[0] * 2], ValueError, "non-leaf"),
    (lambda net: [{"params": net.parameters()}], TypeError, "parameter groups"),
])
def test_optimizer_parameters_that_are_not_parameters_are_refused(params, error, message):
    with pytest.raises(error, match=message):
        mc.optimizers.Adam(params(small()))


def test_a_parameter_given_twice_is_updated_once():
    w = mc.ones(3, requires_grad=True)
    optimizer = mc.optimizers.SGD([w, w], lr=0.5)
    (w * 2).sum().backward()
    optimizer.step()
    np.testing.assert_allclose(w.numpy(), 1 - 0.5 * 2)


@pytest.mark.parametrize("make, message", [
    (lambda: mc.optimizers.SGD(momentum=-0.5), "momentum must be a number >= 0"),
    (lambda: mc.optimizers.SGD(nesterov=True), "nesterov=True needs a momentum"),
    (lambda: mc.optimizers.Adam(epsilon=-1e-3), "epsilon must be a number >= 0"),
    (lambda: mc.optimizers.Adam(beta_1=1.0), r"beta_1 must be in \[0, 1\)"),
    (lambda: mc.optimizers.RMSprop(rho=-0.1), r"rho must be in \[0, 1\)"),
    (lambda: mc.optimizers.RMSprop(momentum=True), "momentum must be a number >= 0"),
])
def test_hyperparameters_pytorch_refuses_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_compile_refuses_an_optimizer_given_other_parameters():
    other = small()
    with pytest.raises(ValueError, match="not this model's trainable weights"):
        small(optimizer=mc.optimizers.SGD(other.parameters(), lr=0.1), loss=loss())


def test_an_optimizer_given_the_models_parameters_compiles():
    model = small()
    model.compile(mc.optimizers.SGD(model.parameters(), lr=0.1), loss())
    x, y = bars(8)
    before = model.get_weights()[0]
    model.fit(x, y, verbose=0)
    assert not np.array_equal(before, model.get_weights()[0])


def test_set_weights_copies_the_callers_arrays():
    x, y = bars(16)
    model = small(optimizer=mc.optimizers.SGD(lr=0.1), loss=loss())
    mine = [w.copy() for w in model.get_weights()]
    kept = [w.copy() for w in mine]
    model.set_weights(mine)
    model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(mine, kept):
        np.testing.assert_array_equal(a, b)


def test_a_learning_rate_schedule_is_not_silently_replaced():
    x, y = bars(8)
    schedule = mc.schedules.CosineDecay(0.1, total_steps=10)
    model = small(optimizer=mc.optimizers.SGD(lr=schedule), loss=loss())
    callback = mc.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    with pytest.raises(TypeError, match="the learning rate is the schedule"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    assert model.optimizer.lr is schedule
