"""Denoisers: the registry and the method families that fill it.

Every public module or sub-package of this package, other than the shared
:mod:`.registry`, :mod:`.fitting` and :mod:`.saving`, is a method family: it defines
``SPECS``, a tuple of :class:`DenoiserSpec`, and importing this package
registers them all in :data:`DENOISERS` (a new family needs no import line
here).  Registration loads neither torch nor numba: each family's specs and
registry functions live in light modules that import the implementation on
the first call.
"""

from __future__ import annotations

import importlib
import pkgutil

from .registry import DENOISERS, DenoiserSpec, register

__all__ = [
    "DENOISERS",
    "SHARED_MODULES",
    "DenoiserSpec",
    "method_modules",
    "register",
    "register_families",
]

#: Modules of this package that are not method families.
SHARED_MODULES = frozenset({"fitting", "registry", "saving"})


def method_modules() -> list[str]:
    """Names of the method families: public modules and sub-packages besides the shared ones."""
    return [
        info.name
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_") and info.name not in SHARED_MODULES
    ]


def register_families() -> None:
    """Import every method family and register its ``SPECS`` (a family without them raises)."""
    for name in method_modules():
        for spec in importlib.import_module(f"{__name__}.{name}").SPECS:
            register(spec)


register_families()
