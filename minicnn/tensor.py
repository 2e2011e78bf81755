"""mc.Tensor: an array on a device, plus what autograd needs to differentiate it.

This file holds the tensor and its basic math (arithmetic, reductions,
reshaping, indexing), each op as: compute the output with the backend's
array module, then `record` a closure that maps the output's gradient back to
the inputs. The CNN ops built on top live in `minicnn/ops/`.
"""

import collections
import numbers

import numpy as np

from . import autograd, random
from .backend import backend_of, device, get_backend

DEFAULT_DTYPE = np.dtype("float32")


class Tensor:
    # NumPy defers to our reflected operators: `ndarray + tensor` -> Tensor.__radd__.
    __array_ufunc__ = None

    def __init__(self, data, backend, requires_grad=False):
        self.data = data                # the raw array of `backend.xp`
        self.backend = backend
        self.grad = None                # a Tensor without graph, filled by backward()
        self.requires_grad = requires_grad
        self._parents = ()              # tensors this one was computed from
        self._backward = None           # grad of output -> grads of parents
        self._released = False          # True once backward() has freed this node
        self._read_by_graph = False     # True once a recorded op read it (its values may be needed in backward)
        self._version = 0               # bumped by each in-place change: backward() checks what it saved

    # --- what the tensor is ---
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def ndim(self):
        return len(self.data.shape)

    @property
    def size(self):
        """How many values (NumPy's t.size); called, PyTorch's: t.size() the shape, t.size(d) one length."""
        return _Size(self.shape)

    def numel(self):
        return self.size

    def dim(self):
        return self.ndim

    @property
    def dtype(self):
        return self.backend.numpy_dtype(self.data.dtype)

    @property
    def device(self):
        """Where the numbers live: "cpu" or "gpu", a minicnn.device (a str with PyTorch's .type)."""
        return device(self.backend.name)

    @property
    def xp(self):
        return self.backend.xp

    @property
    def is_leaf(self):
        return self._backward is None and not self._released

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        return f"tensor({body}, dtype={self.dtype}, device={self.backend.name!r}{grad})"

    # --- a tensor as a Python value (PyTorch's rules) ---
    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self):
        if self.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.size} values is ambiguous "
                               f"(shape {self.shape}): use .any() or .all(), or compare one element")
        return bool(self.item())

    def __contains__(self, value):
        """`value in t`: whether any element equals value (a number or a tensor broadcast against t)."""
        if not isinstance(value, (numbers.Number, Tensor)):
            raise TypeError(f"`in` on a tensor takes a number or a tensor, got {type(value).__name__}")
        return bool(self.xp.any((self == value).data))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu" or self.size != 1:
            raise TypeError(f"only an integer tensor of one element can be an index, got dtype {self.dtype} "
                            f"and shape {self.shape}")
        return int(self.item())

    def any(self):
        return Tensor(self.xp.any(self.data), self.backend)

    def all(self):
        return Tensor(self.xp.all(self.data), self.backend)

    # --- leaving the graph, the device, the library ---
    def numpy(self):
        """A host NumPy copy of the data."""
        return self.backend.to_host(self.data)

    def item(self):
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.numpy().reshape(()).item()

    def detach(self):
        """The same data, cut from the graph."""
        return Tensor(self.data, self.backend)

    def to(self, device=None, dtype=None):
        """This tensor on `device` ("cpu" or "gpu"; "cuda" too), or in `dtype` (PyTorch's x.to(torch.float64));
        gradients flow back across the copy."""
        if isinstance(device, (np.dtype, type)):
            device, dtype = None, device
        out = self if dtype is None else self.astype(dtype)
        return out if device is None else out._to_device(device)

    def _to_device(self, device):
        target = get_backend(device)
        if target is self.backend:
            return self
        source = self.backend
        out = Tensor(target.from_host(source.to_host(self.data)), target)
        return autograd.record(out, (self,), lambda g: (source.from_host(target.to_host(g)),))

    def backward(self, grad=None):
        """Accumulate d(self)/d(leaf) into every leaf's `.grad`."""
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad")
        if grad is None:
            if self.size != 1:
                raise RuntimeError(f"backward() without a grad needs a scalar output, got shape {self.shape}")
            grad = self.backend.full(self.data.shape, 1.0, self.dtype)
        else:
            grad = _coerce(self, grad)[1].data
            if tuple(grad.shape) != self.shape:
                raise ValueError(f"backward(grad): grad has shape {tuple(grad.shape)}, wanted {self.shape}")
        autograd.backward(self, grad)

    def _accumulate_grad(self, g):
        xp = self.xp
        if tuple(g.shape) != self.shape:  # e.g. a broadcast view from an op: materialise it
            g = xp.broadcast_to(g, self.shape)
        g = xp.astype(g, self.data.dtype, copy=True)
        self.grad = Tensor(g, self.backend) if self.grad is None else Tensor(self.grad.data + g, self.backend)

    def zero_grad(self):
        self.grad = None

    def requires_grad_(self, flag=True):
        """Mark a leaf as a parameter to differentiate (in place, as in PyTorch)."""
        if not self.is_leaf:
            raise RuntimeError("requires_grad_() works on leaf tensors only; use .detach() first")
        if flag and self.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require grad, got dtype {self.dtype}")
        self.requires_grad = flag
        return self

    def astype(self, dtype):
        """This tensor in another dtype; differentiable between float dtypes."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        xp, old = self.xp, self.backend.dtype(self.dtype)
        out = Tensor(xp.astype(self.data, self.backend.dtype(dtype)), self.backend)
        if dtype.kind != "f":
            return out
        return autograd.record(out, (self,), lambda g: (xp.astype(g, old),))

    def type(self, dtype=None):
        """t.type(minicnn.float32): astype; t.type(): the dtype's name."""
        return str(self.dtype) if dtype is None else self.astype(dtype)

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    def long(self):
        return self.astype(np.int64)

    def int(self):
        return self.astype(np.int32)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("gpu")

    def __format__(self, spec):
        """f"{loss:.4f}": a one-element tensor formats as its number, as in PyTorch."""
        if not spec:
            return str(self)
        if self.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)        # a TypeError, as PyTorch's for more than a number

    # --- arithmetic ---
    def __add__(self, other):
        return _add(*_operands(self, other))

    def __sub__(self, other):
        return _sub(*_operands(self, other))

    def __mul__(self, other):
        return _mul(*_operands(self, other))

    def __truediv__(self, other):
        return _div(*_operands(self, other))

    def __matmul__(self, other):
        a, b = _coerce(self, other)
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul needs at least 1-D operands, got shapes {a.shape} and {b.shape}")
        if a.ndim == 1 and b.ndim == 1:     # two vectors: their dot product, a 0-d tensor
            if a.shape != b.shape:
                raise ValueError(f"matmul of vectors of lengths {a.shape[0]} and {b.shape[0]}: they must match")
            return (a * b).sum()
        if a.ndim == 1:  # a vector is a one-row matrix, as in NumPy
            return (a.reshape(1, -1) @ b).reshape(*b.shape[:-2], b.shape[-1])
        if b.ndim == 1:
            return (a @ b.reshape(-1, 1)).reshape(*a.shape[:-1])
        xp, matmul = a.xp, a.backend.matmul
        out = matmul(a.data, b.data)
        swap = lambda m: xp.permute_dims(m, (*range(m.ndim - 2), m.ndim - 1, m.ndim - 2))
        return _binary(a, b, out, lambda g: matmul(g, swap(b.data)), lambda g: matmul(swap(a.data), g))

    def __pow__(self, exponent):
        if isinstance(exponent, numbers.Real) and not isinstance(exponent, Tensor):
            # a Python number keeps x's dtype (a NumPy float64 scalar would not); a float exponent makes
            # integers float32, and integers to a negative integer power are refused, as in PyTorch
            x, p = self, exponent.item() if isinstance(exponent, np.generic) else exponent
            if isinstance(p, float) or x.dtype.kind == "b":
                x = floating(x) if isinstance(p, float) else x.astype(np.int64)
            elif p < 0 and x.dtype.kind in "iu":
                raise ValueError(f"integers to a negative integer power are not allowed (exponent {p}); "
                                 f"use x.astype('float32') ** {p}")
            if p == 0:                      # d(x**0)/dx = 0 everywhere, also at x = 0
                return autograd.record(_new(x.xp.ones_like(x.data), x), (x,), lambda g: (x.xp.zeros_like(g),))
            return autograd.record(_new(x.data ** p, x), (x,), lambda g: (g * p * x.data ** (p - 1),))
        a, b = _coerce(self, exponent)
        xp = a.xp
        out = xp.pow(a.data, b.data)

        # PyTorch's conventions where the formulas read 0 * inf: no gradient for a zero exponent,
        # none for the exponent where the base is 0 (and the exponent >= 0)
        def grad_base(g):
            no_power = b.data == 0
            return xp.where(no_power, xp.zeros_like(g),
                            g * b.data * xp.pow(xp.where(no_power, xp.ones_like(a.data), a.data), b.data - 1))

        def grad_exponent(g):
            flat = (a.data == 0) & (b.data >= 0)
            return xp.where(flat, xp.zeros_like(g), g * out * xp.log(xp.where(flat, xp.ones_like(a.data), a.data)))
        return _binary(a, b, out, grad_base, grad_exponent)

    def __neg__(self):
        return autograd.record(_new(-self.data, self), (self,), lambda g: (-g,))

    def __radd__(self, other):
        a, b = _operands(self, other)
        return _add(b, a)

    def __rsub__(self, other):
        a, b = _operands(self, other)
        return _sub(b, a)

    def __rmul__(self, other):
        a, b = _operands(self, other)
        return _mul(b, a)

    def __rtruediv__(self, other):
        a, b = _operands(self, other)
        return _div(b, a)

    def __rmatmul__(self, other):
        return _coerce(self, other)[1] @ self

    def __rpow__(self, other):
        return _coerce(self, other)[1] ** self

    # --- in place: PyTorch's `with no_grad(): p -= lr * p.grad`, and x[i] = v ---
    def __iadd__(self, other):
        return self._in_place(other, "+", lambda a, b: a + b)

    def __isub__(self, other):
        return self._in_place(other, "-", lambda a, b: a - b)

    def __imul__(self, other):
        return self._in_place(other, "*", lambda a, b: a * b)

    def __itruediv__(self, other):
        return self._in_place(other, "/", lambda a, b: a / b)

    def _in_place(self, other, symbol, op):
        self._check_writable(f"x {symbol}= ...", f"x = x {symbol} ...", other)
        with autograd.no_grad():
            result = op(self, other)
        self._write(result.data, f"x {symbol}= ...", result.dtype, result.shape)
        return self

    def __setitem__(self, index, value):
        self._check_writable("x[...] = value", "mc.tensor(...) built from the values you want", value)
        value = _as_tensor(value, self)
        if value.backend is not self.backend:
            raise ValueError(f"x[...] = value: value is on {value.device}, x on {self.device}")
        if not np.can_cast(value.dtype, self.dtype, "same_kind"):
            raise TypeError(f"x[...] = value: a {value.dtype} value can't be written into a {self.dtype} tensor")
        try:
            index = _device_index(index, self)
            self.backend.index_in_range(index, self.shape)
            self.data[index] = self.xp.astype(value.data, self.data.dtype)
        except (IndexError, ValueError, TypeError) as error:
            raise IndexError(f"can't write into a tensor of shape {self.shape} at {_describe(index)}: "
                             f"{error}") from None
        self._version += 1

    def _check_writable(self, what, instead, other):
        if autograd.is_grad_enabled() and (self.requires_grad or getattr(other, "requires_grad", False)):
            raise RuntimeError(f"{what} on a tensor autograd is recording would change it behind its back. "
                               f"Update parameters inside `with mc.no_grad():` (as in PyTorch), or write {instead}")

    def _write(self, data, what, dtype, shape):
        if not np.can_cast(dtype, self.dtype, "same_kind"):
            raise TypeError(f"{what}: the result is {dtype}, which can't be written into a {self.dtype} tensor "
                            f"(PyTorch refuses this too)")
        if shape != self.shape:
            raise ValueError(f"{what}: the result has shape {shape}, the tensor {self.shape}")
        data = self.xp.astype(data, self.data.dtype)
        if hasattr(self.data, "__setitem__") and getattr(getattr(self.data, "flags", None), "writeable", True):
            self.data[...] = data           # into the same array: views of it (detach()) see the change
        else:
            self.data = data                # a NumPy scalar, or a read-only view: replaced
        self._version += 1

    # --- comparisons: boolean tensors, outside the graph ---
    def _compare(self, other, op):
        a, b = _operands(self, other)
        return Tensor(op(a.data, _data(b)), a.backend)

    def __eq__(self, other):
        return self._compare(other, lambda a, b: a == b)

    def __ne__(self, other):
        return self._compare(other, lambda a, b: a != b)

    def __lt__(self, other):
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._compare(other, lambda a, b: a >= b)

    __hash__ = object.__hash__  # tensors are graph nodes: hashed by identity

    # --- elementwise functions ---
    def exp(self):
        x = floating(self)
        out = x.xp.exp(x.data)
        return autograd.record(_new(out, x), (x,), lambda g: (g * out,))

    def log(self):
        x = floating(self)
        return autograd.record(_new(x.xp.log(x.data), x), (x,), lambda g: (g / x.data,))

    def clip(self, min=None, max=None):
        """Values limited to [min, max]; the gradient passes only where no limit applied."""
        xp, x = self.xp, self.data
        out = xp.clip(x, min, max)
        inside = out == x
        return autograd.record(_new(out, self), (self,),
                               lambda g: (g * xp.astype(inside, g.dtype),))

    # --- reductions ---
    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Sum over `axis` (NumPy's and Keras' name) or `dim` (PyTorch's); all axes by default."""
        axis, keepdims = _dim_alias(axis, keepdims, dim, keepdim)
        xp, shape = self.xp, self.shape
        axes = _axes(axis, self.ndim)
        # integers and booleans add up in int64, as in PyTorch (NumPy would give uint64 for uint8)
        wide = {} if self.dtype.kind == "f" or self.dtype == np.uint64 else {"dtype": self.backend.dtype("int64")}
        out = xp.sum(self.data, axis=axes, keepdims=keepdims, **wide)
        kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
        return autograd.record(_new(out, self), (self,),
                               lambda g: (xp.broadcast_to(xp.reshape(g, kept), shape),))

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _dim_alias(axis, keepdims, dim, keepdim)
        if self.dtype.kind != "f":
            raise TypeError(f"mean of a {self.dtype} tensor: the mean of integers is no integer; convert first, "
                            f"x.astype('float32').mean() (PyTorch refuses this too)")
        count = 1
        for i in _axes(axis, self.ndim):
            count *= self.shape[i]
        return self.sum(axis, keepdims) * (1.0 / count if count else float("nan"))    # no values: NaN

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """x.max(): the largest value. x.max(dim): PyTorch's (values, indices) along dim, the gradient
        going to the first maximum, the one `indices` names. x.max(axis=...): NumPy's, the largest
        values only (axes may be a tuple), tied maxima sharing the gradient equally."""
        if dim is not None:
            if axis is not None or keepdims is not None:
                raise TypeError("max: give dim= (PyTorch: values and indices) or axis= (NumPy: values), not both")
            return _max_along(self, dim, keepdim)
        return self._largest(axis, keepdim if keepdims is None else keepdims)

    def argmax(self, dim=None, keepdim=False):
        """Index of the first largest value along dim (of the flattened tensor without one), int64."""
        if dim is None:
            return Tensor(self.xp.astype(self.xp.argmax(self.xp.reshape(self.data, (-1,))), np.int64), self.backend)
        return _max_along(self, dim, keepdim).indices

    def _largest(self, axis, keepdims):
        xp, shape, x = self.xp, self.shape, self.data
        axes = _axes(axis, self.ndim)
        if any(shape[i] == 0 for i in axes):
            raise ValueError(f"max over an axis of length 0 (shape {shape}, axis {axis}): there is no largest value")
        out_kept = xp.max(x, axis=axes, keepdims=True)
        out = out_kept if keepdims else xp.reshape(out_kept, tuple(n for i, n in enumerate(shape) if i not in axes))

        def backward(g):
            winners = xp.astype(x == out_kept, g.dtype)
            share = winners / xp.sum(winners, axis=axes, keepdims=True)
            return (share * xp.reshape(g, out_kept.shape),)
        return autograd.record(_new(out, self), (self,), backward)

    # --- shape ---
    def reshape(self, *shape):
        shape = _shape_arg(shape)
        xp, old = self.xp, self.shape
        if not _fits(shape, self.size):
            raise ValueError(f"reshape: shape {shape} does not fit a tensor of shape {old} ({self.size} values; "
                             f"at most one -1)")
        return autograd.record(_new(xp.reshape(self.data, shape), self), (self,),
                               lambda g: (xp.reshape(g, old),))

    def view(self, *shape):
        """PyTorch's name for reshape (the values are shared where the layout allows, copied otherwise)."""
        return self.reshape(*shape)

    def flatten(self, start_dim=0, end_dim=-1):
        """Axes start_dim..end_dim as one (PyTorch's flatten: x.flatten(1) keeps the batch axis)."""
        if self.ndim == 0:
            return self.reshape(1)
        first, last = (_axes(d, self.ndim)[0] for d in (start_dim, end_dim))
        if first > last:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        return self.reshape(self.shape[:first] + (-1,) + self.shape[last + 1:])

    def unsqueeze(self, dim):
        """A new axis of length 1 at dim (negative: counted from the end of the result)."""
        if not isinstance(dim, numbers.Integral) or not -self.ndim - 1 <= dim <= self.ndim:
            raise IndexError(f"unsqueeze: dim {dim!r} is out of range for a {self.ndim}-d tensor "
                             f"(valid: {-self.ndim - 1} to {self.ndim})")
        dim = int(dim) % (self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim=None):
        """Without the axes of length 1 (or only dim, if it has length 1)."""
        axes = range(self.ndim) if dim is None else _axes(dim, self.ndim)
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1)))

    def transpose(self, *axes):
        """transpose(a, b) swaps two axes, as PyTorch's (also for a matrix: transpose(0, 1) is its
        transpose); transpose(all axes in a new order) permutes them, as NumPy's; transpose() reverses."""
        axes = _shape_arg(axes)
        if len(axes) == 2:
            a, b = _axes(axes[0], self.ndim)[0], _axes(axes[1], self.ndim)[0]
            order = list(range(self.ndim))
            order[a], order[b] = b, a
            return self.permute(order)
        return self.permute(axes or tuple(reversed(range(self.ndim))))

    def permute(self, *axes):
        """The axes in a new order (PyTorch's permute, NumPy's transpose): x.permute(0, 3, 1, 2)."""
        axes = _shape_arg(axes)
        if len(axes) != self.ndim or sorted(_axes(axes, self.ndim)) != list(range(self.ndim)):
            raise ValueError(f"permute: axes {axes} must name each of the tensor's {self.ndim} axes once")
        axes = _axes(axes, self.ndim)
        xp = self.xp
        inverse = tuple(int(i) for i in np.argsort(axes))
        return autograd.record(_new(xp.permute_dims(self.data, axes), self), (self,),
                               lambda g: (xp.permute_dims(g, inverse),))

    @property
    def T(self):
        return self.transpose()

    def __getitem__(self, index):
        index = _device_index(index, self)
        shape, dtype, backend = self.shape, self.dtype, self.backend
        unique = _is_basic(index, backend)

        def backward(g):
            grad = backend.zeros(shape, dtype)
            if unique:
                grad[index] = g            # each position picked at most once
            else:
                backend.index_add(grad, index, g)  # an index may repeat: add, don't overwrite
            return (grad,)
        try:
            backend.index_in_range(index, shape)
            picked = self.data[index]
        except (IndexError, ValueError, TypeError) as error:    # NumPy's words, under minicnn's
            raise IndexError(f"can't index a tensor of shape {shape} with {_describe(index)}: {error}") from None
        return autograd.record(_new(picked, self), (self,), backward)

    # --- copies (copy.deepcopy of a model, as PyTorch users write it) ---
    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("only tensors created directly (leaves, such as parameters) can be deep-copied, "
                               "as in PyTorch; .detach() first")
        copy = Tensor(self.xp.astype(self.data, self.data.dtype, copy=True), self.backend, self.requires_grad)
        copy.__dict__.update({k: v for k, v in vars(self).items() if k == "_frozen_parameter"})
        if self.grad is not None:
            copy.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = copy
        return copy

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t) of a CPU tensor, as PyTorch allows; from a device, .numpy() copies explicitly."""
        if self.device != "cpu":
            raise TypeError(f"np.asarray of a tensor on {self.device!r} would copy it to the host behind your back; "
                            f"use t.numpy()")
        array = self.numpy()
        return array if dtype is None else array.astype(dtype, copy=False)


# --- helpers for the ops above ---

def floating(x):
    """x itself if it holds floats, else x as float32 (integer images, labels)."""
    return x if x.dtype.kind == "f" else x.astype(DEFAULT_DTYPE)


def _new(data, like):
    return Tensor(data, like.backend)


def _as_tensor(value, like):
    """`value` as a tensor on `like`'s device; Python numbers take like's dtype."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (numbers.Number, np.generic)):
        value, dtype = _number(value, like)
        return Tensor(like.backend.full((), value, dtype), like.backend)
    return tensor(value)


def _number(value, like):
    """A Python or NumPy number in an op with the tensor `like`: the number as a Python number, and the
    dtype of the op's result (like's, as in PyTorch; integers with a fraction give float32)."""
    value = value.item() if isinstance(value, np.generic) else value
    dtype = like.dtype
    if isinstance(value, complex):
        raise TypeError(f"minicnn has no complex tensors, got the number {value!r}")
    if dtype.kind in "biu" and isinstance(value, float):
        dtype = DEFAULT_DTYPE   # int tensor * 0.5 is float32, never float64
    elif dtype.kind == "b" and not isinstance(value, bool):
        dtype = np.dtype(np.int64)  # bool mask * 2 counts in integers, as in PyTorch
    if dtype.kind in "iu" and not np.iinfo(dtype).min <= value <= np.iinfo(dtype).max:
        raise OverflowError(f"the number {value} does not fit the tensor's dtype {dtype}")
    return value, dtype


def _operands(a, b):
    """The operands of + - * / and the comparisons: as _coerce, except that a number stays a Python
    number of the result's kind, cast to it. The array module takes it as an argument of the kernel
    (Python numbers are "weak": the array's dtype wins, in NumPy 2, CuPy and the Array API); a 0-d array
    would cost a device allocation and a kernel per op on a GPU."""
    if isinstance(b, Tensor) or not isinstance(b, (numbers.Number, np.generic)):
        return _coerce(a, b)
    value, dtype = _number(b, a)
    kind = {"b": bool, "i": int, "u": int, "f": float}[dtype.kind]
    return (a if a.dtype == dtype else a.astype(dtype)), kind(value)


def _data(operand):
    return operand.data if isinstance(operand, Tensor) else operand


def _add(a, b):
    x, y = _data(a), _data(b)
    return _binary(a, b, x + y, lambda g: g, lambda g: g)


def _sub(a, b):
    x, y = _data(a), _data(b)
    return _binary(a, b, x - y, lambda g: g, lambda g: -g)


def _mul(a, b):
    x, y = _data(a), _data(b)
    return _binary(a, b, x * y, lambda g: g * y, lambda g: g * x)


def _div(a, b):
    if (a if isinstance(a, Tensor) else b).dtype.kind != "f":    # integers divide into float32, as in PyTorch
        a, b = (t.astype(DEFAULT_DTYPE) if isinstance(t, Tensor) else float(t) for t in (a, b))
    x, y = _data(a), _data(b)
    return _binary(a, b, x / y, lambda g: g / y, lambda g: -g * x / (y * y))


def _coerce(a, b):
    """Both operands as tensors of one device, integers cast to the other's float dtype."""
    b = _as_tensor(b, a)
    if a.backend is not b.backend:
        raise ValueError(f"tensors are on different devices: {a.device} and {b.device}; "
                         f"move one with .to({a.device!r}) or .to({b.device!r})")
    fa, fb = a.dtype.kind == "f", b.dtype.kind == "f"
    if fa and not fb:
        b = b.astype(a.dtype)
    elif fb and not fa:
        a = a.astype(b.dtype)
    elif a.dtype != b.dtype and _category(a) == _category(b) and (a.ndim == 0) != (b.ndim == 0):
        # PyTorch's rule: a 0-d operand of the same kind takes the other's dtype
        # (float32 image - float64 0-d mean stays float32; NumPy would give float64)
        a, b = (a.astype(b.dtype), b) if a.ndim == 0 else (a, b.astype(a.dtype))
    return a, b


def _category(t):
    return {"b": 0, "i": 1, "u": 1, "f": 2}[t.dtype.kind]


def _binary(a, b, out, grad_a, grad_b):
    """Record a broadcasting binary op of a and b (tensors, or one of them a Python number, which takes
    no gradient): grad_a(g) and grad_b(g) are computed only for an input that needs them, and reduced
    to its shape."""
    inputs = [(t, grad) for t, grad in ((a, grad_a), (b, grad_b)) if isinstance(t, Tensor)]
    xp = inputs[0][0].xp

    def backward(g):
        return tuple(unbroadcast(xp, grad(g), t.shape) if t.requires_grad else None for t, grad in inputs)
    return autograd.record(_new(out, inputs[0][0]), tuple(t for t, _ in inputs), backward)


def unbroadcast(xp, grad, shape):
    """Sum `grad` over the axes that broadcasting added or stretched, back to `shape`."""
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = xp.sum(grad, axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = xp.sum(grad, axis=stretched, keepdims=True)
    return grad


def _axes(axis, ndim):
    """`axis` (None, an int or ints, negative from the end) as sorted non-negative ints, checked as NumPy does."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    if not axes:        # NumPy would reduce nothing, PyTorch everything: neither guessed
        raise ValueError("axis=() names no axis: pass axis=None to reduce over all of them")
    for a in axes:
        if not isinstance(a, numbers.Integral) or isinstance(a, bool):
            raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions "
                             f"(valid: {-ndim} to {ndim - 1})")
    axes = tuple(int(a) % ndim for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"axis {axis!r} names the same axis twice")
    return axes


class _Size(int):
    """NumPy's size (the number of values) that PyTorch users may also call: size() -> the shape,
    size(d) -> its length along d."""

    def __new__(cls, shape):
        number = super().__new__(cls, int(np.prod(shape, dtype=np.int64)))
        number.shape = tuple(shape)
        return number

    def __call__(self, dim=None):
        if dim is None:
            return self.shape
        return self.shape[_axes(dim, len(self.shape))[0]]


def _dim_alias(axis, keepdims, dim, keepdim):
    """PyTorch's dim= and keepdim= as NumPy's axis= and keepdims=."""
    if dim is not None:
        if axis is not None:
            raise TypeError("give axis= or dim=, not both")
        axis = dim
    return axis, keepdims if keepdim is None else keepdim


MaxResult = collections.namedtuple("max", ["values", "indices"])


def _max_along(x, dim, keepdim):
    """PyTorch's max(dim): (values, indices) of the first maximum along one axis."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"max(dim) takes one axis, got {dim!r}; use x.max(axis={tuple(dim)!r}) for several")
    axis = _axes(dim, max(x.ndim, 1))[0] if x.ndim else 0
    if x.ndim and x.shape[axis] == 0:
        raise IndexError(f"max(): cannot reduce over a zero-size dimension (shape {x.shape}, dim {dim})")
    xp, data = x.xp, x.data if x.ndim else x.xp.reshape(x.data, (1,))
    kept = xp.expand_dims(xp.argmax(data, axis=axis), axis=axis)       # the winner, keepdim=True
    values, winner, shape = xp.take_along_axis(data, kept, axis=axis), kept, data.shape

    def backward(g):
        positions = xp.reshape(xp.arange(shape[axis]), tuple(-1 if i == axis else 1 for i in range(len(shape))))
        picked = xp.astype(positions == kept, g.dtype)
        return (xp.reshape(picked * xp.reshape(g, kept.shape), x.shape),)
    if not keepdim or not x.ndim:
        values, winner = (xp.squeeze(a, axis=axis) for a in (values, winner))
    out = autograd.record(_new(values, x), (x,), backward)
    return MaxResult(out, Tensor(xp.astype(winner, np.int64), x.backend))


def _fits(shape, size):
    """Whether `shape` (ints >= 0, at most one -1) can hold `size` values."""
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= -1 for n in shape):
        return False
    known = int(np.prod([n for n in shape if n != -1], dtype=np.int64))
    unknown = sum(n == -1 for n in shape)
    return known == size if unknown == 0 else unknown == 1 and known > 0 and size % known == 0


def check_shape(shape, who):
    """A sample's shape ((C, H, W) or (features,)) as a tuple of positive ints, or an error naming `who`."""
    if not (isinstance(shape, (tuple, list)) and shape
            and all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n > 0 for n in shape)):
        raise ValueError(f"{who} must be a tuple of positive ints without the batch axis, such as (3, 64, 64) "
                         f"or (10,), got {shape!r}")
    return tuple(int(n) for n in shape)


def _shape_arg(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def _describe(index):
    parts = index if isinstance(index, tuple) else (index,)
    return ", ".join(f"an array of dtype {p.dtype} and shape {tuple(p.shape)}" if hasattr(p, "dtype") and
                     hasattr(p, "shape") else repr(p) for p in parts)


def _device_index(index, like):
    """Index components as arrays of `like`'s device (tensors and lists unwrapped)."""
    parts = index if isinstance(index, tuple) else (index,)
    converted = []
    for part in parts:
        if isinstance(part, Tensor):
            if part.backend is not like.backend:
                raise ValueError(f"index tensor is on {part.device}, indexed tensor on {like.device}")
            part = part.data
        elif isinstance(part, (list, np.ndarray)):
            empty = isinstance(part, list) and not part
            part = tensor(np.zeros(0, np.int64) if empty else part, device=like.device).data   # [] picks nothing
        converted.append(part)
    return tuple(converted) if isinstance(index, tuple) else converted[0]


def _is_basic(index, backend):
    """True when no position can be picked twice (no integer-array parts)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (numbers.Integral, slice))
               or getattr(p, "dtype", None) == backend.xp.bool for p in parts)


# --- constructors ---

def tensor(data, requires_grad=False, dtype=None, device=None):
    """A new tensor holding a copy of `data` (nested lists, NumPy or device arrays, tensors).

    float32 is the default: floating-point data becomes float32 unless
    `dtype` says otherwise; integers and booleans keep their kind.
    """
    if isinstance(data, Tensor):
        source, array = data.backend, data.data
    else:
        source = backend_of(data) if not isinstance(data, (list, tuple, numbers.Number)) else None
        if source is None:
            source, array = get_backend("cpu"), _host_array(data)
        else:
            array = data
    target = get_backend(device) if device is not None else source
    host_dtype = source.numpy_dtype(array.dtype)
    if dtype is None:
        dtype = DEFAULT_DTYPE if host_dtype.kind == "f" else host_dtype
    dtype = np.dtype(dtype)
    if requires_grad and dtype.kind != "f":
        raise TypeError(f"only floating-point tensors can require grad, got dtype {dtype}")
    if target is source:
        array = source.xp.astype(array, source.dtype(dtype), copy=True)
    else:
        array = target.from_host(source.to_host(array).astype(dtype, copy=False))
    return Tensor(array, target, requires_grad=requires_grad)


def _host_array(data):
    """Nested lists or numbers as a NumPy array, or an error in minicnn's words."""
    if isinstance(data, numbers.Integral) and not isinstance(data, bool) and not -2 ** 63 <= data < 2 ** 63:
        raise OverflowError(f"the integer {data} does not fit int64")
    try:
        array = np.asarray(data)
    except (ValueError, OverflowError) as error:
        raise ValueError(f"tensor: data must be a number, a rectangular nested list of numbers or an array "
                         f"({error})") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"tensor: data must hold numbers or booleans, got dtype {array.dtype}")
    if array.dtype == np.uint64 and not isinstance(data, np.ndarray):
        raise OverflowError("tensor: an integer in the data does not fit int64")
    return array


def _filled(fill, shape, requires_grad, dtype, device):
    backend = get_backend(device or "cpu")
    dtype = np.dtype(dtype or DEFAULT_DTYPE)
    shape = _shape_arg(shape)
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise ValueError(f"a shape must be ints >= 0, got {shape}")
    if requires_grad and dtype.kind != "f":
        raise TypeError(f"only floating-point tensors can require grad, got dtype {dtype}")
    data = fill(backend, _shape_arg(shape), dtype)
    return Tensor(data, backend, requires_grad=requires_grad)


def zeros(*shape, requires_grad=False, dtype=None, device=None):
    return _filled(lambda b, s, d: b.zeros(s, d), shape, requires_grad, dtype, device)


def ones(*shape, requires_grad=False, dtype=None, device=None):
    return _filled(lambda b, s, d: b.full(s, 1, d), shape, requires_grad, dtype, device)


def randn(*shape, requires_grad=False, dtype=None, device=None):
    """Standard normal numbers from minicnn's seeded generator (see mc.manual_seed)."""
    def draw(backend, shape, dtype):
        if dtype.kind != "f":
            raise TypeError(f"randn draws floating-point numbers; dtype {dtype} can't hold them")
        return backend.from_host(random.normal(shape).astype(dtype, copy=False))
    return _filled(draw, shape, requires_grad, dtype, device)

