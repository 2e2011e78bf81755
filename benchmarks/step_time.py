"""The time of one training step of a benchmark model, in this process: the quick check between two versions.

    python benchmarks/step_time.py --batch 128                 # minicnn imported first
    python benchmarks/step_time.py --batch 128 --numpy-first   # NumPy imported first, as in most notebooks
    PYTHONPATH=/path/to/other/checkout python benchmarks/step_time.py --batch 128   # another version

It runs --steps steps of CATSDOGS-64 (benchmarks/models.py) on one random batch and prints the
median of all but the first --skip (the first steps touch fresh memory). Alternate versions in
fresh processes, several times, to see past the machine's noise.
"""

import argparse
import os
import statistics
import sys
import time

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--steps", type=int, default=22)
parser.add_argument("--skip", type=int, default=6, help="first steps left out of the median")
parser.add_argument("--numpy-first", action="store_true", help="import NumPy before minicnn")
args = parser.parse_args()
if args.numpy_first:
    import numpy  # noqa: F401
import minicnn as mc  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402

_, train_step, _ = models.minicnn_model(1)
x, y = models.batch("minicnn", 1, args.batch)
times = []
for _ in range(args.steps):
    start = time.perf_counter()
    train_step(x, y)
    times.append(1e3 * (time.perf_counter() - start))
print(f"batch {args.batch}, {'NumPy' if args.numpy_first else 'minicnn'} imported first, "
      f"{mc.get_num_threads()} threads: median {statistics.median(times[args.skip:]):.1f} ms "
      f"(steps {args.skip + 1}-{args.steps}; min {min(times[args.skip:]):.1f})")
