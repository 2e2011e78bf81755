"""Weights in safetensors' format (minicnn/io/safetensors.py, written from the documented layout): the
safetensors package reads what minicnn writes and the reverse, for every dtype and shape; a model's
weights go through save_weights / load_weights; broken files are refused before any tensor is read."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minicnn as mc

st_numpy = pytest.importorskip("safetensors.numpy")
L = mc.layers
DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "uint16", "uint32", "uint64",
          "bool"]


@st.composite
def tensor_dicts(draw):
    names = draw(st.lists(st.text("abcxyz.0123_", min_size=1, max_size=8), min_size=0, max_size=4, unique=True))
    return {name: draw(hnp.arrays(st.sampled_from(DTYPES).map(np.dtype), hnp.array_shapes(min_dims=0, max_dims=3,
                                                                                        min_side=0, max_side=4)))
            for name in names}


def assert_same(a, b):
    assert set(a) == set(b)
    for name in a:
        assert a[name].dtype == b[name].dtype and a[name].shape == b[name].shape, name
        np.testing.assert_array_equal(a[name], b[name])


@given(tensor_dicts())
def test_the_package_reads_minicnns_files_and_minicnn_reads_the_packages(tmp_path_factory, tensors):
    folder = tmp_path_factory.mktemp("st")
    mc.io.save_file(tensors, folder / "mine.safetensors", metadata={"by": "minicnn"})
    assert_same(st_numpy.load_file(folder / "mine.safetensors"), tensors)
    st_numpy.save_file(tensors, str(folder / "theirs.safetensors"), metadata={"by": "safetensors"})
    assert_same(mc.io.load_file(folder / "theirs.safetensors"), tensors)
    assert mc.io.safetensors.read_metadata(folder / "theirs.safetensors") == {"by": "safetensors"}


def test_save_weights_and_load_weights_by_name_in_safetensors(tmp_path):
    def build():
        return mc.Sequential([L.Conv2D(3, 3, padding="same"), L.BatchNormalization(), L.Flatten(), L.Dense(2)],
                             input_shape=(2, 5, 5))
    model, other = build(), build()
    model.layers[1].buffers["moving_mean"].data[...] = 0.5
    model.save_weights(tmp_path / "w.safetensors")
    stored = st_numpy.load_file(tmp_path / "w.safetensors")
    assert set(stored) == set(model.state_dict()) and stored["0.kernel"].shape == (3, 2, 3, 3)
    other.load_weights(tmp_path / "w.safetensors")
    x = np.random.default_rng(0).normal(size=(2, 2, 5, 5)).astype(np.float32)
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    st_numpy.save_file({"0.kernel": stored["0.kernel"]}, str(tmp_path / "part.safetensors"))
    with pytest.raises(ValueError, match="missing"):
        other.load_weights(tmp_path / "part.safetensors")


def header_file(path, header, data=b""):
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + data)
    return path


@pytest.mark.parametrize("header, data, why", [
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, "tensors take 8 bytes"),
    ({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8, "needs 12"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
      "b": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}, b"\0" * 8, "overlap or leave gaps"),
    ({"a": {"dtype": "O", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8, "lacks a known dtype"),
    ([1, 2], b"", "not a JSON object"),
])
def test_broken_files_are_refused_before_any_tensor_is_read(tmp_path, header, data, why):
    with pytest.raises(ValueError, match=why):
        mc.io.load_file(header_file(tmp_path / "bad.safetensors", header, data))


def test_files_that_are_not_safetensors_are_refused(tmp_path):
    (tmp_path / "short.safetensors").write_bytes(b"\1\2")
    with pytest.raises(ValueError, match="shorter than its 8-byte header length"):
        mc.io.load_file(tmp_path / "short.safetensors")
    (tmp_path / "huge.safetensors").write_bytes((10 ** 12).to_bytes(8, "little") + b"{}")
    with pytest.raises(ValueError, match="a header of 1000000000000 bytes"):
        mc.io.load_file(tmp_path / "huge.safetensors")
    (tmp_path / "text.safetensors").write_bytes((3).to_bytes(8, "little") + b"{x}")
    with pytest.raises(ValueError, match="not JSON"):
        mc.io.load_file(tmp_path / "text.safetensors")
    with pytest.raises(ValueError, match="dtype object"):
        mc.io.save_file({"a": np.array(["x"], object)}, tmp_path / "o.safetensors")
    assert not (tmp_path / "o.safetensors").exists()
