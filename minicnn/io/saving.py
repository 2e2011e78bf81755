"""Saving and loading models as one .npz file: the architecture as JSON, the weights as arrays.

Nothing here unpickles: files are read with allow_pickle=False, so opening a
model can't run code. Writes go to a temporary file in the same folder that
then replaces the target in one step (os.replace), so a crash mid-save leaves
the previous file intact.
"""

import json
import os
import tempfile

import numpy as np

FORMAT = "minicnn-sequential"
VERSION = 1


def atomic_savez(path, arrays):
    """np.savez to `path`, all or nothing."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def weight_arrays(model):
    """Host copies of every parameter and buffer, keyed "<layer index>.<name>"."""
    arrays = {}
    for i, layer in enumerate(model.layers):
        for name, tensor in list(layer.params.items()) + list(layer.buffers.items()):
            arrays[f"{i}.{name}"] = tensor.numpy()
    return arrays


def architecture(model):
    return {"format": FORMAT, "version": VERSION,
            "input_shape": None if model.input_shape is None else list(model.input_shape),
            "layers": [{"class": type(layer).__name__, "config": layer.get_config()} for layer in model.layers]}


def save_model(model, path):
    if not model.built:
        raise ValueError("save: the model has no weights yet; call it on a batch or pass input_shape first")
    arrays = weight_arrays(model)
    arrays["__architecture__"] = np.array(json.dumps(architecture(model)))
    atomic_savez(path, arrays)


def save_weights(model, path):
    if not model.built:
        raise ValueError("save_weights: the model has no weights yet; call it on a batch first")
    atomic_savez(path, weight_arrays(model))


def read_arrays(path):
    with np.load(os.fspath(path), allow_pickle=False) as file:
        return {key: file[key] for key in file.files}


def load_model(path):
    """Rebuild a model saved by model.save(path), on the CPU."""
    from ..layers import LAYER_TYPES
    from ..models import Sequential

    arrays = read_arrays(path)
    if "__architecture__" not in arrays:
        raise ValueError(f"{path}: no architecture inside; was it written by save_weights? "
                         f"Build the model in code and use model.load_weights(path)")
    spec = json.loads(str(arrays.pop("__architecture__")))
    if spec.get("format") != FORMAT:
        raise ValueError(f"{path}: not a minicnn model file (format {spec.get('format')!r})")
    layers = []
    for entry in spec["layers"]:
        if entry["class"] not in LAYER_TYPES:
            raise ValueError(f"{path}: unknown layer type {entry['class']!r}")
        layers.append(LAYER_TYPES[entry["class"]](**entry["config"]))
    model = Sequential(layers, input_shape=spec["input_shape"])
    set_weight_arrays(model, arrays, path)
    return model


def load_weights(model, path):
    arrays = read_arrays(path)
    arrays.pop("__architecture__", None)
    set_weight_arrays(model, arrays, path)


def set_weight_arrays(model, arrays, source):
    if not model.built:
        raise ValueError("load_weights: build the model first (pass input_shape or call it on a batch)")
    expected = weight_arrays(model)
    if set(expected) != set(arrays):
        raise ValueError(f"{source}: weights {sorted(arrays)} do not match the model's {sorted(expected)}")
    for i, layer in enumerate(model.layers):
        for name, tensor in list(layer.params.items()) + list(layer.buffers.items()):
            value = arrays[f"{i}.{name}"]
            if value.shape != tensor.shape:
                raise ValueError(f"{source}: weight {i}.{name} has shape {value.shape}, "
                                 f"the model wants {tensor.shape}")
            tensor.data = tensor.backend.from_host(value.astype(tensor.dtype))
