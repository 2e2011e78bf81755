"""mc.io: models and weights to and from .npz files, weights to and from safetensors files (no pickle).
It knows the file, not the model:
mc.load_model (models/loading.py) gives it the layer registry and puts the model together."""

from .keras_weights import load_keras_weights
from .safetensors import load_file, save_file
from .saving import load_weights, read_model, save_model, save_weights

__all__ = ["load_keras_weights", "load_file", "load_weights", "read_model", "save_file", "save_model", "save_weights"]
