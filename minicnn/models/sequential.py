"""mc.Sequential: the Model whose forward applies a list of layers one after the other (Keras' Sequential)."""

from ..io import saving
from ..layers import LAYER_TYPES, Activation, Conv2D, Dense, Sigmoid, Softmax
from ..layers.base import Layer
from ..layers.conv import check_channels_first
from ..layers.symbolic import Input, Symbolic
from .inputs import check_model_input
from .model import Model, _print_table, _print_totals


class Sequential(Model):
    layers = None       # each model's own list, set in __init__ (in place of Model's computed property)

    def __init__(self, layers=None, input_shape=None, name=None):
        super().__init__(name=name)
        self.layers = []
        self._adding_the_list = True
        if isinstance(layers, Layer) or (layers is not None and not isinstance(layers, (list, tuple))):
            raise TypeError(f"Sequential takes a list of layers, got {type(layers).__name__}: "
                            f"Sequential([layer, ...])")
        for layer in layers or []:
            self.add(layer)
        self.output_shapes = None
        self._adding_the_list = False
        if input_shape is not None:
            self.build(input_shape)
        elif self.input_shape is not None and self.layers:     # Sequential([mc.Input(shape), ...])
            self.build(self.input_shape)

    # --- structure ---
    def add(self, layer):
        if isinstance(layer, Symbolic) and layer.layer is None:        # keras.Input(shape=...) first
            if self.layers:
                raise ValueError("Sequential: an Input must be the first entry, before any layer")
            self.input_shape = layer.shape[1:]
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential: a layer must be a mc.layers.Layer, got {type(layer).__name__}")
        if any(other.name == layer.name and other is not layer for other in self.layers):
            raise ValueError(f"Sequential: two layers named {layer.name!r}; names in a model must be unique")
        self.layers.append(layer)
        if self.input_shape is not None and not self._adding_the_list:
            self.build(self.input_shape)        # as Keras: a model that knows its input builds layer by layer

    def pop(self):
        """Remove and return the last layer (Keras' model.pop())."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        layer = self.layers.pop()
        self.output_shapes = None
        return layer

    @property
    def inputs(self):
        """The symbolic input (Keras' model.inputs), the layers called on it in turn, so each layer's
        .output is defined: mc.Model(inputs=model.inputs, outputs=[l.output for l in model.layers])."""
        return [self._traced()[0]]

    @property
    def outputs(self):
        return [self._traced()[1]]

    def _traced(self):
        """(an mc.Input of the model's input shape, the last layer's symbolic output)."""
        if self.input_shape is None:
            raise AttributeError("This Sequential has no input yet: give it an mc.Input(shape) first, or "
                                 "input_shape=, or call it on a batch")
        if getattr(self, "_trace", None) is None or self._trace[2] != (self.input_shape, len(self.layers)):
            source = symbolic = Input(shape=self.input_shape)
            for layer in self.layers:
                symbolic = layer(symbolic)
            self._trace = (source, symbolic, (self.input_shape, len(self.layers)))
        return self._trace[:2]

    def children(self):
        """The layers, named by their place: "0", "1", ... (so weights are "0.kernel", as in PyTorch)."""
        return ((str(i), layer) for i, layer in enumerate(self.layers))

    def __repr__(self):
        inside = "".join(f"\n  {layer!r}," for layer in self.layers)
        shape = "" if self.input_shape is None else f", input_shape={self.input_shape}"
        return f"Sequential([{inside}\n]{shape})"

    def _run(self, x):
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

    def summary(self, print_fn=print):
        """Print each layer's output shape and parameter count, and the total (returns None, as Keras)."""
        if not self.built:
            raise ValueError("summary: the model is not built; pass input_shape=(C, H, W) to Sequential "
                             "or call model.build(input_shape)")
        if self.output_shapes is None:
            self.build(self.input_shape)
        rows = [("Layer (type)", "Output Shape", "Param #")]
        for layer, shape in zip(self.layers, self.output_shapes):
            rows.append((f"{layer.name} ({type(layer).__name__})", str((None,) + tuple(shape)),
                         f"{layer.count_params():,}"))
        _print_table(rows, print_fn)
        _print_totals(self, print_fn)

    def _architecture(self):
        return {"format": saving.FORMAT, "input_shape": None if self.input_shape is None else list(self.input_shape),
                "name": self.name, "layers": [saving.layer_entry(layer, LAYER_TYPES) for layer in self.layers]}

    def compile(self, optimizer="adam", loss=None, metrics=None):
        super().compile(optimizer, loss, metrics)
        check_loss_matches_last_activation(self, self.loss)
        return self


def check_loss_matches_last_activation(model, loss):
    """Catch probabilities fed to a from_logits loss, and logits fed to a probability loss."""
    if not model.layers:
        return
    last = model.layers[-1]
    if isinstance(last, (Dense, Conv2D, Activation)):
        activation = last.activation if last.activation != "linear" else None
    elif isinstance(last, Softmax):
        activation = "softmax"
    elif isinstance(last, Sigmoid):
        activation = "sigmoid"
    else:
        return
    name = type(loss).__name__
    if loss.from_logits and activation in ("softmax", "sigmoid"):
        raise ValueError(f"{name}(from_logits=True), but the last layer applies {activation}, so the model outputs "
                         f"probabilities: use {name}(from_logits=False), or drop the {activation}")
    if not loss.from_logits and activation is None:
        raise ValueError(f"{name}(from_logits=False) expects probabilities, but the last layer {last!r} has no "
                         f"activation, so the model outputs logits: use {name}(from_logits=True), "
                         f"or activation='{loss.activation}'")
    if isinstance(last, Dense) and last.units == 1 and activation == "softmax":
        raise ValueError("softmax over a single unit always outputs 1: use activation='sigmoid' "
                         "with BinaryCrossentropy")
