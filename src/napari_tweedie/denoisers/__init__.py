"""Denoisers: the registry and the methods that fill it.

Importing this package registers the classical methods (``gaussian``,
``bilateral``, ``tv``, ``nl_means``, ``wavelet``, ``bm3d``) in
:data:`DENOISERS`.
"""

from . import classical  # noqa: F401  (registers the classical methods)
from .bilateral import bilateral_filter, bilateral_filter_varying
from .registry import DENOISERS, DenoiserSpec, Param, register

__all__ = [
    "DENOISERS",
    "DenoiserSpec",
    "Param",
    "bilateral_filter",
    "bilateral_filter_varying",
    "register",
]
