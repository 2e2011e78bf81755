"""The training loop behind Model.fit (Sequential's too), and evaluation.

One epoch: for each shuffled batch, forward, loss, backward, optimizer step;
then validation in inference mode, the epoch's line of metrics, callbacks.
Ctrl-C finishes the current batch and stops; a non-finite loss stops before
its update is applied, so the weights stay the last good ones. What the loop
shows on the console (progress, the epoch's line, Ctrl-C) is models/console.py.
"""

import math
import time

import numpy as np

from .. import distributed, random
from ..autograd import no_grad
from ..caller import warn_at_caller
from ..callbacks import Callback, History
from ..data import Batches, MixUp, as_dataset, batches
from ..data.dataset import epoch_order
from ..losses import SparseCategoricalCrossentropy
from ..schedules import Schedule
from ..tensor import Tensor
from . import console
from .inputs import check_model_input


def fit(model, x, y=None, *, epochs, batch_size, validation_data, validation_split, shuffle, callbacks, verbose,
        class_weight, validation_freq):
    """Model.fit's loop: check the arguments, cut the data, ready the model, then epochs of batches."""
    check_fit_arguments(model, epochs=epochs, batch_size=batch_size, validation_freq=validation_freq,
                        validation_data=validation_data)
    train, val = training_and_validation_data(x, y, validation_data, validation_split)
    ready_the_model(model, train, val)
    if distributed.is_initialized():    # every rank starts from rank 0's weights, state and order
        start_from_rank_0(model, train)
        verbose = verbose if distributed.is_main() else 0
        callbacks = [c for c in _callback_list(callbacks) if distributed.is_main() or not c.writes_files]
    if isinstance(train, Batches):      # a data set in batches brings its batch size, as in Keras
        batch_size = train.batch_size
    steps_per_epoch = math.ceil(train.image_count / batch_size)
    lr = model.optimizer.lr
    if isinstance(lr, Schedule) and getattr(lr, "total_steps", 0) is None:
        lr.total_steps = epochs * steps_per_epoch        # "the whole run" for schedules left open
    weights = None if class_weight is None else _ClassWeights(class_weight)
    history = model.history = History()
    callbacks = _callback_list(callbacks) + [history]    # last, as in Keras: it sees what others add to logs
    metrics = ["loss"] + [m.name for m in model.compiled_metrics]
    metrics += [f"val_{name}" for name in metrics] if val is not None else []
    for callback in callbacks:
        callback.model = model
        callback.params = {"epochs": epochs, "steps": steps_per_epoch, "verbose": verbose, "metrics": metrics,
                           "validation_freq": validation_freq}
    _tell(callbacks, "on_train_begin", {})
    model.stop_training = False
    try:
        with console.ctrl_c_finishes_the_batch(announce=distributed.is_main()) as interrupted:
            for epoch in range(epochs):
                _tell(callbacks, "on_epoch_begin", epoch, {})
                start = time.perf_counter()
                logs, stopped = train_one_epoch(model, train, batch_size=batch_size, shuffle=shuffle, epoch=epoch,
                                                epochs=epochs, verbose=verbose, interrupted=interrupted,
                                                callbacks=callbacks, weights=weights)
                seconds = time.perf_counter() - start
                if stopped:
                    console.print_interrupted(epoch, verbose)
                    break
                average_moving_statistics(model)
                if val is not None and (epoch + 1) % validation_freq == 0:
                    logs.update({f"val_{k}": v for k, v in evaluate(model, val, batch_size).items()})
                console.print_epoch(epoch, epochs, logs, seconds, train.image_count, verbose)
                _tell(callbacks, "on_epoch_end", epoch, logs)
                if model.stop_training:
                    break
        model.optimizer.finalize_variable_values()      # use_ema: the averaged weights, as Keras
    finally:
        # inference mode from here on (what Keras' model(x) does after fit); model.train() switches back
        model.eval()
        _tell(callbacks, "on_train_end", {})         # also when training stops on an error: EarlyStopping restores
    return history


def start_from_rank_0(model, train):
    """Rank 0's weights, buffers and optimizer state on every rank (and its shuffling of a data set in
    batches): from here on each rank takes the same steps."""
    distributed.broadcast(model)
    optimizer = model.optimizer
    params = list(optimizer.params)
    states = distributed.broadcast([optimizer.state.get(id(p), {}) for p in params])
    optimizer.state = {id(p): {k: p.backend.from_host(v) if isinstance(v, np.ndarray) else v
                               for k, v in state.items()} for p, state in zip(params, states) if state}
    optimizer.iterations = distributed.broadcast(optimizer.iterations)
    if isinstance(train, Batches):
        train._order.bit_generator.state = distributed.broadcast(train._order.bit_generator.state)
    # dropout masks and augmentation: rank 0 goes on with its draws, the others take independent streams
    # of rank 0's generator (the same seed on every rank would repeat rank 0's flips on the others' shares)
    random.follow(distributed.broadcast(random.state()), distributed.rank())


def average_moving_statistics(model):
    """BatchNorm's moving mean and variance averaged over the ranks (each saw its own shares), before
    validation and saving. Parameters are equal on every rank already."""
    if distributed.is_initialized():
        for tensor in {id(t): t for t in _buffers(model)}.values():
            distributed.all_reduce(tensor, op="mean")


def _buffers(layer):
    yield from layer.buffers.values()
    for _, sublayer in layer.children():
        yield from _buffers(sublayer)


def check_fit_arguments(model, *, epochs, batch_size, validation_freq, validation_data):
    if model.loss is None or model.optimizer is None:
        raise RuntimeError("fit: call model.compile(optimizer, loss, metrics) first")
    check_batch_size(batch_size, "fit")
    if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
    if not isinstance(validation_freq, (int, np.integer)) or isinstance(validation_freq, bool) or validation_freq < 1:
        raise ValueError(f"fit: validation_freq must be a positive int (validate every that many epochs), "
                         f"got {validation_freq!r}")
    if isinstance(validation_data, (tuple, list)) and len(validation_data) != 2:
        raise ValueError(f"fit: validation_data must be a dataset or an (x, y) pair, got {len(validation_data)} items"
                         + (" (sample weights are not supported)" if len(validation_data) == 3 else ""))


def training_and_validation_data(x, y, validation_data, validation_split):
    """(training dataset, validation dataset or None): validation_split takes the last images, as Keras."""
    train = as_dataset(x, y)
    if train.labels is None:
        raise ValueError("fit: the training data has no labels (pass y, or a dataset with labels)")
    if len(train) == 0:
        raise ValueError("fit: the training data holds no images")
    val = None
    if validation_split and isinstance(train, Batches):
        raise ValueError("fit: validation_split is not possible with a data set in batches (as in Keras); "
                         "split the folder instead: image_dataset_from_directory(..., validation_split=0.2, "
                         "subset='both', seed=...)")
    if validation_split and validation_data is not None:
        raise ValueError("fit: pass validation_split or validation_data, not both (validation_split would take "
                         "a share of the training data that is then not used for anything)")
    if validation_split:
        n_val = len(train) - int(math.floor(len(train) * (1.0 - validation_split)))     # Keras' split point
        if not 0 < n_val < len(train):
            raise ValueError(f"validation_split={validation_split} leaves no training or no validation images "
                             f"out of {len(train)}")
        val = train.subset(np.arange(len(train) - n_val, len(train)))
        train = train.subset(np.arange(len(train) - n_val))
        _warn_if_one_class(val, train)
    if validation_data is not None:
        val = as_dataset(validation_data)
        if len(val) == 0:
            raise ValueError("fit: validation_data holds no images")
    for data in (train, val):           # images, not feature maps: a channels-last batch is refused here
        if data is not None:
            check_model_input(data.images.shape)
    return train, val


def ready_the_model(model, train, val):
    """Weights made, the optimizer bound to them, every label checked once against the model's output."""
    if getattr(train, "class_names", None):      # a model remembers what its outputs mean
        model.class_names = list(train.class_names)
    if not model.built:                 # weights are made by a first pass, before the optimizer needs them
        model.build(train.images.shape[1:])
    model.optimizer.bind(model.trainable_weights)     # as they are now: layers added or frozen after compile
    if isinstance(train, MixUp) and isinstance(model.loss, SparseCategoricalCrossentropy):
        raise ValueError("fit: MixUp blends labels into fractions, which class indices can't hold; give the "
                         "dataset one-hot labels (np.eye(classes, dtype='float32')[labels]) and compile with "
                         "CategoricalCrossentropy")
    if model.output_shapes:             # built: every label checked on the host once, not on the device each step
        for data in (train, val):
            if data is not None and data.labels is not None:
                model.loss.check_labels(data.labels, model.output_shapes[-1])


def _tell(callbacks, event, *args):
    for callback in callbacks:
        getattr(callback, event)(*args)


def _callback_list(callbacks):
    """fit's callbacks: a list of them, or one alone (Keras takes that too)."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"fit: callbacks must be a list of mc.callbacks.Callback, got {type(callbacks).__name__}")
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise TypeError(f"fit: callbacks must be mc.callbacks.Callback objects, got a "
                            f"{type(callback).__name__} ({callback!r}); wrap a function in "
                            f"mc.callbacks.LambdaCallback(on_epoch_end=...)")
    return list(callbacks)


class _ClassWeights:
    """fit's class_weight as one weight per image, looked up on the device: the table crosses once."""

    def __init__(self, class_weight):
        if not isinstance(class_weight, dict) or not all(
                isinstance(k, (int, np.integer)) and k >= 0 and isinstance(v, (int, float)) and v >= 0
                for k, v in class_weight.items()):
            raise ValueError(f"fit: class_weight must be a dict {{class index: weight >= 0}}, got {class_weight!r}")
        self.class_weight, self.table = class_weight, None

    def __call__(self, labels, outputs):
        xp = labels.xp
        if self.table is None:
            classes = outputs.shape[-1] if outputs.ndim == 2 and outputs.shape[-1] > 1 else 2   # one unit: 0 and 1
            if max(self.class_weight, default=0) >= classes:
                raise ValueError(f"fit: class_weight names class {max(self.class_weight)}, but the model has "
                                 f"{classes} classes")
            table = np.array([self.class_weight.get(k, 1.0) for k in range(classes)], np.float32)
            self.table = outputs.backend.from_host(table)
        index = labels.data
        if index.ndim == 2 and index.shape[-1] > 1:     # one-hot labels
            index = xp.argmax(index, axis=-1)
        elif labels.dtype.kind == "f":                  # binary labels 0.0 / 1.0
            index = xp.astype(index > 0.5, xp.int64)
        return Tensor(xp.take(self.table, xp.reshape(index, (-1,)), axis=0), outputs.backend)


def check_batch_size(batch_size, where):
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"{where}: batch_size must be a positive int, got {batch_size!r}")


def _warn_if_one_class(val, train):
    """validation_split takes the last images as they come: from data sorted by class, one class."""
    if val.labels.ndim == 1 and len(np.unique(val.labels)) == 1 < len(np.unique(train.labels)):
        warn_at_caller(f"fit: validation_split took the last {len(val)} images, all of class {val.labels[0]}: "
                      f"the data looks sorted by class, so validation says little. Shuffle it first "
                      f"(mc.data.image_folder does by default), or pass validation_data.")


def train_one_epoch(model, train, *, batch_size, shuffle, epoch, epochs, verbose, interrupted, callbacks, weights):
    """One pass over the shuffled batches: forward, loss, backward, optimizer step. Returns the epoch's
    logs, and whether Ctrl-C stopped it (on several ranks: whether it reached any rank, agreed by all).

    On several ranks (mc.distributed) each batch is the global batch: rank 0's shuffled order, every
    rank its share of each batch (shares differ by one image at most; a share may be empty), the
    gradients averaged in proportion to the shares, with the batch's loss and hit counts in the same
    allreduce. So every rank takes the step one process would take on the whole batch."""
    model.train()
    loss_fn, optimizer, metrics = model.loss, model.optimizer, model.compiled_metrics
    total_loss, correct, seen = 0.0, [0.0] * len(metrics), 0
    progress = console.Progress(epoch, epochs, train.image_count, batch_size, verbose)
    several = distributed.is_initialized()
    order, stopped = None, False
    if several and not isinstance(train, Batches):
        order = distributed.broadcast(epoch_order(train, shuffle) if distributed.is_main() else
                                      np.zeros(len(train), np.int64))
    for step, (xb, yb) in enumerate(batches(train, batch_size, model.device, shuffle, order=order,
                                            part=(distributed.rank(), distributed.world_size()))):
        if isinstance(train, MixUp):
            xb, yb = train.mix(xb, yb)
        count = len(xb)
        if count:
            out = model(xb)
            loss_and_range = loss_fn.with_range(yb, out, sample_weight=None if weights is None else weights(yb, out))
            loss, value, hits = _read(loss_fn, loss_and_range, [m.count_correct(yb, out) for m in metrics])
        else:                           # an empty share of a small last batch: joins the allreduce only
            loss, value, hits = None, 0.0, [0.0] * len(metrics)
        trains = loss is not None and loss.requires_grad
        if trains and math.isfinite(value):     # (a non-finite loss on any rank stops every rank below)
            loss.backward()
        stopped = interrupted["hit"]
        if several:     # the gradients, the loss, the hits and whether Ctrl-C reached a rank: one allreduce
            params = list(optimizer.params)
            total, sums = distributed.reduce_gradients(params, count, [value * count, *hits, stopped])
            value, hits, count, trains = sums[0] / total, list(sums[1:-1]), int(total), bool(params)
            stopped = sums[-1] > 0      # every rank stops after the same batch, wherever Ctrl-C arrived
        if not math.isfinite(value):
            optimizer.zero_grad()
            distributed.let_rank_0_report()     # every rank raises this; rank 0's report is the one shown
            raise FloatingPointError(
                f"the loss became {value} at epoch {epoch + 1}, batch {step + 1}: training stopped and the "
                f"weights are those after the previous batch. Lower the learning rate or check the inputs.")
        if trains:                      # else every layer is frozen: nothing to train, as in Keras
            optimizer.step()
            optimizer.zero_grad()
        total_loss += value * count
        correct = [c + h for c, h in zip(correct, hits)]
        seen += count
        running = {"loss": total_loss / seen, **{m.name: c / seen for m, c in zip(metrics, correct)}}
        progress.update(count, running)
        _tell(callbacks, "on_train_batch_end", step, running)
        stopped = stopped if several else interrupted["hit"]    # one process: Ctrl-C until this very moment
        if stopped:
            break
    progress.close()
    # seen > 0: fit refuses empty data, Ctrl-C ends after a batch
    return {"loss": total_loss / seen, **{m.name: c / seen for m, c in zip(metrics, correct)}}, stopped


def _read(loss_fn, loss_and_range, hits):
    """The batch's loss tensor, its value and each metric's number of correct predictions, read in one
    copy from the device, with the predictions' range for a loss of probabilities (checked here).

    On a GPU the step's work is queued and this copy waits for it: one wait per batch.
    """
    loss, seen = loss_and_range
    xp = loss.xp
    parts = [loss.data] + [xp.astype(h, loss.data.dtype) for h in hits]
    if seen is not None:
        parts.append(xp.astype(seen, loss.data.dtype))
    host = loss.backend.to_host(xp.concat([xp.reshape(part, (-1,)) for part in parts])).tolist()
    if seen is not None:
        loss_fn.check_range(*host[-2:])
        host = host[:-2]
    return loss, host[0], host[1:]


def evaluate(model, dataset, batch_size):
    """{"loss": ..., "accuracy": ...} over a labelled dataset, in inference mode."""
    if model.loss is None:
        raise RuntimeError("evaluate: call model.compile(optimizer, loss, metrics) first")
    check_batch_size(batch_size, "evaluate")
    check_model_input(dataset.images.shape)
    if dataset.labels is None:
        raise ValueError("evaluate: the data has no labels")
    if len(dataset) == 0:
        raise ValueError("evaluate: the data holds no images")
    metrics = model.compiled_metrics
    total_loss, correct, seen = 0.0, [0.0] * len(metrics), 0
    with model.in_mode(training=False), no_grad():
        # on several ranks each evaluates its share of every batch; the sums are added up below
        for xb, yb in batches(dataset, batch_size, model.device,
                              part=(distributed.rank(), distributed.world_size())):
            if not len(xb):
                continue
            out = model(xb)
            _, value, hits = _read(model.loss, model.loss.with_range(yb, out),
                                   [m.count_correct(yb, out) for m in metrics])
            total_loss += value * len(xb)
            correct = [c + h for c, h in zip(correct, hits)]
            seen += len(xb)
    if distributed.is_initialized():
        total_loss, *correct, seen = distributed.reduce_sums([total_loss, *correct, seen])
    # seen > 0: empty data is refused above
    return {"loss": total_loss / seen, **{m.name: c / seen for m, c in zip(metrics, correct)}}
