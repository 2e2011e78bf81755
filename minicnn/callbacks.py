"""Callbacks: code that model.fit runs around epochs and batches (and History, which it returns).

fit calls, in order: on_train_begin(logs); for each epoch on_epoch_begin(epoch, logs), after each
batch on_train_batch_end(batch, logs) with the running loss (and accuracy), on_epoch_end(epoch,
logs) with the epoch's metrics; on_train_end(logs), also when training stops on an error.
"""

import inspect
import math
import numbers
import string

from .caller import warn_at_caller


class Callback:
    model = None
    writes_files = False    # on several ranks (mc.distributed) fit runs such a callback on rank 0 only
    params = {}     # set by fit before on_train_begin: epochs, steps, verbose, validation_freq,
    #                 metrics (the names in logs; val_ ones only in epochs that ran validation)

    def on_train_begin(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs):
        pass

    def on_train_batch_end(self, batch, logs):
        """`logs` holds the epoch's running loss (and accuracy) so far."""

    def on_epoch_end(self, epoch, logs):
        """`logs` holds this epoch's loss, accuracy, val_loss, val_accuracy."""

    def on_train_end(self, logs=None):
        pass


class LambdaCallback(Callback):
    """A callback from plain functions: LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch))."""

    def __init__(self, on_train_begin=None, on_epoch_begin=None, on_train_batch_end=None, on_epoch_end=None,
                 on_train_end=None):
        for name, function in (("on_train_begin", on_train_begin), ("on_epoch_begin", on_epoch_begin),
                               ("on_train_batch_end", on_train_batch_end), ("on_epoch_end", on_epoch_end),
                               ("on_train_end", on_train_end)):
            if function is not None:
                setattr(self, name, function)


class LearningRateScheduler(Callback):
    """At each epoch's start, learning rate = schedule(epoch, current learning rate), or
    schedule(epoch) for a function of one argument (Keras' rule)."""

    def __init__(self, schedule):
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be a function of (epoch, lr) or (epoch), "
                            f"got {schedule!r}")
        self.schedule = schedule
        try:
            inspect.signature(schedule).bind(0, 0.1)
            self.takes_lr = True
        except TypeError:
            self.takes_lr = False
        except ValueError:          # a builtin without a signature: try both forms
            self.takes_lr = True

    def on_epoch_begin(self, epoch, logs):
        optimizer = self.model.optimizer
        rate = self.schedule(epoch, optimizer.current_lr()) if self.takes_lr else self.schedule(epoch)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
            raise ValueError(f"LearningRateScheduler: the schedule must return a number, got {rate!r} "
                             f"at epoch {epoch}")
        optimizer.learning_rate = float(rate)

    def on_epoch_end(self, epoch, logs):
        logs["learning_rate"] = float(self.model.optimizer.current_lr())     # in History, as Keras logs it


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by `factor` when `monitor` has not improved for `patience` epochs."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, min_lr=0.0, min_delta=1e-4, cooldown=0,
                 mode="auto"):
        check_counts("ReduceLROnPlateau", patience=patience, cooldown=cooldown)
        if not (isinstance(min_lr, numbers.Real) and min_lr >= 0):
            raise ValueError(f"ReduceLROnPlateau: min_lr must be a number >= 0, got min_lr={min_lr!r}")
        if not 0.0 < factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), got {factor!r}")
        self.monitor, self.factor, self.patience, self.min_lr = monitor, factor, patience, min_lr
        self.min_delta, self.cooldown = abs(min_delta), cooldown
        self.better = _better(monitor, mode)
        self.sign = 1 if self.better(1, 0) else -1

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooling = None, 0, 0

    def on_epoch_end(self, epoch, logs):
        """Keras' rule, step by step: a cooldown epoch resets the wait; an improvement records the best;
        otherwise, out of cooldown, wait one more epoch and reduce once `patience` have passed."""
        logs["learning_rate"] = float(self.model.optimizer.current_lr())     # the epoch's rate, as Keras logs it
        value = _monitored(logs, self.monitor, "ReduceLROnPlateau", self.params)
        if value is None:
            return
        if self.cooling:
            self.cooling -= 1
            self.wait = 0
        if self.best is None or self.better(value - self.sign * self.min_delta, self.best):
            self.best, self.wait = value, 0
        elif not self.cooling:
            self.wait += 1
            optimizer = self.model.optimizer
            lr = optimizer.current_lr()
            if self.wait >= self.patience and lr > self.min_lr:      # never raised up to min_lr
                optimizer.learning_rate = max(lr * self.factor, self.min_lr)
                self.wait, self.cooling = 0, self.cooldown


class CSVLogger(Callback):
    """One row per epoch, "epoch,loss,accuracy,..." into a CSV file (appended to with append=True)."""
    writes_files = True

    def __init__(self, filename, separator=",", append=False):
        self.filename, self.separator, self.append = str(filename), separator, append

    def on_train_begin(self, logs=None):
        self.keys = None
        if not self.append:
            open(self.filename, "w").close()

    def on_epoch_end(self, epoch, logs):
        with open(self.filename, "a") as file:
            if self.keys is None:           # fit's metric names: the first epoch may lack val_ ones
                self.keys = sorted(self.params.get("metrics") or logs)
                if file.tell() == 0:
                    file.write(self.separator.join(["epoch"] + self.keys) + "\n")
            values = [repr(float(logs.get(k, math.nan))) for k in self.keys]
            file.write(self.separator.join([str(epoch)] + values) + "\n")

class History(Callback):
    """Per-epoch metrics: history.history["val_accuracy"][-1] is the last epoch's."""

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)


def _named(path):
    """The names of the fields a format string fills: "w-{epoch:02d}-{val_loss:.2f}" -> {epoch, val_loss}."""
    return {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(path) if field}


def check_counts(who, **counts):
    for name, value in counts.items():
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{who}: {name} must be an int >= 0 (epochs), got {name}={value!r}")


def _better(monitor, mode):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got mode={mode!r}")
    if mode == "auto":
        mode = "max" if "acc" in monitor else "min"
    return (lambda a, b: a > b) if mode == "max" else (lambda a, b: a < b)


def _monitored(logs, monitor, who, params):
    if monitor not in logs and monitor in params.get("metrics", ()):
        return None                     # a val_ metric in an epoch without validation (validation_freq)
    if monitor not in logs:
        warn_at_caller(f"{who}: '{monitor}' is not among the metrics {sorted(logs)}; "
                      f"pass validation data or monitor another metric")
        return None
    return logs[monitor]


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved for `patience` epochs; optionally go back to the
    weights of the best epoch."""

    def __init__(self, monitor="val_loss", patience=0, restore_best_weights=False, min_delta=0.0, mode="auto"):
        check_counts("EarlyStopping", patience=patience)
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.better = _better(monitor, mode)
        self.sign = 1 if self.better(1, 0) else -1

    def on_train_begin(self, logs=None):
        self.best, self.best_weights, self.best_epoch, self.wait = None, None, None, 0
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs):
        value = _monitored(logs, self.monitor, "EarlyStopping", self.params)
        if value is None:
            return
        # Keras' rule: `patience` epochs without improvement, then stop (a NaN is no improvement)
        if self.best is None or self.better(value - self.sign * self.min_delta, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (atomically) after each epoch, or only when `monitor` improves."""
    writes_files = True

    def __init__(self, path, monitor="val_loss", save_best_only=False, save_weights_only=False, mode="auto"):
        self.path, self.monitor = str(path), monitor
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.better = _better(monitor, mode)
        self.best = None

    def on_train_begin(self, logs=None):
        """A path that names a metric fit will not log fails now, not after the first epoch."""
        if "metrics" not in self.params:
            return                          # not run by fit
        known = set(self.params["metrics"]) | {"epoch"}
        for name in _named(self.path):
            if name not in known:
                raise ValueError(f"ModelCheckpoint: the path {self.path!r} names {{{name}}}, but this fit logs only "
                                 f"{sorted(known)}" + (" (val_ metrics need validation data)"
                                                       if name.startswith("val_") else ""))

    def on_epoch_end(self, epoch, logs):
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint", self.params)
            if value is None or (self.best is not None and not self.better(value, self.best)):
                return
            self.best = value
        if any(name not in logs for name in _named(self.path) - {"epoch"}):
            return                          # a val_ metric the path names, in an epoch without validation
        path = self.path.format(epoch=epoch + 1, **logs)
        (self.model.save_weights if self.save_weights_only else self.model.save)(path)
