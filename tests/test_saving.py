"""model.save / mc.load_model / weights: round trips, no pickle, atomic writes."""

import io
import json
import os
import subprocess
import sys
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
    with pytest.raises(ValueError, match=r"evil.npz: entry '__architecture__.npy' holds pickled Python objects"):
        mc.load_model(path)
    assert zipfile.is_zipfile(path)


def _zip(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_what_is_not_a_model_file_is_named_as_such(tmp_path):
    model, _ = trained_model()
    model.save(tmp_path / "good.npz")
    good = (tmp_path / "good.npz").read_bytes()
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "truncated.npz").write_bytes(good[: len(good) // 2])
    (tmp_path / "notes.npz").write_text("my notes")
    np.save(tmp_path / "array.npy", np.zeros(3))
    _zip(tmp_path / "other.npz", {"readme.txt": b"hello"})
    for name in ("empty.npz", "truncated.npz", "notes.npz", "array.npy", "other.npz"):
        with pytest.raises(ValueError, match=rf"{name}: not a minicnn model file"):
            mc.load_model(tmp_path / name)


def test_the_architecture_format_and_version_are_checked(tmp_path):
    model, _ = trained_model()
    model.save(tmp_path / "m.npz")
    arrays = dict(np.load(tmp_path / "m.npz"))
    spec = json.loads(str(arrays["__architecture__"]))
    for change, message in (({"version": 99}, "of version 99; this minicnn reads version 1"),
                            ({"format": "keras"}, "not a minicnn model file \\(format 'keras'")):
        np.savez(tmp_path / "changed.npz", **{**arrays, "__architecture__": np.array(json.dumps({**spec, **change}))})
        with pytest.raises(ValueError, match=message):
            mc.load_model(tmp_path / "changed.npz")


def test_an_entry_is_checked_before_it_is_decompressed(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (2 ** 26,)})
    bomb = tmp_path / "bomb.npz"                       # 256 MiB of zeros in a few hundred kB
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("w.npy", "w") as entry:
        entry.write(header.getvalue())
        for _ in range(16):
            entry.write(bytes(2 ** 24))
    assert bomb.stat().st_size < 2 ** 20
    with pytest.raises(ValueError, match=r"bomb.npz: not a minicnn model file \(entry 'w.npy' would expand"):
        mc.load_model(bomb)
    liar = _zip(tmp_path / "liar.npz", {"w.npy": header.getvalue() + bytes(16)})     # says 256 MiB, holds 16 B
    with pytest.raises(ValueError, match=r"liar.npz: entry 'w.npy' declares 268435456 bytes .* but holds 16"):
        mc.load_model(liar)


def test_saved_files_get_the_usual_permissions_and_stale_temporaries_go(tmp_path):
    model, _ = trained_model()
    old = os.umask(0o022)
    try:
        model.save(tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o644
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".m.npz.{int(gone.stdout)}-0badf00d.tmp"        # left by a save that crashed
    stale.write_bytes(b"half a file")
    other = tmp_path / f".other.npz.{int(gone.stdout)}-0badf00d.tmp"    # another target's: not ours to touch
    other.write_bytes(b"x")
    model.save(tmp_path / "m.npz")
    assert sorted(os.listdir(tmp_path)) == [other.name, "m.npz"]


def test_a_compiled_model_loads_compiled(tmp_path):
    model, x = trained_model()
    model.compile(mc.optimizers.Adam(learning_rate=mc.schedules.CosineDecay(0.01, total_steps=40), beta_1=0.8),
                  mc.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    y = np.arange(32) % 3
    model.save(tmp_path / "m.npz")
    loaded = mc.load_model(tmp_path / "m.npz")
    assert type(loaded.optimizer) is mc.optimizers.Adam and loaded.optimizer.beta_1 == 0.8
    assert isinstance(loaded.optimizer.lr, mc.schedules.CosineDecay) and loaded.optimizer.lr.total_steps == 40
    assert loaded.loss.from_logits and loaded.metrics == ["accuracy"]
    assert loaded.evaluate(x, y, return_dict=True) == pytest.approx(model.evaluate(x, y, return_dict=True))
    plain = mc.Sequential([L.Flatten(), L.Dense(2)], input_shape=(1, 2, 2))
    plain.save(tmp_path / "plain.npz")
    assert mc.load_model(tmp_path / "plain.npz").loss is None       # not compiled: loads as it was


def test_state_dict_round_trip_and_strict_loading():
    model, x = trained_model()
    state = model.state_dict()
    assert "2.kernel" in state and "3.moving_mean" in state
    assert [name for name, _ in model.named_parameters()][:2] == ["2.kernel", "2.bias"]
    mc.manual_seed(9)
    other, _ = trained_model()
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    missing = {k: v for k, v in state.items() if k != "2.bias"}
    with pytest.raises(ValueError, match=r"missing \['2.bias'\]"):
        other.load_state_dict(missing)
    with pytest.raises(ValueError, match=r"not in the model \['9.kernel'\]"):
        other.load_state_dict({**state, "9.kernel": np.zeros(1)})
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"weight 8.kernel has shape \(2, 2\), the model wants \(6, 3\)"):
        other.load_state_dict({**state, "8.kernel": np.zeros((2, 2))})
    assert all(np.array_equal(a, b) for a, b in zip(other.get_weights(), before))     # nothing half-written


def test_compile_settings_come_back_only_as_classes_of_the_registries(tmp_path):
    """A file names its optimizer, loss and schedule by class; only minicnn's registered classes are made,
    never any other name of the module (a function, an import), and a class of the user's own is refused
    when saving, by name, rather than written into a file load_model could not read."""
    model, _ = trained_model()
    model.compile(mc.optimizers.Adam(learning_rate=mc.schedules.OneCycle(0.01, total_steps=10)),
                  mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.save(tmp_path / "m.npz")
    arrays = dict(np.load(tmp_path / "m.npz"))
    spec = json.loads(str(arrays["__architecture__"]))
    for kind, name in (("optimizer", "get_optimizer"), ("loss", "get_loss"), ("loss", "Loss"),
                       ("optimizer", "Optimizer")):
        changed = json.loads(json.dumps(spec))
        changed["compile"][kind]["class"] = name
        np.savez(tmp_path / "changed.npz", **{**arrays, "__architecture__": np.array(json.dumps(changed))})
        with pytest.raises(ValueError, match="damaged minicnn model file .*compile settings"):
            mc.load_model(tmp_path / "changed.npz")
    changed = json.loads(json.dumps(spec))
    changed["compile"]["optimizer"]["config"]["lr"]["class"] = "math"
    np.savez(tmp_path / "changed.npz", **{**arrays, "__architecture__": np.array(json.dumps(changed))})
    with pytest.raises(ValueError, match="damaged"):
        mc.load_model(tmp_path / "changed.npz")

    class MyAdam(mc.optimizers.Adam):
        pass

    class MyLoss(mc.losses.SparseCategoricalCrossentropy):
        pass
    model.compile(MyAdam(), mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.raises(ValueError, match="optimizer MyAdam is a class of your own"):
        model.save(tmp_path / "mine.npz")
    model.compile("adam", MyLoss(from_logits=True))
    with pytest.raises(ValueError, match="loss MyLoss is a class of your own"):
        model.save(tmp_path / "mine.npz")
    assert not os.path.exists(tmp_path / "mine.npz")
    model.save_weights(tmp_path / "weights.npz")        # the way out the message names


def test_a_layer_class_of_ones_own_is_refused_at_save_even_under_a_builtin_name(tmp_path):
    """Saved as "Dense", a user's Dense subclass would come back as minicnn's Dense, with other numbers."""
    class Dense(L.Dense):
        def forward(self, x):
            return super().forward(x) * 2
    model = mc.Sequential([L.Flatten(), Dense(2)], input_shape=(1, 2, 2))
    with pytest.raises(ValueError, match="is a Dense of your own"):
        model.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()
