"""Optimizers: turn each parameter's .grad into an update of its .data.

Use them in a plain loop (PyTorch style):

    opt = mc.optimizers.Adam(model.parameters(), lr=1e-3)
    loss.backward(); opt.step(); opt.zero_grad()

or give them to model.compile without parameters (Keras style: Adam(3e-4), the
learning rate first); compile binds them to the model. `lr` is a number or a schedule from mc.schedules;
`learning_rate=` (Keras' name) is the same argument, and `optimizer.learning_rate`
reads or sets it.

use_ema=True (Keras' option) also keeps an exponential moving average of every
parameter, ema = m * ema + (1 - m) * p after each step; fit copies the averages
into the model when training ends (finalize_variable_values). The average of the
last few hundred steps' weights usually generalises better than the last ones.
"""

import numbers

from .autograd import no_grad
from .schedules import Schedule


class Optimizer:
    def __init__(self, params, lr, weight_decay, learning_rate=None, use_ema=False, ema_momentum=0.99):
        if _number(params, 0) or isinstance(params, Schedule):
            params, lr = None, params           # Keras' Adam(3e-4): the first argument is the learning rate
        if learning_rate is not None:
            lr = learning_rate
        if not callable(lr) and not _number(lr, 0):
            raise ValueError(f"{type(self).__name__}: lr must be a number >= 0 or a schedule, got lr={lr!r}")
        check_hyperparameters(self, weight_decay=(weight_decay, 0, None), ema_momentum=(ema_momentum, 0, 1))
        self.params = None if params is None else checked_parameters(params, type(self).__name__)
        self.model = None        # the model whose compile bound this optimizer: one model per optimizer
        self.use_ema, self.ema_momentum = bool(use_ema), ema_momentum
        self.lr = lr
        self.weight_decay = weight_decay
        self.iterations = 0      # steps taken: what a schedule reads
        self.state = {}          # per parameter: momentum buffers, moment estimates

    def bind(self, params):
        """Attach to parameters (model.compile and fit do this with the model's trainable ones);
        each parameter's state (momentum, moments) is kept when it stays."""
        self.params = checked_parameters(params, type(self).__name__, allow_empty=True)
        return self

    @property
    def learning_rate(self):
        return self.lr

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(self.lr) and not callable(value):
            # Keras refuses this too: the schedule would silently stop
            raise TypeError(f"{type(self).__name__}: the learning rate is the schedule {self.lr!r}, which sets "
                            f"it every step, so it can't be set to {value!r} (by LearningRateScheduler or "
                            f"ReduceLROnPlateau, say). Give the optimizer a number as lr to adjust it, or keep the "
                            f"schedule alone.")
        if not callable(value) and not _number(value, 0):
            raise ValueError(f"{type(self).__name__}: learning_rate must be a number >= 0 or a schedule, "
                             f"got {value!r}")
        self.lr = value

    def current_lr(self):
        return self.lr(self.iterations) if callable(self.lr) else self.lr

    def step(self):
        if self.params is None:
            raise RuntimeError(f"{type(self).__name__} has no parameters: pass model.parameters() "
                               f"or give it to model.compile")
        lr = self.current_lr()
        self.iterations += 1
        with no_grad():
            for p in self.params:
                if p.grad is None:
                    continue
                g = self.decay(p, p.grad.data, lr) if self.weight_decay else p.grad.data
                self.update(p, g, lr, self.state.setdefault(id(p), {}))
            if self.use_ema:
                self._update_averages()

    def _update_averages(self):
        m = self.ema_momentum
        for p in self.params:
            state = self.state.setdefault(id(p), {})
            if "ema" not in state:
                state["ema"] = p.xp.astype(p.data, p.data.dtype, copy=True)      # the first step: a copy
            else:
                state["ema"] *= m
                state["ema"] += (1 - m) * p.data

    def finalize_variable_values(self):
        """With use_ema, write the moving averages into the parameters (fit does this at its end)."""
        if not self.use_ema:
            return
        for p in self.params or ():
            ema = self.state.get(id(p), {}).get("ema")
            if ema is not None:
                p.data[...] = ema

    def decay(self, p, g, lr):
        """weight_decay as an L2 penalty (PyTorch's weight_decay): its gradient added to g."""
        return g + self.weight_decay * p.data

    def update(self, p, g, lr, state):
        raise NotImplementedError

    def zero_grad(self):
        for p in self.params or ():
            p.grad = None


def _number(value, low, high=None):
    """A real number (not a bool) with low <= value (< high)."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool) and value >= low
            and (high is None or value < high))


def check_hyperparameters(optimizer, **values):
    """Each name=(value, low, high): refused unless low <= value (< high), as PyTorch refuses them."""
    for name, (value, low, high) in values.items():
        if not _number(value, low, high):
            wanted = f"a number >= {low}" if high is None else f"in [{low}, {high})"
            raise ValueError(f"{type(optimizer).__name__}: {name} must be {wanted}, got {name}={value!r}")


def checked_parameters(params, who, allow_empty=False):
    """`params` as a list of distinct leaf tensors, or an error that says what was passed instead."""
    from .tensor import Tensor
    if isinstance(params, Tensor) or not hasattr(params, "__iter__") or isinstance(params, (str, dict)):
        hint = " (a method: call it, model.parameters())" if callable(params) else ""
        raise TypeError(f"{who}: params must be an iterable of tensors such as model.parameters(), got "
                        f"{type(params).__name__}{hint}")
    params = list(params)
    for p in params:
        if isinstance(p, dict):
            raise TypeError(f"{who}: parameter groups (dicts) are not supported; pass one list of tensors and "
                            f"use one optimizer per learning rate")
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: params must hold mc.Tensor parameters, got a {type(p).__name__}")
        if not p.is_leaf:
            raise ValueError(f"{who}: can't optimize a tensor computed by other operations (a non-leaf); "
                             f"pass the parameters themselves")
    if not params and not allow_empty:
        raise ValueError(f"{who} got an empty parameter list. A network whose layers learn their input size "
                         f"has no weights until it has seen a batch: give it input_shape= (or call "
                         f"model.build(input_shape), or run one batch through it) before building the optimizer, "
                         f"or pass the optimizer to model.compile without parameters")
    return list({id(p): p for p in params}.values())      # each parameter once: updated once a step


class SGD(Optimizer):
    """p -= lr * g, with optional (Nesterov) momentum: v = momentum * v + g."""

    def __init__(self, params=None, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0, learning_rate=None,
                 use_ema=False, ema_momentum=0.99):
        super().__init__(params, lr, weight_decay, learning_rate, use_ema, ema_momentum)
        check_hyperparameters(self, momentum=(momentum, 0, None))
        if nesterov and not momentum:
            raise ValueError("SGD: nesterov=True needs a momentum > 0, got momentum=0")
        self.momentum, self.nesterov = momentum, bool(nesterov)

    def update(self, p, g, lr, state):
        if self.momentum:
            v = state["velocity"] = g if "velocity" not in state else self.momentum * state["velocity"] + g
            g = g + self.momentum * v if self.nesterov else v
        p.data -= lr * g


class Adam(Optimizer):
    """Adaptive moments: steps scaled by running estimates of the gradient's mean and variance."""

    def __init__(self, params=None, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.0,
                 learning_rate=None, use_ema=False, ema_momentum=0.99):
        super().__init__(params, lr, weight_decay, learning_rate, use_ema, ema_momentum)
        check_hyperparameters(self, beta_1=(beta_1, 0, 1), beta_2=(beta_2, 0, 1), epsilon=(epsilon, 0, None))
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def update(self, p, g, lr, state):
        b1, b2 = self.beta_1, self.beta_2
        t = state["t"] = state.get("t", 0) + 1
        m = state["m"] = (1 - b1) * g if "m" not in state else b1 * state["m"] + (1 - b1) * g
        v = state["v"] = (1 - b2) * g * g if "v" not in state else b2 * state["v"] + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)     # bias correction of the first steps
        p.data -= lr * m_hat / (p.xp.sqrt(v_hat) + self.epsilon)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): each step first shrinks the weights,
    p -= lr * weight_decay * p, outside the moment estimates. With plain Adam an L2 penalty's gradient
    is divided by sqrt(v) like any other, so weights with large gradients are barely decayed."""

    def __init__(self, params=None, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.01,
                 learning_rate=None, use_ema=False, ema_momentum=0.99):
        super().__init__(params, lr, beta_1, beta_2, epsilon, weight_decay, learning_rate, use_ema, ema_momentum)

    def decay(self, p, g, lr):
        p.data *= 1 - lr * self.weight_decay
        return g


class RMSprop(Optimizer):
    """Steps divided by a running root-mean-square of recent gradients."""

    def __init__(self, params=None, lr=1e-3, rho=0.9, momentum=0.0, epsilon=1e-7, weight_decay=0.0,
                 learning_rate=None, use_ema=False, ema_momentum=0.99):
        super().__init__(params, lr, weight_decay, learning_rate, use_ema, ema_momentum)
        check_hyperparameters(self, rho=(rho, 0, 1), momentum=(momentum, 0, None), epsilon=(epsilon, 0, None))
        self.rho, self.momentum, self.epsilon = rho, momentum, epsilon

    def update(self, p, g, lr, state):
        ms = state["ms"] = (1 - self.rho) * g * g if "ms" not in state else \
            self.rho * state["ms"] + (1 - self.rho) * g * g
        step = g / (p.xp.sqrt(ms) + self.epsilon)
        if self.momentum:
            step = state["velocity"] = step if "velocity" not in state else self.momentum * state["velocity"] + step
        p.data -= lr * step


# the registry: a saved model's class names; compile takes them in any case ("adam")
OPTIMIZER_TYPES = {cls.__name__: cls for cls in (SGD, Adam, AdamW, RMSprop)}


def get_optimizer(optimizer):
    if isinstance(optimizer, Optimizer):
        return optimizer
    for name, cls in OPTIMIZER_TYPES.items():
        if isinstance(optimizer, str) and optimizer.lower() == name.lower():
            return cls()
    raise ValueError(f"optimizer must be a mc.optimizers.Optimizer or one of "
                     f"{sorted(name.lower() for name in OPTIMIZER_TYPES)}, got {optimizer!r}")
