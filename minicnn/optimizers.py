"""Optimizers: turn each parameter's .grad into an update of its .data.

Use them in a plain loop (PyTorch style):

    opt = mc.optimizers.Adam(model.parameters(), lr=1e-3)
    loss.backward(); opt.step(); opt.zero_grad()

or give them to model.compile without parameters (Keras style); compile binds
them to the model. `lr` is a number or a schedule from mc.schedules;
`learning_rate=` (Keras' name) is the same argument, and `optimizer.learning_rate`
reads or sets it.

use_ema=True (Keras' option) also keeps an exponential moving average of every
parameter, ema = m * ema + (1 - m) * p after each step; fit copies the averages
into the model when training ends (finalize_variable_values). The average of the
last few hundred steps' weights usually generalises better than the last ones.
"""

import numbers

from .autograd import no_grad


class Optimizer:
    def __init__(self, params, lr, weight_decay, learning_rate=None, use_ema=False, ema_momentum=0.99):
        if learning_rate is not None:
            lr = learning_rate
        if not callable(lr) and not (isinstance(lr, numbers.Real) and not isinstance(lr, bool) and lr > 0):
            raise ValueError(f"{type(self).__name__}: lr must be a positive number or a schedule, got lr={lr!r}")
        if not (isinstance(weight_decay, numbers.Real) and weight_decay >= 0):
            raise ValueError(f"{type(self).__name__}: weight_decay must be a number >= 0, got {weight_decay!r}")
        if not (isinstance(ema_momentum, numbers.Real) and 0 <= ema_momentum < 1):
            raise ValueError(f"{type(self).__name__}: ema_momentum must be in [0, 1), got {ema_momentum!r}")
        self.params = None if params is None else list(params)
        self.use_ema, self.ema_momentum = bool(use_ema), ema_momentum
        self.lr = lr
        self.weight_decay = weight_decay
        self.iterations = 0      # steps taken: what a schedule reads
        self.state = {}          # per parameter: momentum buffers, moment estimates

    def bind(self, params):
        """Attach to parameters (model.compile does this when none were given)."""
        self.params = list(params)
        return self

    @property
    def learning_rate(self):
        return self.lr

    @learning_rate.setter
    def learning_rate(self, value):
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


class SGD(Optimizer):
    """p -= lr * g, with optional (Nesterov) momentum: v = momentum * v + g."""

    def __init__(self, params=None, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0, learning_rate=None,
                 use_ema=False, ema_momentum=0.99):
        super().__init__(params, lr, weight_decay, learning_rate, use_ema, ema_momentum)
        self.momentum, self.nesterov = momentum, nesterov

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
        self.rho, self.momentum, self.epsilon = rho, momentum, epsilon

    def update(self, p, g, lr, state):
        ms = state["ms"] = (1 - self.rho) * g * g if "ms" not in state else \
            self.rho * state["ms"] + (1 - self.rho) * g * g
        step = g / (p.xp.sqrt(ms) + self.epsilon)
        if self.momentum:
            step = state["velocity"] = step if "velocity" not in state else self.momentum * state["velocity"] + step
        p.data -= lr * step


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}


def get_optimizer(optimizer):
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in OPTIMIZERS:
        return OPTIMIZERS[optimizer.lower()]()
    raise ValueError(f"optimizer must be a mc.optimizers.Optimizer or one of {sorted(OPTIMIZERS)}, "
                     f"got {optimizer!r}")
