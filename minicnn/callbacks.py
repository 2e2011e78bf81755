"""Callbacks: code that model.fit runs at the end of every epoch (and History, which it returns)."""

import math
import string
import warnings


class Callback:
    model = None
    params = {}     # set by fit before on_train_begin: epochs, steps, verbose, metrics (the names in logs)

    def on_train_begin(self):
        pass

    def on_epoch_end(self, epoch, logs):
        """`logs` holds this epoch's loss, accuracy, val_loss, val_accuracy."""

    def on_train_end(self):
        pass


class History(Callback):
    """Per-epoch metrics: history.history["val_accuracy"][-1] is the last epoch's."""

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)


def _better(monitor, mode):
    if mode == "auto":
        mode = "max" if "acc" in monitor else "min"
    return (lambda a, b: a > b) if mode == "max" else (lambda a, b: a < b)


def _monitored(logs, monitor, who):
    if monitor not in logs:
        warnings.warn(f"{who}: '{monitor}' is not among the metrics {sorted(logs)}; "
                      f"pass validation data or monitor another metric", stacklevel=3)
        return None
    return logs[monitor]


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved for `patience` epochs; optionally go back to the
    weights of the best epoch."""

    def __init__(self, monitor="val_loss", patience=0, restore_best_weights=False, min_delta=0.0, mode="auto"):
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.better = _better(monitor, mode)
        self.sign = 1 if self.better(1, 0) else -1

    def on_train_begin(self):
        self.best, self.best_weights, self.best_epoch, self.wait = None, None, None, 0
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if value is None or math.isnan(value):
            return
        if self.best is None or self.better(value - self.sign * self.min_delta, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (atomically) after each epoch, or only when `monitor` improves."""

    def __init__(self, path, monitor="val_loss", save_best_only=False, save_weights_only=False, mode="auto"):
        self.path, self.monitor = str(path), monitor
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.better = _better(monitor, mode)
        self.best = None

    def on_train_begin(self):
        """A path that names a metric fit will not log fails now, not after the first epoch."""
        if "metrics" not in self.params:
            return                          # not run by fit
        known = set(self.params["metrics"]) | {"epoch"}
        for _, field, _, _ in string.Formatter().parse(self.path):
            name = field.split(".")[0].split("[")[0] if field else None
            if name and name not in known:
                raise ValueError(f"ModelCheckpoint: the path {self.path!r} names {{{name}}}, but this fit logs only "
                                 f"{sorted(known)}" + (" (val_ metrics need validation data)"
                                                       if name.startswith("val_") else ""))

    def on_epoch_end(self, epoch, logs):
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if value is None or (self.best is not None and not self.better(value, self.best)):
                return
            self.best = value
        path = self.path.format(epoch=epoch + 1, **logs)
        (self.model.save_weights if self.save_weights_only else self.model.save)(path)
