"""Keras' training semantics that minicnn follows (tests/conformance runs them beside Keras itself)."""

import os
import zipfile

import numpy as np
import pytest

import minicnn as mc

L = mc.layers


class Holder:
    """What a callback needs of a model: stop_training, the optimizer, weights."""

    def __init__(self, lr=0.1):
        self.stop_training = False
        self.optimizer = mc.optimizers.SGD(lr=lr)

    def get_weights(self):
        return []


def run(callback, values, monitor="val_loss", lr=0.1):
    """Feed the monitored values epoch by epoch; the epochs at which training stopped, and the rates."""
    callback.model, callback.params = Holder(lr), {"metrics": [monitor]}
    callback.on_train_begin()
    rates = []
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {monitor: value})
        rates.append(callback.model.optimizer.learning_rate)
        if callback.model.stop_training:
            return epoch, rates
    return None, rates


@pytest.mark.parametrize("patience, stopped", [(0, 1), (1, 1), (2, 2), (3, 3), (4, None)])
def test_early_stopping_stops_after_patience_epochs_without_improvement(patience, stopped):
    # improves at epoch 0 only: Keras stops after `patience` epochs without improvement (at epoch 1 at the earliest)
    assert run(mc.callbacks.EarlyStopping(patience=patience), [1.0, 1.5, 1.2, 1.1])[0] == stopped


def test_early_stopping_counts_a_nan_as_no_improvement():
    assert run(mc.callbacks.EarlyStopping(patience=1), [1.0, float("nan"), 2.0])[0] == 1


def test_reduce_lr_on_plateau_never_raises_a_rate_up_to_min_lr():
    _, rates = run(mc.callbacks.ReduceLROnPlateau(patience=1, factor=0.5, min_lr=0.01), [1.0, 1.0, 1.0], lr=0.001)
    assert rates == [0.001, 0.001, 0.001]
    _, rates = run(mc.callbacks.ReduceLROnPlateau(patience=1, factor=0.1, min_lr=0.005), [1.0, 1.0, 1.0, 1.0])
    assert rates == [0.1, pytest.approx(0.01), 0.005, 0.005]


def test_reduce_lr_on_plateau_cooldown():
    # Keras' counting: the cooldown epoch that ends the cooldown already counts towards patience
    callback = mc.callbacks.ReduceLROnPlateau(patience=1, factor=0.5, cooldown=2)
    _, rates = run(callback, [1.0, 1.0, 1.0, 1.0, 1.0])
    assert rates == pytest.approx([0.1, 0.05, 0.05, 0.025, 0.025])


def test_multi_label_accuracy_is_the_share_of_units_right_per_image():
    model = mc.Sequential([L.Dense(3)], input_shape=(2,))
    model.compile("sgd", mc.losses.BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    model.layers[0].set_weights([np.eye(2, 3, dtype=np.float32), np.array([0, 0, -1], np.float32)])
    x = np.array([[1.0, 1.0], [1.0, -1.0]], np.float32)              # logits [1, 1, -1] and [1, -1, -1]
    y = np.array([[1, 1, 1], [0, 0, 0]], np.float32)                  # right: 2 of 3, then 2 of 3
    assert model.evaluate(x, y, return_dict=True)["accuracy"] == pytest.approx(2 / 3)


def dropout_model():
    model = mc.Sequential([L.Flatten(), L.Dropout(0.5), L.Dense(2)], input_shape=(1, 4, 4))
    return model.compile("sgd", mc.losses.SparseCategoricalCrossentropy(from_logits=True))


def test_a_new_model_trains_and_a_compiled_one_infers():
    model = mc.Sequential([L.Flatten(), L.Dropout(0.5), L.Dense(2)], input_shape=(1, 4, 4))
    assert model.training and model.layers[1].training     # PyTorch's modules start in training mode
    model.compile("sgd", mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert not model.training and not model.layers[1].training      # Keras' compiled model(x) infers


def test_after_fit_and_load_model_a_model_called_directly_infers(tmp_path):
    x, y = np.ones((4, 1, 4, 4), np.float32), np.array([0, 1, 0, 1])
    model = dropout_model()
    model.fit(x, y, verbose=0)
    assert not model.training
    batch = mc.tensor(x)
    np.testing.assert_array_equal(model(batch).numpy(), model(batch).numpy())     # no dropout
    assert not np.array_equal(model(batch, training=True).numpy(), model(batch, training=True).numpy())
    assert not model.training                               # training=True was for that call only
    model.save(tmp_path / "m.npz")
    loaded = mc.load_model(tmp_path / "m.npz")
    assert not loaded.training
    np.testing.assert_array_equal(loaded(batch).numpy(), model(batch).numpy())


def test_load_model_carries_on_with_the_optimizers_state(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 1, 4, 4)).astype(np.float32), rng.integers(0, 2, 16)
    model = mc.Sequential([L.Flatten(), L.Dense(2)], input_shape=(1, 4, 4))
    model.compile(mc.optimizers.Adam(lr=0.01, use_ema=True),
                  mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=2, shuffle=False, verbose=0)
    model.save(tmp_path / "m.npz")
    loaded = mc.load_model(tmp_path / "m.npz")
    assert loaded.optimizer.iterations == model.optimizer.iterations == 2
    model.fit(x, y, epochs=1, shuffle=False, verbose=0)
    loaded.fit(x, y, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def write_npz(path, entries):
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in entries:
            with archive.open(name + ".npy", "w") as member:
                np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)


def saved(tmp_path):
    model = mc.Sequential([L.Flatten(), L.Dense(2)], input_shape=(1, 2, 2))
    model.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as file:
        return {key: file[key] for key in file.files}


@pytest.mark.parametrize("change", ["string weight", "complex weight", "datetime weight", "duplicate entry",
                                    "architecture as numbers"])
def test_model_files_with_foreign_entries_are_refused(tmp_path, change):
    entries = list(saved(tmp_path).items())
    name = entries[0][0] if entries[0][0] != "__architecture__" else entries[1][0]
    odd = {"string weight": np.array(["a", "b"]), "complex weight": np.ones(2, np.complex64),
           "datetime weight": np.array(["2026-01-01"], "datetime64[D]")}
    if change in odd:
        entries = [(k, odd[change] if k == name else v) for k, v in entries]
    elif change == "duplicate entry":
        entries.append((name, dict(entries)[name]))
    else:
        entries = [(k, np.zeros(3) if k == "__architecture__" else v) for k, v in entries]
    write_npz(tmp_path / "odd.npz", entries)
    with pytest.raises(ValueError, match="odd.npz: not a minicnn model file"):
        mc.load_model(tmp_path / "odd.npz")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_files_that_would_block_or_never_end_are_refused(tmp_path):
    os.mkfifo(tmp_path / "model.npz")
    os.symlink("/dev/zero", tmp_path / "zero.npz")
    for path in (tmp_path / "model.npz", tmp_path / "zero.npz", tmp_path):
        with pytest.raises(ValueError, match="not a regular file"):
            mc.load_model(path)
    os.mkfifo(tmp_path / "image.png")
    with pytest.raises(ValueError, match="not a regular file"):
        mc.data.load_image(tmp_path / "image.png", (4, 4), "RGB")
