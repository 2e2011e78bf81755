"""mc.io: models and weights to and from .npz files (no pickle). It knows the file, not the model:
mc.load_model (models/loading.py) gives it the layer registry and puts the model together."""

from .saving import load_weights, read_model, save_model, save_weights

__all__ = ["load_weights", "read_model", "save_model", "save_weights"]
