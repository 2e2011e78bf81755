"""mc.layers: Keras-style building blocks for mc.Sequential (NCHW throughout)."""

from .activations import Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .augmentation import (RandomColorBalance, RandomContrast, RandomFlip, RandomRotate90, RandomRotation,
                           RandomTranslation, RandomZoom)
from .base import Layer
from .conv import Conv1D, Conv2D, DepthwiseConv2D, SeparableConv2D
from .core import Dense, Dropout, Flatten, Rescaling, Resizing
from .merge import Add, Concatenate, Multiply, add, concatenate, multiply
from .normalization import BatchNormalization, Normalization
from .pooling import AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D

__all__ = ["Layer", "LAYER_TYPES", "Activation", "LeakyReLU", "ReLU", "Sigmoid", "Softmax", "Tanh", "RandomFlip",
           "RandomRotate90", "RandomTranslation", "RandomRotation", "RandomZoom", "RandomContrast",
           "RandomColorBalance", "Resizing",
           "Conv1D", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Dense", "Dropout", "Flatten", "Rescaling",
           "BatchNormalization", "Normalization", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
           "MaxPooling2D", "Add", "Concatenate", "Multiply", "add", "concatenate", "multiply"]

LAYER_TYPES = {cls.__name__: cls for cls in (
    Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, RandomFlip, RandomRotate90, RandomTranslation,
    RandomRotation, RandomZoom, RandomContrast, RandomColorBalance, Resizing,
    Conv1D, Conv2D, DepthwiseConv2D, SeparableConv2D, Dense, Dropout, Flatten, Rescaling, BatchNormalization,
    Normalization,
    AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D, Add, Concatenate, Multiply)}
