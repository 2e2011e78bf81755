"""Warnings that point at the user's line: the first frame outside minicnn that led to them."""

import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_at_caller(message, category=UserWarning):
    """warnings.warn, attributed to the nearest caller outside minicnn (the user's fit(...), say),
    however many of minicnn's own frames lie between: Python then shows it once per line of theirs."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)
