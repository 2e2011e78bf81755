"""minicnn.utils.data: PyTorch's Dataset, TensorDataset, Subset, DataLoader and random_split.

    loader = DataLoader(TensorDataset(images, labels), batch_size=32, shuffle=True)
    for epoch in range(epochs):
        for inputs, labels in loader:       # a new order every epoch (shuffle=True)
            ...

A DataLoader draws its order from minicnn's seeded generator (mc.manual_seed), or
from `generator=` (minicnn.Generator().manual_seed(42)). Batches are put together as
PyTorch's default_collate does: tensors and NumPy arrays stacked, Python ints as
int64, tuples field by field; floating-point numbers become float32 (minicnn's
default; PyTorch keeps NumPy's float64 and makes Python floats float64). TensorDatasets, mc's
ImageDatasets and Subsets of them are indexed a batch at a time rather than image by
image. Loading runs in the main process: num_workers and pin_memory are accepted
and change nothing.
"""

import math
import numbers

import numpy as np

from .. import random
from ..data.dataset import ImageDataset
from ..tensor import Tensor, tensor


class Dataset:
    """What a data set must supply: __getitem__(index) -> one sample, and __len__."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(self, index)")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__(self)")


class TensorDataset(Dataset):
    """Sample i is (tensors[0][i], tensors[1][i], ...)."""

    def __init__(self, *tensors):
        if not tensors or not all(isinstance(t, Tensor) for t in tensors):
            raise TypeError(f"TensorDataset takes tensors, got {[type(t).__name__ for t in tensors]}")
        if any(t.ndim == 0 or t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise ValueError(f"Size mismatch between tensors: first dimensions {[t.shape[:1] for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Subsets of the given lengths, or fractions summing to 1 (the remainder one each to the first
    subsets, as in PyTorch), from a random permutation of the samples."""
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1 and all(0 <= f <= 1 for f in lengths):
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if not all(isinstance(k, numbers.Integral) and k >= 0 for k in lengths) or sum(lengths) != n:
        raise ValueError(f"Sum of input lengths does not equal the length of the input dataset: lengths "
                         f"{lengths} for {n} samples")
    order = _generator(generator).permutation(n).tolist()
    subsets, start = [], 0
    for k in lengths:
        subsets.append(Subset(dataset, order[start:start + k]))
        start += k
    return subsets


def _generator(generator):
    if generator is None:
        return random.generator()
    if isinstance(generator, random.Generator):
        return generator.numpy_generator
    raise TypeError(f"generator must be a minicnn.Generator, got {type(generator).__name__}")


class DataLoader:
    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if batch_sampler is not None:
            raise NotImplementedError("DataLoader: batch_sampler is not supported by minicnn; use sampler= (an "
                                      "iterable of indices, e.g. mc.distributed.DistributedSampler) or shuffle=True")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle (got both)")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size!r}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError(f"num_workers option should be non-negative; got num_workers={num_workers!r}")
        if not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader: dataset must have a length (a map-style dataset), got "
                            f"{type(dataset).__name__}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, int(batch_size), bool(shuffle), drop_last
        self.num_workers, self.collate_fn, self.generator = num_workers, collate_fn, generator
        self.sampler = sampler      # indices in the order to take them (len() of them); None: all, or shuffled
        _generator(generator)

    def __len__(self):
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        if self.sampler is not None:
            order = np.fromiter(iter(self.sampler), dtype=np.int64)
        else:
            n = len(self.dataset)
            order = _generator(self.generator).permutation(n) if self.shuffle else np.arange(n)
        n = len(order)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            index = order[start:start + self.batch_size]
            if self.collate_fn is not None:
                yield self.collate_fn([self.dataset[int(i)] for i in index])
            else:
                yield _batch(self.dataset, index)


def _batch(dataset, index):
    """The samples at `index`, collated: whole-batch indexing where the data set allows it."""
    if isinstance(dataset, Subset):
        return _batch(dataset.dataset, np.asarray(dataset.indices, np.int64)[index])
    if isinstance(dataset, TensorDataset):
        return [t[index] for t in dataset.tensors]
    if isinstance(dataset, ImageDataset):
        return [tensor(dataset.images[index].astype(np.float32))] + (
            [] if dataset.labels is None else [tensor(_label_array(dataset.labels[index]))])
    return default_collate([dataset[int(i)] for i in index])


def _label_array(labels):
    return labels.astype(np.float32) if labels.dtype.kind == "f" else labels.astype(np.int64)


def default_collate(samples):
    """A list of samples as one batch, field by field: PyTorch's default_collate."""
    first = samples[0]
    if isinstance(first, Tensor):
        return Tensor(first.xp.stack([s.data for s in samples]), first.backend)
    if isinstance(first, np.ndarray):
        return tensor(np.stack(samples))
    if isinstance(first, (bool, np.bool_)):
        return tensor(np.array(samples, dtype=bool))
    if isinstance(first, numbers.Integral):
        return tensor(np.array(samples, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return tensor(np.array(samples, dtype=np.float32))
    if isinstance(first, str):
        return list(samples)
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(field)) for field in zip(*samples)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                    f"found {type(first).__name__}")


__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "random_split", "default_collate"]
