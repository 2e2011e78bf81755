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
