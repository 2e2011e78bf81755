"""mc.Sequential: layers applied one after the other, with Keras' compile / fit / evaluate / predict."""

import numpy as np

from ..autograd import no_grad
from ..backend import get_backend
from ..data import as_dataset, batches
from ..io import saving
from ..layers.base import Layer
from ..layers.conv import check_channels_first, check_model_input
from ..losses import get_loss
from ..optimizers import get_optimizer
from ..tensor import Tensor, zeros
from . import training


class Sequential:
    def __init__(self, layers=None, input_shape=None):
        self.layers = []
        for layer in layers or []:
            self.add(layer)
        self.input_shape = None if input_shape is None else tuple(input_shape)
        self.device = "cpu"
        self.optimizer = self.loss = None
        self.metrics = []
        self.stop_training = False
        self.history = None
        self.output_shapes = None
        if self.input_shape is not None:
            self.build(self.input_shape)

    # --- structure ---
    def add(self, layer):
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential: a layer must be a mc.layers.Layer, got {type(layer).__name__}")
        if any(other.name == layer.name and other is not layer for other in self.layers):
            raise ValueError(f"Sequential: two layers named {layer.name!r}; names in a model must be unique")
        self.layers.append(layer)

    def get_layer(self, name=None, index=None):
        """A layer by its name (Keras' model.get_layer("conv2d_1")) or by its index."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; the model's layers are {[layer.name for layer in self.layers]}")

    def __repr__(self):
        inside = "".join(f"\n  {layer!r}," for layer in self.layers)
        shape = "" if self.input_shape is None else f", input_shape={self.input_shape}"
        return f"Sequential([{inside}\n]{shape})"

    @property
    def built(self):
        return bool(self.layers) and all(layer.built for layer in self.layers)

    def build(self, input_shape):
        """Create every layer's weights for inputs of shape (C, H, W) (no batch axis)."""
        self.input_shape = tuple(input_shape)
        was_training = self.layers[0].training if self.layers else True
        self.eval()
        with no_grad():
            self(zeros(1, *self.input_shape, device=self.device))
        self.train(was_training)

    def __call__(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"Sequential expects a mc.Tensor, got {type(x).__name__}; wrap data with mc.tensor(...)")
        check_model_input(x.shape)
        if self.input_shape is None:
            self.input_shape = x.shape[1:]
        elif x.shape[1:] != self.input_shape:
            if x.ndim == 4:
                check_channels_first("Sequential", x.shape)
            raise ValueError(f"the model was built for inputs of shape (N, {', '.join(map(str, self.input_shape))}), "
                             f"got shape {x.shape}")
        shapes = []
        for layer in self.layers:
            x = layer(x)
            shapes.append(x.shape[1:])
        self.output_shapes = shapes
        return x

    def parameters(self):
        """Every trained parameter once, in layer order (a layer used twice shares its weights)."""
        unique = {id(p): p for layer in self.layers for p in layer.parameters()}
        return list(unique.values())

    def named_parameters(self):
        """(name, tensor) of every trained parameter: "0.kernel", "2.inner.bias" (PyTorch's names)."""
        for i, layer in enumerate(self.layers):
            yield from ((f"{i}.{name}", tensor) for name, tensor in layer.named_parameters())

    def named_weights(self):
        """(name, tensor) of every parameter and buffer: the keys of state_dict and of saved files."""
        for i, layer in enumerate(self.layers):
            yield from ((f"{i}.{name}", tensor) for name, tensor in layer.named_weights())

    def state_dict(self):
        """{name: host NumPy copy} of every parameter and buffer (PyTorch's state_dict)."""
        return saving.weight_arrays(self)

    def load_state_dict(self, state):
        """Set every weight from {name: array}; a missing or extra name, or another shape, is an error."""
        saving.set_weight_arrays(self, state, "load_state_dict")

    def train(self, mode=True):
        for layer in self.layers:
            layer.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def to(self, device):
        """Move every weight to `device` ("cpu" or "gpu"); layers not yet built are built there."""
        self.device = get_backend(device).name
        for layer in self.layers:
            layer.to(device)
        return self

    def get_weights(self):
        """Host copies of all parameters and buffers, in layer order."""
        return list(saving.weight_arrays(self).values())

    def set_weights(self, weights):
        saving.set_weight_arrays(self, dict(zip(saving.weight_arrays(self), weights)), "set_weights")

    def summary(self, print_fn=print):
        """Print each layer's output shape and parameter count, and the total (returns None, as Keras)."""
        if not self.built:
            raise ValueError("summary: the model is not built; pass input_shape=(C, H, W) to Sequential "
                             "or call model.build(input_shape)")
        if self.output_shapes is None:
            self.build(self.input_shape)
        rows = [("Layer (type)", "Output Shape", "Param #")]
        total = 0
        for layer, shape in zip(self.layers, self.output_shapes):
            count = sum(p.size for p in layer.parameters())
            total += count
            rows.append((f"{layer.name} ({type(layer).__name__})", str((None,) + tuple(shape)), f"{count:,}"))
        widths = [max(len(r[i]) for r in rows) + 2 for i in range(3)]
        line = "-" * sum(widths)
        print_fn(line)
        for i, row in enumerate(rows):
            print_fn(row[0].ljust(widths[0]) + row[1].ljust(widths[1]) + row[2].rjust(widths[2]))
            if i == 0:
                print_fn("=" * sum(widths))
        print_fn(line)
        print_fn(f"Total params: {total:,}")

    def count_params(self):
        """The number of trained numbers (weights and biases), as Keras' model.count_params()."""
        return sum(p.size for p in self.parameters())

    # --- training (models/training.py holds the loop) ---
    def compile(self, optimizer="adam", loss=None, metrics=None):
        """Choose the optimizer (bound to this model's parameters if it has none), the loss and metrics."""
        self.loss = get_loss(loss)
        training.check_loss_matches_last_activation(self, self.loss)
        self.optimizer = get_optimizer(optimizer)
        if self.optimizer.params is None:
            if not self.built:
                raise ValueError("compile: the model has no weights yet to optimise; pass input_shape=(C, H, W) "
                                 "to Sequential, or give the optimizer model.parameters() after building")
            self.optimizer.bind(self.parameters())
        metrics = [metrics] if isinstance(metrics, str) else list(metrics or [])
        unknown = [m for m in metrics if m not in ("accuracy", "acc")]
        if unknown:
            raise ValueError(f"metrics: only 'accuracy' is available, got {unknown}")
        self.metrics = ["accuracy"] if metrics else []
        return self

    def fit(self, x, y=None, epochs=1, batch_size=32, validation_data=None, validation_split=0.0, shuffle=True,
            callbacks=None, verbose=1, class_weight=None):
        """Train for `epochs` passes over the data; returns a History (also kept as model.history).

        class_weight {class: weight}: each training image's loss is multiplied by its class's
        weight (1 for classes not named), as in Keras; validation is not weighted.
        """
        return training.fit(self, x, y, epochs, batch_size, validation_data, validation_split, shuffle,
                            callbacks, verbose, class_weight)

    def evaluate(self, x, y=None, batch_size=32, verbose=0, return_dict=False):
        """Loss (and accuracy, if compiled with it) over the data, in inference mode."""
        logs = training.evaluate(self, as_dataset(x, y), batch_size)
        if verbose:
            print(" - ".join(f"{k} {v:.4f}" for k, v in logs.items()))
        if return_dict:
            return logs
        return logs["loss"] if len(logs) == 1 else list(logs.values())

    def predict(self, x, batch_size=32, verbose=0):
        """The model's outputs for every input, as a host NumPy array."""
        training.check_batch_size(batch_size, "predict")
        dataset = as_dataset(x)
        was_training = self.layers[0].training if self.layers else True
        self.eval()
        outputs = []
        with no_grad():
            for xb, _ in batches(dataset, batch_size, self.device):
                outputs.append(self(xb).numpy())
        self.train(was_training)
        return np.concatenate(outputs) if outputs else np.zeros((0,))

    # --- files ---
    def save(self, path):
        saving.save_model(self, path)

    def save_weights(self, path):
        saving.save_weights(self, path)

    def load_weights(self, path):
        saving.load_weights(self, path)
