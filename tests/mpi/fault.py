"""Faults on one rank, under `mpiexec -n 2 python -m mpi4py tests/mpi/fault.py MODE FOLDER` (tests/test_distributed.py):

    nan         rank 1's images hold NaN: the loss in the step's allreduce is NaN on every rank, every rank
                stops with the same FloatingPointError before the update, rank 0's report the one shown
    labels      rank 1's labels name a class the model lacks: rank 1 alone raises, before any collective
    checkpoint  rank 1 raises while rank 0 is writing its ModelCheckpoint: the file is complete or absent
    crash       rank 1 is killed (SIGKILL) while rank 0 is writing it: the same
    interrupt   Ctrl-C reaches rank 1 alone, during its third batch: both stop after the same batch
    signal      a long fit, for the test to send Ctrl-C to mpiexec, which passes it to every rank

-m mpi4py ends the job at the first uncaught error instead of leaving the other ranks waiting.
FOLDER receives `started` (the time fit began) and the checkpoint.
"""

import os
import signal
import sys
import time

import numpy as np

import minicnn as mc

mode, folder = sys.argv[1], sys.argv[2]
mc.distributed.init()
rank = mc.distributed.rank()
rng = np.random.default_rng(0)
images = rng.normal(size=(64, 1, 8, 8)).astype(np.float32)
labels = (images.mean(axis=(1, 2, 3)) > 0).astype(np.int64)
callbacks, epochs, width = [], 3, 16
if mode == "nan" and rank == 1:
    images[:] = np.nan              # rank 1's copy of the data is broken
if mode == "labels" and rank == 1:
    labels[5] = 7
if mode in ("checkpoint", "crash"):
    width = 2048                     # a 17 MB model: its save takes a while
    callbacks.append(mc.callbacks.ModelCheckpoint(os.path.join(folder, "model.npz")))     # rank 0's alone

    def fail_while_rank_0_writes(epoch, logs):
        while set(os.listdir(folder)) <= {"started"}:
            time.sleep(0.0005)      # until the save's first file (its temporary) appears
        if mode == "crash":         # as the out-of-memory killer would: no exception, no exit
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError("rank 1 fails while rank 0 saves")

    if rank == 1:
        callbacks.append(mc.callbacks.LambdaCallback(on_epoch_end=fail_while_rank_0_writes))
if mode == "interrupt" and rank == 1:
    callbacks.append(mc.callbacks.LambdaCallback(
        on_train_batch_end=lambda step, logs: step == 2 and os.kill(os.getpid(), signal.SIGINT)))
if mode == "signal":
    epochs = 1000
L = mc.layers
model = mc.Sequential([L.Flatten(), L.Dense(width, activation="relu"), L.Dense(width, activation="relu"), L.Dense(2)],
                      input_shape=(1, 8, 8))
model.compile(optimizer="sgd", loss=mc.losses.SparseCategoricalCrossentropy(from_logits=True))
if rank == 0:
    with open(os.path.join(folder, "started"), "w") as file:
        file.write(str(time.time()))
model.fit(images, labels, batch_size=8, epochs=epochs, verbose=2, callbacks=callbacks)
weights = np.concatenate([w.ravel() for w in model.get_weights()])
spread = abs(mc.distributed.all_reduce(np.array([weights.sum()]), op="mean")[0] - weights.sum())
steps = np.zeros(mc.distributed.world_size())
steps[rank] = model.optimizer.iterations
steps, spread = mc.distributed.all_reduce(steps), mc.distributed.all_reduce(np.array([spread]))[0]
if rank == 0:                       # one line: lines of several ranks can run into each other
    print(f"after fit: steps {steps.astype(int).tolist()}, spread {spread}", flush=True)
