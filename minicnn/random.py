"""minicnn's own random numbers: one seeded generator, separate from NumPy's global state.

Numbers are drawn on the host in float32 and copied to the tensor's device,
so a seed gives the same initial weights and dropout masks on every device.
"""

import numbers

import numpy as np

DEFAULT_SEED = 0
_generator = np.random.Generator(np.random.PCG64(DEFAULT_SEED))


def manual_seed(seed):
    """Restart minicnn's generator from `seed` (NumPy's global state is untouched)."""
    global _generator
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: seed must be an int, got {seed!r}")
    _generator = np.random.Generator(np.random.PCG64(int(seed) % 2 ** 64))     # any int, negative too (PyTorch)


def follow(state, stream=0):
    """Continue from another process's generator state (its bit_generator.state): stream 0 that very
    stream, stream k the k-th of its independent streams (PCG64 jumped k * 2**127 draws ahead)."""
    global _generator
    bits = np.random.PCG64()
    bits.state = state
    _generator = np.random.Generator(bits.jumped(stream) if stream else bits)


class Generator:
    """A seeded source of random numbers of one's own, as PyTorch's torch.Generator: give it to
    minicnn.utils.data.random_split or DataLoader (generator=) to keep their draws apart."""

    def __init__(self, device="cpu"):
        self.device = device
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed):
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
            raise TypeError(f"manual_seed: seed must be an int, got {seed!r}")
        self.numpy_generator = np.random.Generator(np.random.PCG64(int(seed) % 2 ** 64))
        return self


def generator():
    """The generator itself, for code that needs more than uniform/normal draws."""
    return _generator


def uniform(shape):
    """float32 numbers in [0, 1) on the host."""
    return _generator.random(shape, dtype=np.float32)


def normal(shape):
    """float32 standard normal numbers on the host."""
    return _generator.standard_normal(shape, dtype=np.float32)
