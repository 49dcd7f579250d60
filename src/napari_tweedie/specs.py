"""What every registry shares: :class:`Param` (one tunable parameter) and :class:`Spec`.

``DENOISERS``, ``SAMPLERS``, ``OPERATORS`` and ``NOISE_MODELS`` all map a name
to a spec with ``name``, ``summary`` and ``params: tuple[Param, ...]``; the
widgets, the CLI, recipes and tests read them and never branch on a name.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    """One tunable parameter of a method, with what a GUI needs to show it.

    ``default=None`` means "derived from the noise level" (documented in
    ``tooltip``).  ``kind`` is ``"float"``, ``"int"``, ``"bool"``, ``"choice"``,
    ``"array"`` (an image-sized array, e.g. a mask: no scalar control) or ``"path"``
    (a file, e.g. a model package: a file picker).
    ``label`` is a plain-words name for a GUI (the symbol ``name`` then goes
    to the tooltip); empty: the GUI derives one.
    ``min``/``max`` are enforced at the entry points (:mod:`napari_tweedie.validation`).
    ``image_units``: the value is in the image's intensity units (a noise level,
    a range width), so it scales with the image when the API rescales one of
    extreme magnitude.
    ``per_sigma``: for ``default=None``, the value the method derives as a
    multiple of the noise level on a grey plane (where ``tune`` starts).
    """

    name: str
    default: Any
    tooltip: str
    kind: str = "float"
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] = ()
    label: str = ""
    image_units: bool = False
    per_sigma: float | None = None


def defaults(params: tuple[Param, ...]) -> dict[str, Any]:
    """Parameter defaults by name."""
    return {p.name: p.default for p in params}


@dataclass(frozen=True, kw_only=True)
class Spec:
    """A registry entry: the base of ``DenoiserSpec``, ``SamplerSpec`` and ``OperatorSpec``.

    Attributes
    ----------
    name : str
        Registry key.
    summary : str
        One line for tooltips and ``--help``: paper and algorithm.
    params : tuple of Param
        The user's parameters (keyword arguments, ``--set``, GUI controls).

    Specs are built by keyword (``DenoiserSpec(name=..., summary=..., params=..., func=...)``).
    """

    name: str
    summary: str
    params: tuple[Param, ...]

    def defaults(self) -> dict[str, Any]:
        """Parameter defaults by name."""
        return defaults(self.params)


def import_submodules(package: str, path: Iterable[str]) -> None:
    """Import every module of ``package`` (``path`` is its ``__path__``).

    Registries use it so that a module registering its own spec is found
    without being listed anywhere else.
    """
    for info in pkgutil.iter_modules(path):
        importlib.import_module(f"{package}.{info.name}")
