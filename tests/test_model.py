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
    assert any("head" in line and "(Dense)" in line for line in lines) and lines[-1] == f"Total params: {model.count_params():,}"


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
