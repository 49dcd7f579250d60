"""What every registry shares: :class:`Param`, one tunable parameter with what a GUI needs.

``DENOISERS``, ``SAMPLERS``, ``OPERATORS`` and ``NOISE_MODELS`` all map a name
to a spec with ``name``, ``summary`` and ``params: tuple[Param, ...]``; the
widgets, the CLI, recipes and tests read them and never branch on a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    """One tunable parameter of a method, with what a GUI needs to show it.

    ``default=None`` means "derived from the noise level" (documented in
    ``tooltip``).  ``kind`` is ``"float"``, ``"int"``, ``"bool"`` or ``"choice"``.
    """

    name: str
    default: Any
    tooltip: str
    kind: str = "float"
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] = ()


def defaults(params: tuple[Param, ...]) -> dict[str, Any]:
    """Parameter defaults by name."""
    return {p.name: p.default for p in params}
