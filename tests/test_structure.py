"""The floors of minicnn: a module imports only from its own package (room) or from rooms on lower floors.

From the bottom: the warnings helper; backend and the small leaves; the tensor and autograd; the ops
and what trains (data, optimizers); the functional face; layers and losses; io and viz; models; the
package's face. Rooms on one floor never import each other.
A layer that imported a model (or io a model) would tie the top floor into a knot: io takes the
layer registry instead, and the functional API's symbolic tensors live with the layers that make them.
"""

import ast
import pathlib

import minicnn

PACKAGE = pathlib.Path(minicnn.__file__).parent
FLOORS = {
    "caller": 0,
    "backend": 1, "random": 1, "autograd": 1, "callbacks": 1, "schedules": 1, "plots": 1, "metrics": 1,
    "tensor": 2, "cuda": 2,
    "ops": 3, "data": 3, "optimizers": 3, "gradcheck": 3, "tensor_functions": 3,
    "functional": 4, "datasets": 4, "utils": 4, "optim": 4, "distributed": 4,
    "layers": 5, "losses": 5,
    "io": 6, "viz": 6,
    "models": 7,
    "nn": 8, "onnx": 8,
    "__init__": 9,
}


def room(path):
    """'layers' for minicnn/layers/conv.py, 'tensor' for minicnn/tensor.py."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported_rooms(path, source=None):
    """(line, room) of every minicnn module `path` imports (its text, or `source` read as it),
    at the top or inside a function."""
    tree = ast.parse(path.read_text() if source is None else source)
    package = path.relative_to(PACKAGE).parent.parts
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
            parts = base + tuple(node.module.split(".")) if node.module else base
            names = [parts] if node.module or parts else [(alias.name,) for alias in node.names]
            for target in names:
                yield node.lineno, target[0] if target else None
        elif isinstance(node, ast.ImportFrom) and node.module == "minicnn":     # from minicnn import models
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for module in modules:
                if module == "minicnn" or module.startswith("minicnn."):
                    yield node.lineno, module.split(".")[1] if "." in module else "__init__"


def test_every_module_has_a_floor():
    rooms = {room(p) for p in PACKAGE.rglob("*.py")}
    assert rooms <= set(FLOORS), f"give these a floor: {sorted(rooms - set(FLOORS))}"


def test_no_import_runs_up_a_floor():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = room(path)
        for line, target in imported_rooms(path):
            if target is not None and target != source and FLOORS[target] >= FLOORS[source]:
                upward.append(f"{path.relative_to(PACKAGE)}:{line} imports {target} (floor {FLOORS[target]}) "
                              f"from floor {FLOORS[source]}")
    assert not upward, "\n".join(upward)


def test_the_check_sees_an_upward_import():
    """The walker itself: a lazy import of models inside a layer is found (so the test above can fail)."""
    layer = PACKAGE / "layers" / "base.py"
    found = {target for _, target in imported_rooms(layer)}
    assert {"tensor", "backend"} <= found and "models" not in found
    for late in ("from ..models import Model", "from ..models.model import Model", "import minicnn.models",
                 "from minicnn import models"):
        source = layer.read_text() + f"\n\ndef later():\n    {late}\n"
        assert "models" in {target for _, target in imported_rooms(layer, source)}, late
