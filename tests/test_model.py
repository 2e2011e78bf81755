"""mc.Model, PyTorch style: a model written as code, with the same compile / fit / save as Sequential."""

import numpy as np
import pytest

import minicnn as mc
from test_training import bars

L, F = mc.layers, mc.F


class Net(mc.Model):
    def __init__(self):
        super().__init__()
        self.conv = L.Conv2D(4, 3, padding="same", activation="relu")
        self.blocks = [L.Dense(6, activation="relu"), L.Dropout(0.2)]
        self.head = L.Dense(2)

    def forward(self, x):
        h = F.flatten(F.max_pool2d(self.conv(x), 2))
        for layer in self.blocks:
            h = layer(h)
        return self.head(h)


class KerasNet(mc.Model):
    def __init__(self):
        super().__init__(name="keras_net")
        self.dense = L.Dense(2)

    def call(self, x):                       # Keras' name for forward
        return self.dense(F.flatten(x))


def test_a_model_written_as_code_trains_like_sequential(tmp_path):
    mc.manual_seed(0)
    model = Net()
    model.compile(mc.optimizers.Adam(learning_rate=0.01), mc.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])                 # before any weight exists: fit binds the optimizer
    x, y = bars(96)
    history = model.fit(x, y, epochs=6, batch_size=16, validation_data=bars(48, seed=1), verbose=0)
    assert history.history["val_accuracy"][-1] > 0.85
    assert [name for name, _ in model.named_parameters()] == [
        "conv.kernel", "conv.bias", "blocks.0.kernel", "blocks.0.bias", "head.kernel", "head.bias"]
    assert model.count_params() == 4 * 9 + 4 + 64 * 6 + 6 + 6 * 2 + 2
    assert model.get_layer(model.head.name) is model.head
    model.eval()
    assert not model.blocks[1].training
    model.train()

    state = model.state_dict()
    mc.manual_seed(1)
    again = Net()
    again.build((1, 8, 8))
    again.load_state_dict(state)
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    model.save(tmp_path / "net.npz")
    again.load_weights(tmp_path / "net.npz")
    with pytest.raises(ValueError, match=r"the weights of a Net model, whose architecture is code: .*load_weights"):
        mc.load_model(tmp_path / "net.npz")
    again.to("strict")
    assert all(p.device == "strict" for p in again.parameters())
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)
    lines = []
    model.summary(print_fn=lines.append)
    assert (any("head" in line and "(Dense)" in line for line in lines)
            and lines[-3] == f"Total params: {model.count_params():,}")


def test_call_is_accepted_as_keras_names_it_and_forward_is_required():
    model = KerasNet()
    assert model(mc.zeros(3, 1, 2, 2)).shape == (3, 2) and model.name == "keras_net"

    class Empty(mc.Model):
        pass
    with pytest.raises(NotImplementedError, match="write forward"):
        Empty()(mc.zeros(1, 1, 2, 2))
    model = KerasNet().compile("sgd", mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    for entry in (lambda: model.fit(np.zeros((2, 32, 48, 3), np.float32), [0, 1], verbose=0),
                  lambda: model.predict(np.zeros((2, 32, 48, 3), np.float32))):
        with pytest.raises(ValueError, match="channels-last"):       # images entering through fit or predict
            entry()
    inner = KerasNet()                   # feature maps inside a network are not second-guessed
    assert inner(mc.zeros(2, 256, 4, 4)).shape == (2, 2)


def _residual(seed=0):
    mc.manual_seed(seed)
    inputs = mc.Input(shape=(1, 8, 8))
    h = L.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    skip = h
    h = L.Conv2D(4, 3, padding="same")(h)
    h = L.ReLU()(L.Add()([h, skip]))                                     # a residual block
    gate = L.Activation("sigmoid")(L.Conv2D(4, 1)(h))
    h = L.Concatenate(axis=1)([L.Multiply()([h, gate]), inputs])       # two branches side by side
    outputs = L.Dense(2)(L.Flatten()(L.MaxPooling2D(2)(h)))
    return mc.Model(inputs, outputs)


def test_a_functional_residual_network_trains_summarises_and_round_trips(tmp_path):
    model = _residual()
    model.compile(mc.optimizers.Adam(learning_rate=0.01), mc.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    x, y = bars(96)
    history = model.fit(x, y, epochs=6, batch_size=16, validation_data=bars(48, seed=1), verbose=0)
    assert history.history["val_accuracy"][-1] > 0.85
    lines = []
    model.summary(print_fn=lines.append)
    add = next(node for node in model.nodes if isinstance(node.layer, L.Add))
    sources = [t.layer.name for t in add.inputs]
    assert len(sources) == 2 and all(name.startswith("conv2d") for name in sources)
    assert any(line.startswith(f"{add.layer.name} (Add)") and line.endswith(", ".join(sources)) for line in lines)
    assert any(line.startswith("concatenate") and line.endswith(", input") for line in lines)
    model.save(tmp_path / "residual.npz")
    loaded = mc.load_model(tmp_path / "residual.npz")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.evaluate(x, y, return_dict=True) == pytest.approx(model.evaluate(x, y, return_dict=True))
    assert [name for name, _ in loaded.named_parameters()] == [name for name, _ in model.named_parameters()]


def test_merge_layers_pass_gradients_to_every_branch(device):
    rng = np.random.default_rng(4)
    a, b = (mc.tensor(rng.normal(size=(2, 3, 2, 2)), dtype="float64", device=device, requires_grad=True)
            for _ in range(2))
    for layer in (L.Add(), L.Multiply(), L.Concatenate(axis=1), L.Concatenate(axis=-1)):
        assert mc.gradcheck(lambda s, t, merge=layer: merge([s, t]), a, b)
    np.testing.assert_array_equal(L.Concatenate(axis=1)([a, b]).numpy(), np.concatenate([a.numpy(), b.numpy()], 1))
    with pytest.raises(ValueError, match="Add: the inputs must have the same shape"):
        L.Add()([a, mc.zeros(2, 3, 2, 1, device=device)])
    with pytest.raises(ValueError, match="must match except along that axis"):
        L.Concatenate(axis=1)([a, mc.zeros(2, 3, 2, 1, device=device)])
    with pytest.raises(TypeError, match="takes a list of two or more"):
        L.Add()(a)


def test_model_of_inputs_and_outputs_checks_what_it_is_given():
    with pytest.raises(TypeError, match=r"Model\(inputs, outputs\) takes the mc.Input"):
        mc.Model(mc.zeros(1, 2), mc.zeros(1, 2))
    stray = L.Dense(2)(mc.Input(shape=(3,)))
    with pytest.raises(ValueError, match="depend on an Input that is not `inputs`"):
        mc.Model(mc.Input(shape=(3,)), stray)


class Scaled(mc.Model):
    """A parameter assigned straight to an attribute, PyTorch's way, next to a layer."""

    def __init__(self):
        super().__init__()
        self.dense = L.Dense(2)
        self.scale = mc.ones(1, requires_grad=True)

    def forward(self, x):
        return self.dense(F.flatten(x)) * self.scale


def test_tensors_assigned_to_attributes_are_parameters_too(tmp_path):
    mc.manual_seed(0)
    model = Scaled()
    model.compile(mc.optimizers.SGD(learning_rate=0.5), mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = bars(32)
    model.fit(x, y, epochs=2, verbose=0)
    assert [name for name, _ in model.named_parameters()] == ["scale", "dense.kernel", "dense.bias"]
    assert model.scale.item() != 1.0                                   # trained
    model.save_weights(tmp_path / "w.npz")
    again = Scaled()
    again.build((1, 8, 8))
    again.load_weights(tmp_path / "w.npz")
    assert again.scale.item() == model.scale.item()
    again.to("strict")
    assert again.scale.device == "strict"


def test_a_model_repr_lists_its_layers():
    text = repr(Net())
    assert text.startswith("Net(name=") and "conv: Conv2D(filters=4" in text and "blocks.1: Dropout(rate=0.2" in text
    assert "Dense(units=2" in repr(_residual())


def test_predict_and_training_calls_give_every_layer_back_its_own_mode():
    """model.in_mode(...) (behind predict, evaluate, build, model(x, training=...)) restores each layer's
    mode as it was, not the model's: a BatchNormalization a user put in eval() stays there."""
    mc.manual_seed(0)
    model = mc.Sequential([mc.layers.Conv2D(2, 3), mc.layers.BatchNormalization(), mc.layers.Dropout(0.5),
                           mc.layers.Flatten(), mc.layers.Dense(2)], input_shape=(1, 5, 5))
    model.train()
    model.layers[1].eval()
    modes = [layer.training for layer in model.layers]
    x = np.ones((2, 1, 5, 5), np.float32)
    model.predict(x)
    model(mc.tensor(x), training=False)
    model(mc.tensor(x), training=True)
    with model.in_mode(training=False):
        assert not any(layer.training for layer in model.layers)
    assert [layer.training for layer in model.layers] == modes and model.training
    with pytest.raises(RuntimeError), model.in_mode(training=False):
        raise RuntimeError("an error inside the block")
    assert [layer.training for layer in model.layers] == modes
    with pytest.raises(TypeError, match="training must be True or False, got 0"):
        with model.in_mode(training=0):
            pass
