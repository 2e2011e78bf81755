"""minicnn.optim.lr_scheduler: PyTorch's epoch schedulers, which set optimizer.param_groups[0]["lr"].

    scheduler = lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train(...)
        scheduler.step()            # once per epoch, after the optimizer's steps

Each is a closed form of the epoch count (last_epoch) and the learning rate the
optimizer had when the scheduler was made (its "initial_lr").
"""

import math
import numbers


class LRScheduler:
    def __init__(self, optimizer, last_epoch=-1):
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"{type(self).__name__}: optimizer must be a minicnn.optim optimizer (it keeps "
                            f"param_groups), got {type(optimizer).__name__}")
        if last_epoch != -1:
            raise NotImplementedError(f"{type(self).__name__}: resuming with last_epoch={last_epoch!r} is not "
                                      f"supported by minicnn; make the scheduler at the start")
        self.optimizer = optimizer
        group = optimizer.param_groups[0]
        group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"]]
        self.last_epoch = -1
        self.step()

    def step(self):
        self.last_epoch += 1
        self.optimizer.param_groups[0]["lr"] = self.lr_at(self.last_epoch)
        self._last_lr = [self.optimizer.param_groups[0]["lr"]]

    def get_last_lr(self):
        return list(self._last_lr)

    def lr_at(self, epoch):
        raise NotImplementedError

    def state_dict(self):
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}


def _check(who, **values):
    for name, (value, low) in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < low:
            raise ValueError(f"{who}: {name} must be a number >= {low}, got {name}={value!r}")


class StepLR(LRScheduler):
    """lr = initial_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        _check("StepLR", step_size=(step_size, 1), gamma=(gamma, 0))
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch):
        return self.base_lrs[0] * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2: down to eta_min at
    T_max, then back up (PyTorch's schedule is periodic too; restart it for another cycle)."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        _check("CosineAnnealingLR", T_max=(T_max, 1), eta_min=(eta_min, 0))
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch):
        return self.eta_min + (self.base_lrs[0] - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


__all__ = ["LRScheduler", "StepLR", "CosineAnnealingLR"]
