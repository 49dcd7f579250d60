"""Denoisers: the registry and the methods that fill it."""

from .registry import DENOISERS, DenoiserSpec, Param, register

try:  # filled in by the classical-denoisers work in progress
    from . import classical  # noqa: F401
except ImportError:  # pragma: no cover
    pass

__all__ = ["DENOISERS", "DenoiserSpec", "Param", "register"]
