"""An ONNX file of a CNN (as PyTorch's and Keras' exporters write them) as an mc.Model.

    model = mc.onnx.load("net.onnx")        # a functional mc.Model: trainable, summary(), mc.viz

Each node becomes a minicnn layer called on the symbolic tensors of its inputs (the functional API),
its weights taken from the file's initializers; every Conv kernel crosses flipped, from ONNX's
cross-correlation to minicnn's convolution. What is computed from shapes alone (the Shape, Gather,
Concat chains exporters write before a Reshape that flattens) is computed here, once. An operator
with no minicnn form, or attributes minicnn lacks (dilations, ceil_mode, groups other than 1 or the
channels), is refused, naming the operator and the node.

Keras' exporter works channels-last: its input is (N, H, W, C), and it transposes to (N, C, H, W)
around each Conv and pooling, adds biases and batch normalisation as Add, Sub and Mul with (1, 1, 1, C)
constants, pools globally with ReduceMean. Here such a file becomes the same network channels-first:
the model takes minicnn's (N, C, H, W) images, the transposes vanish, a per-channel Add after a Conv
becomes its bias, a Sub/Mul/Add chain one BatchNormalization, and a Dense after a channels-last
Flatten gets its rows reordered from (H, W, C) to minicnn's (C, H, W).
"""

import os
import re

import numpy as np

from ..layers import (Add, AveragePooling2D, BatchNormalization, Concatenate, Conv1D, Conv2D, Dense,
                      DepthwiseConv2D, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D, LeakyReLU, MaxPooling2D,
                      Multiply, ReLU, Rescaling, Sigmoid, Softmax, Tanh)
from ..layers.symbolic import Input, Symbolic
from ..models import Model
from ..ops.conv import cross_correlation_kernel
from ..ops.im2col import padding_amounts

BATCH = -(2 ** 62)      # the batch size in a shape computed here: unknown until the model runs


class _Pooled:
    """A global pooling's output: minicnn's (N, C), which ONNX sees as (N, C, 1, 1) until it is flattened."""

    def __init__(self, symbolic):
        self.symbolic = symbolic


class _ChannelsLast:
    """minicnn's (N, C, H, W) tensor, which the file sees as (N, H, W, C) (Keras' layout)."""

    def __init__(self, symbolic):
        self.symbolic = symbolic


class _FlatHWC:
    """A channels-last tensor flattened: its values in (H, W, C) order, minicnn's Flatten in (C, H, W)."""

    def __init__(self, symbolic, chw):
        self.symbolic, self.chw = symbolic, chw


class _PerChannel:
    """x * scale + shift per channel, not yet a layer: the constants Keras' exporter adds, subtracts and
    multiplies one after another, gathered into one layer when something else reads them."""

    def __init__(self, x, scale, shift, name, reads):
        self.x, self.scale, self.shift, self.name, self.reads = x, scale, shift, name, reads


def load(path):
    """The ONNX model at `path` as an mc.Model (one input (N, C, H, W) or (N, features), float32)."""
    import onnx
    from onnx import numpy_helper
    proto = onnx.load(os.fspath(path))
    graph = proto.graph
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 13)
    values = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in values]     # older files list initializers as inputs too
    if len(inputs) != 1:
        raise ValueError(f"mc.onnx.load: {path} has {len(inputs)} inputs; minicnn's models take one")
    dims = [d.dim_value if d.HasField("dim_value") else None for d in inputs[0].type.tensor_type.shape.dim]
    if len(dims) < 2 or any(d is None for d in dims[1:]):
        raise ValueError(f"mc.onnx.load: input {inputs[0].name!r} has shape {dims}; minicnn needs every axis but "
                         f"the batch fixed")
    uses, readers = {}, {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
            readers.setdefault(name, node)
    if len(dims) == 4 and _first_real_reader(readers, inputs[0].name) == ("Transpose", [0, 3, 1, 2]):
        source = Input(shape=(dims[3], dims[1], dims[2]))          # Keras' (H, W, C) input, channels-first
        values[inputs[0].name] = _ChannelsLast(source)
    else:
        source = Input(shape=tuple(dims[1:]))
        values[inputs[0].name] = source
    names = set()
    for node in graph.node:
        convert = CONVERTERS.get(node.op_type)
        where = f"node {node.name or node.output[0]!r}"
        if convert is None:
            raise ValueError(f"mc.onnx.load: operator {node.op_type} ({where}) has no minicnn form; minicnn reads "
                             f"{', '.join(sorted(CONVERTERS))}")
        attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        args = [values[name] if name else None for name in node.input]
        context = _Context(node, where, _layer_name(node, names), opset, uses, values, names)
        try:
            result = _convert(convert, context, args, attributes)
        except ValueError as error:         # minicnn's own refusals (a layer's arguments), named by the node
            if str(error).startswith(f"mc.onnx.load: {node.op_type} ("):
                raise
            raise context.refuse(str(error).removeprefix("mc.onnx.load: ")) from None
        results = result if isinstance(result, tuple) else (result,)
        if any(name for name in node.output[len(results):]):
            raise context.refuse(f"outputs {list(node.output)}: minicnn computes only the first")
        for name, value in zip(node.output, results):
            values[name] = value
    context = _Context(graph.node[-1], "the outputs", "output", opset, uses, values, names) if graph.node else None
    outputs = [_symbolic(_gathered(context, values[o.name]), f"output {o.name!r}") for o in graph.output]
    if any(output is source for output in outputs):
        raise ValueError(f"mc.onnx.load: an output of {path} is its input itself: nothing to compute")
    model = Model(source, outputs if len(outputs) > 1 else outputs[0], name=_clean(graph.name) or None)
    return model


class _Context:
    def __init__(self, node, where, name, opset, uses, values, taken):
        self.node, self.where, self.name, self.opset, self.uses, self.values = node, where, name, opset, uses, values
        self.taken = taken

    def another_name(self, suffix):
        """A name for a second layer this node becomes (HardSwish: three)."""
        name, k = f"{self.name}_{suffix}", 1
        while name in self.taken:
            name, k = f"{self.name}_{suffix}_{k}", k + 1
        self.taken.add(name)
        return name

    def refuse(self, why):
        return ValueError(f"mc.onnx.load: {self.node.op_type} ({self.where}): {why}")

    def call(self, layer, x, weights=()):
        """layer called on x (building it), then its weights set, in the order of its parameters and buffers."""
        out = layer(x)
        for tensor, array in zip(list(layer.params.values()) + list(layer.buffers.values()), weights):
            if tuple(tensor.shape) != np.shape(array):
                raise self.refuse(f"weights of shape {np.shape(array)} where {layer.name} wants {tuple(tensor.shape)}")
            tensor.data = tensor.backend.from_host(np.array(array, np.float32))     # a copy of its own, writable
        return out


def _clean(name):
    return re.sub(r"[^A-Za-z0-9_]+", "_", name or "").strip("_")


def _layer_name(node, taken):
    base = _clean(node.name) or _clean(node.output[0]) or node.op_type.lower()
    name, k = base, 1
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


def _first_real_reader(readers, name):
    """The first node that reads `name` past Cast and Identity nodes: (op_type, perm of a Transpose)."""
    node = readers.get(name)
    while node is not None and node.op_type in ("Cast", "Identity"):
        node = readers.get(node.output[0])
    if node is None:
        return None
    perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
    return node.op_type, perm


# ops that act value by value: the same on either layout
_ANY_LAYOUT = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish", "Identity", "Dropout",
               "Cast"}


def _convert(convert, context, args, attributes):
    """convert(context, args, attributes), with the channels-last and per-channel values handled around it."""
    op = context.node.op_type
    if op in ("Add", "Sub", "Mul"):
        gathered = _per_channel(context, args)
        if gathered is not None:
            return gathered
    args = [_gathered(context, a) for a in args]
    if op in _ANY_LAYOUT and args and isinstance(args[0], _ChannelsLast):
        return _ChannelsLast(convert(context, [args[0].symbolic] + args[1:], attributes))
    if op in ("Add", "Mul") and any(isinstance(a, _ChannelsLast) for a in args):
        constant = next((a for a in args if isinstance(a, np.ndarray)), None)
        if constant is not None and constant.size == 1:        # a scalar: the same on either layout
            x = next(a for a in args if isinstance(a, _ChannelsLast)).symbolic
            return _ChannelsLast(convert(context, [x, constant], attributes))
        if all(isinstance(a, _ChannelsLast) for a in args):
            return _ChannelsLast(convert(context, [a.symbolic for a in args], attributes))
    return convert(context, args, attributes)


def _per_channel(context, args):
    """x + c, x - c, c - x or x * c with c one number per channel of a 4-D x: a _PerChannel, or None."""
    a, b = args
    op = context.node.op_type
    if isinstance(a, np.ndarray) == isinstance(b, np.ndarray):
        return None
    swapped = isinstance(a, np.ndarray)
    x, c = (b, a) if swapped else (a, b)
    base = x.x if isinstance(x, _PerChannel) else x
    inner = base.symbolic if isinstance(base, _ChannelsLast) else base
    if not isinstance(inner, Symbolic) or len(inner.shape) != 4 or c.size == 1:
        return None
    channels = inner.shape[1]
    wanted = (1, 1, 1, channels) if isinstance(base, _ChannelsLast) else (1, channels, 1, 1)
    if c.ndim > 4 or (1,) * (4 - c.ndim) + c.shape != wanted:
        return None
    c = c.reshape(-1).astype(np.float64)
    scale, shift = (x.scale, x.shift) if isinstance(x, _PerChannel) else (np.ones(channels), np.zeros(channels))
    name = x.name if isinstance(x, _PerChannel) else context.name
    reads = (x.reads if isinstance(x, _PerChannel) else []) + [context.node.input[1 if swapped else 0]]
    if op == "Add":
        shift = shift + c
    elif op == "Mul":
        scale, shift = scale * c, shift * c
    elif swapped:                                   # c - x
        scale, shift = -scale, c - shift
    else:
        shift = shift - c
    return _PerChannel(base, scale, shift, name, reads)


def _gathered(context, value):
    """A _PerChannel as a layer: a Conv's bias where it only adds to a Conv without one (and nothing
    else reads that Conv), else a BatchNormalization in inference form (gamma = scale, beta = shift)."""
    if not isinstance(value, _PerChannel):
        return value
    layout = _ChannelsLast if isinstance(value.x, _ChannelsLast) else (lambda s: s)
    x = value.x.symbolic if isinstance(value.x, _ChannelsLast) else value.x
    layer = x.layer
    only_reader = all(context.uses.get(name) == 1 for name in value.reads)
    if (np.all(value.scale == 1) and isinstance(layer, (Conv2D, DepthwiseConv2D)) and not layer.use_bias
            and only_reader):
        config = dict(layer.get_config(), use_bias=True, name=layer.name)     # the Conv, now with its bias
        kernel = next(iter(layer.params.values())).numpy()
        return layout(context.call(type(layer)(**config), x.inputs[0], [kernel, value.shift]))
    epsilon = 1e-3
    norm = BatchNormalization(epsilon=epsilon, name=value.name)
    channels = len(value.scale)
    return layout(context.call(norm, x, [value.scale, value.shift, np.zeros(channels),
                                         np.full(channels, 1 - epsilon)]))


def _symbolic(value, what):
    if isinstance(value, (_Pooled, _ChannelsLast)):     # a channels-last output comes out channels-first
        return value.symbolic
    if isinstance(value, _FlatHWC):
        raise ValueError(f"mc.onnx.load: {what} is flattened channels-last, an order minicnn's Flatten lacks")
    if not isinstance(value, Symbolic):
        raise ValueError(f"mc.onnx.load: {what} is a constant, not computed from the input")
    return value


def _constant(context, value, what):
    if not isinstance(value, np.ndarray):
        raise context.refuse(f"{what} must be a constant (an initializer), not computed from the input")
    return value


def _padding(context, attributes, spatial, kernel, strides):
    """minicnn's padding for ONNX's pads / auto_pad: symmetric pads, or Keras' "same"."""
    auto = attributes.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto == "VALID":
        return "valid"
    if auto == "SAME_UPPER":
        return "same"
    pads = list(attributes.get("pads", [0] * 2 * len(kernel)))
    if auto == "SAME_LOWER":
        pads = [b for _, b in padding_amounts("same", spatial, kernel, strides)] + \
               [a for a, _ in padding_amounts("same", spatial, kernel, strides)]
    begin, end = pads[:len(kernel)], pads[len(kernel):]
    if begin == end:
        return tuple(begin) if len(begin) == 2 else begin[0]
    same = padding_amounts("same", spatial, kernel, strides)
    if [a for a, _ in same] == begin and [b for _, b in same] == end:
        return "same"
    raise context.refuse(f"pads {pads} are neither symmetric nor Keras' 'same' (the extra at the end)")


def _no_dilation(context, attributes):
    if any(d != 1 for d in attributes.get("dilations", [1])):
        raise context.refuse(f"dilations {attributes['dilations']}: minicnn's convolutions are not dilated")


def _conv(context, args, attributes):
    x, weight, bias = _symbolic(args[0], "Conv's input"), _constant(context, args[1], "the kernel"), \
        (args[2] if len(args) > 2 else None)
    _no_dilation(context, attributes)
    kernel = cross_correlation_kernel(weight)
    strides = list(attributes.get("strides", [1] * (weight.ndim - 2)))
    group, channels = attributes.get("group", 1), x.shape[1]
    padding = _padding(context, attributes, x.shape[2:], weight.shape[2:], strides)
    use_bias = bias is not None
    weights = [kernel] + ([_constant(context, bias, "the bias")] if use_bias else [])
    if weight.ndim == 3 and group == 1:
        layer = Conv1D(weight.shape[0], weight.shape[2], strides[0], padding, use_bias=use_bias, name=context.name)
    elif weight.ndim == 4 and group == 1:
        layer = Conv2D(weight.shape[0], tuple(weight.shape[2:]), tuple(strides), padding, use_bias=use_bias,
                       name=context.name)
    elif weight.ndim == 4 and group == channels and weight.shape[1] == 1:
        layer = DepthwiseConv2D(tuple(weight.shape[2:]), tuple(strides), padding, weight.shape[0] // channels,
                                use_bias=use_bias, name=context.name)
    else:
        raise context.refuse(f"group {group} on {channels} channels: minicnn has groups of 1 or of the channels")
    return context.call(layer, x, weights)


def _gemm(context, args, attributes):
    x = args[0]
    if attributes.get("transA", 0):
        raise context.refuse("transA=1: the input transposed")
    b = _constant(context, args[1], "B")
    kernel = (b.T if attributes.get("transB", 0) else b) * attributes.get("alpha", 1.0)
    if isinstance(x, _FlatHWC):
        kernel, x = _hwc_rows(context, x, kernel), x.symbolic
    x = _symbolic(x, "Gemm's input")
    weights = [kernel]
    if len(args) > 2 and args[2] is not None:
        bias = _constant(context, args[2], "C") * attributes.get("beta", 1.0)
        if bias.size not in (1, kernel.shape[1]) or (bias.ndim == 2 and bias.shape[0] != 1):
            raise context.refuse(f"C of shape {bias.shape}: minicnn's Dense adds one bias per output")
        weights.append(np.broadcast_to(bias.reshape(-1), (kernel.shape[1],)))
    return context.call(Dense(kernel.shape[1], use_bias=len(weights) == 2, name=context.name), x, weights)


def _matmul(context, args, attributes):
    x, b = args[0], _constant(context, args[1], "B")
    if isinstance(x, _FlatHWC):
        b, x = _hwc_rows(context, x, b), x.symbolic
    x = _symbolic(x, "MatMul's input")
    if b.ndim != 2 or len(x.shape) != 2:
        raise context.refuse(f"a product of shapes {x.shape} and {b.shape}; minicnn's Dense takes (N, in) @ (in, out)")
    return context.call(Dense(b.shape[1], use_bias=False, name=context.name), x, [b])


def _add(context, args, attributes):
    a, b = args
    if isinstance(b, np.ndarray) and isinstance(a, np.ndarray):
        return a + b
    read = context.node.input[1] if isinstance(a, np.ndarray) else context.node.input[0]
    if isinstance(a, np.ndarray):
        a, b = b, a
    if isinstance(b, np.ndarray):
        layer = a.layer if isinstance(a, Symbolic) else None
        if isinstance(layer, Dense) and not layer.use_bias and context.uses.get(read) == 1 and b.size == layer.units:
            return _dense_with_bias(context, a, b)      # MatMul + Add: a Dense with its bias
        if b.size == 1:
            return context.call(Rescaling(1.0, float(b.reshape(())), name=context.name), a)
        raise context.refuse(f"adding a constant of shape {b.shape}: minicnn adds constants as a Dense's bias or "
                             f"a scalar (Rescaling)")
    return context.call(Add(name=context.name), [_symbolic(a, "Add's input"), _symbolic(b, "Add's input")])


def _dense_with_bias(context, matmul_output, bias):
    """The Dense made for a MatMul whose output only this Add reads: made again, with its bias."""
    dense = matmul_output.layer
    kernel = dense.params["kernel"].numpy()
    x = matmul_output.inputs[0]
    return context.call(Dense(dense.units, name=context.name), x, [kernel, bias.reshape(-1)])


def _sub(context, args, attributes):
    a, b = args
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a - b
    if isinstance(b, np.ndarray) and b.size == 1:
        return context.call(Rescaling(1.0, -float(b.reshape(())), name=context.name), a)
    if isinstance(a, np.ndarray) and a.size == 1:
        return context.call(Rescaling(-1.0, float(a.reshape(())), name=context.name), b)
    raise context.refuse("minicnn subtracts only constants (one per channel, or one number)")


def _transpose(context, args, attributes):
    x, perm = args[0], list(attributes.get("perm", []))
    if isinstance(x, np.ndarray):
        return np.transpose(x, perm or None)
    if isinstance(x, _ChannelsLast) and perm == [0, 3, 1, 2]:
        return x.symbolic               # back to minicnn's own layout
    if isinstance(x, Symbolic) and len(x.shape) == 4 and perm == [0, 2, 3, 1]:
        return _ChannelsLast(x)
    raise context.refuse(f"perm {perm}: minicnn reads only the channels-last <-> channels-first transposes")


def _reduce_mean(context, args, attributes):
    x = args[0]
    axes = attributes.get("axes")
    if len(args) > 1 and args[1] is not None:
        axes = _constant(context, args[1], "the axes")
    axes = sorted(int(a) % 4 for a in (axes if axes is not None else range(4)))
    keep = attributes.get("keepdims", 1)
    if isinstance(x, _ChannelsLast) and axes == [1, 2] and not keep:
        return context.call(GlobalAveragePooling2D(name=context.name), x.symbolic)
    if isinstance(x, Symbolic) and len(x.shape) == 4 and axes == [2, 3]:
        pooled = context.call(GlobalAveragePooling2D(name=context.name), x)
        return _Pooled(pooled) if keep else pooled
    raise context.refuse(f"axes {axes} (keepdims {keep}): minicnn averages over the whole image only "
                         f"(GlobalAveragePooling2D)")


def _cast(context, args, attributes):
    x = args[0]
    if isinstance(x, np.ndarray):
        return x
    if attributes.get("to") != 1:       # onnx.TensorProto.FLOAT
        raise context.refuse(f"to type {attributes.get('to')}: minicnn computes in float32")
    return x


def _hwc_rows(context, x, kernel):
    """A Dense kernel for inputs flattened in (H, W, C) order, its rows reordered for minicnn's (C, H, W)."""
    c, h, w = x.chw
    if kernel.shape[0] != c * h * w:
        raise context.refuse(f"a kernel of {kernel.shape[0]} rows after a flatten of {c * h * w} values")
    return kernel.reshape(h, w, c, -1).transpose(2, 0, 1, 3).reshape(c * h * w, -1)


def _mul(context, args, attributes):
    a, b = args
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a * b
    if isinstance(a, np.ndarray):
        a, b = b, a
    if isinstance(b, np.ndarray):
        if b.size == 1:
            return context.call(Rescaling(float(b.reshape(())), 0.0, name=context.name), a)
        raise context.refuse(f"multiplying by a constant of shape {b.shape}: minicnn takes scalars (Rescaling)")
    return context.call(Multiply(name=context.name), [_symbolic(a, "Mul's input"), _symbolic(b, "Mul's input")])


def _batch_normalization(context, args, attributes):
    x = _symbolic(args[0], "BatchNormalization's input")
    if attributes.get("training_mode", 0):
        raise context.refuse("training_mode=1: minicnn reads the inference form")
    weights = [_constant(context, a, "its statistics") for a in args[1:5]]
    layer = BatchNormalization(momentum=float(attributes.get("momentum", 0.9)),
                               epsilon=float(attributes.get("epsilon", 1e-5)), name=context.name)
    return context.call(layer, x, weights)


def _pool(kind):
    def convert(context, args, attributes):
        x = _symbolic(args[0], f"{context.node.op_type}'s input")
        if len(x.shape) != 4:
            raise context.refuse(f"input of shape {x.shape}: minicnn pools (N, C, H, W) images")
        if attributes.get("ceil_mode", 0):
            raise context.refuse("ceil_mode=1: minicnn's pooling floors the output size")
        _no_dilation(context, attributes)
        kernel = list(attributes["kernel_shape"])
        strides = list(attributes.get("strides", [1] * len(kernel)))
        padding = _padding(context, attributes, x.shape[2:], kernel, strides)
        if kind is AveragePooling2D and attributes.get("count_include_pad", 0) and padding not in ("valid", 0, (0, 0)):
            raise context.refuse("count_include_pad=1: minicnn's average leaves the padding out")
        return context.call(kind(tuple(kernel), tuple(strides), padding, name=context.name), x)
    return convert


def _global_pool(kind):
    def convert(context, args, attributes):
        return _Pooled(context.call(kind(name=context.name), _symbolic(args[0], "the pooling's input")))
    return convert


def _flatten(context, args, attributes):
    x = args[0]
    if isinstance(x, _Pooled):
        return x.symbolic
    if isinstance(x, _ChannelsLast):
        if attributes.get("axis", 1) != 1:
            raise context.refuse(f"axis {attributes['axis']}: minicnn flattens everything but the batch axis")
        return _FlatHWC(context.call(Flatten(name=context.name), x.symbolic), tuple(x.symbolic.shape[1:]))
    if isinstance(x, np.ndarray):
        return x.reshape(x.shape[0], -1) if attributes.get("axis", 1) == 1 else x.reshape(1, -1)
    if attributes.get("axis", 1) != 1:
        raise context.refuse(f"axis {attributes['axis']}: minicnn flattens everything but the batch axis")
    return x if len(x.shape) == 2 else context.call(Flatten(name=context.name), x)


def _reshape(context, args, attributes):
    x, shape = args[0], _constant(context, args[1], "the shape")
    target = [int(d) for d in shape]
    if isinstance(x, np.ndarray):
        return x.reshape(target)
    if isinstance(x, _ChannelsLast) and len(target) == 2 and target[0] in (BATCH, 0, -1) and (
            target[1] == -1 or target[1] == int(np.prod(x.symbolic.shape[1:]))):
        return _flatten(context, [x], {"axis": 1})
    flat = len(target) == 2 and target[0] in (BATCH, 0, -1) and (target[1] == -1 or (
        target[1] == int(np.prod(_symbolic(x, "Reshape's input").shape[1:])) and target[0] != -1))
    if not flat:
        raise context.refuse(f"to shape {target}: minicnn reshapes only to (batch, everything else) (a Flatten)")
    return _flatten(context, [x], {"axis": 1})


def _shape(context, args, attributes):
    x = args[0]
    if isinstance(x, _Pooled):
        return np.array([BATCH, x.symbolic.shape[1], 1, 1], np.int64)
    if isinstance(x, _ChannelsLast):
        c, h, w = x.symbolic.shape[1:]
        return np.array([BATCH, h, w, c], np.int64)
    if isinstance(x, np.ndarray):
        return np.array(x.shape, np.int64)
    return np.array([BATCH, *x.shape[1:]], np.int64)


def _constant_node(context, args, attributes):
    from onnx import numpy_helper
    if "value" not in attributes:
        raise context.refuse("only a tensor 'value' is read")
    return numpy_helper.to_array(attributes["value"])


def _constant_op(function):
    def convert(context, args, attributes):
        if not all(isinstance(a, np.ndarray) for a in args if a is not None):
            raise context.refuse("minicnn computes it only on constants (shapes), not on the input")
        return np.asarray(function(args, attributes))      # a 0-d array, not a NumPy scalar
    return convert


def _concat(context, args, attributes):
    if all(isinstance(a, np.ndarray) for a in args):
        return np.concatenate(args, axis=attributes["axis"])
    tensors = [_symbolic(a, "Concat's input") for a in args]
    return context.call(Concatenate(axis=attributes["axis"] % (len(tensors[0].shape)), name=context.name), tensors)


def _softmax(context, args, attributes):
    x = _symbolic(args[0], "Softmax's input")
    axis = attributes.get("axis", -1 if context.opset >= 13 else 1)
    if context.opset < 13 and len(x.shape) != 2:
        raise context.refuse("before opset 13 Softmax works on the input flattened to 2-D; minicnn takes it "
                             "on (N, classes) only there")
    return context.call(Softmax(axis % len(x.shape), name=context.name), x)


def _clip(context, args, attributes):
    """Clip(0, max) is ReLU(max_value=max) (PyTorch's ReLU6 exports as Clip(0, 6)); other lower bounds are refused."""
    x = _symbolic(args[0], "Clip's input")
    low, high = attributes.get("min"), attributes.get("max")
    if len(args) > 1 and args[1] is not None:
        low = float(_constant(context, args[1], "min"))
    if len(args) > 2 and args[2] is not None:
        high = float(_constant(context, args[2], "max"))
    if low is None or low != 0.0 or (high is not None and high < 0):
        raise context.refuse(f"limits ({low}, {high}): minicnn clips as ReLU(max_value), from 0")
    return context.call(ReLU(max_value=high, name=context.name), x)


def _hard_sigmoid_of(context, x, alpha, beta):
    """max(0, min(1, alpha * x + beta)): a Rescaling, then a ReLU capped at 1."""
    scaled = context.call(Rescaling(alpha, beta, name=context.another_name("scale")), x)
    return context.call(ReLU(max_value=1.0, name=context.name), scaled)


def _hard_sigmoid(context, args, attributes):
    return _hard_sigmoid_of(context, _symbolic(args[0], "HardSigmoid's input"), float(attributes.get("alpha", 0.2)),
                            float(attributes.get("beta", 0.5)))


def _hard_swish(context, args, attributes):
    """x * HardSigmoid(x) with alpha 1/6, beta 1/2 (ONNX's definition)."""
    x = _symbolic(args[0], "HardSwish's input")
    gate = _hard_sigmoid_of(context, x, 1 / 6, 0.5)
    return context.call(Multiply(name=context.another_name("times")), [x, gate])


def _unsqueeze(args, attributes):
    axes = attributes["axes"] if "axes" in attributes else [int(a) for a in args[1]]
    out = args[0]
    for axis in sorted(axes):
        out = np.expand_dims(out, axis)
    return out


CONVERTERS = {
    "Conv": _conv, "Gemm": _gemm, "MatMul": _matmul, "Add": _add, "Mul": _mul,
    "BatchNormalization": _batch_normalization, "MaxPool": _pool(MaxPooling2D), "AveragePool": _pool(AveragePooling2D),
    "GlobalAveragePool": _global_pool(GlobalAveragePooling2D), "GlobalMaxPool": _global_pool(GlobalMaxPooling2D),
    "Flatten": _flatten, "Reshape": _reshape, "Shape": _shape, "Constant": _constant_node, "Concat": _concat,
    "Relu": lambda c, a, at: c.call(ReLU(name=c.name), _symbolic(a[0], "Relu's input")),
    "LeakyRelu": lambda c, a, at: c.call(LeakyReLU(at.get("alpha", 0.01), name=c.name), _symbolic(a[0], "input")),
    "Sigmoid": lambda c, a, at: c.call(Sigmoid(name=c.name), _symbolic(a[0], "Sigmoid's input")),
    "Tanh": lambda c, a, at: c.call(Tanh(name=c.name), _symbolic(a[0], "Tanh's input")),
    "Softmax": _softmax, "Clip": _clip, "HardSigmoid": _hard_sigmoid, "HardSwish": _hard_swish,
    "Identity": lambda c, a, at: a[0], "Dropout": lambda c, a, at: a[0],
    "Gather": _constant_op(lambda a, at: np.take(a[0], a[1], axis=at.get("axis", 0))),
    "Unsqueeze": _constant_op(_unsqueeze),
    "Cast": _cast, "Sub": _sub, "Transpose": _transpose, "ReduceMean": _reduce_mean,
}
