"""minicnn.optim: PyTorch's torch.optim by its names, arguments and defaults.

    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    optimizer.zero_grad(); loss.backward(); optimizer.step()

The updates are mc.optimizers' (which follow PyTorch's formulas); here they take
PyTorch's arguments (params first and required, betas=, eps=, dampening=) and keep
the learning rate in `param_groups[0]["lr"]`, where torch.optim.lr_scheduler and
hand-written loops set it. One parameter group: a list of groups is refused by name.
"""

from .. import optimizers
from . import lr_scheduler


class _OneGroup:
    """PyTorch's param_groups, with one group: its "lr" is the learning rate every step reads."""

    @property
    def lr(self):
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value):
        if "param_groups" not in self.__dict__:
            self.param_groups = [{"params": [], "lr": value}]
        if callable(value):
            raise TypeError(f"{type(self).__name__}: lr must be a number (schedules come from "
                            f"minicnn.optim.lr_scheduler), got {value!r}")
        self.param_groups[0]["lr"] = value

    def _group(self, **settings):
        self.param_groups[0].update(params=self.params, **settings)

    def bind(self, params):
        super().bind(params)
        self.param_groups[0]["params"] = self.params        # compile and fit bind: the group follows
        return self

    def __repr__(self):
        settings = "".join(f"    {k}: {v}\n" for k, v in self.param_groups[0].items() if k != "params")
        return f"{type(self).__name__} (\nParameter Group 0\n{settings})"


class SGD(_OneGroup, optimizers.SGD):
    """v = momentum * v + (1 - dampening) * g (v = g at the first step); p -= lr * v (Nesterov:
    p -= lr * (g + momentum * v)). weight_decay adds weight_decay * p to g."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        if nesterov and (not momentum or dampening):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        if maximize:
            raise NotImplementedError("SGD: maximize=True is not supported by minicnn")
        optimizers.check_hyperparameters(self, dampening=(dampening, 0, None))
        super().__init__(params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
        self.dampening = dampening
        self._group(momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)

    def update(self, p, g, lr, state):
        if self.momentum and self.dampening and "velocity" in state:
            # PyTorch's dampening: v = momentum * v + (1 - dampening) * g after the first step
            state["velocity"] = self.momentum * state["velocity"] + (1 - self.dampening) * g
            g = g + self.momentum * state["velocity"] if self.nesterov else state["velocity"]
            p.data -= lr * g
            return
        super().update(p, g, lr, state)


def _betas(who, betas):
    if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
        raise ValueError(f"{who}: betas must be a pair (beta1, beta2), got {betas!r}")
    return betas


class Adam(_OneGroup, optimizers.Adam):
    """PyTorch's Adam; weight_decay is an L2 penalty added to the gradient (AdamW decouples it)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        if amsgrad:
            raise NotImplementedError("Adam: amsgrad=True is not supported by minicnn")
        b1, b2 = _betas(type(self).__name__, betas)
        super().__init__(params, lr=lr, beta_1=b1, beta_2=b2, epsilon=eps, weight_decay=weight_decay)
        self._group(betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=False)


class AdamW(_OneGroup, optimizers.AdamW):
    """PyTorch's AdamW: weights shrink by lr * weight_decay each step, outside the moments (default 0.01)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        if amsgrad:
            raise NotImplementedError("AdamW: amsgrad=True is not supported by minicnn")
        b1, b2 = _betas(type(self).__name__, betas)
        super().__init__(params, lr=lr, beta_1=b1, beta_2=b2, epsilon=eps, weight_decay=weight_decay)
        self._group(betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=False)


__all__ = ["SGD", "Adam", "AdamW", "lr_scheduler"]
