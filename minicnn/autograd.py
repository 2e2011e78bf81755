"""Reverse-mode automatic differentiation: recording the graph and walking it backwards.

Every op computes its output array, then calls `record(...)` with the tensors
it read and a `backward(grad)` closure that turns the output's gradient into
one gradient per input. `backward` below visits the recorded graph in reverse
topological order, so each node's gradient is complete before it is passed on.
"""

import threading
from contextlib import contextmanager

# One switch per thread, as PyTorch's: `no_grad` in one thread leaves the others recording.
_mode = threading.local()


def is_grad_enabled():
    return getattr(_mode, "enabled", True)


@contextmanager
def no_grad():
    """Inside `with mc.no_grad():` ops record nothing (inference, optimizer updates), in this thread."""
    previous, _mode.enabled = is_grad_enabled(), False
    try:
        yield
    finally:
        _mode.enabled = previous


class set_grad_enabled:
    """PyTorch's set_grad_enabled(mode): switches recording on or off at once, in this thread; used as
    `with mc.set_grad_enabled(is_training):` it switches back when the block ends."""

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled: mode must be True or False, got {mode!r}")
        self.previous, _mode.enabled = is_grad_enabled(), mode

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        _mode.enabled = self.previous


def record(out, parents, backward):
    """Attach `out` to the graph when grad is on and some parent needs a gradient.

    `backward(grad)` returns one gradient array (or None) per parent, each
    already reduced to that parent's shape.
    """
    if is_grad_enabled() and any(p.requires_grad for p in parents):
        out.requires_grad = True
        out._parents = tuple(parents)
        out._versions = tuple(p._version for p in parents)     # as they were read
        out._backward = backward
        for p in parents:
            p._read_by_graph = True     # relu_ must not write over it now
    return out


def topological_order(root):
    """Nodes that need a gradient, each after all of its parents (iterative DFS)."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    return order


def backward(root, grad):
    """Propagate `grad` (an array shaped like root) to every leaf that requires grad.

    Leaf gradients accumulate into `.grad`; the graph's closures (and the
    arrays they hold) are released as soon as each node is done.
    """
    grads = {id(root): grad}
    for node in reversed(topological_order(root)):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        if node._backward is None:
            if node._released:
                raise RuntimeError(
                    "backward() through a graph that was already released: "
                    "a graph can be walked once; run the forward pass again")
            node._accumulate_grad(g)
            continue
        if any(p._version != v for p, v in zip(node._parents, getattr(node, "_versions", ()))):
            raise RuntimeError("backward(): a tensor this result was computed from was changed in place since "
                               "(x -= ..., x[i] = ...), so its gradient would be wrong; change it after backward()")
        for parent, parent_grad in zip(node._parents, node._backward(g)):
            if parent_grad is None or not parent.requires_grad:
                continue
            key = id(parent)
            grads[key] = parent_grad if key not in grads else grads[key] + parent_grad
        node._parents, node._backward, node._released = (), None, True
