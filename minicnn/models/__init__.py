"""mc.models: whole networks built from layers (Model: written as code; Sequential: a list of layers)."""

from .functional import Input
from .model import Model
from .sequential import Sequential

__all__ = ["Input", "Model", "Sequential"]
