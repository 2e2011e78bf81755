"""minicnn.save and minicnn.load: PyTorch's torch.save / torch.load for state dicts, without pickle.

    minicnn.save(net.state_dict(), "net.npz")
    net.load_state_dict(minicnn.load("net.npz", weights_only=True))

What can be saved is what a state dict holds: tensors and NumPy arrays of numbers,
numbers, strings, None, and dicts, lists and tuples of them (a checkpoint such as
{"model": net.state_dict(), "epoch": 3}). The file is an .npz archive: the arrays,
and one JSON string describing how they nest. Loading never unpickles, so it can't
run code; weights_only=True (PyTorch's safe mode) is thus the only mode there is,
and weights_only=False loads the same things.
"""

import json
import numbers

import numpy as np

from ..backend import get_backend
from ..tensor import Tensor
from .saving import atomic_savez, read_arrays

STRUCTURE = "__structure__"
FORMAT = "minicnn-state"


def save(obj, f):
    """Write obj (a state dict, or dicts/lists of tensors, arrays, numbers and strings) to the file f."""
    arrays = {}
    described = _describe(obj, arrays, "obj")
    arrays[STRUCTURE] = np.array(json.dumps({"format": FORMAT, "version": 1, "object": described}))
    atomic_savez(f, arrays)


def _describe(value, arrays, where):
    if isinstance(value, Tensor):
        arrays[f"a{len(arrays)}"] = value.numpy()
        return {"tensor": f"a{len(arrays) - 1}", "requires_grad": bool(value.requires_grad)}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"save: {where} is an array of dtype {value.dtype}; only arrays of numbers are saved")
        arrays[f"a{len(arrays)}"] = value
        return {"array": f"a{len(arrays) - 1}"}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, numbers.Integral, numbers.Real, str)):
        return {"value": value if isinstance(value, (bool, str)) or value is None else
                (int(value) if isinstance(value, numbers.Integral) else float(value))}
    if isinstance(value, dict):
        entries = []
        for key, item in value.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: the keys of {where} must be strings or ints, got {key!r}")
            entries.append([key, _describe(item, arrays, f"{where}[{key!r}]")])
        return {"dict": entries}
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_describe(item, arrays, f"{where}[{i}]") for i, item in enumerate(value)]}
    hint = " (save model.state_dict(), or use model.save(path) for the whole model)" \
        if hasattr(value, "state_dict") else ""
    raise TypeError(f"save: {where} is a {type(value).__name__}, which minicnn.save does not store: it saves "
                    f"tensors, arrays, numbers, strings and dicts, lists and tuples of them{hint}")


def load(f, map_location=None, weights_only=True, mmap=None):
    """What save wrote: tensors on map_location (default: the CPU), arrays, numbers, strings, dicts..."""
    if weights_only not in (True, False, None):
        raise TypeError(f"load: weights_only must be True or False, got {weights_only!r}")
    if mmap:
        raise NotImplementedError("load: mmap=True is not supported by minicnn")
    backend = get_backend("cpu" if map_location is None else map_location)
    arrays = read_arrays(f)
    if STRUCTURE not in arrays:
        raise ValueError(f"{f}: not written by minicnn.save (for a model saved with model.save, use "
                         f"minicnn.load_model; a PyTorch .pth file can't be read without unpickling it)")
    spec = json.loads(str(arrays[STRUCTURE]))
    if spec.get("format") != FORMAT:
        raise ValueError(f"{f}: not a minicnn.save file (format {spec.get('format')!r})")
    return _rebuilt(spec["object"], arrays, backend, f)


def _rebuilt(described, arrays, backend, f):
    (kind, content), = ((k, v) for k, v in described.items() if k != "requires_grad")
    if kind == "tensor":
        return Tensor(backend.from_host(arrays[content]), backend, described.get("requires_grad", False))
    if kind == "array":
        return arrays[content]
    if kind == "value":
        return content
    if kind == "dict":
        return {key: _rebuilt(item, arrays, backend, f) for key, item in content}
    if kind in ("list", "tuple"):
        items = [_rebuilt(item, arrays, backend, f) for item in content]
        return items if kind == "list" else tuple(items)
    raise ValueError(f"{f}: damaged minicnn.save file (an entry of kind {kind!r})")
