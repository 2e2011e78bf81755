"""One rank's bad input ends every rank (tests/test_distributed.py):

    mpiexec -n 2 python -m mpi4py tests/mpi/fault.py

Rank 1's images hold a NaN, so its share of the first batch gives a NaN loss. The loss in the step's
allreduce is then NaN on every rank, every rank stops with the same FloatingPointError before the
update, and -m mpi4py ends the job at the first uncaught error instead of leaving ranks waiting.
"""

import numpy as np

import minicnn as mc

mc.distributed.init()
images = np.ones((8, 1, 4, 4), np.float32)
if mc.distributed.rank() == 1:
    images[:] = np.nan         # rank 1's copy of the data is broken
model = mc.Sequential([mc.layers.Flatten(), mc.layers.Dense(2)], input_shape=(1, 4, 4))
model.compile(optimizer="sgd", loss=mc.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(images, np.zeros(8, np.int64), batch_size=4, epochs=3, verbose=0)
print("not reached")
