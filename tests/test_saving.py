"""model.save / mc.load_model / weights: round trips, no pickle, atomic writes."""

import os
import zipfile

import numpy as np
import pytest

import minicnn as mc

L = mc.layers


def trained_model():
    mc.manual_seed(0)
    x = np.random.default_rng(0).normal(size=(32, 3, 8, 8)).astype(np.float32)
    model = mc.Sequential([
        L.Normalization(mean=[0.1, 0.2, 0.3], variance=[1.0, 2.0, 3.0]), L.RandomFlip(),
        L.Conv2D(4, 3, padding="same", activation="relu"), L.BatchNormalization(), L.MaxPooling2D(2),
        L.Conv2D(6, 3, strides=2, use_bias=False), L.GlobalAveragePooling2D(), L.Dropout(0.2),
        L.Dense(3)], input_shape=(3, 8, 8))
    model.compile("adam", mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, np.arange(32) % 3, epochs=2, batch_size=8, verbose=0)
    return model, x


def test_save_and_load_model_round_trip(tmp_path):
    model, x = trained_model()
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = mc.load_model(path)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_array_equal(loaded.layers[3].buffers["moving_mean"].numpy(),
                                  model.layers[3].buffers["moving_mean"].numpy())
    with np.load(path, allow_pickle=False) as file:          # readable without pickle
        assert "__architecture__" in file.files and file["0.mean"].dtype == np.float32


def test_weights_round_trip_and_mismatch(tmp_path):
    model, x = trained_model()
    model.save_weights(tmp_path / "w.npz")
    fresh = trained_model()[0]
    fresh.set_weights([w * 0 for w in fresh.get_weights()])
    fresh.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(fresh.predict(x), model.predict(x))
    other = mc.Sequential([L.Flatten(), L.Dense(2)], input_shape=(3, 8, 8))
    with pytest.raises(ValueError, match="do not match"):
        other.load_weights(tmp_path / "w.npz")
    with pytest.raises(ValueError, match="save_weights"):
        mc.load_model(tmp_path / "w.npz")


def test_a_crash_mid_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    model, x = trained_model()
    path = tmp_path / "model.npz"
    model.save(path)
    before = path.read_bytes()

    def crash(file, **arrays):
        file.write(b"half a file")
        raise KeyboardInterrupt
    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


def test_a_file_with_pickled_objects_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, __architecture__=np.array([{"code": "print('hi')"}], dtype=object))
    with pytest.raises(ValueError, match="(?i)pickle"):
        mc.load_model(path)
    assert zipfile.is_zipfile(path)
