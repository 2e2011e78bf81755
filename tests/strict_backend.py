"""A test-only device that behaves like a GPU: array-api-strict with device emulation.

Its arrays live on "device1", reject NumPy-only functions and refuse implicit
conversion to NumPy (np.asarray raises), and cannot be mixed with arrays of
another device. An op that passes on it calls only Array API functions and
moves data only through the backend's explicit copies, as CuPy needs.
"""

import array_api_strict as xps
import numpy as np

from minicnn.backend import Backend, register_backend

CPU = xps.Device("CPU_DEVICE")


class StrictBackend(Backend):
    def __init__(self):
        super().__init__("strict", xps, xps.Device("device1"))

    def to_host(self, array):
        return np.array(array.to_device(CPU), copy=True)

    def index_add(self, target, index, values):
        # The Array API has no scatter-add; this test backend does it on the host, explicitly.
        parts = index if isinstance(index, tuple) else (index,)
        host_index = tuple(self.to_host(p) if self.owns(p) else p for p in parts)
        result = self.to_host(target)
        np.add.at(result, host_index if isinstance(index, tuple) else host_index[0], self.to_host(values))
        target[...] = self.from_host(result)


def register():
    register_backend("strict", StrictBackend)
