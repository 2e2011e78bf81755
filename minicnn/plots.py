"""Learning curves and confusion matrices as matplotlib Figures (needs matplotlib: pip install 'minicnn[plot]').

Each function returns its Figure, which a notebook shows inline, and saves it as
an image when given `path`. Figures are made without pyplot, so matplotlib's
global backend and pyplot's list of open figures stay as the user left them.
"""

import functools
import io

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


def _finish(fig, path):
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


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
