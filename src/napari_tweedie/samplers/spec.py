"""The sampler registry: :class:`SamplerSpec` and ``SAMPLERS`` (name -> spec).

Each sampler module registers its own spec with :func:`sampler` (or
:func:`register`); the package imports every module, so a new sampler is one
new module.  Nothing here
imports torch: the registry can be read (``--help``, dropdowns) without it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ..specs import Param, Spec

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from torch import Tensor

    from ..steps import Step


@dataclass(frozen=True, kw_only=True)
class SamplerSpec(Spec):
    """A registered sampler (``nt.restore(..., sampler=name)``) and what ``restore`` gives it.

    Attributes
    ----------
    name, summary, params
        As in :class:`~napari_tweedie.specs.Spec`.  The params' defaults are
        what ``restore`` passes; ``func``'s other keywords (``op``, ``y``,
        ``init``, ``generator``) are filled by ``restore``.
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

    func: Callable[..., Generator[Step, None, Tensor]]
    data_term: bool = True
    schedule: Callable[[int, float], Tensor] | None = None
    needs_start_image: bool = False
    needs_differentiable_prior: bool = False
    stochastic: bool = True


SAMPLERS: dict[str, SamplerSpec] = {}


def register(spec: SamplerSpec) -> SamplerSpec:
    """Add ``spec`` to :data:`SAMPLERS` (replacing one of the same name)."""
    SAMPLERS[spec.name] = spec
    return spec


def sampler(**fields: Any) -> Callable[[F], F]:
    """Register the decorated generator function as the sampler named after it.

    ``fields`` are the other :class:`SamplerSpec` fields (``summary``,
    ``params``, capabilities); the function is returned unchanged.
    """

    def add(func: F) -> F:
        register(SamplerSpec(name=func.__name__, func=func, **fields))
        return func

    return add


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
