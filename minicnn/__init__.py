"""minicnn: a small autograd library for learning how convolutional networks classify images.

    import minicnn as mc
    x = mc.randn(8, 1, 28, 28)
    w = mc.randn(4, 1, 3, 3, requires_grad=True)
    loss = mc.F.relu(mc.F.conv2d(x, w, padding="same")).mean()
    loss.backward()          # w.grad now holds d loss / d w
"""

from . import callbacks, data, datasets, functional, layers, losses, metrics, optimizers, plots, schedules, viz
from . import functional as F
from .autograd import is_grad_enabled, no_grad
from .backend import get_backend, get_num_threads, gpu_available, set_num_threads
from .gradcheck import gradcheck
from .models import Input, Model, Sequential, load_model
from .random import manual_seed
from .tensor import Tensor, ones, randn, tensor, zeros

__version__ = "0.1.0"

__all__ = ["Tensor", "tensor", "zeros", "ones", "randn", "manual_seed", "no_grad", "is_grad_enabled",
           "gradcheck", "functional", "F", "metrics", "plots", "viz", "get_backend", "gpu_available",
           "set_num_threads", "get_num_threads", "Input", "Model", "Sequential", "load_model",
           "layers", "losses", "optimizers", "schedules", "callbacks", "data", "datasets"]
