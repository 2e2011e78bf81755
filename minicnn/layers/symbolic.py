"""Symbolic tensors, for the Keras functional API: mc.Input, layers called on them, mc.Model(inputs, outputs).

    inputs = mc.Input(shape=(3, 64, 64))
    h = L.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    h = L.Add()([h, L.Conv2D(16, 3, padding="same")(h)])        # a residual connection
    outputs = L.Dense(2)(L.Flatten()(h))
    model = mc.Model(inputs, outputs)

A layer called on a Symbolic (instead of a Tensor) computes nothing for real: it
is built, runs once on a batch of zeros to learn its output shape, and returns a
Symbolic that remembers the layer and its inputs. mc.Model(inputs, outputs) then
walks these records back from the outputs and replays them, in order, on real
tensors.
"""

from ..autograd import no_grad
from ..tensor import check_shape, zeros


class Symbolic:
    """A stand-in for the tensors a functional model will see: shape (None, ...) and where it comes from."""

    dtype = "float32"

    def __init__(self, shape, layer=None, inputs=(), as_list=False, name=None):
        self.shape = (None,) + tuple(shape)
        self.layer, self.inputs, self.as_list = layer, tuple(inputs), as_list
        self.name = name or (layer.name if layer is not None else "input_layer")

    def __repr__(self):
        source = "Input" if self.layer is None else self.layer.name
        return f"Symbolic(shape={self.shape}, from={source})"


def Input(shape=None, batch_size=None, dtype=None, name=None):
    """The input of a model: images (C, H, W), or features (n,), without the batch axis. Keras' arguments;
    the first entry of a Sequential, or where a functional model's layers start."""
    shape = check_shape(shape, "Input(shape)")
    if len(shape) == 3 and shape[2] in (1, 3, 4) and shape[0] > shape[2]:
        raise ValueError(f"Input(shape={shape}) looks channels-last (H, W, C); minicnn's images are "
                         f"channels-first (C, H, W): Input(shape={(shape[2], shape[0], shape[1])})")
    if dtype not in (None, "float32"):
        raise NotImplementedError(f"Input: dtype={dtype!r} is not supported: minicnn's models take float32")
    if name is not None and not (isinstance(name, str) and name):
        raise ValueError(f"Input: name must be a non-empty string, got {name!r}")
    return Symbolic(shape, name=name)


def is_symbolic(x):
    return isinstance(x, Symbolic) or (isinstance(x, (list, tuple)) and bool(x)
                                       and all(isinstance(t, Symbolic) for t in x))


def call_symbolically(layer, x):
    """layer(x) for symbolic x: build the layer on a zero batch, return where its output comes from."""
    inputs = list(x) if isinstance(x, (list, tuple)) else [x]
    batch = [zeros(1, *t.shape[1:]) for t in inputs]
    with layer.in_mode(training=False), no_grad():
        out = layer(batch if isinstance(x, (list, tuple)) else batch[0])
    layer._output = Symbolic(out.shape[1:], layer, inputs, isinstance(x, (list, tuple)))    # Keras' layer.output
    return layer._output


def graph(inputs, outputs):
    """The symbolic nodes between inputs and the list of outputs, each after the nodes it reads."""
    order, seen = [], set()

    def visit(node):
        if id(node) in seen or node is inputs:
            return
        if node.layer is None:
            raise ValueError("Model(inputs, outputs): the outputs depend on an Input that is not `inputs`")
        for parent in node.inputs:
            visit(parent)
        seen.add(id(node))
        order.append(node)
    for output in outputs:
        if output is inputs:
            raise ValueError("Model(inputs, outputs): an output is the Input itself; call a layer on it")
        visit(output)
    return order


def replay(nodes, inputs, outputs, x):
    """The graph's outputs (a list) for real tensor x at its input."""
    values = {id(inputs): x}
    for node in nodes:
        args = [values[id(parent)] for parent in node.inputs]
        values[id(node)] = node.layer(args if node.as_list else args[0])
    return [values[id(output)] for output in outputs]
