"""mc.Model: a network as code (PyTorch's Module, Keras' Model), with compile / fit / evaluate / predict.

    class Net(mc.Model):
        def __init__(self):
            super().__init__()
            self.conv = mc.layers.Conv2D(8, 3, activation="relu")
            self.head = mc.layers.Dense(2)

        def forward(self, x):                      # or call(self, x), as Keras names it
            return self.head(mc.F.flatten(self.conv(x)))

Layers held in attributes (or lists, tuples, dicts of them) are the model's children: their
weights are trained, saved, moved by `.to` and switched by `train()`/`eval()` with it.
mc.Model(inputs, outputs) is the Keras functional form (layers/symbolic.py), and
mc.Sequential the Model whose forward applies a list of layers in turn.
"""

import numpy as np

from ..autograd import no_grad
from ..data import as_dataset, batches
from ..io import saving
from ..layers import LAYER_TYPES
from ..layers.base import Layer
from ..layers.symbolic import Symbolic, graph, replay
from ..losses import get_loss
from ..metrics import get_metric
from ..optimizers import get_optimizer
from ..tensor import Tensor, check_shape, zeros
from . import training
from .inputs import check_model_input


EXPORT_FORMATS = {}     # format name -> function(model, path, **options); mc.onnx adds "onnx"

class Model(Layer):
    output_shapes = None        # the shapes (no batch axis) of the last call's outputs

    def __init__(self, inputs=None, outputs=None, name=None):
        super().__init__(name)
        self.optimizer = self.loss = None
        self.metrics = []               # compile's metric names; compiled_metrics the objects
        self.compiled_metrics = []
        self.class_names = None         # fit takes them from its data set; save keeps them
        self.stop_training = False
        self.history = None
        self.input_shape = None
        self.nodes = None               # the functional form's layer calls, in order
        if inputs is not None or outputs is not None:
            self._input = _one_input(inputs)
            self._outputs, self._listed = _outputs(outputs), isinstance(outputs, (list, tuple))
            self.nodes = graph(self._input, self._outputs)
            self.input_shape = self._input.shape[1:]
            names = [layer.name for _, layer in self.children()]
            if len(set(names)) != len(names):
                raise ValueError(f"Model: two different layers share a name in {names}; names must be unique")

    @property
    def inputs(self):
        """The symbolic inputs, a list (Keras'): keras.Model(inputs=model.inputs, outputs=...) reuses them."""
        if self.nodes is None:
            raise AttributeError(f"{type(self).__name__} is written as code: it has no symbolic inputs")
        return [self._input]

    @property
    def outputs(self):
        if self.nodes is None:
            raise AttributeError(f"{type(self).__name__} is written as code: it has no symbolic outputs")
        return list(self._outputs)

    @property
    def _several_outputs(self):
        return self.nodes is not None and self._listed

    # --- what a subclass writes ---
    def forward(self, x):
        if self.nodes is not None:
            outputs = replay(self.nodes, self._input, self._outputs, x)
            return outputs if self._several_outputs else outputs[0]
        if type(self).call is not Model.call:
            return self.call(x)
        raise NotImplementedError(f"{type(self).__name__}: write forward(self, x) (or call(self, x), as in Keras)")

    def call(self, x):
        raise NotImplementedError(f"{type(self).__name__}: write call(self, x) (or forward(self, x))")

    # --- structure ---
    def __call__(self, x, training=None):
        """The model's outputs for the batch x. training=True or False (Keras' argument) runs this one
        call in that mode; by default the model's own mode (train() / eval(), as in PyTorch): training
        from construction (PyTorch's modules), inference once compiled, after fit and after load_model
        (Keras' model(x))."""
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(self).__name__} expects a mc.Tensor, got {type(x).__name__}; "
                            f"wrap data with mc.tensor(...)")
        if training is None:
            return self._run(x)
        if not isinstance(training, bool):
            raise TypeError(f"{type(self).__name__}: training must be True, False or None, got {training!r}")
        with self.in_mode(training):
            return self._run(x)

    def _run(self, x):
        if self.input_shape is None:
            self.input_shape = x.shape[1:]
        out = self.forward(x)
        self.output_shapes = [o.shape[1:] for o in out] if isinstance(out, list) else [out.shape[1:]]
        return out

    def __repr__(self):
        inside = "".join(f"\n  {name}: {layer!r}," for name, layer in self.children())
        return f"{type(self).__name__}(name={self.name!r}, layers=[{inside}\n])"

    def children(self):
        if self.nodes is None:
            return super().children()
        layers = {id(node.layer): node.layer for node in self.nodes}    # a layer called twice: once here
        return ((layer.name, layer) for layer in layers.values())

    @property
    def layers(self):
        """The layers, in the order they are called (Keras' model.layers; minicnn has no InputLayer to
        list first). A subclassed model: its attributes' layers, in the order they were set."""
        return [layer for _, layer in self.children()]

    @property
    def built(self):
        layers = [layer for _, layer in self.children()]
        return bool(layers) and all(layer.built for layer in layers)

    def build(self, input_shape):
        """Create every weight for inputs of shape (C, H, W) (no batch axis): one pass over zeros."""
        self.input_shape = check_shape(input_shape, "input_shape")
        with self.in_mode(training=False), no_grad():
            self(zeros(1, *self.input_shape, device=self.device))

    def get_layer(self, name=None, index=None):
        """A layer by its name (Keras' model.get_layer("conv2d_1")) or by its place among the children."""
        layers = [layer for _, layer in self.children()]
        if index is not None:
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; the model's layers are {[layer.name for layer in layers]}")

    def summary(self, print_fn=print):
        """Print each layer with its parameter count, and the total (returns None, as Keras);
        a functional model also shows each layer's output shape and the layers it reads from."""
        if self.nodes is not None:
            rows = [("Layer (type)", "Output Shape", "Param #", "Connected to")]
            for node in self.nodes:
                sources = ", ".join("input" if t.layer is None else t.layer.name for t in node.inputs)
                rows.append((f"{node.layer.name} ({type(node.layer).__name__})", str(node.shape),
                             f"{node.layer.count_params():,}", sources))
            _print_table(rows, print_fn)
        else:
            rows = [(f"{name}: {layer.name} ({type(layer).__name__})", f"{layer.count_params():,}")
                    for name, layer in self.children()]
            _print_table([("Layer (type)", "Param #")] + rows, print_fn)
        _print_totals(self, print_fn)

    # --- training (models/training.py holds the loop) ---
    def compile(self, optimizer="adam", loss=None, metrics=None):
        """Choose the optimizer (bound to the model's parameters when it has none), the loss and metrics."""
        if self._several_outputs:
            raise NotImplementedError("compile: a model with several outputs can be called and can predict, but "
                                      "minicnn trains models with one output only")
        self.loss = get_loss(loss)
        optimizer = get_optimizer(optimizer)
        if optimizer.model is not None and optimizer.model is not self:
            raise ValueError(f"compile: this {type(optimizer).__name__} already trains the model "
                             f"{optimizer.model.name!r}; give each model its own optimizer "
                             f"({type(optimizer).__name__}(...) again), as its state belongs to one model's weights")
        if optimizer.model is None and optimizer.params is not None:    # PyTorch style: Adam(model.parameters())
            given, own = {id(p) for p in optimizer.params}, {id(p) for p in self.trainable_weights}
            if given != own:
                raise ValueError(f"compile: the {type(optimizer).__name__} was given {len(given)} parameters, "
                                 f"{len(given - own)} of them not this model's trainable weights and "
                                 f"{len(own - given)} of the model's missing; fit trains every trainable weight. "
                                 f"Build the optimizer without parameters, and freeze layers with "
                                 f"layer.trainable = False")
        optimizer.model = self
        self.optimizer = optimizer
        if self.built:
            optimizer.bind(self.trainable_weights)      # fit binds again: layers added or frozen since count
        metrics = [metrics] if isinstance(metrics, str) else list(metrics or [])
        self.compiled_metrics = [get_metric(m, self.loss) for m in metrics]
        names = [m.name for m in self.compiled_metrics]
        if len(set(names)) != len(names) or "loss" in names:
            raise ValueError(f"metrics: each needs its own name (and not 'loss'), got {names}")
        self.metrics = names            # the names fit logs them under (history.history["accuracy"])
        return self.eval()      # compiled: called directly it infers, as in Keras; fit trains in between

    def fit(self, x, y=None, epochs=1, batch_size=32, validation_data=None, validation_split=0.0, shuffle=True,
            callbacks=None, verbose=1, class_weight=None, validation_freq=1):
        """Train for `epochs` passes over the data; returns a History (also kept as model.history).

        validation_freq n: evaluate the validation data after every n-th epoch only (Keras): epochs
        n, 2n, ... log val_ metrics, the others none.

        class_weight {class: weight}: each training image's loss is multiplied by its class's
        weight (1 for classes not named), as in Keras; validation is not weighted.
        """
        return training.fit(self, x, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                            validation_split=validation_split, shuffle=shuffle, callbacks=callbacks,
                            verbose=verbose, class_weight=class_weight, validation_freq=validation_freq)

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
        check_model_input(dataset.images.shape)
        outputs = []
        with self.in_mode(training=False), no_grad():
            for xb, _ in batches(dataset, batch_size, self.device):
                out = self(xb)
                outputs.append([o.numpy() for o in out] if isinstance(out, list) else out.numpy())
        if outputs and isinstance(outputs[0], list):        # several outputs: a list of arrays, as Keras
            return [np.concatenate(parts) for parts in zip(*outputs)]
        return np.concatenate(outputs) if outputs else np.zeros((0,))

    # --- files ---
    def save(self, path):
        """A model written as code saves its weights (and its class's name); Sequential its layers too."""
        saving.save_model(self, path, self._architecture())

    def _architecture(self):
        """What save writes of the architecture: the layers and the graph between them (functional),
        or only the class's name for a model written as code (its architecture is the code)."""
        if self.nodes is None:
            return {"format": saving.CODE_FORMAT, "class": type(self).__name__}
        if self._several_outputs:
            raise NotImplementedError("save: a functional model with several outputs can't be saved whole yet; "
                                      "use save_weights(path)")
        position = {id(node): i for i, node in enumerate(self.nodes)}
        layers = {id(node.layer): node.layer for node in self.nodes}.values()
        return {"format": saving.FUNCTIONAL_FORMAT, "input_shape": list(self.input_shape), "name": self.name,
                "layers": [saving.layer_entry(layer, LAYER_TYPES) for layer in layers],
                "nodes": [{"layer": node.layer.name, "as_list": node.as_list,
                           "inputs": [position.get(id(t), -1) for t in node.inputs]} for node in self.nodes]}

    def export(self, filepath, format="tf_saved_model", verbose=None, **kwargs):
        """Keras' model.export: format="onnx" writes an ONNX file (mc.onnx.export; opset=13 by default)."""
        if format not in EXPORT_FORMATS:
            raise ValueError(f"export: format must be one of {sorted(EXPORT_FORMATS)} in minicnn, got {format!r}"
                             + (" (Keras' default; minicnn has no TensorFlow)" if format == "tf_saved_model" else ""))
        return EXPORT_FORMATS[format](self, filepath, **kwargs)

    def save_weights(self, path):
        saving.save_weights(self, path)

    def load_weights(self, path):
        saving.load_weights(self, path)


def _one_input(inputs):
    """Model(inputs=...): the mc.Input, alone or as a list of one (Keras' model.inputs)."""
    if isinstance(inputs, (list, tuple)) and len(inputs) == 1:
        inputs = inputs[0]
    if isinstance(inputs, (list, tuple)):
        raise NotImplementedError(f"Model: one input only, got {len(inputs)} inputs")
    if not isinstance(inputs, Symbolic) or inputs.layer is not None:
        raise TypeError(f"Model(inputs, outputs) takes the mc.Input(...) the layers were called on, got "
                        f"{type(inputs).__name__}")
    return inputs


def _outputs(outputs):
    """Model(outputs=...): one symbolic tensor, or a list of them (the model then returns a list), as a list."""
    listed = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    if not listed or not all(isinstance(o, Symbolic) for o in listed):
        raise TypeError(f"Model(inputs, outputs) takes the symbolic tensor(s) the layers made from the input, "
                        f"got {outputs!r}")
    return listed


def _print_totals(model, print_fn):
    trainable = sum(p.size for p in model.trainable_weights)
    print_fn(f"Total params: {model.count_params():,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {model.count_params() - trainable:,}")


def _print_table(rows, print_fn):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    line = "-" * (sum(widths) + 3 * (len(widths) - 1))
    print_fn(line)
    for i, row in enumerate(rows):
        print_fn("   ".join(cell.rjust(width) if "Param" in rows[0][k] else cell.ljust(width)
                            for k, (cell, width) in enumerate(zip(row, widths))).rstrip())
        if i == 0:
            print_fn("=" * len(line))
    print_fn(line)
