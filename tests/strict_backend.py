"""A test-only device that behaves like a GPU: array-api-strict with device emulation.

Its arrays live on "device1", reject NumPy-only functions and refuse implicit
conversion to NumPy (np.asarray raises), and cannot be mixed with arrays of
another device. An op that passes on it calls only Array API functions and
moves data only through the backend's explicit copies. The backend is the
library's own generic class, with nothing overridden here.
"""

import array_api_strict as xps

from minicnn.backend import Backend, register_backend


def register():
    register_backend("strict", lambda: Backend("strict", xps, xps.Device("device1")))
