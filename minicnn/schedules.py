"""Learning-rate schedules: lr as a function of the optimizer's step count.

Pass one as an optimizer's lr: Adam(lr=mc.schedules.OneCycle(max_lr=3e-3)).
A length left as None (decay_steps, total_steps) is set by model.fit to the
number of steps of the whole run.
"""

import math
import numbers


class Schedule:
    total_steps = None

    def __call__(self, step):
        raise NotImplementedError

    def length(self):
        """total_steps, once known (fit sets it when left as None)."""
        if self.total_steps is None:
            raise ValueError(f"{type(self).__name__}: total_steps is not set; pass total_steps= or give the "
                             f"optimizer to model.compile, whose fit sets it to the run's number of steps")
        return self.total_steps


def _check(who, **values):
    """name=(value, kind): "rate" a number >= 0, "steps" an int >= 1 (or None where allowed: "steps?")."""
    for name, (value, kind) in values.items():
        if kind == "steps?" and value is None:
            continue
        whole = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        good = whole and value >= 1 if kind.startswith("steps") else (
            isinstance(value, numbers.Real) and not isinstance(value, bool) and value >= 0)
        if not good:
            wanted = "a positive int" if kind.startswith("steps") else "a number >= 0"
            raise ValueError(f"{who}: {name} must be {wanted}, got {name}={value!r}")


class StepDecay(Schedule):
    """initial_lr, multiplied by gamma every decay_steps steps."""

    def __init__(self, initial_lr, decay_steps, gamma=0.1):
        _check("StepDecay", initial_lr=(initial_lr, "rate"), decay_steps=(decay_steps, "steps"), gamma=(gamma, "rate"))
        self.initial_lr, self.decay_steps, self.gamma = initial_lr, decay_steps, gamma

    def __call__(self, step):
        return self.initial_lr * self.gamma ** (step // self.decay_steps)


class CosineDecay(Schedule):
    """From initial_lr down to min_lr along half a cosine over total_steps."""

    def __init__(self, initial_lr, total_steps=None, min_lr=0.0):
        _check("CosineDecay", initial_lr=(initial_lr, "rate"), total_steps=(total_steps, "steps?"),
               min_lr=(min_lr, "rate"))
        self.initial_lr, self.total_steps, self.min_lr = initial_lr, total_steps, min_lr

    def __call__(self, step):
        progress = min(step / self.length(), 1.0)
        return self.min_lr + (self.initial_lr - self.min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


class OneCycle(Schedule):
    """Warm up from max_lr / div_factor to max_lr over the first pct_start of the run, then
    anneal along a cosine to max_lr / (div_factor * final_div_factor) (PyTorch's OneCycleLR).
    """

    def __init__(self, max_lr, total_steps=None, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
        _check("OneCycle", max_lr=(max_lr, "rate"), total_steps=(total_steps, "steps?"),
               div_factor=(div_factor, "rate"), final_div_factor=(final_div_factor, "rate"))
        if not (isinstance(pct_start, numbers.Real) and 0 < pct_start < 1):
            raise ValueError(f"OneCycle: pct_start must be in (0, 1), got pct_start={pct_start!r}")
        self.max_lr, self.total_steps, self.pct_start = max_lr, total_steps, pct_start
        self.div_factor, self.final_div_factor = div_factor, final_div_factor

    def __call__(self, step):
        start = self.max_lr / self.div_factor
        end = start / self.final_div_factor
        warmup = max(self.pct_start * self.length() - 1, 1)
        if step <= warmup:
            return _cosine(start, self.max_lr, step / warmup)
        return _cosine(self.max_lr, end, min((step - warmup) / max(self.total_steps - 1 - warmup, 1), 1.0))


def _cosine(start, end, progress):
    return end + (start - end) * 0.5 * (1 + math.cos(math.pi * progress))


# the registry: a saved optimizer's schedule, by class name
SCHEDULE_TYPES = {cls.__name__: cls for cls in (StepDecay, CosineDecay, OneCycle)}
