"""mc.distributed's functions on several ranks, each checked on every rank (tests/test_distributed.py):

    mpiexec -n 3 python -m mpi4py tests/mpi/primitives.py

An assertion that fails on any rank ends them all (-m mpi4py) with a non-zero exit status.
"""

import os

import numpy as np

import minicnn as mc

D = mc.distributed
ranks = D.init()
me = D.rank()
assert ranks == D.world_size() > 1 and D.is_initialized() and D.is_main() == (me == 0)

# all_reduce: tensors and arrays in place, numbers returned
x = mc.tensor(np.full(3, me + 1, np.float32))
assert D.all_reduce(x) is x and np.array_equal(x.numpy(), np.full(3, ranks * (ranks + 1) / 2))
a = np.arange(4.0) * me
assert np.allclose(D.all_reduce(a, op="mean"), np.arange(4.0) * (ranks - 1) / 2)
assert D.all_reduce(me, op="sum") == ranks * (ranks - 1) / 2

# broadcast: rank 0's values whatever the others passed
b = np.full((2, 2), float(me))
D.broadcast(b)
assert np.array_equal(b, np.zeros((2, 2)))
mine = {"name": f"rank {me}", "weights": [np.arange(3) + me, mc.tensor(np.ones(2) * me)], "none": None, "t": 5 + me}
got = D.broadcast(mine)
assert got["name"] == "rank 0" and got["none"] is None and got["t"] == 5
assert np.array_equal(got["weights"][0], np.arange(3)) and np.array_equal(got["weights"][1].numpy(), [0, 0])
mc.manual_seed(me)
model = mc.Sequential([mc.layers.Dense(3)], input_shape=(4,))
D.broadcast(model, root=ranks - 1)
kernel = model.state_dict()["0.kernel"]
assert np.array_equal(D.broadcast(kernel.copy()), kernel)      # rank 0 holds the same: so does every rank

# average_gradients: in proportion to each rank's weight; a gradient missing on some ranks counts as zero
p, q, r = (mc.tensor(np.zeros(2, np.float32), requires_grad=True) for _ in range(3))
p.grad = mc.tensor(np.full(2, float(me), np.float32))
if me == 0:
    q.grad = mc.tensor(np.ones(2, np.float32))
total = D.average_gradients([p, q, r], weight=me + 1)
weights = np.arange(1, ranks + 1)
assert total == weights.sum()
assert np.allclose(p.grad.numpy(), (weights * np.arange(ranks)).sum() / weights.sum())
assert np.allclose(q.grad.numpy(), 1 / weights.sum()) and r.grad is None

# shares
share = D.part(10)
assert D.reduce_sums([share.stop - share.start])[0] == 10
assert len(D.shard(mc.data.ImageDataset(np.zeros((7, 1, 2, 2), np.uint8), np.arange(7)))) == len(range(7)[D.part(7)])
# the ranks on this machine share it: their local numbers, and the cores for minicnn's threads
assert D.local_size() == ranks and sorted(D.all_reduce(np.eye(ranks)[D.local_rank()])) == [1] * ranks
assert D.reduce_sums([mc.get_num_threads()])[0] <= max(ranks, os.cpu_count())
D.barrier()
if D.is_main():
    print("primitives ok on", ranks, "ranks")
