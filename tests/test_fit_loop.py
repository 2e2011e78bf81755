"""fit and evaluate against the same loop written out in NumPy (float64): every image once per epoch,
in a new order each epoch when shuffled, the last partial batch included, plain SGD steps, the
epoch's loss and accuracy averaged over images, class weights, and the progress bar's numbers.
(docs/mutation.md: these killed the training loop's surviving mutants.)"""

import io
import re
import sys
import time
import types
import warnings

import numpy as np
import pytest

import minicnn as mc
from minicnn.models import console, training

L, F = mc.layers, mc.F


def data(n=10, classes=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 1, 4, 4)).astype(np.float32), rng.integers(0, classes, n)


def dense_model(units=2, lr=0.5, loss=None, metrics=("accuracy",), seed=0):
    """Flatten then one Dense layer: simple enough to write out by hand below. lr: a number or a schedule."""
    mc.manual_seed(seed)
    model = mc.Sequential([L.Flatten(), L.Dense(units)], input_shape=(1, 4, 4))
    model.compile(mc.optimizers.SGD(lr=lr), loss or mc.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=list(metrics) if metrics else None)
    return model


def softmax_loss(w, b, x, labels, weights=None):
    """Per-image softmax cross-entropy of (N, classes) integer labels, its mean, hits and gradients."""
    x = x.reshape(len(x), -1).astype(np.float64)
    logits = x @ w + b
    shifted = logits - logits.max(1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    onehot = np.eye(w.shape[1])[labels]
    weights = np.ones(len(x)) if weights is None else weights
    loss = np.mean(weights * -(onehot * log_p).sum(1))
    g_logits = (np.exp(log_p) - onehot) * weights[:, None] / len(x)
    return loss, np.sum(logits.argmax(1) == labels), x.T @ g_logits, g_logits.sum(0)


def reference_fit(model, x, y, batch_size, epochs, lr):
    """Mini-batch SGD in order, the last batch partial: weights, per-epoch history and per-batch logs."""
    w, b = (a.astype(np.float64) for a in model.get_weights())
    history, batch_logs = {"loss": [], "accuracy": []}, []
    for _ in range(epochs):
        total, hits, seen = 0.0, 0, 0
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            loss, right, g_w, g_b = softmax_loss(w, b, xb, yb)
            w, b = w - lr * g_w, b - lr * g_b
            total, hits, seen = total + loss * len(xb), hits + right, seen + len(xb)
            batch_logs.append((total / seen, hits / seen))
        history["loss"].append(total / seen)
        history["accuracy"].append(hits / seen)
    return [w, b], history, batch_logs


class Spy(mc.callbacks.Callback):
    """What fit tells its callbacks: the batches' running logs and each epoch's logs."""

    def __init__(self):
        self.batches, self.epochs = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append((logs["loss"], logs.get("accuracy")))

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(dict(logs))


@pytest.mark.parametrize("batch_size", [4, 1])      # 10 images: batches of 4, 4 and 2; or ten of 1
def test_fit_is_minibatch_sgd_over_every_image_and_reports_image_means(batch_size):
    x, y = data()
    model = dense_model()
    weights, history, batch_logs = reference_fit(model, x, y, batch_size, epochs=3, lr=0.5)
    spy = Spy()
    got = model.fit(x, y, epochs=3, batch_size=batch_size, shuffle=False, verbose=0, callbacks=[spy])
    for mine, want in zip(model.get_weights(), weights):
        np.testing.assert_allclose(mine, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got.history["loss"], history["loss"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got.history["accuracy"], history["accuracy"], rtol=1e-12)
    np.testing.assert_allclose(spy.batches, batch_logs, rtol=1e-5, atol=1e-6)     # running means after each batch
    assert spy.params["steps"] == -(-10 // batch_size)


@pytest.mark.parametrize("batch_size", [1, 3, 32])
def test_evaluate_averages_over_images_whatever_the_batches(batch_size):
    x, y = data(n=11)
    model = dense_model()
    w, b = (a.astype(np.float64) for a in model.get_weights())
    loss, hits, _, _ = softmax_loss(w, b, x, y)
    got = model.evaluate(x, y, batch_size=batch_size, return_dict=True)
    assert got["loss"] == pytest.approx(loss, rel=1e-5)
    assert got["accuracy"] == pytest.approx(hits / 11, rel=1e-12)


def test_shuffling_shows_every_image_once_per_epoch_in_a_new_order():
    x, _ = data(n=10)
    x[:, 0, 0, 0] = np.arange(10)               # each image's number in its first pixel
    y = np.arange(10) % 2
    seen = []

    class Recorder(mc.Model):
        def __init__(self):
            super().__init__()
            self.head = L.Dense(2)

        def forward(self, inputs):
            seen.append(inputs.numpy()[:, 0, 0, 0].astype(int).tolist())
            return self.head(F.flatten(inputs))

    mc.manual_seed(0)
    model = Recorder()
    model.build((1, 4, 4))
    model.compile(mc.optimizers.SGD(lr=0.1), mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    seen.clear()
    model.fit(x, y, epochs=3, batch_size=4, verbose=0)     # shuffle=True by default
    assert [len(batch) for batch in seen] == [4, 4, 2] * 3
    epochs = [sum(seen[i:i + 3], []) for i in (0, 3, 6)]
    assert all(sorted(order) == list(range(10)) for order in epochs)
    assert len({tuple(order) for order in epochs}) == 3 and list(range(10)) not in epochs


def test_zero_epochs_train_nothing():
    x, y = data()
    model = dense_model()
    before = model.get_weights()
    history = model.fit(x, y, epochs=0, verbose=0)
    assert all(len(values) == 0 for values in history.history.values())
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))


def test_validation_split_of_one_image_is_enough_and_of_every_image_too_much():
    x, y = data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # one validation image is of one class: fit says so
        history = dense_model().fit(x, y, epochs=2, validation_split=0.1, verbose=0)   # 9 train, 1 validate
    assert len(history.history["val_loss"]) == 2
    with pytest.raises(ValueError, match="leaves no training or no validation images"):
        dense_model().fit(x, y, validation_split=1.0, verbose=0)


@pytest.mark.parametrize("where", ["training", "validation"])
def test_a_label_out_of_range_is_refused_before_any_step(where):
    """Caught up front, not at its batch: the weights stay as they were (the bad label is in the last batch)."""
    x, y = data()
    bad = y.copy()
    bad[-1] = 2                                 # two classes
    model = dense_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match="label 2 is out of range for 2 classes"):
        if where == "training":
            model.fit(x, bad, batch_size=4, shuffle=False, verbose=0)
        else:
            model.fit(x, y, batch_size=4, validation_data=(x, bad), verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))


def test_fit_gives_an_open_schedule_the_run_length_and_leaves_a_set_one_alone():
    x, y = data()
    for total_steps, expected in ((None, 2 * 3), (100, 100)):   # 2 epochs of 3 batches
        schedule = mc.schedules.CosineDecay(0.1, total_steps=total_steps)
        model = dense_model(lr=schedule)
        model.fit(x, y, epochs=2, batch_size=4, verbose=0)
        assert schedule.total_steps == expected


def test_the_epoch_line_shows_the_epochs_own_duration(capsys):
    x, y = data()
    start = time.perf_counter()
    dense_model().fit(x, y, epochs=1, verbose=1)
    took = time.perf_counter() - start
    seconds = float(re.search(r"Epoch 1/1 - ([0-9.]+)s", capsys.readouterr().out).group(1))
    assert 0 <= seconds <= took + 0.05


def test_validation_freq_3_validates_after_epochs_3_and_6():
    x, y = data()
    spy = Spy()
    dense_model().fit(x, y, epochs=7, validation_data=data(seed=1), validation_freq=3, verbose=0, callbacks=[spy])
    assert ["val_loss" in logs for logs in spy.epochs] == [False, False, True, False, False, True, False]


def first_batch_loss(model, x, y, **fit_kwargs):
    spy = Spy()
    model.fit(x, y, epochs=1, batch_size=len(x), shuffle=False, verbose=0, callbacks=[spy], **fit_kwargs)
    return spy.batches[0][0]


@pytest.mark.parametrize("class_weight", [{0: 0.5, 2: 0.0}, {1: 3.0, 2: 0.25}, {}])
def test_class_weight_with_class_indices(class_weight):
    x, y = data(n=12, classes=3)
    model = dense_model(units=3)
    w, b = model.get_weights()
    weights = np.array([class_weight.get(int(label), 1.0) for label in y])
    want, _, _, _ = softmax_loss(w.astype(np.float64), b.astype(np.float64), x, y, weights)
    assert first_batch_loss(model, x, y, class_weight=class_weight) == pytest.approx(want, rel=1e-5)


def test_class_weight_with_one_hot_labels():
    x, y = data(n=12, classes=3)
    model = dense_model(units=3, loss=mc.losses.CategoricalCrossentropy(from_logits=True))
    w, b = model.get_weights()
    class_weight = {1: 2.0, 2: 0.5}
    weights = np.array([class_weight.get(int(label), 1.0) for label in y])
    want, _, _, _ = softmax_loss(w.astype(np.float64), b.astype(np.float64), x, y, weights)
    got = first_batch_loss(model, x, np.eye(3, dtype=np.float32)[y], class_weight=class_weight)
    assert got == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("shape", [(12,), (12, 1)])
def test_class_weight_with_binary_float_labels(shape):
    x, y = data(n=12)
    model = dense_model(units=1, loss=mc.losses.BinaryCrossentropy(from_logits=True))
    w, b = (a.astype(np.float64) for a in model.get_weights())
    z = (x.reshape(12, -1) @ w + b)[:, 0]
    per_image = np.logaddexp(0, z) - y * z           # -[y log s(z) + (1 - y) log(1 - s(z))]
    weights = np.where(y == 1, 0.5, 2.0)
    got = first_batch_loss(model, x, y.astype(np.float32).reshape(shape), class_weight={0: 2.0, 1: 0.5})
    assert got == pytest.approx(np.mean(weights * per_image), rel=1e-5)


def test_class_weight_of_blended_binary_labels_follows_the_larger_share():
    lookup = training._ClassWeights({0: 2.0, 1: 0.5})
    labels = mc.tensor(np.array([0.7, 0.3, 0.8, 0.2], np.float32))
    got = lookup(labels, mc.zeros(4, 1)).numpy()
    np.testing.assert_array_equal(got, [0.5, 2.0, 0.5, 2.0])


def test_class_weight_naming_a_class_the_model_lacks_is_refused():
    x, y = data()
    with pytest.raises(ValueError, match="class_weight names class 2, but the model has 2 classes"):
        dense_model().fit(x, y, verbose=0, class_weight={2: 1.0})


def test_a_validation_split_of_data_with_one_class_only_does_not_warn():
    x, _ = data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # the sorted-by-class warning needs several classes
        dense_model().fit(x, np.zeros(10, np.int64), validation_split=0.2, verbose=0)


def test_the_progress_bar_counts_batches_and_shows_the_running_numbers(monkeypatch, capsys):
    tqdm_std = pytest.importorskip("tqdm.std")
    bars = []

    class RecordingBar(tqdm_std.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.postfixes = []
            bars.append(self)

        def set_postfix(self, ordered_dict=None, refresh=True, **kwargs):
            self.postfixes.append(dict(ordered_dict or {}, **kwargs))
            super().set_postfix(ordered_dict, refresh=refresh, **kwargs)

    monkeypatch.setattr(tqdm_std, "tqdm", RecordingBar)
    monkeypatch.setattr(console, "interactive", lambda: True)
    x, y = data()
    history = dense_model().fit(x, y, epochs=2, batch_size=4, verbose=1)
    assert len(bars) == 2
    for epoch, bar in enumerate(bars):
        assert bar.total == 3 and bar.n == 3 and not bar.leave    # gone after the epoch: its line replaces it
        assert bar.desc.startswith(f"Epoch {epoch + 1}/2")
        last = bar.postfixes[-1]
        assert last["loss"] == f"{history.history['loss'][epoch]:.4f}"
        assert last["accuracy"] == f"{history.history['accuracy'][epoch]:.4f}"
        assert all(float(postfix["img/s"]) > 0 for postfix in bar.postfixes)
    assert "Epoch 2/2 - " in capsys.readouterr().out


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_terminal_or_a_notebook_gets_the_bar(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    monkeypatch.setattr(sys, "stdout", _Terminal())
    assert console.interactive() and not console.in_a_notebook()
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert not console.interactive()

    class ZMQInteractiveShell:              # what get_ipython() returns inside a Jupyter kernel
        pass
    fake = types.ModuleType("IPython")
    fake.get_ipython = ZMQInteractiveShell
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert console.in_a_notebook() and console.interactive()


@pytest.mark.parametrize("missing", ["loss", "optimizer"])
def test_fit_without_a_loss_or_an_optimizer_says_compile_first(missing):
    x, y = data()
    model = dense_model()
    setattr(model, missing, None)
    with pytest.raises(RuntimeError, match="call model.compile"):
        model.fit(x, y, verbose=0)


def test_a_validation_split_too_small_for_one_image_is_refused():
    """1 - 1e-20 is 1.0 in floating point: Keras' split point leaves no validation image."""
    x, y = data()
    with pytest.raises(ValueError, match="leaves no training or no validation images out of 10"):
        dense_model().fit(x, y, validation_split=1e-20, verbose=0)


def test_class_weight_of_a_tied_blend_is_class_0s_as_keras_rounds_half_to_even():
    """Keras: np.round(y) picks each image's class, and np.round(0.5) == 0."""
    lookup = training._ClassWeights({0: 2.0, 1: 0.5})
    got = lookup(mc.tensor(np.array([0.5, 0.5000001, 0.4999999], np.float32)), mc.zeros(3, 1)).numpy()
    np.testing.assert_array_equal(got, [2.0, 0.5, 2.0])


class OneNumberPerImage(mc.Model):
    """A binary model whose logits are a vector (N,), not (N, 1): class_weight still sees classes 0 and 1."""

    def __init__(self):
        super().__init__()
        self.head = L.Dense(1)

    def forward(self, inputs):
        return self.head(F.flatten(inputs))[:, 0]


def test_class_weight_with_a_model_returning_one_logit_per_image():
    x, y = data(n=12)
    mc.manual_seed(0)
    model = OneNumberPerImage()
    model.build((1, 4, 4))
    model.compile(mc.optimizers.SGD(lr=0.5), mc.losses.BinaryCrossentropy(from_logits=True))
    w, b = (a.astype(np.float64) for a in model.get_weights())
    z = (x.reshape(12, -1) @ w + b)[:, 0]
    per_image = np.logaddexp(0, z) - y * z
    weights = np.where(y == 1, 0.5, 2.0)
    got = first_batch_loss(model, x, y.astype(np.float32), class_weight={0: 2.0, 1: 0.5})
    assert got == pytest.approx(np.mean(weights * per_image), rel=1e-5)
    with pytest.raises(ValueError, match="class_weight names class 2, but the model has 2 classes"):
        model.fit(x, y.astype(np.float32), verbose=0, class_weight={2: 1.0})


def test_the_progress_bar_shows_images_per_second_since_the_epoch_began(monkeypatch):
    """A stand-in clock (the time module, outside minicnn): 8 images in the 2 s after the start."""
    tqdm_std = pytest.importorskip("tqdm.std")
    now = [100.0]
    monkeypatch.setattr(console, "time", types.SimpleNamespace(perf_counter=lambda: now[0]))
    monkeypatch.setattr(console, "interactive", lambda: True)
    shown = []
    monkeypatch.setattr(tqdm_std.tqdm, "set_postfix", lambda self, postfix, refresh=True: shown.append(postfix))
    progress = console.Progress(0, 1, total_images=12, batch_size=4, verbose=1)
    now[0] = 101.0
    progress.update(4, {"loss": 0.5})
    now[0] = 102.0
    progress.update(4, {"loss": 0.25, "acc": 0.75})
    progress.close()
    assert [p["img/s"] for p in shown] == ["4", "4"]
    assert "acc" not in shown[0] and shown[1]["acc"] == "0.7500" and shown[1]["loss"] == "0.2500"


def test_a_half_imported_ipython_is_not_a_notebook(monkeypatch):
    """sys.modules holds IPython while it is still being imported: no get_ipython yet, and no error."""
    monkeypatch.setitem(sys.modules, "IPython", types.ModuleType("IPython"))
    assert not console.in_a_notebook()
