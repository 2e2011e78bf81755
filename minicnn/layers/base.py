"""Layer: the building block of a model, holding its own parameters.

A layer is built on its first call, when the input's shape is known (so a
Conv2D learns its input channels, a Dense its input features), then maps a
batch to a batch. `training` switches layers such as Dropout and
BatchNormalization between their training and inference behaviour.

A layer may hold layers: those in its attributes (directly, or in a list,
tuple or dict there) are its children, as in PyTorch's Module and Keras'
Layer, so their weights are trained, saved and moved with it (a residual
block of two Dense layers, say).
"""

import collections
import contextlib
import numbers
import re

import numpy as np

from ..backend import get_backend
from ..tensor import Tensor
from .symbolic import call_symbolically, is_symbolic


def check_positive(layer, **values):
    """Each value an int >= 1, or a tuple/list of them (a kernel size, strides): else an error naming it."""
    for name, value in values.items():
        parts = value if isinstance(value, (tuple, list)) and value else (value,)
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in parts):
            raise ValueError(f"{layer}: {name} must be a positive int{' or a pair of them' if name != 'units' else ''}"
                             f", got {name}={value!r}")


_names_taken = collections.Counter()     # Keras' rule: dense, dense_1, dense_2, ... in a session


def _unique_name(cls):
    # Keras' snake case: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d, ReLU -> re_lu
    base = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", cls.__name__)
    base = re.sub(r"([a-z])([A-Z])", r"\1_\2", base).lower()
    count = _names_taken[base]
    _names_taken[base] += 1
    return base if count == 0 else f"{base}_{count}"


LoadResult = collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def set_weights_by_name(layer, arrays, source, strict=True):
    """Each weight of `layer` from arrays[its dotted name]: every name and shape checked before any changes."""
    named = dict(layer.named_weights())
    missing, extra = sorted(set(named) - set(arrays)), sorted(set(arrays) - set(named))
    if strict and (missing or extra):
        raise ValueError(f"{source}: the weights do not match the model's: "
                         + "; ".join(part for part in (f"missing {missing}" if missing else "",
                                                       f"not in the model {extra}" if extra else "") if part))
    host = {name: value.numpy() if isinstance(value, Tensor) else np.asarray(value)
            for name, value in arrays.items() if name in named}
    for name, value in host.items():
        if value.shape != named[name].shape:
            raise ValueError(f"{source}: weight {name} has shape {value.shape}, the model wants {named[name].shape}")
    for name, value in host.items():
        tensor = named[name]
        tensor.data = tensor.backend.from_host(value.astype(tensor.dtype))
    return LoadResult(missing, extra)


def _layers_in(name, value):
    """(dotted name, layer) of the layers in an attribute's value: a layer, or lists, tuples and dicts of them."""
    if isinstance(value, Layer):
        yield name, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _layers_in(f"{name}.{i}", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _layers_in(f"{name}.{key}", item)


class Layer:
    built = False               # set on a layer's first call, once its weights exist
    _trainable = True

    def __init__(self, name=None):
        if name is not None and not (isinstance(name, str) and name):
            raise ValueError(f"{type(self).__name__}: name must be a non-empty string, got {name!r}")
        self.name = name or _unique_name(type(self))
        self._trainable = True
        self.training = True
        self.device = "cpu"
        self.params = {}        # name -> Tensor updated by the optimizer (kernel, bias, ...)
        self.buffers = {}       # name -> Tensor saved with the model but not trained (moving_mean, ...)

    def __getattr__(self, name):
        """A parameter or buffer by name, as Keras users write it: layer.kernel, layer.bias, layer.gamma."""
        weights = {**self.__dict__.get("params", {}), **self.__dict__.get("buffers", {})}
        if name in weights:
            return weights[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def get_weights(self):
        """Host copies of this layer's parameters and buffers (its sublayers' too), in order."""
        return [tensor.numpy() for _, tensor in self.named_weights()]

    def set_weights(self, weights):
        """Overwrite them, in get_weights' order; the count and every shape must match."""
        named = list(self.named_weights())
        if len(weights) != len(named):
            raise ValueError(f"{type(self).__name__}.set_weights: got {len(weights)} arrays, the layer has "
                             f"{len(named)}: {[name for name, _ in named]}")
        for (name, tensor), value in zip(named, weights):
            value = np.asarray(value)
            if value.shape != tensor.shape:
                raise ValueError(f"{type(self).__name__}.set_weights: {name} has shape {tensor.shape}, "
                                 f"got {value.shape}")
        for (_, tensor), value in zip(named, weights):
            # a copy: training must never write into the caller's array
            tensor.data = tensor.backend.from_host(np.array(value, dtype=tensor.dtype, copy=True))

    def state_dict(self):
        """{name: host NumPy copy} of every parameter and buffer ("conv.kernel", "0.bias"; PyTorch's
        state_dict, whose tensors are the module's own: these are copies)."""
        return {name: tensor.numpy() for name, tensor in self.named_weights()}

    def load_state_dict(self, state, strict=True):
        """Set the weights from {name: array or tensor}. strict (PyTorch's default): a missing or extra name
        is an error; strict=False loads the names both have. Another shape is always an error. Returns
        (missing_keys, unexpected_keys), as PyTorch."""
        return set_weights_by_name(self, state, "load_state_dict", strict)

    # --- freezing (Keras' trainable) ---
    @property
    def trainable(self):
        """False freezes the layer and its sublayers, as in Keras: fit leaves their weights alone,
        backward() computes no gradient for them (requires_grad False, PyTorch's way to freeze), and a
        frozen BatchNormalization normalises with its moving statistics."""
        return self._trainable

    @trainable.setter
    def trainable(self, flag):
        if not isinstance(flag, bool):
            raise TypeError(f"{type(self).__name__}.trainable must be True or False, got {flag!r}")
        self._trainable = flag
        for _, tensor in self._own_parameters():
            tensor.requires_grad, tensor._frozen_parameter = flag, not flag
        for _, layer in self.children():
            layer.trainable = flag

    @property
    def weights(self):
        """Every parameter and buffer once, layer by layer (Keras' layer.weights)."""
        return list({id(t): t for _, t in self.named_weights()}.values())

    @property
    def output(self):
        """The symbolic output of this layer's last call on symbolic tensors (Keras' layer.output), for
        feature extractors: mc.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])."""
        if "_output" not in self.__dict__:
            raise AttributeError(f"The layer {self.name!r} has never been called on a symbolic input, so it has no "
                                 f"defined output: build the model from mc.Input(shape) first")
        return self.__dict__["_output"]

    @property
    def trainable_weights(self):
        return [p for p in self.parameters() if p.requires_grad]

    @property
    def non_trainable_weights(self):
        trained = {id(p) for p in self.trainable_weights}
        return [t for _, t in self.named_weights() if id(t) not in trained]

    # --- what a subclass writes ---
    def build(self, input_shape):
        """Create parameters for inputs of `input_shape` (batch axis included)."""

    def forward(self, x):
        raise NotImplementedError

    def get_config(self):
        """The constructor's arguments, enough to rebuild the layer (saved as JSON)."""
        return {}

    # --- shared machinery ---
    def __call__(self, x):
        if not isinstance(x, Tensor):
            if is_symbolic(x):          # building a functional model: mc.Input(...) and what follows
                return call_symbolically(self, x)
            raise TypeError(f"{type(self).__name__} expects a mc.Tensor, got {type(x).__name__}")
        if not self.built:
            self.build(x.shape)
            self.built = True
        return self.forward(x)

    def add_param(self, name, array):
        """Register a trainable parameter made from a host array."""
        self.params[name] = Tensor(get_backend(self.device).from_host(array), get_backend(self.device),
                                   requires_grad=self._trainable)
        self.params[name]._frozen_parameter = not self._trainable
        return self.params[name]

    def add_buffer(self, name, array):
        self.buffers[name] = Tensor(get_backend(self.device).from_host(array), get_backend(self.device))
        return self.buffers[name]

    def children(self):
        """(name, layer) of each layer in this one's attributes, in the order they were first set:
        "dense1", or "blocks.0" for a list or tuple, "heads.cats" for a dict, at any depth
        ("stages.0.1" for a list of lists)."""
        for name, value in vars(self).items():
            yield from _layers_in(name, value)

    def _own_parameters(self):
        """add_param's parameters, then tensors that require grad assigned straight to attributes
        (PyTorch's habit: self.scale = mc.ones(1, requires_grad=True)), frozen ones included."""
        yield from self.params.items()
        yield from ((name, value) for name, value in vars(self).items()
                    if isinstance(value, Tensor) and value.is_leaf
                    and (value.requires_grad or getattr(value, "_frozen_parameter", False)))

    def named_weights(self):
        """(dotted name, tensor) of every parameter and buffer, this layer's first, then its sublayers'."""
        yield from self._own_parameters()
        yield from self.buffers.items()
        for prefix, layer in self.children():
            yield from ((f"{prefix}.{name}", tensor) for name, tensor in layer.named_weights())

    def named_parameters(self):
        """(dotted name, tensor) of every trained parameter, at any depth: "kernel", "dense1.bias"."""
        yield from self._own_parameters()
        for prefix, layer in self.children():
            yield from ((f"{prefix}.{name}", tensor) for name, tensor in layer.named_parameters())

    def parameters(self):
        """Every trained parameter once (a layer held twice shares its weights, updated once a step)."""
        unique = {id(tensor): tensor for _, tensor in self.named_parameters()}
        return list(unique.values())

    def zero_grad(self, set_to_none=True):
        """Forget every parameter's gradient (PyTorch's module.zero_grad(); backward() adds to .grad)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor(p.xp.zeros_like(p.grad.data), p.backend)

    def count_params(self):
        """The number of numbers in the layer's weights, as Keras' count_params(): trained ones (kernels,
        biases) and the others (BatchNormalization's moving statistics), each counted once."""
        unique = {id(t): t for _, t in self.named_weights()}
        return sum(t.size for t in unique.values())

    def train(self, mode=True):
        self.training = mode
        for _, layer in self.children():
            layer.train(mode)
        return self

    def eval(self):
        return self.train(False)

    @contextlib.contextmanager
    def in_mode(self, training):
        """`with model.in_mode(training=False):` runs the block in inference mode (True: training mode),
        then gives this layer and every layer inside it back the mode each had."""
        if not isinstance(training, bool):
            raise TypeError(f"{type(self).__name__}.in_mode: training must be True or False, got {training!r}")
        before = [(layer, layer.training) for layer in self._self_and_sublayers()]
        self.train(training)
        try:
            yield self
        finally:
            for layer, flag in before:      # outer layers first: each train() is then corrected inside
                layer.train(flag)

    def _self_and_sublayers(self):
        yield self
        for _, layer in self.children():
            yield from layer._self_and_sublayers()

    def to(self, device):
        """Move parameters and buffers to `device` in place (they stay the same leaf tensors)."""
        target = get_backend(device)
        for tensor in [t for _, t in self._own_parameters()] + list(self.buffers.values()):
            tensor.data = target.from_host(tensor.backend.to_host(tensor.data))
            tensor.backend = target
            tensor.grad = None
        self.device = target.name
        for _, layer in self.children():
            layer.to(device)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args}{', ' if args else ''}name={self.name!r})"
