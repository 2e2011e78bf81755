"""mc.plots: Figures returned (and saved when asked), matplotlib's global state left alone."""

import numpy as np
import pytest

import minicnn as mc

matplotlib = pytest.importorskip("matplotlib")


def test_plots_return_figures_save_on_request_and_leave_matplotlib_as_it_was(tmp_path):
    import matplotlib.pyplot as plt
    previous = matplotlib.get_backend()
    matplotlib.use("pdf")                     # a backend of the user's that the plots must not switch
    try:
        open_before = plt.get_fignums()
        history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7]}
        curves = mc.plots.plot_history(history, title="run")
        counts = mc.metrics.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], 3)
        matrix = mc.plots.plot_confusion_matrix(counts, ["a", "b", "c"], tmp_path / "cm.png")
        assert isinstance(curves, matplotlib.figure.Figure) and isinstance(matrix, matplotlib.figure.Figure)
        assert [line.get_label() for line in curves.axes[0].lines] == ["loss", "val_loss"]
        np.testing.assert_array_equal(matrix.axes[0].images[0].get_array(), counts)
        assert (tmp_path / "cm.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert not list(tmp_path.glob("*.pdf")) and len(list(tmp_path.iterdir())) == 1   # no path: no file
        assert matplotlib.get_backend() == "pdf" and plt.get_fignums() == open_before
    finally:
        matplotlib.use(previous)
