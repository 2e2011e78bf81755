"""mc.io: models and weights to and from .npz files (no pickle)."""

from .saving import load_model, load_weights, save_model, save_weights

__all__ = ["load_model", "load_weights", "save_model", "save_weights"]
