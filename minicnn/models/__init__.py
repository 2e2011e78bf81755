"""mc.models: whole networks built from layers (Model: written as code; Sequential: a list of layers)."""

from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential"]
