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


def test_plot_model_draws_every_layer_and_connection_of_a_functional_and_a_sequential_model(tmp_path):
    L = mc.layers
    inputs = mc.Input(shape=(3, 8, 8))
    x = L.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    y = L.Conv2D(4, 1)(inputs)
    outputs = L.Dense(2)(L.Flatten()(L.add([x, y])))
    functional = mc.Model(inputs, outputs)
    sequential = mc.Sequential([L.Conv2D(2, 3), L.Flatten(), L.Dense(1)], input_shape=(1, 6, 6))
    for model in (functional, sequential):
        path = tmp_path / f"{len(model.layers)}.png"
        shown = mc.utils.plot_model(model, to_file=path, show_shapes=True, show_layer_names=True,
                                    show_layer_activations=True, show_trainable=True, dpi=50)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert shown is None or shown.data == path.read_bytes()      # IPython's Image of the file, where installed
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []     # no temporary left
    texts = _plotted_texts(mc.plots._layer_graph(functional))
    assert texts == [(None, [])] + [(name, parents) for name, parents in
                                    [("Conv2D", [0]), ("Conv2D", [0]), ("Add", [1, 2]), ("Flatten", [3]),
                                     ("Dense", [4])]]
    assert mc.plots._layer_graph(sequential)[-1][1] == (None, 1)


def _plotted_texts(rows):
    return [(None if layer is None else type(layer).__name__, parents) for layer, _, parents in rows]


def test_plot_model_refuses_what_it_cannot_draw_by_name(tmp_path):
    model = mc.Sequential([mc.layers.Dense(1)], input_shape=(3,))
    with pytest.raises(ValueError, match="rankdir must be 'TB'.*'LR'"):
        mc.utils.plot_model(model, to_file=tmp_path / "m.png", rankdir="LR")
    with pytest.raises(ValueError, match="expand_nested"):
        mc.utils.plot_model(model, to_file=tmp_path / "m.png", expand_nested=True)
    with pytest.raises(ValueError, match="not built"):
        mc.utils.plot_model(mc.Sequential([mc.layers.Dense(1)]), to_file=tmp_path / "m.png")
