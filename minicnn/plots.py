"""Learning curves and confusion matrices as matplotlib Figures (needs matplotlib: pip install 'minicnn[plot]').

Each function returns its Figure, which a notebook shows inline, and saves it as
an image when given `path`. Figures are made without pyplot, so matplotlib's
global backend and pyplot's list of open figures stay as the user left them.
"""

import functools
import io
import os

import numpy as np


@functools.cache
def _figure_class():
    """The Figure class below, made on first use (matplotlib is optional)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'minicnn[plot]'") from None

    class ShownFigure(Figure):
        """A matplotlib Figure that a notebook shows as the last value of a cell, even where pyplot was
        never imported (no %matplotlib inline): IPython asks it for a PNG. Where pyplot's inline
        backend is on, IPython's own Figure printer answers first, so it is shown once."""

        def _repr_png_(self):
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=100)
            return buffer.getvalue()
    return ShownFigure


def _figure(figsize):
    return _figure_class()(figsize=figsize)


def _finish(fig, path, dpi=100):
    fig.tight_layout()
    if path is not None:
        _save(fig, path, dpi)
    return fig


def _save(fig, path, dpi):
    """savefig, atomically: the picture is written beside `path` and renamed over it when complete."""
    path = os.fspath(path)
    temporary = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        fig.savefig(temporary, dpi=dpi, format=os.path.splitext(path)[1][1:] or "png")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def plot_history(history, path=None, title=None):
    """Loss and accuracy per epoch, training and validation, side by side."""
    logs = getattr(history, "history", history)
    every = {"": 1, "val_": getattr(history, "params", {}).get("validation_freq", 1)}     # fit's validation_freq
    fig = _figure((10, 4))
    for ax, metric in zip(fig.subplots(1, 2), ("loss", "accuracy")):
        for prefix, style in (("", "-"), ("val_", "--")):
            values = logs.get(prefix + metric)
            if values:             # a marker on each epoch, so that a run of one epoch shows its point
                ax.plot(range(every[prefix], every[prefix] * len(values) + 1, every[prefix]), values, style,
                        marker="o" if len(values) < 30 else None, markersize=3, label=prefix + metric)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


def plot_confusion_matrix(counts, class_names, path=None, title=None):
    """Rows: true class; columns: predicted class; each cell its count."""
    counts = np.asarray(counts)
    n = len(class_names)
    size = max(4, 0.45 * n + 2)
    fig = _figure((size, size))
    ax = fig.subplots()
    ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(n), class_names, rotation=90)
    ax.set_yticks(range(n), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(n):
        for j in range(n):
            if counts[i, j]:
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if counts[i, j] > counts.max() / 2 else "black")
    if title:
        ax.set_title(title)
    return _finish(fig, path)


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=False,
               rankdir="TB", expand_nested=False, dpi=200, show_layer_activations=False, show_trainable=False):
    """Keras' plot_model: a box per layer, top to bottom, an arrow from each layer to those that read it
    (arcs at the side for a residual connection), written to `to_file`. Drawn with matplotlib rather
    than Keras' graphviz; returns the picture as an IPython Image where IPython is installed (a notebook
    shows it), else None, as Keras does."""
    if rankdir != "TB":
        raise ValueError(f"plot_model: rankdir must be 'TB' (top to bottom; minicnn draws no other), got {rankdir!r}")
    if expand_nested:
        raise ValueError("plot_model: expand_nested=True is not supported (minicnn draws one level), got True")
    rows = _layer_graph(model)
    labels = []
    for layer, shape, _ in rows:
        kind = "InputLayer" if layer is None else type(layer).__name__
        name = getattr(layer, "name", "input_layer") if layer is not None else "input_layer"
        lines = [f"{name} ({kind})" if show_layer_names else kind]
        activation = getattr(layer, "activation", None)
        if show_layer_activations and isinstance(activation, str):
            lines.append(f"Activation: {activation}")
        if show_shapes:
            lines.append(f"Output shape: {shape}")
        if show_dtype:
            lines.append("Output dtype: float32")
        if show_trainable and layer is not None:
            lines.append(f"Trainable: {'T' if getattr(layer, 'trainable', True) else 'F'}")
        labels.append("\n".join(lines))
    height = 0.55 + 0.22 * max(label.count("\n") for label in labels)     # inches a box takes
    fig = _figure((5, (height + 0.35) * len(rows) + 0.4))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(-len(rows), 0.2)
    ax.axis("off")
    for index, label in enumerate(labels):
        ax.text(0.5, -index - 0.3, label, ha="center", va="center", fontsize=8,
                bbox={"boxstyle": "round,pad=0.4", "facecolor": "#eef3fb", "edgecolor": "#4a6fa5"})
    for index, (_, _, parents) in enumerate(rows):
        for parent in parents:
            skip = index - parent > 1
            ax.annotate("", xy=(0.5, -index - 0.3 + 0.22), xytext=(0.5, -parent - 0.3 - 0.22),
                        arrowprops={"arrowstyle": "->", "color": "#555555",
                                    "connectionstyle": "arc3,rad=-0.6" if skip else "arc3"})
    _save(fig, to_file, dpi)
    try:
        from IPython import display
    except ImportError:
        return None
    return display.Image(filename=to_file)


def _layer_graph(model):
    """[(layer or None for the input, output shape, indices of the rows it reads)] of a model, in order."""
    nodes = getattr(model, "nodes", None)
    if nodes is not None:                                   # a functional model: its graph of symbolic tensors
        rows, index = [], {}
        for node in nodes:
            for source in node.inputs:
                if source.layer is None and id(source) not in index:
                    index[id(source)] = len(rows)
                    rows.append((None, source.shape, []))
            index[id(node)] = len(rows)
            rows.append((node.layer, node.shape, [index[id(source)] for source in node.inputs]))
        return rows
    if not getattr(model, "built", False) or getattr(model, "output_shapes", None) is None:
        if getattr(model, "input_shape", None) is None:
            raise ValueError("plot_model: the model is not built; pass input_shape=(C, H, W) to Sequential "
                             "or call model.build(input_shape)")
        model.build(model.input_shape)
    rows = [(None, (None,) + tuple(model.input_shape), [])]
    for layer, shape in zip(model.layers, model.output_shapes):
        rows.append((layer, (None,) + tuple(shape), [len(rows) - 1]))
    return rows
