"""minicnn.nn: PyTorch's torch.nn by its names, so a PyTorch tutorial runs with `torch` renamed.

    import minicnn.nn as nn
    import minicnn.nn.functional as F

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.fc1 = nn.Linear(6 * 14 * 14, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            return self.fc1(minicnn.flatten(x, 1))

nn.Module is mc.Model (PyTorch's Module and Keras' Model in one). What differs from PyTorch:
the convolution flips its kernel (the lecture's true convolution), everything is float32,
and the options minicnn lacks (dilation, groups, ceil_mode, ...) are refused by name.
"""

from ..models import Model as Module
from . import functional
from .exchange import load_torch_state_dict, torch_state_dict
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .modules import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Identity, LeakyReLU,
                      Linear, LogSoftmax, MaxPool2d, ReLU, Sequential, Sigmoid, Softmax, Tanh)

__all__ = ["Module", "Sequential", "Conv2d", "Linear", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d",
           "Dropout", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Identity", "Flatten",
           "CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss", "BCELoss", "MSELoss", "functional", "torch_state_dict",
           "load_torch_state_dict"]
