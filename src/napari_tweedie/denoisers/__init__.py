"""Denoisers: the registry and the methods that fill it.

Importing this package registers the classical methods (``gaussian``,
``bilateral``, ``tv``, ``nl_means``, ``wavelet``, ``bm3d``), ``filter2noise``,
``zs_n2n``, ``noise2score`` and the bundled network ``prior`` in :data:`DENOISERS`.
"""

from . import (  # noqa: F401  (importing registers the methods)
    classical,
    filter2noise,
    n2s_registry,
    prior_denoiser,
    zs_n2n,
)
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
