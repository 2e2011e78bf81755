"""Weights by name in safetensors' format: the pickle-free exchange format of PyTorch's and Hugging
Face's world, written and read here from its documented layout (huggingface.co/docs/safetensors):

    8 bytes       N, the header's length (unsigned 64-bit, little-endian)
    N bytes       JSON: {name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
                  "__metadata__": {str: str}} (padded with spaces to a multiple of 8 bytes)
    the rest      each tensor's bytes, C order, little-endian, at [begin, end) of this part

    mc.io.save_file({"0.kernel": array, ...}, "weights.safetensors")    # safetensors.numpy's names
    mc.io.load_file("weights.safetensors")                              # {name: np.ndarray}

Reading checks the header against the file before it touches any tensor: offsets that tile the data
exactly, known dtypes, sizes that match the shapes. Nothing is unpickled.
"""

import json
import os
import stat

import numpy as np

from .saving import atomic_file

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
          "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}
NAMES = {np.dtype(code): name for name, code in DTYPES.items()}
MAX_HEADER = 100 * 2 ** 20          # safetensors' own limit on the header


def save_file(tensors, path, metadata=None):
    """Write {name: array} (NumPy arrays or minicnn tensors) to `path`, all or nothing."""
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise ValueError("save_file: metadata must be a dict of strings to strings")
        header["__metadata__"] = dict(metadata)
    for name, value in tensors.items():
        array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
        if not isinstance(name, str) or name == "__metadata__":
            raise ValueError(f"save_file: tensor names must be strings other than '__metadata__', got {name!r}")
        kind = NAMES.get(array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype)
        if kind is None:
            raise ValueError(f"save_file: {name!r} has dtype {array.dtype}; safetensors holds "
                             f"{', '.join(str(np.dtype(c)) for c in DTYPES.values())}")
        data = np.ascontiguousarray(array, dtype=DTYPES[kind]).tobytes()
        header[name] = {"dtype": kind, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)             # the data starts 8-byte aligned
    with atomic_file(path) as file:
        file.write(len(text).to_bytes(8, "little"))
        file.write(text)
        for data in blobs:
            file.write(data)


def load_file(path):
    """{name: np.ndarray} of a safetensors file (its metadata: read_metadata)."""
    header, data_start, raw = _read(path)
    return {name: np.frombuffer(raw, DTYPES[entry["dtype"]], count=int(np.prod(entry["shape"], dtype=np.int64)),
                                offset=data_start + entry["data_offsets"][0]).reshape(entry["shape"]).copy()
            for name, entry in header.items() if name != "__metadata__"}


def read_metadata(path):
    return dict(_read(path)[0].get("__metadata__", {}))


def _read(path):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError(f"{path}: not a safetensors file (not a regular file)")
    with open(path, "rb") as file:
        raw = file.read()

    def refuse(why):
        return ValueError(f"{path}: not a safetensors file ({why})")
    if len(raw) < 8:
        raise refuse("shorter than its 8-byte header length")
    size = int.from_bytes(raw[:8], "little")
    if size > MAX_HEADER or 8 + size > len(raw):
        raise refuse(f"a header of {size} bytes in a file of {len(raw)}")
    try:
        header = json.loads(raw[8:8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise refuse(f"its header is not JSON: {error}") from None
    if not isinstance(header, dict):
        raise refuse("its header is not a JSON object")
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise refuse("__metadata__ must map strings to strings")
            continue
        if not (isinstance(entry, dict) and entry.get("dtype") in DTYPES and isinstance(entry.get("shape"), list)
                and all(isinstance(d, int) and d >= 0 for d in entry["shape"])
                and isinstance(entry.get("data_offsets"), list) and len(entry["data_offsets"]) == 2
                and all(isinstance(o, int) for o in entry["data_offsets"])):
            raise refuse(f"entry {name!r} lacks a known dtype, a shape or two data offsets: {entry!r}")
        begin, end = entry["data_offsets"]
        expected = int(np.prod(entry["shape"], dtype=np.int64)) * np.dtype(DTYPES[entry["dtype"]]).itemsize
        if end - begin != expected:
            raise refuse(f"entry {name!r} holds {end - begin} bytes, its shape {entry['shape']} needs {expected}")
        spans.append((begin, end))
    position = 0
    for begin, end in sorted(spans):            # the tensors tile the data, no gap, no overlap
        if begin != position:
            raise refuse("its tensors' bytes overlap or leave gaps")
        position = end
    if position != len(raw) - 8 - size:
        raise refuse(f"its tensors take {position} bytes, the file holds {len(raw) - 8 - size} after the header")
    return header, 8 + size, raw
