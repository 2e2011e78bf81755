"""Layers that join branches of a functional model: Add, Multiply, Concatenate (Keras' merge layers)."""

from .. import functional as F
from ..tensor import Tensor
from .base import Layer
from .symbolic import call_symbolically, is_symbolic


class _Merge(Layer):
    """Called on a list of two or more tensors (or symbolic tensors) of the same shape."""

    def __call__(self, tensors):
        if is_symbolic(tensors):
            return call_symbolically(self, tensors)
        if not (isinstance(tensors, (list, tuple)) and len(tensors) >= 2
                and all(isinstance(t, Tensor) for t in tensors)):
            raise TypeError(f"{type(self).__name__} takes a list of two or more mc.Tensors, got {tensors!r}")
        self.check([t.shape for t in tensors])
        self.built = True
        return self.forward(list(tensors))

    def check(self, shapes):
        if any(shape != shapes[0] for shape in shapes):
            raise ValueError(f"{type(self).__name__}: the inputs must have the same shape, got {shapes}")


class Add(_Merge):
    """The sum of the inputs: a residual connection is Add()([x, block(x)])."""

    def forward(self, tensors):
        out = tensors[0]
        for t in tensors[1:]:
            out = out + t
        return out


class Multiply(_Merge):
    """The elementwise product of the inputs (a gate, an attention map)."""

    def forward(self, tensors):
        out = tensors[0]
        for t in tensors[1:]:
            out = out * t
        return out


class Concatenate(_Merge):
    """The inputs side by side along `axis` (1: the channels of (N, C, H, W) maps)."""

    def __init__(self, axis=1, name=None):
        super().__init__(name)
        self.axis = axis

    def check(self, shapes):
        ndim = len(shapes[0])
        axis = self.axis % ndim if -ndim <= self.axis < ndim else None
        if axis is None or axis == 0 or any(len(s) != ndim or s[:axis] + s[axis + 1:] != shapes[0][:axis] +
                                            shapes[0][axis + 1:] for s in shapes):
            raise ValueError(f"Concatenate(axis={self.axis}): the inputs must match except along that axis "
                             f"(not the batch axis), got {shapes}")

    def forward(self, tensors):
        return F.concatenate(tensors, axis=self.axis)

    def get_config(self):
        return {"axis": self.axis}


# Keras' functional forms: layers.add([x, y]) is Add()([x, y])
def add(inputs):
    return Add()(inputs)


def multiply(inputs):
    return Multiply()(inputs)


def concatenate(inputs, axis=1):
    """Along the channels (axis 1 of NCHW) by default: Keras' default axis=-1 is its channels-last axis."""
    return Concatenate(axis=axis)(inputs)
