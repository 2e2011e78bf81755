"""A test double for cupy.cuda.nccl over MPI, for machines without GPUs: NCCL's documented calls on the
CuPy stand-in's arrays, whose memory is the host's. `import nccl_double` puts it where minicnn looks
(sys.modules["cupy.cuda.nccl"]), as real CuPy does where NCCL is installed (cupy/cuda/nccl.py).

Held to NCCL's rules (docs.nvidia.com/deeplearning/nccl, ncclAllReduce): the communicator is made by
every rank with the same unique id, its own rank and the world size; allReduce(sendbuff, recvbuff,
count, datatype, op, stream) takes device addresses and a count of elements, and may work in place.
Each call is counted in `calls`.
"""

import ctypes
import sys
import types

import numpy as np
from mpi4py import MPI

NCCL_SUM, NCCL_FLOAT32, NCCL_FLOAT64 = 0, 7, 8
_TYPES = {NCCL_FLOAT32: (np.float32, ctypes.c_float), NCCL_FLOAT64: (np.float64, ctypes.c_double)}
calls = []


def get_unique_id():
    return tuple(int(b) for b in np.random.default_rng().integers(-128, 128, 128))     # 128 chars, as NCCL's


class NcclCommunicator:
    def __init__(self, ndev, commId, rank):
        world = MPI.COMM_WORLD
        ids = world.allgather(commId)
        if ndev != world.Get_size() or rank != world.Get_rank() or len(set(ids)) != 1 or len(commId) != 128:
            raise RuntimeError("NCCL error: invalid argument (ncclCommInitRank)")

    def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):
        if op != NCCL_SUM or datatype not in _TYPES or not isinstance(stream, int):
            raise RuntimeError("NCCL error: invalid argument (ncclAllReduce)")
        dtype, ctype = _TYPES[datatype]
        send = np.ctypeslib.as_array((ctype * count).from_address(sendbuf))
        recv = np.ctypeslib.as_array((ctype * count).from_address(recvbuf))
        MPI.COMM_WORLD.Allreduce(send.copy(), recv, op=MPI.SUM)
        calls.append((count, np.dtype(dtype).name))


module = types.ModuleType("cupy.cuda.nccl")
module.available = True
module.__dict__.update(NCCL_SUM=NCCL_SUM, NCCL_FLOAT32=NCCL_FLOAT32, NCCL_FLOAT64=NCCL_FLOAT64,
                       get_unique_id=get_unique_id, NcclCommunicator=NcclCommunicator, calls=calls)
sys.modules["cupy.cuda.nccl"] = module
