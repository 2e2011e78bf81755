"""Trained by tests/test_distributed.py: one process, or several under mpiexec (the same script).

    python tests/mpi/train.py OUT.npz [--batchnorm] [--seed N] [--device gpu] [--nccl]
    mpiexec -n 3 python -m mpi4py tests/mpi/train.py OUT.npz

--batchnorm: also RandomFlip and Dropout; --nccl: the gradients through NCCL's double (nccl_double.py).

A small CNN fitted on fixed random images (82 of them, a global batch of 10: the last batch of each
epoch has 2 images, so on 3 ranks one share is empty), 5 epochs of 9 steps; rank 0 writes the weights,
the history and what the ranks saw to OUT.npz.
"""

import sys

import numpy as np

import minicnn as mc

if "--nccl" in sys.argv:             # cupy.cuda.nccl's double, over MPI (tests/mpi/nccl_double.py)
    import nccl_double
mc.distributed.init()
batchnorm = "--batchnorm" in sys.argv
device = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
rng = np.random.default_rng(0)
images = rng.normal(size=(82, 2, 8, 8)).astype(np.float32)
labels = (images[:, 0, :4].mean(axis=(1, 2)) > images[:, 1, 4:].mean(axis=(1, 2))).astype(np.int64)
seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 0
mc.manual_seed(1 + seed + mc.distributed.rank())    # different on every rank: fit must start from rank 0's
L = mc.layers


class CountImages(L.Layer):
    """Passes its input on; counts the images this rank trains on and validates on."""
    trained = validated = 0

    def forward(self, x):
        if self.training:
            CountImages.trained += len(x)
        else:
            CountImages.validated += len(x)
        return x


noisy = [L.RandomFlip("horizontal")] if batchnorm else []       # with BatchNorm: augmentation and dropout too
model = mc.Sequential(noisy + [CountImages(), L.Conv2D(4, 3, padding="same", activation="relu")]
                      + ([L.BatchNormalization()] if batchnorm else [])
                      + [L.MaxPooling2D(2), L.Flatten()] + ([L.Dropout(0.2)] if batchnorm else [])
                      + [L.Dense(2)], input_shape=(2, 8, 8)).to(device)
model.compile(optimizer=mc.optimizers.SGD(0.02 if batchnorm else 0.1, momentum=0.9),
              loss=mc.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
history = model.fit(images, labels, batch_size=10, epochs=5, validation_data=(images[:23], labels[:23]),
                    verbose=0)
weights = {name: value for name, value in model.state_dict().items()}
ranks, trained, validated = mc.distributed.reduce_sums([1.0, CountImages.trained, CountImages.validated])
alone = CountImages.trained
# how far each weight and buffer (BatchNorm's moving statistics too) is from its mean over the ranks
flat = np.concatenate([v.ravel() for v in weights.values()]).astype(np.float64)
spread = mc.distributed.all_reduce(np.abs(flat - mc.distributed.all_reduce(flat.copy(), op="mean"))).max()
# which GPU each rank computed on (its local rank's), and how many allreduces went through NCCL
gpus = np.zeros(mc.distributed.world_size())
gpus[mc.distributed.rank()] = model.trainable_weights[0].data.device.id if device == "gpu" else -1
gpus = mc.distributed.all_reduce(gpus)
nccl_calls = len(nccl_double.calls) if "--nccl" in sys.argv else 0
# from fit on, each rank draws its own dropout masks and flips: rank 0 its own stream, the others theirs
# (the host's generator and the device's counter-based one, each)
draw = np.stack([mc.random.uniform((4,)), mc.random.uniform_on(mc.get_backend("cpu"), 4)]).astype(np.float64)
draw_spread = mc.distributed.all_reduce(np.abs(draw - mc.distributed.all_reduce(draw.copy(), op="mean")))
draws_differ = bool((draw_spread.max(axis=1) > 0).all())
if mc.distributed.is_main():
    np.savez(sys.argv[1], ranks=ranks, trained=trained, validated=validated,
             trained_by_rank_0=alone, spread=spread, draws_differ=draws_differ, gpus=gpus, nccl_calls=nccl_calls,
             **{f"w.{k}": v for k, v in weights.items()},
             **{f"h.{k}": np.array(v) for k, v in history.history.items()})
