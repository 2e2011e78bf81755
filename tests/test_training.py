"""Sequential.compile / fit / evaluate / predict, callbacks, Ctrl-C, NaN, determinism."""

import os
import re
import signal
import warnings

import numpy as np
import pytest

import minicnn as mc

L = mc.layers


def bars(n, seed=0, size=8):
    """Noisy images with one horizontal (0) or vertical (1) bar."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.3, (n, 1, size, size)).astype(np.float32)
    y = rng.integers(0, 2, n)
    for image, label, where in zip(x, y, rng.integers(1, size - 1, n)):
        if label:
            image[0, :, where] += 1
        else:
            image[0, where, :] += 1
    return x, y


def small_cnn(out=2, activation=None):
    return mc.Sequential([L.Conv2D(4, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                          L.Flatten(), L.Dense(out, activation=activation)], input_shape=(1, 8, 8))


def compiled(seed=0, **kwargs):
    mc.manual_seed(seed)
    model = small_cnn(**kwargs)
    model.compile(mc.optimizers.Adam(lr=0.01), mc.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def test_fit_learns_and_reports_keras_history():
    x, y = bars(200)
    model = compiled()
    history = model.fit(x, y, epochs=4, batch_size=16, validation_data=bars(64, seed=1), verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 4 for v in history.history.values())
    assert history.history["val_accuracy"][-1] > 0.9
    assert model.history is history
    loss, accuracy = model.evaluate(*bars(64, seed=2))
    assert accuracy > 0.9 and loss < 0.5
    assert model.evaluate(*bars(64, seed=2), return_dict=True).keys() == {"loss", "accuracy"}
    predictions = model.predict(bars(10, seed=3)[0])
    assert predictions.shape == (10, 2) and predictions.dtype == np.float32


def test_the_same_seed_gives_the_same_history_bit_for_bit():
    x, y = bars(96)
    runs = []
    for _ in range(2):
        model = compiled(seed=5)
        model.layers.insert(0, L.RandomFlip())
        model.layers.insert(3, L.Dropout(0.3))
        history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
        runs.append((history.history, model.get_weights()))
    assert runs[0][0] == runs[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))


def test_binary_and_one_hot_labels():
    x, y = bars(120)
    mc.manual_seed(0)
    model = small_cnn(out=1, activation="sigmoid")
    model.compile(mc.optimizers.Adam(lr=0.01), "binary_crossentropy", metrics=["accuracy"])
    assert model.fit(x, y, epochs=4, batch_size=16, verbose=0).history["accuracy"][-1] > 0.8
    model = compiled()
    model.compile(mc.optimizers.Adam(lr=0.01), mc.losses.CategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    assert model.fit(x, np.eye(2, dtype=np.float32)[y], epochs=4, batch_size=16,
                     verbose=0).history["accuracy"][-1] > 0.8


def test_verbose_prints_one_line_per_epoch_in_a_log(capsys):
    model = compiled()
    model.fit(*bars(64), epochs=3, batch_size=32, verbose=1)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Epoch")]
    assert len(lines) == 3 and "img/s" in lines[0] and "loss" in lines[0] and "\r" not in lines[0]


def test_early_stopping_restores_the_best_weights():
    x, y = bars(64)
    model = compiled()
    model.compile(mc.optimizers.SGD(lr=5.0), mc.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])        # a learning rate so large the loss goes up and down
    stop = mc.callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    snapshots = []

    class Record(mc.callbacks.Callback):
        def on_epoch_end(self, epoch, logs):
            snapshots.append(self.model.get_weights())
    history = model.fit(x, y, epochs=30, batch_size=64, callbacks=[stop, Record()], verbose=0)
    losses = history.history["loss"]
    assert len(losses) < 30 and stop.best == min(losses)
    best = snapshots[int(np.argmin(losses))]
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), best))


def test_model_checkpoint_saves_only_improvements(tmp_path):
    x, y = bars(64)
    model = compiled()
    path = tmp_path / "best.npz"
    check = mc.callbacks.ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True)
    history = model.fit(x, y, epochs=3, batch_size=16, validation_data=bars(32, seed=1), callbacks=[check], verbose=0)
    assert path.exists() and check.best == max(history.history["val_accuracy"])
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]


class SigintAt(L.Layer):
    """Sends the process a Ctrl-C during its n-th training call."""

    def __init__(self, n):
        super().__init__()
        self.n, self.calls = n, 0

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.calls == self.n:
                os.kill(os.getpid(), signal.SIGINT)
        return x


def test_ctrl_c_keeps_the_last_finished_batch_and_the_history(capsys):
    x, y = bars(64)
    model = compiled()
    model.layers.insert(0, SigintAt(n=6))            # 4 batches per epoch: interrupted in epoch 2
    # Python's usual Ctrl-C, also where this test process was started ignoring SIGINT (`cmd &`)
    outside = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        history = model.fit(x, y, epochs=5, batch_size=16, verbose=1)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler      # fit put it back
    finally:
        signal.signal(signal.SIGINT, outside)
    assert len(history.history["loss"]) == 1
    assert model.optimizer.iterations == 6            # the interrupted batch was finished, no more
    assert "interrupted" in capsys.readouterr().out


def test_fit_leaves_an_ignored_ctrl_c_ignored():
    """Started with Ctrl-C ignored (`cmd &`, nohup), fit does not put a handler of its own in its place."""
    seen = []

    class Look(L.Layer):
        def forward(self, inputs):
            seen.append(signal.getsignal(signal.SIGINT))
            return inputs
    model = compiled()
    model.layers.insert(0, Look())
    outside = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        model.fit(*bars(16), epochs=1, batch_size=16, verbose=0)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, outside)
    assert seen and all(handler is signal.SIG_IGN for handler in seen)


def test_a_nan_loss_stops_training_and_keeps_the_last_good_weights():
    x, y = bars(64)
    x[40] = np.nan                                   # in the third batch of 16 (no shuffling)
    model = compiled()
    weights = []

    class Record(L.Layer):
        def forward(self, inputs):
            if self.training:
                weights.append(model.get_weights())
            return inputs
    model.layers.insert(0, Record())
    with pytest.raises(FloatingPointError, match="epoch 1, batch 3"):
        model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights[2]))


def test_loss_and_last_activation_must_agree():
    model = small_cnn(activation="softmax")
    with pytest.raises(ValueError, match=r"from_logits=True\), but the last layer applies softmax"):
        model.compile("adam", mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.raises(ValueError, match="outputs logits"):
        small_cnn().compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="single unit"):
        small_cnn(out=1, activation="softmax").compile("adam", "binary_crossentropy")
    loss = mc.losses.BinaryCrossentropy()
    with pytest.raises(ValueError, match="look like logits"):
        loss(mc.tensor([1.0, 0.0]), mc.tensor([3.5, -2.0]))


def test_fit_needs_compile_and_labels():
    with pytest.raises(RuntimeError, match="compile"):
        small_cnn().fit(*bars(8))
    with pytest.raises(ValueError, match="no labels"):
        compiled().fit(bars(8)[0])


def test_the_whole_training_loop_runs_on_the_strict_device(tmp_path):
    """What a GPU run exercises (Keras layers, augmentation, batch norm, losses, saving), on a
    device that rejects NumPy-only calls and implicit host copies."""
    x, y = bars(48)
    mc.manual_seed(0)
    model = mc.Sequential([L.Normalization().adapt(x), L.RandomFlip("horizontal_and_vertical"), L.RandomRotate90(),
                           L.RandomTranslation(0.1, 0.1), L.Conv2D(4, 3, padding="same", use_bias=False),
                           L.BatchNormalization(), L.ReLU(), L.MaxPooling2D(2), L.Flatten(),
                           L.Dropout(0.2), L.Dense(2, activation="softmax")], input_shape=(1, 8, 8)).to("strict")
    model.compile(mc.optimizers.SGD(lr=mc.schedules.CosineDecay(0.05), momentum=0.9),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0)
    assert len(history.history["val_accuracy"]) == 2
    assert all(p.device == "strict" for p in model.parameters())
    model.save(tmp_path / "m.npz")
    np.testing.assert_allclose(mc.load_model(tmp_path / "m.npz").predict(x), model.predict(x), rtol=1e-5, atol=1e-6)


def test_progress_line_in_a_terminal(monkeypatch, capsys):
    from minicnn.models import console
    monkeypatch.setattr(console, "interactive", lambda: True)
    compiled().fit(*bars(64), epochs=1, batch_size=16, verbose=1)
    out = capsys.readouterr().out
    assert "/4 [" in out and "batch" in out           # the bar counts batches (redrawn every 0.1 s)
    assert "Epoch 1/1 - " in out and "img/s" in out   # then the epoch's summary line


@pytest.mark.parametrize("batch_size", [0, -4, 2.5, "32", True, None])
def test_a_batch_size_that_is_not_a_positive_int_is_named(batch_size):
    model = compiled()
    x, y = bars(8)
    for call in (lambda: model.fit(x, y, batch_size=batch_size, verbose=0),
                 lambda: model.evaluate(x, y, batch_size=batch_size), lambda: model.predict(x, batch_size=batch_size)):
        with pytest.raises(ValueError, match=rf"batch_size must be a positive int, got {re.escape(repr(batch_size))}"):
            call()


def test_no_images_is_an_error_not_a_zero_loss():
    model = compiled()
    empty_x, empty_y = np.zeros((0, 1, 8, 8), np.float32), np.zeros(0, int)
    with pytest.raises(ValueError, match="fit: the training data holds no images"):
        model.fit(empty_x, empty_y, verbose=0)
    with pytest.raises(ValueError, match="validation_data holds no images"):
        model.fit(*bars(8), validation_data=(empty_x, empty_y), verbose=0)
    with pytest.raises(ValueError, match="evaluate: the data holds no images"):
        model.evaluate(empty_x, empty_y)


def test_validation_split_and_validation_data_together_are_refused():
    model = compiled()
    with pytest.raises(ValueError, match="pass validation_split or validation_data, not both"):
        model.fit(*bars(16), validation_split=0.25, validation_data=bars(8, seed=1), verbose=0)


def test_a_callback_watching_a_metric_fit_does_not_log_warns_at_the_fit_line():
    model = compiled()
    with pytest.warns(UserWarning, match="'val_loss' is not among the metrics") as record:
        model.fit(*bars(16), epochs=1, verbose=0, callbacks=[mc.callbacks.EarlyStopping(monitor="val_loss")])
    assert record[0].filename == __file__


def test_validation_split_of_data_sorted_by_class_warns():
    x, y = bars(40)
    order = np.argsort(y, kind="stable")
    model = compiled()
    with pytest.warns(UserWarning, match=r"validation_split took the last 10 images, all of class 1") as record:
        model.fit(x[order], y[order], validation_split=0.25, verbose=0)
    assert record[0].filename == __file__       # the user's fit line: shown once per line of theirs, not of ours
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, validation_split=0.25, verbose=0)      # shuffled data: both classes, no warning


def test_predict_and_evaluate_leave_the_mode_as_they_found_it():
    model = compiled()
    x, y = bars(8)
    model.eval()
    model.predict(x)
    model.evaluate(x, y)
    assert not any(layer.training for layer in model.layers)
    model.train()
    model.predict(x)
    assert all(layer.training for layer in model.layers)


def test_a_nan_loss_still_ends_the_callbacks_so_early_stopping_restores():
    x, y = bars(64)
    model = compiled()
    stop = mc.callbacks.EarlyStopping("loss", patience=5, restore_best_weights=True)
    snapshots, ended = [], []

    class PoisonAfterTwoEpochs(mc.callbacks.Callback):
        def on_epoch_end(self, epoch, logs):
            snapshots.append(self.model.get_weights())
            if epoch == 1:
                x[40] = np.nan                         # fit reads x itself: the third epoch meets it

        def on_train_end(self, logs=None):
            ended.append(True)
    with pytest.raises(FloatingPointError, match="epoch 3, batch 3"):
        model.fit(x, y, epochs=5, batch_size=16, shuffle=False, verbose=0, callbacks=[stop, PoisonAfterTwoEpochs()])
    assert ended == [True] and stop.best_epoch in (0, 1)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), snapshots[stop.best_epoch]))


def test_model_checkpoint_naming_a_metric_fit_will_not_log_fails_before_training(tmp_path):
    model = compiled()
    before = model.get_weights()
    check = mc.callbacks.ModelCheckpoint(tmp_path / "m-{epoch}-{val_loss:.3f}.npz")
    with pytest.raises(ValueError, match=r"names \{val_loss\}.*val_ metrics need validation data"):
        model.fit(*bars(32), epochs=1, verbose=0, callbacks=[check])
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))      # no epoch ran
    model.fit(*bars(32), epochs=1, verbose=0, validation_data=bars(8, seed=1), callbacks=[check])
    assert len(list(tmp_path.glob("m-1-*.npz"))) == 1


def test_predicted_classes_never_depend_on_the_rest_of_the_batch():
    logits = np.array([[0.3], [0.7], [-0.2]])
    np.testing.assert_array_equal(mc.metrics.predicted_classes(logits, from_logits=True), [1, 1, 0])
    np.testing.assert_array_equal(mc.metrics.predicted_classes(logits[:2], from_logits=True), [1, 1])
    np.testing.assert_array_equal(mc.metrics.predicted_classes(logits[:2], from_logits=False), [0, 1])
    with pytest.raises(ValueError, match="say what they are: from_logits=True"):
        mc.metrics.predicted_classes(logits)
    np.testing.assert_array_equal(mc.metrics.predicted_classes(np.array([[0.1, 0.9], [2.0, -1.0]])), [1, 0])


def test_callbacks_hear_every_epoch_and_batch_begin_and_end(tmp_path):
    model = compiled()
    heard = []
    record = mc.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: heard.append(("begin", epoch)),
        on_train_batch_end=lambda batch, logs: heard.append(("batch", batch, sorted(logs))),
        on_epoch_end=lambda epoch, logs: heard.append(("end", epoch)))
    halve = mc.callbacks.LearningRateScheduler(lambda epoch, lr: lr / 2 if epoch else lr)
    csv = mc.callbacks.CSVLogger(tmp_path / "log.csv")
    history = model.fit(*bars(32), epochs=3, batch_size=16, verbose=0, callbacks=[record, halve, csv])
    assert heard[:4] == [("begin", 0), ("batch", 0, ["accuracy", "loss"]), ("batch", 1, ["accuracy", "loss"]),
                         ("end", 0)] and len(heard) == 12
    assert model.optimizer.learning_rate == pytest.approx(0.01 / 4)
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0] == "epoch,accuracy,loss" and len(rows) == 4
    assert [float(v) for v in rows[3].split(",")[1:]] == [history.history["accuracy"][2], history.history["loss"][2]]


def test_reduce_lr_on_plateau_waits_patience_epochs():
    model = compiled()
    model.compile(mc.optimizers.SGD(learning_rate=1.0), mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    plateau = mc.callbacks.ReduceLROnPlateau("loss", factor=0.5, patience=2, min_lr=0.3)
    plateau.model = model
    plateau.on_train_begin()
    for epoch, loss in enumerate([1.0, 1.0, 1.0, 0.5, 0.6, 0.7, 0.8, 0.9]):
        plateau.on_epoch_end(epoch, {"loss": loss})
        if epoch == 1:
            assert model.optimizer.learning_rate == 1.0
    assert model.optimizer.learning_rate == 0.3          # halved twice, then held at min_lr


def test_class_weight_scales_each_image_loss_as_keras_does():
    x, y = bars(32)
    model = compiled()
    logits = model(mc.tensor(x))
    per_image = -np.log(np.exp(logits.numpy()) / np.exp(logits.numpy()).sum(1, keepdims=True))[np.arange(32), y]
    weights = np.where(y == 1, 3.0, 1.0).astype(np.float32)
    weighted = mc.losses.SparseCategoricalCrossentropy(from_logits=True)(mc.tensor(y), logits, sample_weight=weights)
    assert weighted.item() == pytest.approx(float(np.mean(per_image * weights)), rel=1e-5)

    heard = []
    spy = mc.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: heard.append(logs["loss"]))
    again = compiled()
    again.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0, class_weight={1: 3.0}, callbacks=[spy])
    assert heard[0] == pytest.approx(float(np.mean(per_image * weights)), rel=1e-5)   # the same first batch
    for bad in ({1: -1.0}, {"dog": 2.0}, [1.0, 2.0]):
        with pytest.raises(ValueError, match="class_weight must be a dict"):
            compiled().fit(x, y, verbose=0, class_weight=bad)
    with pytest.raises(ValueError, match="class_weight names class 5, but the model has 2 classes"):
        compiled().fit(x, y, verbose=0, class_weight={5: 2.0})


def test_validation_freq_validates_every_nth_epoch_and_the_callbacks_wait_for_it(tmp_path):
    x, y = bars(64)
    val = bars(32, seed=1)
    model = compiled()
    stop = mc.callbacks.EarlyStopping("val_loss", patience=5)
    log = tmp_path / "log.csv"
    check = mc.callbacks.ModelCheckpoint(tmp_path / "w-{epoch}-{val_accuracy:.2f}.npz", save_weights_only=True)
    seen = []
    after = mc.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(model.evaluate(*val)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # no "val_loss is not among the metrics" on epochs 1 and 3
        history = model.fit(x, y, epochs=5, batch_size=16, validation_data=val, validation_freq=2, verbose=0,
                            callbacks=[stop, mc.callbacks.CSVLogger(log), check, after])
    assert len(history.history["loss"]) == 5 and len(history.history["val_loss"]) == 2
    np.testing.assert_allclose([history.history["val_loss"], history.history["val_accuracy"]],
                               np.transpose([seen[1], seen[3]]), rtol=1e-5)     # after epochs 2 and 4
    assert stop.best == min(history.history["val_loss"])
    assert sorted(p.name.split("-")[1] for p in tmp_path.glob("w-*.npz")) == ["2", "4"]
    rows = log.read_text().splitlines()
    assert rows[0] == "epoch,accuracy,loss,val_accuracy,val_loss" and len(rows) == 6
    assert rows[1].endswith("nan,nan") and not rows[2].endswith("nan")
    pytest.importorskip("matplotlib")
    figure = mc.plots.plot_history(history)
    lines = {line.get_label(): line.get_xdata() for ax in figure.axes for line in ax.get_lines()}
    assert list(lines["loss"]) == [1, 2, 3, 4, 5] and list(lines["val_loss"]) == [2, 4]


@pytest.mark.parametrize("freq", [0, -1, 1.5, True, "2"])
def test_a_validation_freq_that_is_not_a_positive_int_is_named(freq):
    with pytest.raises(ValueError, match=r"validation_freq must be a positive int.*got"):
        compiled().fit(*bars(16), epochs=1, validation_freq=freq, verbose=0)
