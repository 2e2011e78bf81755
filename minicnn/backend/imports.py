"""Imports of the CPU's helpers that leave os.environ as they found it.

threadpoolctl (from 3.8) sets KMP_DUPLICATE_LIB_OK in the environment when it
is imported. minicnn imports its helpers only when it first needs them, and a
user's process should not find a variable changed because it trained a model.
"""

import importlib
import os
import threading

_lock = threading.Lock()       # two threads' imports at once would each put back what the other saw


def import_leaving_environ(name):
    """The module `name`, imported; any variable its import set, changed or removed is put back.
    (A variable another thread of yours changes during the import is put back too: a second, once.)"""
    with _lock:
        return _import(name)


def _import(name):
    saved = dict(os.environ)
    try:
        return importlib.import_module(name)
    finally:
        for variable in [v for v in os.environ if v not in saved]:
            del os.environ[variable]
        for variable, value in saved.items():
            if os.environ.get(variable) != value:
                os.environ[variable] = value
