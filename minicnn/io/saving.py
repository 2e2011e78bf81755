"""Saving and loading models as one .npz file: the architecture as JSON, the weights as arrays.

Nothing here unpickles: files are read with allow_pickle=False, so opening a
model can't run code, and each entry's declared size is checked against its
array header and its compressed size before anything is decompressed. Writes
go to a temporary file beside the target that then replaces it in one step
(os.replace), so a crash mid-save leaves the previous file intact; the
temporary has the permissions of any new file (the umask's), and one left by
a crashed save is removed by the next save of the same target.
"""

import contextlib
import glob
import inspect
import json
import os
import secrets
import stat
import zipfile

import numpy as np

from ..layers.base import set_weights_by_name
from ..losses import LOSS_TYPES
from ..metrics import METRIC_TYPES, LossAccuracy
from ..optimizers import OPTIMIZER_TYPES
from ..schedules import SCHEDULE_TYPES

FORMAT = "minicnn-sequential"
CODE_FORMAT = "minicnn-model"       # the weights of a Model subclass, whose architecture is code
FUNCTIONAL_FORMAT = "minicnn-functional"    # mc.Model(inputs, outputs): layers and the graph between them
VERSION = 1
MAX_EXPANSION = 100     # np.savez stores entries uncompressed: a file that expands more is not ours
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def atomic_savez(path, arrays):
    """np.savez to `path`, all or nothing."""
    with atomic_file(path) as file:
        np.savez(file, **arrays)


@contextlib.contextmanager
def atomic_file(path):
    """A binary file to write that becomes `path` in one step when the block ends (os.replace); on an
    error, or a crash, `path` keeps what it held before."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"save: {path} is a folder; give the file's path, such as {os.path.join(path, 'model.npz')}")
    folder, name = os.path.split(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    _remove_stale_temporaries(folder, name)
    temporary = os.path.join(folder, f".{name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)   # the umask applies, as to any file
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _remove_stale_temporaries(folder, name):
    """Temporaries of this target whose process is gone (a save that crashed) are removed."""
    for stale in glob.glob(os.path.join(glob.escape(folder), f".{glob.escape(name)}.*-*.tmp")):
        pid = os.path.basename(stale)[len(name) + 2:].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            try:
                os.unlink(stale)
            except FileNotFoundError:
                pass


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # someone else's process
        return True
    return True


def weight_arrays(model):
    """Host copies of every parameter and buffer, keyed "<layer index>.<name>" (the model's state_dict)."""
    return model.state_dict()


def layer_entry(layer, layer_types):
    """A layer as a saved architecture lists it: its class and constructor arguments (Keras' get_config).
    Only a class of layer_types (the registry load_model builds from) can be written: another one, even
    of the same name, would come back as something else or not at all."""
    if not _registered(layer, layer_types):
        raise ValueError(f"save: layer {layer.name!r} is a {type(layer).__name__} of your own (or a model inside "
                         f"the model), which load_model could not rebuild: keep the architecture in code and "
                         f"use save_weights(path)")
    entry = {"class": type(layer).__name__, "config": {**layer.get_config(), "name": layer.name}}
    if not layer.trainable:
        entry["trainable"] = False
    return entry


def _registered(obj, registry):
    """Whether load_model would rebuild obj's own class from its name (not another class of that name)."""
    return registry.get(type(obj).__name__) is type(obj)


def built_layer(entry, layer_types, path):
    """The layer an entry describes, made from the class of that name in layer_types (the registry)."""
    if entry["class"] not in layer_types:
        raise ValueError(f"{path}: unknown layer type {entry['class']!r} (a layer class of your own? "
                         f"build the model in code and call model.load_weights(path))")
    layer = layer_types[entry["class"]](**entry["config"])
    layer.trainable = entry.get("trainable", True)
    return layer


def _described(obj):
    """{"class": ..., "config": ...} of an optimizer, loss or schedule: its constructor's arguments,
    read back from the attributes of the same names (a schedule as lr is described in turn)."""
    names = [n for n in inspect.signature(type(obj).__init__).parameters if n not in ("self", "params",
                                                                                      "learning_rate")]
    config = {n: getattr(obj, n) for n in names}
    if callable(config.get("lr")) and not _registered(config["lr"], SCHEDULE_TYPES):
        raise ValueError(f"save: the optimizer's lr is a function of your own ({config['lr']!r}), which can't be "
                         f"written to a file: use a schedule of mc.schedules, or save_weights(path)")
    if callable(config.get("lr")):
        config["lr"] = _described(config["lr"])
    return {"class": type(obj).__name__, "config": config}


def _rebuilt(description, registry):
    """The optimizer, loss or schedule a description names, made from the class of that name in registry."""
    config = dict(description["config"])
    if isinstance(config.get("lr"), dict):
        config["lr"] = _rebuilt(config["lr"], SCHEDULE_TYPES)
    return registry[description["class"]](**config)


def save_model(model, path, architecture):
    """Weights, `architecture` (the model's own description: its layers and how they connect, or only
    its class for a model written as code) and, when compiled, the compile settings and optimizer state."""
    if not model.built:
        raise ValueError("save: the model has no weights yet; call it on a batch or pass input_shape first")
    spec = {"format": architecture.pop("format"), "version": VERSION, **architecture}
    if getattr(model, "class_names", None):
        spec["class_names"] = [str(name) for name in model.class_names]
    if model.loss is not None:          # compiled: saved too, so evaluate works right after load_model
        for kind, obj, registry in (("optimizer", model.optimizer, OPTIMIZER_TYPES), ("loss", model.loss, LOSS_TYPES)):
            if not _registered(obj, registry) and type(obj).__module__ == "minicnn.optim":
                raise ValueError(f"save: the optimizer minicnn.optim.{type(obj).__name__} is PyTorch's form, for "
                                 f"hand-written loops, and is not saved with a model: compile with "
                                 f"mc.optimizers.{type(obj).__name__}, or save model.state_dict() with minicnn.save")
            if not _registered(obj, registry):
                raise ValueError(f"save: the {kind} {type(obj).__name__} is a class of your own, which load_model "
                                 f"could not rebuild: compile with one of minicnn's ({', '.join(sorted(registry))}), "
                                 f"or use save_weights(path)")
        for metric in model.compiled_metrics:
            if not isinstance(metric, LossAccuracy) and not _registered(metric, METRIC_TYPES):
                raise ValueError(f"save: the metric {type(metric).__name__} is a class of your own, which load_model "
                                 f"could not rebuild: use one of minicnn's ({', '.join(sorted(METRIC_TYPES))}), "
                                 f"or use save_weights(path)")
        spec["compile"] = {"optimizer": _described(model.optimizer), "loss": _described(model.loss),
                           "metrics": [m.name if isinstance(m, LossAccuracy) else _described(m)
                                       for m in model.compiled_metrics]}
    arrays = weight_arrays(model)
    arrays["__architecture__"] = np.array(json.dumps(spec, default=_plain))
    if model.optimizer is not None:
        arrays.update(optimizer_arrays(model))
    atomic_savez(path, arrays)


OPTIMIZER = "__optimizer__/"     # entries of the optimizer's state: "__optimizer__/<parameter>/<name>"


def optimizer_arrays(model):
    """A compiled model's optimizer state (steps taken; per parameter its moments, momentum, EMA), so
    that training goes on after load_model where it stopped, as a Keras .keras file does."""
    optimizer = model.optimizer
    arrays = {f"{OPTIMIZER}iterations": np.array(optimizer.iterations, np.int64)}
    for name, p in model.named_parameters():
        for key, value in optimizer.state.get(id(p), {}).items():
            host = np.array(value, np.int64) if isinstance(value, int) else p.backend.to_host(value)
            arrays[f"{OPTIMIZER}{name}/{key}"] = host
    return arrays


def _restore_optimizer(model, arrays):
    optimizer, backend = model.optimizer, None
    optimizer.iterations = int(arrays.pop(f"{OPTIMIZER}iterations", 0))
    parameters = dict(model.named_parameters())
    for entry in sorted(k for k in arrays if k.startswith(OPTIMIZER)):
        name, _, key = entry[len(OPTIMIZER):].rpartition("/")
        value = arrays.pop(entry)
        if name not in parameters:
            raise ValueError(f"optimizer state for {name!r}, which the model lacks")
        p = parameters[name]
        backend = p.backend
        state = optimizer.state.setdefault(id(p), {})
        state[key] = int(value) if value.ndim == 0 and value.dtype.kind == "i" else backend.from_host(value)


def _plain(value):
    """JSON for what a layer's arguments may hold besides Python's own types: NumPy numbers and arrays."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise ValueError(f"save: a {type(value).__name__} ({value!r}) among the model's arguments can't be written "
                     f"to a file (a function given as activation?): name it instead, activation='relu', or keep "
                     f"the architecture in code and use save_weights(path)")


def save_weights(model, path):
    """The weights by name: an .npz file, or safetensors' format where `path` ends in .safetensors."""
    if not model.built:
        raise ValueError("save_weights: the model has no weights yet; call it on a batch first")
    if os.fspath(path).endswith(".safetensors"):
        from .safetensors import save_file
        save_file(weight_arrays(model), path, metadata={"format": CODE_FORMAT})
    else:
        atomic_savez(path, weight_arrays(model))


def read_arrays(path):
    """The arrays of a .npz file, after checking that it is one and that no entry expands beyond its size."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    if not stat.S_ISREG(os.stat(path).st_mode):     # a FIFO, /dev/zero or a folder: it would block or never end
        raise ValueError(f"{path}: not a minicnn model file (not a regular file)")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path}: not a minicnn model file (not an .npz archive; empty, truncated or another format)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = [entry.filename for entry in archive.infolist()]
            if len(set(names)) != len(names):
                raise ValueError(f"{path}: not a minicnn model file (an entry appears twice)")
            for entry in archive.infolist():
                _check_entry(archive, entry, path)
        with np.load(path, allow_pickle=False) as file:
            return {key: file[key] for key in file.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        if str(error).startswith(f"{path}:"):
            raise
        raise ValueError(f"{path}: not a minicnn model file, or a damaged one ({error})") from None


def _check_entry(archive, entry, path):
    """An entry must be a plain .npy array whose header, declared size and stored size agree."""
    if not entry.filename.endswith(".npy"):
        raise ValueError(f"{path}: not a minicnn model file (entry {entry.filename!r} is not an array)")
    if entry.file_size > MAX_EXPANSION * entry.compress_size + 2 ** 16:
        raise ValueError(f"{path}: not a minicnn model file (entry {entry.filename!r} would expand from "
                         f"{entry.compress_size} to {entry.file_size} bytes)")
    with archive.open(entry) as member:
        version = np.lib.format.read_magic(member)
        if version not in _HEADER_READERS:
            raise ValueError(f"{path}: entry {entry.filename!r} has an .npy header of version {version}")
        shape, _, dtype = _HEADER_READERS[version](member)
        header = member.tell()
    if dtype.hasobject:
        raise ValueError(f"{path}: entry {entry.filename!r} holds pickled Python objects, which minicnn never loads")
    # weights are real numbers; the architecture is one string
    wanted = "U" if entry.filename in ("__architecture__.npy", "__structure__.npy") else "fiub"
    if dtype.kind not in wanted or dtype.fields is not None or (wanted == "U" and shape != ()):
        raise ValueError(f"{path}: not a minicnn model file (entry {entry.filename!r} holds {dtype} {shape})")
    data = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if header + data != entry.file_size:
        raise ValueError(f"{path}: entry {entry.filename!r} declares {data} bytes of {dtype} {shape} but holds "
                         f"{entry.file_size - header}")


def read_model(path, layer_types):
    """A model file's parts: (architecture, layers, weights, optimizer state). The layers are made from
    the classes of layer_types (the layer registry); mc.load_model joins them into a model again."""
    arrays = read_arrays(path)
    if "__architecture__" not in arrays:
        raise ValueError(f"{path}: no architecture inside; was it written by save_weights? "
                         f"Build the model in code and use model.load_weights(path)")
    try:
        spec = json.loads(str(arrays.pop("__architecture__")))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not a minicnn model file (its architecture is not JSON: {error})") from None
    if isinstance(spec, dict) and spec.get("format") == CODE_FORMAT:
        name = spec.get("class", "Model")
        raise ValueError(f"{path}: the weights of a {name} model, whose architecture is code: construct it "
                         f"(model = {name}(...)) and call model.load_weights(path)")
    if not isinstance(spec, dict) or spec.get("format") not in (FORMAT, FUNCTIONAL_FORMAT):
        raise ValueError(f"{path}: not a minicnn model file (format "
                         f"{spec.get('format') if isinstance(spec, dict) else spec!r})")
    if spec.get("version") != VERSION:
        raise ValueError(f"{path}: a minicnn model file of version {spec.get('version')!r}; this minicnn reads "
                         f"version {VERSION} (a newer minicnn wrote it?)")
    with damaged_if_wrong(path, "its architecture does not describe a model"):
        layers = [built_layer(entry, layer_types, path) for entry in spec["layers"]]
    state = {k: arrays.pop(k) for k in list(arrays) if k.startswith(OPTIMIZER)}
    return spec, layers, arrays, state


@contextlib.contextmanager
def damaged_if_wrong(path, what):
    """A file whose contents don't fit together is a damaged file, said so by name, not a KeyError."""
    try:
        yield
    except (KeyError, TypeError, IndexError, AttributeError, ValueError) as error:
        if str(error).startswith(f"{path}:"):
            raise
        raise ValueError(f"{path}: a damaged minicnn model file ({what}: {type(error).__name__}: {error})") from None


def compile_as_saved(model, settings, state, path):
    """Compile `model` with the saved optimizer, loss and metrics, and give the optimizer its saved state."""
    with damaged_if_wrong(path, "its compile settings or optimizer state"):
        model.compile(_rebuilt(settings["optimizer"], OPTIMIZER_TYPES), _rebuilt(settings["loss"], LOSS_TYPES),
                      metrics=[m if isinstance(m, str) else _rebuilt(m, METRIC_TYPES) for m in settings["metrics"]])
        _restore_optimizer(model, state)


def load_weights(model, path):
    if os.fspath(path).endswith(".safetensors"):
        from .safetensors import load_file
        return set_weight_arrays(model, load_file(path), path)
    arrays = read_arrays(path)
    arrays = {k: v for k, v in arrays.items() if k != "__architecture__" and not k.startswith(OPTIMIZER)}
    set_weight_arrays(model, arrays, path)


def set_weight_arrays(model, arrays, source):
    if not model.built:
        raise ValueError("load_weights: build the model first (pass input_shape or call it on a batch)")
    set_weights_by_name(model, arrays, source)
