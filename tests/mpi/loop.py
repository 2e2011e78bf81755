"""A hand-written PyTorch-style loop on several ranks (tests/test_distributed.py), or alone:

    mpiexec -n 2 python -m mpi4py tests/mpi/loop.py OUT.npz

The model starts from rank 0's weights (broadcast), each rank reads its share of every epoch's order
(DistributedSampler: 80 images, 40 per rank on 2 ranks), a global batch of 10 is 10 / ranks per rank,
and average_gradients makes each step the step of the whole batch. Rank 0 writes the weights.
"""

import sys

import numpy as np

import minicnn as torch
from minicnn import nn
from minicnn.distributed import DistributedSampler, average_gradients, broadcast, init, is_main, world_size
from minicnn.utils.data import DataLoader, TensorDataset

init()
rng = np.random.default_rng(0)
x = rng.normal(size=(80, 6)).astype(np.float32)
y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
torch.manual_seed(7 + 100 * (not is_main()))     # other ranks start elsewhere; broadcast sets them right
net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))
broadcast(net)
optimizer = torch.optim.SGD(net.parameters(), lr=0.2, momentum=0.5)
loss_fn = nn.CrossEntropyLoss()
sampler = DistributedSampler(TensorDataset(torch.tensor(x), torch.tensor(y)), shuffle=True, seed=3)
loader = DataLoader(TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=10 // world_size(), sampler=sampler)
for epoch in range(3):
    sampler.set_epoch(epoch)
    for inputs, labels in loader:
        optimizer.zero_grad()
        loss_fn(net(inputs), labels).backward()
        average_gradients(net.parameters())
        optimizer.step()
if is_main():
    np.savez(sys.argv[1], **net.state_dict())
