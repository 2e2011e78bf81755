"""minicnn's own random numbers: seeded, separate from NumPy's global state, the same on every device.

Two sources, both restarted by manual_seed:

- the host's generator (NumPy's PCG64) for what is drawn once or lives on the host: initial
  weights, shuffles, splits, mixup's partners;
- a counter-based generator for the draws of every training step (dropout masks, augmentation),
  computed on the tensor's own device with array operations: number i of a draw is a hash of
  (the seed's key, the count of numbers drawn before it + i). Integer arithmetic is exact on every
  device, so a seed gives the same masks on NumPy, CuPy and any Array API module, and nothing is
  drawn on the host and copied over at each step.

The hash is SplitMix64's finaliser (Steele, Lea and Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014): a multiply-xorshift mix of a counter that passes BigCrush.
"""

import math
import numbers

import numpy as np

DEFAULT_SEED = 0
_GOLDEN = 0x9E3779B97F4A7C15       # 2**64 / golden ratio: the counter's step, as in SplitMix64
_MASK = 2 ** 64 - 1


def _mix(z):
    """SplitMix64's finaliser on a Python int (the same steps as _mix_array)."""
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & _MASK
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB & _MASK
    return z ^ (z >> 31)


class _Counter:
    """The device generator's state: a key from the seed (and stream), and how many numbers were drawn."""

    def __init__(self, seed, stream=0):
        self.key = _mix((seed + _GOLDEN * (stream + 1)) & _MASK)
        self.drawn = 0


def _seed_int(seed, who):
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise TypeError(f"{who}: seed must be an int, got {seed!r}")
    return int(seed) % 2 ** 64          # any int, negative too (PyTorch)


_generator = np.random.Generator(np.random.PCG64(DEFAULT_SEED))
_counter = _Counter(DEFAULT_SEED)


def manual_seed(seed):
    """Restart minicnn's generators from `seed` (NumPy's global state is untouched)."""
    global _generator, _counter
    seed = _seed_int(seed, "manual_seed")
    _generator = np.random.Generator(np.random.PCG64(seed))
    _counter = _Counter(seed)


def state():
    """Both generators' state, as plain data (for mc.distributed to broadcast, or to resume from)."""
    return {"host": _generator.bit_generator.state, "device": [_counter.key, _counter.drawn]}


def follow(saved, stream=0):
    """Continue from another process's state(): stream 0 that very stream, stream k the k-th of its
    independent streams (the host's PCG64 jumped k * 2**127 draws ahead, the device's key re-mixed)."""
    global _generator, _counter
    bits = np.random.PCG64()
    bits.state = saved["host"]
    _generator = np.random.Generator(bits.jumped(stream) if stream else bits)
    key, drawn = saved["device"]
    _counter = _Counter(0)
    _counter.key, _counter.drawn = (_mix(key ^ _mix(stream)) if stream else key), drawn


class Generator:
    """A seeded source of random numbers of one's own, as PyTorch's torch.Generator: give it to
    minicnn.utils.data.random_split or DataLoader (generator=) to keep their draws apart."""

    def __init__(self, device="cpu"):
        self.device = device
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed):
        self.numpy_generator = np.random.Generator(np.random.PCG64(_seed_int(seed, "manual_seed")))
        return self


def generator():
    """The host's generator itself, for code that needs more than uniform/normal draws."""
    return _generator


def uniform(shape):
    """float32 numbers in [0, 1) on the host."""
    return _generator.random(shape, dtype=np.float32)


def normal(shape):
    """float32 standard normal numbers on the host."""
    return _generator.standard_normal(shape, dtype=np.float32)


def _bits_on(backend, shape):
    """The next prod(shape) numbers of the counter-based generator, uint64 bits shaped `shape`, computed
    on `backend`'s device (Backend.random_bits: SplitMix64 of the counter)."""
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    n = math.prod(shape)
    bits = backend.random_bits(_counter.key, _counter.drawn, n)
    _counter.drawn = (_counter.drawn + n) & _MASK
    return backend.xp.reshape(bits, shape)


def uniform_on(backend, shape):
    """float32 numbers in [0, 1) computed on `backend`'s device by the counter-based generator: the
    step's draws, the same numbers on every device for a seed."""
    # the top 24 bits, times 2**-24: exact in float32, so no device rounds differently
    bits = _bits_on(backend, shape)
    return backend.xp.astype(bits >> 40, backend.dtype("float32")) * (2.0 ** -24)


def at_least_on(backend, shape, rate):
    """uniform_on(backend, shape) >= rate, as booleans, from the same draws without making the floats
    (u >= rate exactly when its 24 bits k satisfy k >= ceil(rate * 2**24)): dropout's mask."""
    least = math.ceil(rate * 2 ** 24)
    bits = _bits_on(backend, shape)
    if least >= 2 ** 24:        # rate within 2**-24 of 1: no draw reaches it (and 2**64 fits no uint64)
        return bits < 0
    return bits >= least << 40
