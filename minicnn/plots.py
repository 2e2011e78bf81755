"""Learning curves and confusion matrices as PNG files (needs matplotlib: pip install 'minicnn[plot]')."""

import numpy as np


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'minicnn[plot]'") from None
    matplotlib.use("Agg")              # files only: works without a screen
    import matplotlib.pyplot as plt
    return plt


def plot_history(history, path, title=None):
    """Loss and accuracy per epoch, training and validation, side by side."""
    plt = _pyplot()
    logs = getattr(history, "history", history)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for key, style in ((metric, "-"), (f"val_{metric}", "--")):
            if key in logs:
                ax.plot(range(1, len(logs[key]) + 1), logs[key], style, label=key)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusion_matrix(counts, class_names, path, title=None):
    """Rows: true class; columns: predicted class; each cell its count."""
    plt = _pyplot()
    counts = np.asarray(counts)
    n = len(class_names)
    size = max(4, 0.45 * n + 2)
    fig, ax = plt.subplots(figsize=(size, size))
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
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
