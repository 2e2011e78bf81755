"""mc.nn weights to and from torch.nn's: the same names and layouts, each Conv2d kernel turned 180
degrees (PyTorch's Conv2d computes cross-correlation, minicnn's the lecture's convolution).

    mc.io.save_file(mc.nn.torch_state_dict(net), "net.safetensors")   # safetensors.torch.load_file reads it
    torch_net.load_state_dict(safetensors.torch.load_file("net.safetensors"))
    mc.nn.load_torch_state_dict(net, torch_net.state_dict())          # and back
"""

import numpy as np

from ..ops.conv import cross_correlation_kernel
from .modules import Conv2d


def _conv_weights(module, prefix=""):
    """The state-dict names of every Conv2d weight inside `module`."""
    if isinstance(module, Conv2d):
        yield f"{prefix}weight"
    for name, child in module.children():
        yield from _conv_weights(child, f"{prefix}{name}.")


def torch_state_dict(module):
    """module.state_dict() as torch.nn's module of the same architecture holds it: {name: np.ndarray}."""
    state = module.state_dict()
    for name in _conv_weights(module):
        state[name] = cross_correlation_kernel(state[name])
    return state


def load_torch_state_dict(module, state, strict=True):
    """Load a torch.nn module's state dict (its tensors, or arrays) into the mc.nn module of the same
    architecture; returns (missing_keys, unexpected_keys) as load_state_dict."""
    arrays = {name: np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)
              for name, value in state.items()}
    for name in _conv_weights(module):
        if name in arrays:
            arrays[name] = cross_correlation_kernel(arrays[name])
    return module.load_state_dict(arrays, strict=strict)
