"""Data-parallel training over MPI (mpi4py), ChainerMN's and Horovod's design.

    mpiexec -n 4 python -m mpi4py train.py      # -m mpi4py: an error on one rank ends them all

Every rank runs the same script on its own process. They start from rank 0's
weights (broadcast), each takes its share of every batch, and after backward
the gradients are averaged with one allreduce, so every rank takes the same
step and the weights stay equal everywhere. fit does all of this by itself
after init(); the functions below are for hand-written loops.

Without mpi4py, or in a script not started by an MPI launcher, the world is
one process and every function here does what one process needs (nothing):
the same script runs on a laptop and on a cluster.
"""

import importlib
import os
import sys
import time
from contextlib import contextmanager

import numpy as np

from .backend import set_num_threads, use_gpu
from .caller import warn_at_caller
from .data.dataset import share
from .tensor import Tensor, tensor

# Set by an MPI launcher in each process it starts: MPICH / Intel MPI (hydra), Open MPI, PMIx, SLURM's srun
_LAUNCHER_VARIABLES = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "SLURM_STEP_NUM_TASKS")

_world = None       # the communicator once init() found one with several ranks; None: a world of one
_machine = None     # the ranks on this machine (MPI's shared-memory split of the world)
_initialised = False


def init():
    """Join the MPI world if this process was started by an MPI launcher (idempotent). Returns the
    world size. A world of one when mpi4py is missing or no launcher started the script.

    The ranks on one machine share it: each takes its share of the cores for minicnn's threads
    (set_num_threads after init() to choose), and the GPU of its local rank for the gpu device."""
    global _world, _machine, _initialised
    if not _initialised:
        _initialised = True
        if any(name in os.environ for name in _LAUNCHER_VARIABLES):
            try:
                from mpi4py import MPI
            except ImportError:
                MPI = None
            if MPI is not None and MPI.COMM_WORLD.Get_size() > 1:
                _world = MPI.COMM_WORLD
                _machine = _world.Split_type(MPI.COMM_TYPE_SHARED)
                set_num_threads(_cores_of_this_rank(local_size()))
                use_gpu(local_rank())
                if "mpi4py.run" not in sys.modules and rank() == 0:
                    warn_at_caller("mc.distributed: this script was not started with `python -m mpi4py`, so an "
                                   "error on one rank leaves the others waiting for it; start it as "
                                   "mpiexec -n N python -m mpi4py script.py")
    return world_size()


def _cores_of_this_rank(ranks_here):
    """The cores this process may run on, if the launcher bound it to some; else an equal share."""
    machine = os.cpu_count() or 1
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else machine
    return allowed if allowed < machine else max(1, machine // ranks_here)


def is_initialized():
    """Whether this process is one of several ranks (init() found an MPI world larger than one)."""
    return _world is not None


def rank():
    return 0 if _world is None else _world.Get_rank()


_this_rank = rank      # for DistributedSampler, whose argument `rank` hides the function


def world_size():
    return 1 if _world is None else _world.Get_size()


def local_rank():
    """This rank's number among the ranks on its machine (which GPU it takes)."""
    return 0 if _machine is None else _machine.Get_rank()


def local_size():
    """How many ranks run on this machine."""
    return 1 if _machine is None else _machine.Get_size()


def is_main():
    """Rank 0: the one that prints, draws progress bars and writes files."""
    return rank() == 0


def barrier():
    if _world is not None:
        _world.Barrier()


def let_rank_0_report(seconds=5.0):
    """Before an error that every rank raises alike (a NaN in the step's allreduce): the other ranks wait
    a moment. Under `python -m mpi4py` rank 0's uncaught error aborts the job within it, so the error is
    shown once, not once per rank; where a script catches it, every rank then goes on alike."""
    if _world is not None and rank() != 0:
        time.sleep(seconds)


@contextmanager
def main_first():
    """Rank 0 runs the block first (a download, a cache to fill), the other ranks once it has finished."""
    if not is_main():
        barrier()
    yield
    if is_main():
        barrier()


def all_reduce(value, op="sum"):
    """The sum (op="sum") or mean (op="mean") over the ranks of a tensor, array or number, the same shape on
    every rank. A tensor or array is reduced in place and returned; a number is returned."""
    if op not in ("sum", "mean"):
        raise ValueError(f"all_reduce: op must be 'sum' or 'mean', got {op!r}")
    array = value.data if isinstance(value, Tensor) else value
    if not hasattr(array, "shape"):
        reduced = _reduce_host(np.array([value], dtype=np.float64))[0]
        return reduced / world_size() if op == "mean" else reduced
    host = _to_host(array)
    if _world is not None:
        host = _reduce_host(np.ascontiguousarray(host))
    if op == "mean":
        host = host / np.asarray(world_size(), host.dtype)
    _write_back(array, host)
    return value


def broadcast(obj, root=0):
    """Rank `root`'s value of `obj` on every rank: a tensor or array (written in place), a model or layer
    (its weights and buffers loaded in place), or a dict, list or tuple of arrays, tensors, numbers,
    strings and None (the other ranks get root's, whatever they passed)."""
    if _world is None:
        return obj
    if hasattr(obj, "state_dict") and hasattr(obj, "load_state_dict"):
        obj.load_state_dict(broadcast(obj.state_dict(), root))
        return obj
    if _is_array(obj):
        array = obj.data if isinstance(obj, Tensor) else obj
        host = np.ascontiguousarray(_to_host(array))
        _world.Bcast(host, root=root)
        _write_back(array, host)
        return obj
    arrays = []
    skeleton = _world.bcast(_skeleton(obj, arrays) if rank() == root else None, root=root)
    received = []
    for index, (dtype, shape) in enumerate(_array_specs(skeleton)):
        host = np.ascontiguousarray(_to_host(arrays[index])) if rank() == root else np.empty(shape, dtype)
        _world.Bcast(host, root=root)
        received.append(host)
    return obj if rank() == root else _rebuild(skeleton, iter(received))


def _is_array(obj):
    return isinstance(obj, Tensor) or (hasattr(obj, "shape") and hasattr(obj, "dtype") and hasattr(obj, "ndim"))


def _skeleton(obj, arrays):
    """obj with each array or tensor replaced by a marker (its dtype and shape), the arrays kept in order."""
    if _is_array(obj):
        arrays.append(obj.data if isinstance(obj, Tensor) else obj)
        return ("__array__", isinstance(obj, Tensor), np.dtype(arrays[-1].dtype).str, tuple(obj.shape))
    if isinstance(obj, dict):
        return {key: _skeleton(value, arrays) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_skeleton(item, arrays) for item in obj)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"broadcast: can't send a {type(obj).__name__}; send tensors, arrays, models, numbers, "
                    f"strings, or dicts, lists and tuples of them")


def _array_specs(skeleton):
    if isinstance(skeleton, tuple) and skeleton[:1] == ("__array__",):
        yield skeleton[2], skeleton[3]
    elif isinstance(skeleton, dict):
        for value in skeleton.values():
            yield from _array_specs(value)
    elif isinstance(skeleton, (list, tuple)):
        for item in skeleton:
            yield from _array_specs(item)


def _rebuild(skeleton, arrays):
    if isinstance(skeleton, tuple) and skeleton[:1] == ("__array__",):
        host = next(arrays)
        return tensor(host) if skeleton[1] else host
    if isinstance(skeleton, dict):
        return {key: _rebuild(value, arrays) for key, value in skeleton.items()}
    if isinstance(skeleton, (list, tuple)):
        return type(skeleton)(_rebuild(item, arrays) for item in skeleton)
    return skeleton


def average_gradients(params, weight=None):
    """Every parameter's gradient averaged over the ranks, in one allreduce of one flat buffer.

    weight: this rank's share of the batch (its number of images) when the shares differ; each rank's
    gradient then counts in proportion, which is the gradient of the loss over the whole batch when each
    rank's loss is the mean over its share. A parameter no rank has a gradient for keeps None; one that
    some ranks lack counts as zero there. Returns the total weight (the world size without weights)."""
    params = [p for p in params if p.requires_grad]
    if _world is None:
        return 1.0 if weight is None else float(weight)
    return reduce_gradients(params, 1.0 if weight is None else float(weight), extra=())[0]


def reduce_gradients(params, weight, extra):
    """The step's one allreduce: every rank's gradients times its `weight`, summed and divided by the summed
    weight, written back; `extra` (numbers: a loss, counts) summed along. Returns (the summed weight, the
    summed extras). The buffer is float64 (every rank adds the same numbers in the same order: the weights
    stay equal bit for bit) and stays on the GPU where NCCL can reduce it there; else it crosses the host."""
    backend = params[0].backend if params else None
    xp = np if backend is None or backend.name == "cpu" else backend.xp
    parts = [xp.reshape(xp.astype(p.grad.data, xp.float64), (-1,)) * weight if p.grad is not None
             else xp.zeros(p.size, dtype=xp.float64) for p in params]
    tail = np.concatenate([[p.grad is not None for p in params], np.asarray(extra, np.float64), [weight]])
    buffer = xp.concatenate(parts + [tail if xp is np else backend.from_host(tail)])
    if xp is np:
        buffer = _reduce_host(buffer)
    elif _nccl_reduce(buffer) is None:           # staged through the host: correct everywhere, slower
        buffer = backend.from_host(_reduce_host(backend.to_host(buffer)))
    size = sum(p.size for p in params)
    tail = buffer[size:] if xp is np else backend.to_host(buffer[size:])     # the step's one small read
    flags, sums, total = tail[:len(params)], tail[len(params):-1], tail[-1]
    offset = 0
    for p, flag in zip(params, flags):
        part = buffer[offset:offset + p.size]
        offset += p.size
        if flag > 0:
            part = part / total if total > 0 else part
            p.grad = Tensor(xp.astype(xp.reshape(part, p.shape), p.data.dtype), p.backend)
    return total, list(sums)


_nccl = None        # (cupy.cuda.nccl, its communicator over the ranks' GPUs) once made; False: CuPy has none


def _nccl_reduce(buffer):
    """Sum a float64 CuPy buffer over the ranks in place through NCCL (cupy.cuda.nccl); None where CuPy
    has no NCCL. The communicator is made on first use, from a unique id rank 0 sends to the others."""
    global _nccl
    if _nccl is None:
        try:
            nccl = importlib.import_module("cupy.cuda.nccl")
        except ImportError:
            nccl = None
        ready = nccl is not None and getattr(nccl, "available", False)
        if all(_world.allgather(ready)):         # every rank NCCL, or every rank through the host
            unique_id = _world.bcast(nccl.get_unique_id() if rank() == 0 else None, root=0)
            _nccl = (nccl, nccl.NcclCommunicator(world_size(), unique_id, rank()))
        else:
            _nccl = False
    if not _nccl:
        return None
    nccl, communicator = _nccl
    stream = importlib.import_module("cupy").cuda.get_current_stream()
    communicator.allReduce(buffer.data.ptr, buffer.data.ptr, buffer.size, nccl.NCCL_FLOAT64, nccl.NCCL_SUM,
                           stream.ptr)
    return buffer


def reduce_sums(values):
    """The element-wise sum over the ranks of a list of numbers (metrics' sums and counts)."""
    return list(_reduce_host(np.asarray(values, np.float64)))


def _reduce_host(host):
    if _world is None:
        return host
    from mpi4py import MPI
    out = np.empty_like(host)
    _world.Allreduce(host, out, op=MPI.SUM)
    return out


def _to_host(array):
    if isinstance(array, np.ndarray):
        return array
    get = getattr(array, "get", None)           # CuPy: a copy through the host (correct everywhere)
    return get() if callable(get) else np.asarray(array)


def _write_back(array, host):
    """host's values into `array` (NumPy, or another module's array: through that module's asarray)."""
    if isinstance(array, np.ndarray):
        array[...] = host
    else:
        xp = importlib.import_module(type(array).__module__.split(".")[0])
        array[...] = xp.asarray(host)


def part(count):
    """The slice of range(count) this rank takes: shares that differ by one at most, the first ranks the
    larger (NumPy's array_split); fit cuts every batch so."""
    return share(count, rank(), world_size())


def shard(dataset):
    """This rank's part of a dataset (an mc.data.ImageDataset or anything with len() and subset()/[]),
    contiguous shares as part() cuts them: for evaluating or predicting on every rank at once."""
    share = part(len(dataset))
    if hasattr(dataset, "subset"):
        return dataset.subset(np.arange(share.start, share.stop))
    return [dataset[i] for i in range(share.start, share.stop)]


class DistributedSampler:
    """PyTorch's DistributedSampler for minicnn.utils.data.DataLoader(sampler=...): each epoch one shuffled
    order of the dataset (the same on every rank: seed + epoch), cut in world_size() strided shares, padded
    by repeating the first indices so that every rank gets as many (drop_last=False) or cut to that
    (drop_last=True). Call set_epoch(epoch) before each epoch for a new order."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        self.dataset, self.shuffle, self.seed, self.drop_last = dataset, shuffle, seed, drop_last
        self.num_replicas = world_size() if num_replicas is None else num_replicas
        self.rank = _this_rank() if rank is None else rank
        if not 0 <= self.rank < self.num_replicas:
            raise ValueError(f"DistributedSampler: rank must be in [0, {self.num_replicas}), got {self.rank}")
        self.epoch = 0
        n = len(dataset)
        self.num_samples = n // self.num_replicas if drop_last else -(-n // self.num_replicas)

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __iter__(self):
        n = len(self.dataset)
        order = np.random.default_rng(self.seed + self.epoch).permutation(n) if self.shuffle else np.arange(n)
        total = self.num_samples * self.num_replicas
        order = order[:total] if self.drop_last else np.resize(order, total)
        return iter(order[self.rank:total:self.num_replicas].tolist())

    def __len__(self):
        return self.num_samples
