"""Let OpenBLAS's threads sleep as soon as a matrix product is done.

After each product OpenBLAS keeps its threads spinning for about 0.1 s, in
case another product follows. In a training step the next thing is usually
elementwise work (pooling, ReLU, im2col) that minicnn shares between the cores
itself (Backend.split_work), and the spinning threads would take those cores.
OPENBLAS_THREAD_TIMEOUT=4 (2**4 cycles) makes them sleep at once. OpenBLAS
reads it when NumPy loads it, so minicnn/__init__.py imports this module first,
and it only helps when minicnn is imported before NumPy (or the variable is set
before Python starts).
"""

import os
import sys

if "numpy" not in sys.modules:
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

# True when the variable was there for OpenBLAS to read (or NumPy is not yet loaded).
THREADS_SLEEP = bool(os.environ.get("OPENBLAS_THREAD_TIMEOUT"))
