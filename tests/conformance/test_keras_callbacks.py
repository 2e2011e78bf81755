"""mc.callbacks against keras.callbacks.

Most tests drive both callbacks by hand (keras_helpers.drive): the same monitored values epoch by
epoch, given to on_epoch_end of each with a stand-in model that holds stop_training, weights that
name their epoch, and a learning rate. Then one real fit each, with twin models.
"""

import csv
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_helpers import StandInModel, assert_close, drive, keras, keras_weights, mc, numpy, twin_models

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

C, KC = mc.callbacks, keras.callbacks
FEW = settings(max_examples=40)      # no Keras model involved: cheap

# few distinct values, so that ties and min_delta matter; NaN drawn too
monitored = st.lists(st.sampled_from([1.0, 0.9, 0.85, 0.5, 0.45, 2.0, math.nan]), min_size=1, max_size=12)
finite = st.lists(st.sampled_from([1.0, 0.9, 0.85, 0.5, 0.45, 2.0]), min_size=1, max_size=12)


def run_both(mine, theirs, sequence, monitor="val_loss", lr=0.1):
    """drive() each callback on its own stand-in model: (epochs run, rates, final weights) for each."""
    results = []
    for callback in (mine, theirs):
        model = StandInModel(lr)
        epochs, rates = drive(callback, model, sequence, monitor)
        results.append((epochs, rates, float(model.weights[0][0])))
    return results


# --- EarlyStopping ---

@FEW
@given(sequence=finite, patience=st.integers(0, 3), min_delta=st.sampled_from([0.0, 0.05, 0.4]),
       mode=st.sampled_from(["auto", "min", "max"]), restore=st.booleans())
def test_early_stopping(sequence, patience, min_delta, mode, restore):
    """The epoch it stops at, and (restore_best_weights) the epoch whose weights it goes back to:
    patience 0, 1, 2, 3, min_delta, each mode."""
    args = dict(monitor="val_loss", patience=patience, min_delta=min_delta, mode=mode, restore_best_weights=restore)
    mine, theirs = run_both(C.EarlyStopping(**args), KC.EarlyStopping(**args), sequence)
    assert mine == theirs


@pytest.mark.parametrize("patience, stops_after", [(0, 2), (1, 2), (2, 3), (3, 4)])
def test_early_stopping_patience(patience, stops_after):
    """A loss that never improves after the first epoch: Keras stops after `patience` epochs without
    improvement (at least one: patience 0 and 1 alike)."""
    args = dict(monitor="loss", patience=patience)
    mine, theirs = run_both(C.EarlyStopping(**args), KC.EarlyStopping(**args), [1.0] * 10, monitor="loss")
    assert len(mine[0]) == len(theirs[0]) == stops_after


@FEW
@given(sequence=monitored, patience=st.integers(0, 3), restore=st.booleans())
def test_early_stopping_counts_nan_as_no_improvement(sequence, patience, restore):
    args = dict(patience=patience, restore_best_weights=restore)
    mine, theirs = run_both(C.EarlyStopping(**args), KC.EarlyStopping(**args), sequence)
    assert mine == theirs


def test_early_stopping_on_accuracy_in_max_mode():
    args = dict(monitor="val_accuracy", patience=1, mode="max", restore_best_weights=True)
    mine, theirs = run_both(C.EarlyStopping(**args), KC.EarlyStopping(**args), [0.5, 0.7, 0.6, 0.65, 0.9],
                            monitor="val_accuracy")
    assert mine == theirs


def test_early_stopping_in_fit_restores_the_best_weights():
    """A real fit each: no epoch beats the first by min_delta=10, so both stop after patience epochs
    and go back to the weights after epoch 1."""
    results = []
    for model in twin_models(3):
        is_keras = isinstance(model, keras.Model)
        losses = (keras if is_keras else mc).losses
        optimizer = keras.optimizers.SGD(learning_rate=0.1) if is_keras else mc.optimizers.SGD(lr=0.1)
        model.compile(optimizer, losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        callback = (KC if is_keras else C).EarlyStopping("loss", patience=2, min_delta=10, restore_best_weights=True)
        x, y = _data()
        history = model.fit(x, y, epochs=10, batch_size=4, shuffle=False, verbose=0, callbacks=[callback])
        results.append((history, model))
    (my_history, mine), (their_history, theirs) = results
    assert my_history.epoch == their_history.epoch == [0, 1, 2]
    first = twin_models(3)[0]
    first.compile(mc.optimizers.SGD(lr=0.1), mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    first.fit(*_data(), epochs=1, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(mine.get_weights(), first.get_weights(), strict=True):
        assert_close(a, b, 1e-6, 1e-7, "restored to epoch 1")
    for a, b in zip([w for layer in mine.layers for w in keras_weights(layer)], theirs.get_weights()):
        assert_close(a, b, 1e-4, 1e-5, "as Keras restored")


def test_early_stopping_on_val_accuracy_in_fit():
    """mode="auto" on val_accuracy maximises (Keras asks the metric; minicnn reads "acc" in the name)."""
    epochs = []
    for model in twin_models(3):
        is_keras = isinstance(model, keras.Model)
        losses = (keras if is_keras else mc).losses
        optimizer = keras.optimizers.SGD(learning_rate=0.5) if is_keras else mc.optimizers.SGD(lr=0.5)
        model.compile(optimizer, losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        callback = (KC if is_keras else C).EarlyStopping("val_accuracy", patience=1)
        x, y = _data()
        history = model.fit(x, y, epochs=8, batch_size=4, shuffle=False, verbose=0, validation_data=(x[:6], y[:6]),
                            callbacks=[callback])
        epochs.append((history.epoch, np.round(history.history["val_accuracy"], 6).tolist()))
    assert epochs[0] == epochs[1]


def _data():
    rng = np.random.default_rng(1)
    return rng.standard_normal((10, 1, 6, 6)).astype(np.float32), rng.integers(0, 3, 10)


# --- ReduceLROnPlateau ---

@FEW
@given(sequence=finite, factor=st.sampled_from([0.1, 0.5]), patience=st.integers(0, 3), cooldown=st.integers(0, 2),
       min_lr=st.sampled_from([0.0, 0.01, 0.04]), min_delta=st.sampled_from([1e-4, 0.1]),
       mode=st.sampled_from(["auto", "min", "max"]))
def test_reduce_lr_on_plateau(sequence, factor, patience, cooldown, min_lr, min_delta, mode):
    """The learning rate after each epoch: factor, patience, cooldown, min_lr, min_delta, mode."""
    args = dict(monitor="val_loss", factor=factor, patience=patience, cooldown=cooldown, min_lr=min_lr,
                min_delta=min_delta, mode=mode)
    mine, theirs = run_both(C.ReduceLROnPlateau(**args), KC.ReduceLROnPlateau(**args), sequence)
    assert mine[0] == theirs[0]
    assert_close(np.array(mine[1]), np.array(theirs[1]), 1e-6, 1e-12, "learning rates")


@FEW
@given(sequence=monitored, patience=st.integers(0, 2), cooldown=st.integers(0, 2))
def test_reduce_lr_on_plateau_counts_nan_as_no_improvement(sequence, patience, cooldown):
    args = dict(factor=0.5, patience=patience, cooldown=cooldown)
    mine, theirs = run_both(C.ReduceLROnPlateau(**args), KC.ReduceLROnPlateau(**args), sequence)
    assert_close(np.array(mine[1]), np.array(theirs[1]), 1e-6, 1e-12, "learning rates")


@pytest.mark.parametrize("lr", [0.001, 0.01])
def test_reduce_lr_on_plateau_leaves_a_rate_at_or_below_min_lr(lr):
    """A rate already at or below min_lr is never raised to min_lr (nor lowered)."""
    args = dict(monitor="loss", factor=0.5, patience=0, min_lr=0.01)
    mine, theirs = run_both(C.ReduceLROnPlateau(**args), KC.ReduceLROnPlateau(**args), [1.0] * 4, "loss", lr=lr)
    assert mine[1] == theirs[1] == [lr] * 4


@pytest.mark.parametrize("factor", [1.0, 1.5])
def test_reduce_lr_on_plateau_refuses_a_factor_of_one_or_more(factor):
    with pytest.raises(ValueError, match="factor"):
        C.ReduceLROnPlateau(factor=factor)
    with pytest.raises(ValueError, match="factor"):
        KC.ReduceLROnPlateau(factor=factor)


def test_reduce_lr_on_plateau_in_fit():
    """A real fit each: the rate halves after every epoch that misses the best by min_delta=10."""
    results = []
    for model in twin_models(3):
        is_keras = isinstance(model, keras.Model)
        losses = (keras if is_keras else mc).losses
        optimizer = keras.optimizers.SGD(learning_rate=0.4) if is_keras else mc.optimizers.SGD(lr=0.4)
        model.compile(optimizer, losses.SparseCategoricalCrossentropy(from_logits=True))
        callback = (KC if is_keras else C).ReduceLROnPlateau("loss", factor=0.5, patience=1, min_delta=10)
        model.fit(*_data(), epochs=4, batch_size=4, shuffle=False, verbose=0, callbacks=[callback])
        results.append(model)
    mine, theirs = results
    assert_close(mine.optimizer.current_lr(), float(numpy(theirs.optimizer.learning_rate)), 1e-6, 0, "final rate")
    assert_close(mine.optimizer.current_lr(), 0.05, 1e-6, 0, "0.4 halved three times")
    for a, b in zip([w for layer in mine.layers for w in keras_weights(layer)], theirs.get_weights()):
        assert_close(a, b, 1e-4, 1e-5, "weights")


def test_learning_rate_callbacks_log_the_rate():
    keys = []
    for model in twin_models(3):
        is_keras = isinstance(model, keras.Model)
        losses = (keras if is_keras else mc).losses
        optimizer = keras.optimizers.SGD(learning_rate=0.1) if is_keras else mc.optimizers.SGD(lr=0.1)
        model.compile(optimizer, losses.SparseCategoricalCrossentropy(from_logits=True))
        callback = (KC if is_keras else C).LearningRateScheduler(lambda epoch, lr: lr * 0.5)
        keys.append(sorted(model.fit(*_data(), epochs=2, verbose=0, callbacks=[callback]).history))
    assert keys[0] == keys[1]


# --- mode typos ---

@pytest.mark.parametrize("make", [lambda cb, mode: cb.EarlyStopping(mode=mode),
                                  lambda cb, mode: cb.ReduceLROnPlateau(mode=mode),
                                  lambda cb, mode: cb.ModelCheckpoint("model.keras", mode=mode)],
                         ids=["EarlyStopping", "ReduceLROnPlateau", "ModelCheckpoint"])
@pytest.mark.parametrize("mode", ["maximum", "Max", "minimize"])
def test_a_mode_typo_is_refused(make, mode):
    """Keras warns and falls back to mode="auto"; minicnn refuses it (README: a wrong number is worse
    than a crash), rather than guess."""
    with pytest.warns(UserWarning, match="unknown"):
        make(KC, mode)
    with pytest.raises(ValueError, match="mode"):
        make(C, mode)


# --- LearningRateScheduler ---

def halve_odd_epochs(epoch, lr):
    return lr * 0.5 if epoch % 2 else lr


def test_learning_rate_scheduler():
    """schedule(epoch, current rate) at each epoch's start."""
    mine, theirs = run_both(C.LearningRateScheduler(halve_odd_epochs), KC.LearningRateScheduler(halve_odd_epochs),
                            [1.0] * 6)
    assert mine == theirs
    assert_close(np.array(mine[1]), 0.1 * 0.5 ** np.array([0, 1, 1, 2, 2, 3]), 1e-12, 0, "rates")


def test_learning_rate_scheduler_with_a_one_argument_schedule():
    """Keras' older form, schedule(epoch), is taken too."""
    def schedule(epoch):
        return 0.1 / (epoch + 1)
    mine, theirs = run_both(C.LearningRateScheduler(schedule), KC.LearningRateScheduler(schedule), [1.0] * 3)
    assert mine == theirs


def test_learning_rate_scheduler_in_fit():
    """A real fit each with lr = 0.2 * 0.5 ** epoch: the same weights after three epochs."""
    results = []
    for model in twin_models(3):
        is_keras = isinstance(model, keras.Model)
        losses = (keras if is_keras else mc).losses
        optimizer = keras.optimizers.SGD(learning_rate=1.0) if is_keras else mc.optimizers.SGD(lr=1.0)
        model.compile(optimizer, losses.SparseCategoricalCrossentropy(from_logits=True))
        callback = (KC if is_keras else C).LearningRateScheduler(lambda epoch, lr: 0.2 * 0.5 ** epoch)
        history = model.fit(*_data(), epochs=3, batch_size=4, shuffle=False, verbose=0, callbacks=[callback])
        results.append((history.history["loss"], model))
    (my_loss, mine), (their_loss, theirs) = results
    assert_close(np.array(my_loss), np.array(their_loss), 1e-4, 1e-5, "losses")
    for a, b in zip([w for layer in mine.layers for w in keras_weights(layer)], theirs.get_weights()):
        assert_close(a, b, 1e-4, 1e-5, "weights")


# --- ModelCheckpoint, CSVLogger, LambdaCallback ---

@FEW
@given(sequence=finite, save_best_only=st.booleans(), mode=st.sampled_from(["auto", "min", "max"]),
       weights_only=st.booleans())
def test_model_checkpoint(sequence, save_best_only, mode, weights_only):
    """Which epochs are saved, under which name: {epoch:02d} counts from 1, {val_loss:.2f} formatted."""
    saved = []
    for cb, suffix in ((C, ".npz"), (KC, ".weights.h5" if weights_only else ".keras")):
        callback = cb.ModelCheckpoint("ck-{epoch:02d}-{val_loss:.2f}" + suffix, monitor="val_loss",
                                      save_best_only=save_best_only, save_weights_only=weights_only, mode=mode)
        model = StandInModel()
        drive(callback, model, sequence)
        assert all(path.endswith(suffix) for path in model.saved)
        saved.append([path[:-len(suffix)] for path in model.saved])
    assert saved[0] == saved[1]


def test_csv_logger(tmp_path):
    """One row per epoch: "epoch" then the metrics in sorted order, the values as Python writes them.
    (Without any val_ metric Keras still adds val_ columns filled with "NA", for validation_freq > 1;
    minicnn takes the columns from the metrics fit will log, so it writes none.)"""
    logs = [{"loss": 0.9, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.25},
            {"loss": 0.7, "accuracy": 0.75, "val_loss": 1.0, "val_accuracy": 0.5}]
    rows = []
    for cb, name in ((C, "mine.csv"), (KC, "theirs.csv")):
        callback = cb.CSVLogger(tmp_path / name)
        model = StandInModel()
        callback.set_model(model) if hasattr(callback, "set_model") else setattr(callback, "model", model)
        callback.on_train_begin()
        for epoch, epoch_logs in enumerate(logs):
            callback.on_epoch_end(epoch, dict(epoch_logs))
        callback.on_train_end()
        with open(tmp_path / name, newline="") as file:
            rows.append(list(csv.reader(file)))
    assert rows[0] == rows[1]
    assert rows[0][0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]


def test_csv_logger_appends(tmp_path):
    """append=True adds rows to the file of an earlier run, without a second header."""
    rows = []
    for cb, name in ((C, "mine.csv"), (KC, "theirs.csv")):
        for run in range(2):
            callback = cb.CSVLogger(tmp_path / name, append=True)
            model = StandInModel()
            callback.set_model(model) if hasattr(callback, "set_model") else setattr(callback, "model", model)
            callback.on_train_begin()
            callback.on_epoch_end(0, {"loss": 1.0 + run, "val_loss": 3.0})
            callback.on_train_end()
        with open(tmp_path / name, newline="") as file:
            rows.append(list(csv.reader(file)))
    assert rows[0] == rows[1] == [["epoch", "loss", "val_loss"], ["0", "1.0", "3.0"], ["0", "2.0", "3.0"]]


def _epoch_and_batch_recorder(callbacks, seen):
    """A LambdaCallback of `callbacks` (either library's module) that appends what it is told to `seen`."""
    return callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(("begin", epoch)),
        on_train_batch_end=lambda batch, logs: seen.append(("batch", batch, round(logs["loss"], 4))),
        on_epoch_end=lambda epoch, logs: seen.append(("end", epoch, round(logs["accuracy"], 4))))


def test_lambda_callback_in_fit():
    """on_epoch_begin(epoch, logs), on_train_batch_end(batch, logs), on_epoch_end(epoch, logs): the
    same calls with the same values in both fits."""
    calls = []
    for model in twin_models(3):
        is_keras = isinstance(model, keras.Model)
        losses = (keras if is_keras else mc).losses
        optimizer = keras.optimizers.SGD(learning_rate=0.1) if is_keras else mc.optimizers.SGD(lr=0.1)
        model.compile(optimizer, losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        seen = []
        model.fit(*_data(), epochs=2, batch_size=4, shuffle=False, verbose=0,
                  callbacks=[_epoch_and_batch_recorder(KC if is_keras else C, seen)])
        calls.append(seen)
    assert calls[0] == calls[1]


def test_lambda_callback_train_begin_and_end_take_logs():
    calls = []
    for model in twin_models(3):
        is_keras = isinstance(model, keras.Model)
        losses = (keras if is_keras else mc).losses
        model.compile("sgd", losses.SparseCategoricalCrossentropy(from_logits=True))
        seen = []
        callback = (KC if is_keras else C).LambdaCallback(on_train_begin=lambda logs, seen=seen: seen.append("begin"),
                                                          on_train_end=lambda logs, seen=seen: seen.append("end"))
        model.fit(*_data(), epochs=1, verbose=0, callbacks=[callback])
        calls.append(seen)
    assert calls[0] == calls[1] == ["begin", "end"]


# --- defaults ---

@pytest.mark.parametrize("name", ["EarlyStopping", "ReduceLROnPlateau", "ModelCheckpoint", "CSVLogger",
                                  "LearningRateScheduler", "LambdaCallback"])
def test_default_arguments_are_keras(name):
    """Every argument minicnn's callback shares with Keras' has Keras' default."""
    import inspect
    mine = inspect.signature(getattr(C, name).__init__).parameters
    theirs = inspect.signature(getattr(KC, name).__init__).parameters
    shared = [arg for arg in mine if arg in theirs and arg != "self"]
    assert shared
    for arg in shared:
        assert mine[arg].default == theirs[arg].default, f"{name}({arg}=...)"
