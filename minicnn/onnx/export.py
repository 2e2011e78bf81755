"""A minicnn model as an ONNX graph, for onnxruntime and every runtime that reads ONNX.

    mc.onnx.export(model, "model.onnx")          # or Keras' spelling: model.export("model.onnx", format="onnx")

The model is walked layer call by layer call (a Sequential's list, a functional
model's graph, a subclassed model's forward traced on an mc.Input), and each
call becomes a few ONNX nodes; the layer also runs on a zero image, so every
node knows the shapes it works on (Keras' "same" padding depends on them).

The flip. ONNX's Conv, like PyTorch's and Keras', computes cross-correlation:
it slides the kernel over the image as it is. minicnn computes the lecture's
convolution, which slides the kernel turned by 180 degrees. So every kernel
crosses the border flipped along its spatial axes, exactly once
(`cross_correlation_kernel`); a 1x1 kernel is its own flip.

What is left out: Dropout and the augmentation layers (identity at inference),
BatchNormalization's training form. A layer type with no converter here, a
subclass of one (its forward may differ), or code between layers in a
subclassed model is refused, naming the layer.
"""

import os

import numpy as np

from ..autograd import no_grad
from ..io.saving import atomic_file
from ..layers import (Activation, Add, AveragePooling2D, BatchNormalization, Concatenate, Conv1D, Conv2D, Dense,
                      DepthwiseConv2D, Dropout, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D, LeakyReLU,
                      MaxPooling2D, Multiply, Normalization, RandomColorBalance, RandomContrast, RandomFlip,
                      RandomRotate90, RandomRotation, RandomTranslation, RandomZoom, ReLU, Rescaling, Resizing,
                      SeparableConv2D, Sigmoid, Softmax, Tanh)
from ..layers.symbolic import Input, Symbolic, graph
from ..models import Model, Sequential
from ..ops.conv import cross_correlation_kernel
from ..ops.im2col import pair, padding_amounts
from ..tensor import zeros

OPSETS = range(13, 22)      # 13: Softmax over one axis; 21: what onnxruntime 1.18+ runs
IDENTITY_AT_INFERENCE = (Dropout, RandomFlip, RandomRotate90, RandomTranslation, RandomRotation, RandomZoom,
                         RandomContrast, RandomColorBalance)


def export(model, path, opset=13):
    """Write `model` (built; Sequential, functional or subclassed, of minicnn's layers) to `path` as ONNX.
    Its input "input" is float32 (N, C, H, W) (or (N, features)) with any N; its outputs "output" (or
    "output_0", "output_1", ... for several). Returns the path."""
    import onnx
    if not isinstance(model, Model):
        raise TypeError(f"export: model must be an mc.Model or mc.Sequential, got {type(model).__name__}")
    if not isinstance(opset, int) or opset not in OPSETS:
        raise ValueError(f"export: opset must be an int from {OPSETS.start} to {OPSETS.stop - 1}, got {opset!r}")
    if model.input_shape is None or not model.built:
        raise ValueError("export: the model is not built; call model.build(input_shape) or fit it first")
    builder = _Graph(onnx)
    with model.in_mode(training=False), no_grad():
        outputs = builder.emit_model(model, ["input"], zeros(1, *model.input_shape, device=model.device))
    names = ["output"] if len(outputs) == 1 else [f"output_{i}" for i in range(len(outputs))]
    for name, (value, shape) in zip(names, outputs):
        builder.node("Identity", [value], [name])
        builder.outputs.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["N", *shape]))
    graph_proto = onnx.helper.make_graph(
        builder.nodes, model.name or "minicnn",
        [onnx.helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["N", *model.input_shape])],
        builder.outputs, builder.initializers)
    proto = onnx.helper.make_model(graph_proto, producer_name="minicnn",
                                   opset_imports=[onnx.helper.make_opsetid("", opset)])
    proto.ir_version = min(proto.ir_version, 8 if opset <= 18 else 9)    # what onnxruntime of that opset reads
    onnx.checker.check_model(proto)
    with atomic_file(path) as file:
        file.write(proto.SerializeToString())
    return os.fspath(path)


class _Graph:
    """The ONNX nodes and initializers made so far, with names that never repeat."""

    def __init__(self, onnx):
        self.onnx, self.nodes, self.initializers, self.outputs, self.count = onnx, [], [], [], 0

    def fresh(self, stem):
        self.count += 1
        return f"{stem}_{self.count}"

    def node(self, op, inputs, outputs=None, **attributes):
        outputs = outputs or [self.fresh(op.lower())]
        self.nodes.append(self.onnx.helper.make_node(op, inputs, outputs, name=self.fresh(op), **attributes))
        return outputs[0]

    def constant(self, array, stem="const"):
        name = self.fresh(stem)
        array = np.asarray(array)
        self.initializers.append(self.onnx.numpy_helper.from_array(
            array.astype(np.float32) if array.dtype.kind == "f" else array, name))
        return name

    # --- walking the model ---
    def emit_model(self, model, input_names, x):
        """The model's layer calls as nodes: [(output name, output shape without the batch axis), ...]."""
        if isinstance(model, Sequential):
            name = input_names[0]
            for layer in model.layers:
                name, x = self.emit_layer(layer, [name], [x])
            return [(name, tuple(x.shape[1:]))]
        if model.nodes is not None:
            source, outputs, nodes = model._input, model._outputs, model.nodes
        else:
            source = Input(shape=model.input_shape)
            try:
                traced = model.forward(source)
            except Exception as error:
                raise ValueError(f"export: {type(model).__name__}.forward does more than call minicnn layers "
                                 f"({type(error).__name__}: {error}); only its layer calls can be exported: build "
                                 f"it as mc.Sequential or mc.Model(inputs, outputs)") from None
            outputs = traced if isinstance(traced, (list, tuple)) else [traced]
            if not all(isinstance(o, Symbolic) for o in outputs):
                raise ValueError(f"export: {type(model).__name__}.forward returns what is not a layer's output; "
                                 f"only its layer calls can be exported")
            nodes = graph(source, outputs)
        values = {id(source): (input_names[0], x)}
        for symbolic in nodes:
            parents = [values[id(parent)] for parent in symbolic.inputs]
            names, xs = [p[0] for p in parents], [p[1] for p in parents]
            values[id(symbolic)] = self.emit_layer(symbolic.layer, names, xs, as_list=symbolic.as_list)
        return [(values[id(o)][0], tuple(values[id(o)][1].shape[1:])) for o in outputs]

    def emit_layer(self, layer, names, xs, as_list=False):
        """One layer call: (its output's name, its output on the zero image)."""
        y = layer(xs if as_list else xs[0])
        if isinstance(layer, Model):
            (name, _), = self.emit_model(layer, names, xs[0])
            return name, y
        if type(layer) in IDENTITY_AT_INFERENCE:
            return names[0], y
        convert = CONVERTERS.get(type(layer))
        if convert is None:
            raise ValueError(f"export: layer {layer.name!r} ({type(layer).__name__}) has no ONNX form in minicnn; "
                             f"exportable: {', '.join(sorted(c.__name__ for c in CONVERTERS))} and models of them")
        return convert(self, layer, names, xs), y

    def activation(self, name, x, layer):
        if name in (None, "linear"):
            return x
        if name == "relu":
            return self.node("Relu", [x])
        if name == "sigmoid":
            return self.node("Sigmoid", [x])
        if name == "tanh":
            return self.node("Tanh", [x])
        if name == "softmax":
            return self.node("Softmax", [x], axis=1)
        if name == "leaky_relu":
            return self.node("LeakyRelu", [x], alpha=0.2)
        raise ValueError(f"export: layer {layer.name!r} has activation {name!r}, which has no ONNX form in minicnn")


def _weights(layer, name):
    return layer.params[name].numpy()


def _conv_pads(padding, size, kernel, strides):
    """ONNX's pads [top, left, bottom, right] for minicnn's padding ("same" as Keras: the extra at the end)."""
    amounts = padding_amounts(padding, size, kernel, strides)
    return [a for a, _ in amounts] + [b for _, b in amounts]


def _conv2d(g, layer, names, xs):
    kernel = _weights(layer, "kernel")
    strides = list(pair(layer.strides, "strides"))
    inputs = [names[0], g.constant(cross_correlation_kernel(kernel), "kernel")]
    if layer.use_bias:
        inputs.append(g.constant(_weights(layer, "bias"), "bias"))
    y = g.node("Conv", inputs, kernel_shape=list(kernel.shape[2:]), strides=strides,
               pads=_conv_pads(layer.padding, xs[0].shape[2:], kernel.shape[2:], strides))
    return g.activation(layer.activation, y, layer)


def _conv1d(g, layer, names, xs):
    kernel = _weights(layer, "kernel")
    padding = layer.padding if isinstance(layer.padding, str) else (0, layer.padding)
    (before, after), = padding_amounts(padding, (1, xs[0].shape[2]), (1, kernel.shape[2]), (1, layer.strides))[1:]
    inputs = [names[0], g.constant(cross_correlation_kernel(kernel), "kernel")]
    if layer.use_bias:
        inputs.append(g.constant(_weights(layer, "bias"), "bias"))
    y = g.node("Conv", inputs, kernel_shape=[kernel.shape[2]], strides=[layer.strides], pads=[before, after])
    return g.activation(layer.activation, y, layer)


def _depthwise(g, layer, names, xs, bias):
    kernel = _weights(layer, "depthwise_kernel")
    strides = list(pair(layer.strides, "strides"))
    inputs = [names[0], g.constant(cross_correlation_kernel(kernel), "depthwise_kernel")]
    if bias:
        inputs.append(g.constant(_weights(layer, "bias"), "bias"))
    return g.node("Conv", inputs, kernel_shape=list(kernel.shape[2:]), strides=strides, group=xs[0].shape[1],
                  pads=_conv_pads(layer.padding, xs[0].shape[2:], kernel.shape[2:], strides))


def _depthwise_conv2d(g, layer, names, xs):
    return g.activation(layer.activation, _depthwise(g, layer, names, xs, layer.use_bias), layer)


def _separable_conv2d(g, layer, names, xs):
    y = _depthwise(g, layer, names, xs, bias=False)
    inputs = [y, g.constant(_weights(layer, "pointwise_kernel"), "pointwise_kernel")]   # 1x1: its own flip
    if layer.use_bias:
        inputs.append(g.constant(_weights(layer, "bias"), "bias"))
    return g.activation(layer.activation, g.node("Conv", inputs, kernel_shape=[1, 1]), layer)


def _dense(g, layer, names, xs):
    inputs = [names[0], g.constant(_weights(layer, "kernel"), "kernel")]
    if layer.use_bias:
        inputs.append(g.constant(_weights(layer, "bias"), "bias"))
    return g.activation(layer.activation, g.node("Gemm", inputs), layer)


def _pool(op):
    def convert(g, layer, names, xs):
        kernel = pair(layer.pool_size, "pool_size")
        strides = pair(kernel if layer.strides is None else layer.strides, "strides")
        attributes = {"count_include_pad": 0} if op == "AveragePool" else {}     # the mean of the image's cells
        return g.node(op, [names[0]], kernel_shape=list(kernel), strides=list(strides),
                      pads=_conv_pads(layer.padding, xs[0].shape[2:], kernel, strides), **attributes)
    return convert


def _global_pool(op):
    def convert(g, layer, names, xs):
        return g.node("Flatten", [g.node(op, [names[0]])], axis=1)
    return convert


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _batch_normalization(g, layer, names, xs):
    """Inference form: the moving statistics (ONNX's BatchNormalization takes (N, C) and (N, C, ...) alike)."""
    statistics = [layer.params["gamma"], layer.params["beta"], layer.buffers["moving_mean"],
                  layer.buffers["moving_variance"]]
    return g.node("BatchNormalization", [names[0]] + [g.constant(t.numpy(), "bn") for t in statistics],
                  epsilon=float(layer.epsilon))


def _normalization(g, layer, names, xs):
    shape = _channel_shape(xs[0])
    mean = layer.buffers["mean"].numpy().reshape(shape)
    std = np.maximum(np.sqrt(np.maximum(layer.buffers["variance"].numpy(), 0)), np.float32(1e-7)).reshape(shape)
    return g.node("Div", [g.node("Sub", [names[0], g.constant(mean, "mean")]), g.constant(std, "std")])


def _rescaling(g, layer, names, xs):
    y = g.node("Mul", [names[0], g.constant(np.float32(layer.scale), "scale")])
    return g.node("Add", [y, g.constant(np.float32(layer.offset), "offset")])


def _resizing(g, layer, names, xs):
    """Bilinear, half-pixel centres, edges repeated (Keras' Resizing, antialias off): ONNX's Resize."""
    batch = g.node("Slice", [g.node("Shape", [names[0]]), g.constant(np.array([0], np.int64)),
                             g.constant(np.array([1], np.int64))])
    sizes = g.node("Concat", [batch, g.constant(np.array([xs[0].shape[1], layer.height, layer.width], np.int64))],
                   axis=0)
    empty = g.constant(np.zeros(0, np.float32), "roi")
    return g.node("Resize", [names[0], empty, empty, sizes], mode="linear",
                  coordinate_transformation_mode="half_pixel")


def _elementwise(op):
    def convert(g, layer, names, xs):
        out = names[0]
        for name in names[1:]:
            out = g.node(op, [out, name])
        return out
    return convert


def _concatenate(g, layer, names, xs):
    return g.node("Concat", names, axis=layer.axis % xs[0].ndim)


CONVERTERS = {
    Conv2D: _conv2d, Conv1D: _conv1d, DepthwiseConv2D: _depthwise_conv2d, SeparableConv2D: _separable_conv2d,
    Dense: _dense, MaxPooling2D: _pool("MaxPool"), AveragePooling2D: _pool("AveragePool"),
    GlobalAveragePooling2D: _global_pool("GlobalAveragePool"), GlobalMaxPooling2D: _global_pool("GlobalMaxPool"),
    BatchNormalization: _batch_normalization, Normalization: _normalization, Rescaling: _rescaling,
    Resizing: _resizing, Flatten: lambda g, layer, names, xs: g.node("Flatten", names, axis=1),
    Add: _elementwise("Add"), Multiply: _elementwise("Mul"), Concatenate: _concatenate,
    ReLU: lambda g, layer, names, xs: g.node("Relu", names),
    Sigmoid: lambda g, layer, names, xs: g.node("Sigmoid", names),
    Tanh: lambda g, layer, names, xs: g.node("Tanh", names),
    Softmax: lambda g, layer, names, xs: g.node("Softmax", names, axis=layer.axis % xs[0].ndim),
    LeakyReLU: lambda g, layer, names, xs: g.node("LeakyRelu", names, alpha=float(layer.negative_slope)),
    Activation: lambda g, layer, names, xs: g.activation(layer.activation, names[0], layer),
}
