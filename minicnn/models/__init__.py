"""mc.models: whole networks built from layers (Model: written as code; Sequential: a list of layers)."""

from ..layers.symbolic import Input
from .loading import load_model
from .model import Model
from .sequential import Sequential

__all__ = ["Input", "Model", "Sequential", "load_model"]
