"""The sampler registry: :class:`SamplerSpec` and ``SAMPLERS`` (name -> spec).

Each sampler module registers its own spec with :func:`register`; the package
imports every module, so a new sampler is one new module.  Nothing here
imports torch: the registry can be read (``--help``, dropdowns) without it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..specs import Param, defaults

if TYPE_CHECKING:
    from torch import Tensor

    from ..steps import Step


@dataclass(frozen=True)
class SamplerSpec:
    """A registered sampler and what :func:`napari_tweedie.restore` must give it.

    Attributes
    ----------
    name : str
        Registry key (``nt.restore(..., sampler=name)``).
    summary : str
        One line for tooltips and ``--help``: paper and algorithm.
    params : tuple of Param
        The user's parameters (``nt.restore(..., **params)``, ``--set``).  Their
        defaults are what ``restore`` passes; ``func``'s other keywords (``op``,
        ``y``, ``sigma_y``, ``init``, ``generator``) are filled by ``restore``.
    func : callable
        ``func(denoiser, x, sigmas, *, [op, y,] generator, **params)``: a
        generator yielding :class:`~napari_tweedie.steps.Step` and returning
        the image batch.
    data_term : bool
        ``func`` takes ``op=`` and ``y=``.  Without a data term the sampler
        denoises: it starts from the measurement at its own noise level, so it
        only solves an identity operator with ``sigma_y > 0``.
    schedule : callable, optional
        ``schedule(steps, sigma_y) -> sigmas`` (decreasing, ending with 0) in
        place of restore's Karras schedule from 20 down.
    needs_start_image : bool
        ``func`` takes ``init=``: restore passes the operator's classical
        reconstruction (normalised) as the starting image.
    needs_differentiable_prior : bool
        The sampler backpropagates through the denoiser (a torch prior).
    stochastic : bool
        Different seeds give different samples (False: one deterministic
        estimate; the std over samples is zero).
    """

    name: str
    summary: str
    params: tuple[Param, ...]
    func: Callable[..., Generator[Step, None, Tensor]]
    data_term: bool = True
    schedule: Callable[[int, float], Tensor] | None = None
    needs_start_image: bool = False
    needs_differentiable_prior: bool = False
    stochastic: bool = True

    def defaults(self) -> dict[str, Any]:
        """Parameter defaults by name."""
        return defaults(self.params)


SAMPLERS: dict[str, SamplerSpec] = {}


def register(spec: SamplerSpec) -> SamplerSpec:
    """Add ``spec`` to :data:`SAMPLERS` (replacing one of the same name)."""
    SAMPLERS[spec.name] = spec
    return spec


#: the prior's weight against the data (DiffPIR's lambda), shared by several samplers
def lam_param(default: float) -> Param:
    """``lam``: the weight of the prior in the data step (DiffPIR's / DPIR's lambda)."""
    return Param(
        "lam",
        default,
        "prior weight in the data step: larger trusts the prior more, the data less",
        min=0.0,
        step=0.05,
    )
