"""examples/lecture.ipynb runs from top to bottom, offline (nbclient executes it in a fresh kernel)."""

from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parent.parent


def test_lecture_notebook_runs_without_an_error():
    notebook = nbformat.read(ROOT / "examples" / "lecture.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "examples")}}).execute()
    outputs = "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for out in cell.get("outputs", []))
    assert "[7. 9. 8.]" in outputs and "2,048,500" in outputs and "test accuracy:" in outputs
    images = sum("image/png" in out.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
                 for out in cell.get("outputs", []))
    assert images >= 6                            # curves, filters, maps, saliency, Grad-CAM, mistakes


def _run_cells(*sources):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    return [cell.get("outputs", []) for cell in notebook.cells]


def _pictures(outputs):
    return sum("image/png" in out.get("data", {}) for out in outputs)


def test_a_figure_shows_as_a_cells_last_value_with_or_without_pyplot():
    """A fresh kernel: minicnn's Figure shows without pyplot ever imported, and once (not twice) with
    pyplot's inline backend on."""
    curves = 'mc.plots.plot_history({"loss": [0.9], "accuracy": [0.5]})'      # one epoch: a point
    plain, inline = _run_cells(f"import minicnn as mc\n{curves}",
                               f"%matplotlib inline\nimport matplotlib.pyplot\n{curves}")
    assert _pictures(plain) == 1 and _pictures(inline) == 1


def test_fit_in_a_notebook_shows_a_bar_without_the_iprogress_warning():
    fit = ("import numpy as np, minicnn as mc\n"
           "model = mc.Sequential([mc.layers.Flatten(), mc.layers.Dense(2)], input_shape=(1, 2, 2))\n"
           "model.compile('sgd', mc.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=['acc'])\n"
           "data = mc.data.ImageDataset(np.zeros((8, 1, 2, 2), np.float32), np.arange(8) % 2, ['a', 'b'])\n"
           "model.fit(data, epochs=1, batch_size=4, verbose=1)\n"
           "print(model.class_names)")
    outputs, = _run_cells(fit)
    text = "".join(out.get("text", "") for out in outputs)
    assert "IProgress" not in text and "Epoch 1/1" in text and "['a', 'b']" in text
