"""Weights between mc.nn and torch.nn through safetensors files: the same names and layouts, each
Conv2d kernel turned 180 degrees on the way (mc.nn.torch_state_dict / load_torch_state_dict), and
then the two networks give the same outputs; unflipped, they would not."""

import numpy as np
import pytest
from conftest import assert_close

import minicnn as mc
import minicnn.nn as nn

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")


def both_networks():
    def layers(n):
        return [n.Conv2d(3, 4, 3, padding=1), n.BatchNorm2d(4), n.ReLU(), n.MaxPool2d(2), n.Conv2d(4, 5, 3, stride=2),
                n.ReLU(), n.Flatten(), n.Linear(5 * 1 * 1, 3)]
    torch.manual_seed(0)
    return nn.Sequential(*layers(nn)), torch.nn.Sequential(*layers(torch.nn))


def images():
    return np.random.default_rng(0).normal(size=(4, 3, 6, 6)).astype(np.float32)


def train_a_little(net):
    """A few steps, so BatchNorm's running statistics and the weights are not their initial values."""
    optimizer = mc.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        net(mc.tensor(images())).sum().backward()
        optimizer.step()


def test_mc_nn_weights_load_into_torch_nn_through_safetensors(tmp_path):
    mine, theirs = both_networks()
    train_a_little(mine)
    mc.io.save_file(nn.torch_state_dict(mine), tmp_path / "net.safetensors")
    state = safetensors_torch.load_file(str(tmp_path / "net.safetensors"))
    assert set(state) == set(theirs.state_dict())              # PyTorch's names, num_batches_tracked too
    theirs.load_state_dict(state, strict=True)
    mine.eval(), theirs.eval()
    assert_close(mine(mc.tensor(images())), theirs(torch.from_numpy(images())), rtol=1e-4, atol=1e-5)
    kernel = mine.state_dict()["0.weight"]
    np.testing.assert_array_equal(state["0.weight"].numpy(), kernel[..., ::-1, ::-1])   # flipped, once


def test_torch_nn_weights_load_into_mc_nn_and_unflipped_they_would_be_wrong(tmp_path):
    mine, theirs = both_networks()
    with torch.no_grad():
        theirs[1].running_mean.uniform_(-1, 1), theirs[1].running_var.uniform_(0.5, 2)
    safetensors_torch.save_file(theirs.state_dict(), str(tmp_path / "net.safetensors"))
    missing, unexpected = nn.load_torch_state_dict(mine, mc.io.load_file(tmp_path / "net.safetensors"))
    assert missing == [] and unexpected == []
    mine.eval(), theirs.eval()
    expected = theirs(torch.from_numpy(images()))
    assert_close(mine(mc.tensor(images())), expected, rtol=1e-4, atol=1e-5)
    mine.load_state_dict(mc.io.load_file(tmp_path / "net.safetensors"))         # as if no flip were needed
    assert np.abs(mine(mc.tensor(images())).numpy() - expected.detach().numpy()).max() > 1e-2
