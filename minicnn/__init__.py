"""minicnn: a small autograd library for learning how convolutional networks classify images.

    import minicnn as mc
    x = mc.randn(8, 1, 28, 28)
    w = mc.randn(4, 1, 3, 3, requires_grad=True)
    loss = mc.F.relu(mc.F.conv2d(x, w, padding="same")).mean()
    loss.backward()          # w.grad now holds d loss / d w
"""

import numpy as np

from . import callbacks, cuda, data, datasets, functional, layers, losses, metrics, nn, optim, optimizers, plots
from . import distributed, onnx, schedules, utils, viz
from . import functional as F
from .autograd import is_grad_enabled, no_grad, set_grad_enabled
from .backend import device, get_backend, get_num_threads, gpu_available, set_num_threads
from .gradcheck import gradcheck
from .io.state import load, save
from .models import Input, Model, Sequential, load_model
from .random import Generator, manual_seed
from .tensor import Tensor, ones, randn, tensor, zeros
from .tensor_functions import argmax, flatten, from_numpy, max, mean, sum

# PyTorch's dtype names (minicnn.float32, minicnn.long, ...): NumPy dtypes underneath
float32 = float = np.dtype("float32")
float64 = double = np.dtype("float64")
int64 = long = np.dtype("int64")
int32 = int = np.dtype("int32")
uint8 = np.dtype("uint8")
bool = np.dtype("bool")

__version__ = "0.1.0"

__all__ = ["Tensor", "tensor", "zeros", "ones", "randn", "manual_seed", "no_grad", "is_grad_enabled",
           "gradcheck", "functional", "F", "metrics", "plots", "viz", "get_backend", "gpu_available",
           "set_num_threads", "get_num_threads", "Input", "Model", "Sequential", "load_model",
           "layers", "losses", "optimizers", "schedules", "callbacks", "data", "datasets", "distributed", "onnx",
           "nn", "optim", "utils", "cuda", "save", "load", "device", "set_grad_enabled", "Generator", "from_numpy",
           "flatten", "max", "argmax", "sum", "mean", "float32", "float", "float64", "double", "int64", "long",
           "int32", "int", "uint8", "bool"]
