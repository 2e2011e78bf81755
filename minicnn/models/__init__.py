"""mc.models: whole networks built from layers."""

from .sequential import Sequential

__all__ = ["Sequential"]
