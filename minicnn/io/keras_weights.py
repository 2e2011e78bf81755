"""A Keras 3 `.weights.h5` file (model.save_weights) read into the minicnn model of the same
architecture: Keras works channels-last and cross-correlates, minicnn channels-first and convolves.

    mc.io.load_keras_weights(model, "model.weights.h5")      # needs h5py: pip install "minicnn[keras-weights]"

Keras' file holds, for each layer, `layers/<name>/vars/0, 1, ...` in the layer's own order (a kernel,
then the bias; BatchNormalization's gamma, beta, moving mean and variance). Each minicnn layer takes
the group of its own name or, failing that, the next unused one of its type (Keras numbers its
automatic names in the order layers are made: conv2d, conv2d_1, ...). On the way:

    Conv2D kernel (KH, KW, C, F)  -> (F, C, KH, KW), turned 180 degrees (cross-correlation -> convolution)
    Conv1D kernel (K, C, F)       -> (F, C, K), turned
    DepthwiseConv2D (KH, KW, C, M) -> (C * M, 1, KH, KW), turned; SeparableConv2D's pointwise -> (F, C * M, 1, 1)
    Dense kernel (in, units)      -> the same, except after Flatten: Keras flattened (H, W, C) maps,
                                     minicnn flattens (C, H, W), so the rows are reordered
"""

import os
import re

import numpy as np

from ..autograd import no_grad
from ..layers import BatchNormalization, Conv1D, Conv2D, Dense, DepthwiseConv2D, Flatten, SeparableConv2D
from ..ops.conv import cross_correlation_kernel
from ..tensor import zeros

KERAS_NAMES = {Conv2D: "conv2d", Conv1D: "conv1d", DepthwiseConv2D: "depthwise_conv2d",
               SeparableConv2D: "separable_conv2d", Dense: "dense", BatchNormalization: "batch_normalization"}


def load_keras_weights(model, path):
    """Set a built minicnn Sequential's weights from a Keras 3 .weights.h5 file of the same architecture."""
    try:
        import h5py
    except ImportError:
        raise ImportError("load_keras_weights needs h5py: pip install 'minicnn[keras-weights]'") from None
    if not model.built:
        raise ValueError("load_keras_weights: build the model first (input_shape=...)")
    layers = list(getattr(model, "layers", None) or [])
    with h5py.File(os.fspath(path), "r") as file:
        if "layers" not in file:
            raise ValueError(f"{path}: not a Keras 3 .weights.h5 file (no 'layers' group)")
        groups = {name: [np.asarray(group["vars"][str(i)]) for i in range(len(group["vars"]))]
                  for name, group in file["layers"].items() if "vars" in group}
    weighted = {name: values for name, values in groups.items() if values}
    shapes = _input_shapes(model)
    used = set()
    for index, layer in enumerate(layers):
        if type(layer) not in KERAS_NAMES:
            if layer.params:
                raise ValueError(f"load_keras_weights: layer {layer.name!r} ({type(layer).__name__}) has weights "
                                 f"minicnn can't take from Keras")
            continue
        name = _group_for(layer, weighted, used)
        used.add(name)
        flattened = shapes[index - 1] if index > 0 and isinstance(layers[index - 1], Flatten) else None
        _set(layer, weighted[name], name, flattened)
    left = sorted(set(weighted) - used)
    if left:
        raise ValueError(f"load_keras_weights: the file has weights for {left}, which no layer of the model took")


def _input_shapes(model):
    """The shape (no batch axis) each layer of the Sequential receives, from one zero image."""
    shapes, x = [], zeros(1, *model.input_shape, device=model.device)
    with model.in_mode(training=False), no_grad():
        for layer in model.layers:
            shapes.append(tuple(x.shape[1:]))
            x = layer(x)
    return shapes


def _group_for(layer, groups, used):
    if layer.name in groups and layer.name not in used:
        return layer.name
    stem = KERAS_NAMES[type(layer)]
    candidates = sorted((int(m.group(1) or 0), name) for name in groups if name not in used
                        for m in [re.fullmatch(re.escape(stem) + r"(?:_(\d+))?", name)] if m)
    if not candidates:
        raise ValueError(f"load_keras_weights: no weights in the file for layer {layer.name!r} "
                         f"({type(layer).__name__}; the file's layers: {sorted(groups)})")
    return candidates[0][1]


def _set(layer, values, name, flattened):
    """Keras' variables of one layer, in minicnn's layouts, into the layer (shapes checked by set_weights)."""
    if isinstance(layer, Conv2D) or isinstance(layer, Conv1D):
        kernel = values[0]
        kernel = np.transpose(kernel, (3, 2, 0, 1) if kernel.ndim == 4 else (2, 1, 0))
        arrays = [cross_correlation_kernel(kernel)] + values[1:]
    elif isinstance(layer, (DepthwiseConv2D, SeparableConv2D)):
        kh, kw, c, m = values[0].shape
        depthwise = np.transpose(values[0], (2, 3, 0, 1)).reshape(c * m, 1, kh, kw)
        arrays = [cross_correlation_kernel(depthwise)]
        if isinstance(layer, SeparableConv2D):
            arrays.append(np.transpose(values[1], (3, 2, 0, 1)))
            values = values[1:]
        arrays += values[1:]
    elif isinstance(layer, Dense):
        kernel = values[0]
        if flattened is not None and len(flattened) >= 2:        # rows (H, W, C) in Keras, (C, H, W) here
            c, spatial = flattened[0], flattened[1:]
            kernel = kernel.reshape(*spatial, c, -1)
            kernel = np.moveaxis(kernel, -2, 0).reshape(-1, kernel.shape[-1])
        arrays = [kernel] + values[1:]
    else:                                                         # BatchNormalization
        arrays = values
    own = list(layer.params.values()) + list(layer.buffers.values())
    if len(arrays) != len(own):
        raise ValueError(f"load_keras_weights: {name!r} in the file holds {len(arrays)} variables, layer "
                         f"{layer.name!r} has {len(own)}")
    for tensor, array in zip(own, arrays):
        if tuple(tensor.shape) != array.shape:
            raise ValueError(f"load_keras_weights: {name!r} holds shape {array.shape} for layer {layer.name!r}, "
                             f"which wants {tuple(tensor.shape)}")
        tensor.data = tensor.backend.from_host(np.array(array, np.float32))     # a copy of its own, writable
