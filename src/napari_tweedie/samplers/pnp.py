"""Plug-and-play half-quadratic splitting (Zhang et al. 2021, "DPIR") around any Gaussian denoiser.

Alternates a proximal data step and a denoising step whose noise level
decreases geometrically::

    x_k = argmin_x ||y - A x||^2 + rho_k ||x - z_{k-1}||^2,   rho_k = lam sigma_y^2 / s_k^2
    z_k = D(x_k, s_k)

with ``s_k`` from ``sigma_max`` down to ``max(sigma_y, sigma_min)``.  It is
deterministic (a MAP-like estimate, not a posterior sample: the samples of
:func:`napari_tweedie.restore` are then identical and their std is zero) and
needs far fewer steps than the diffusion samplers; the DiffPIR sampler is its
stochastic sibling.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..specs import Param
from ..steps import Step
from .base import Denoiser, StepGenerator, denoise, noise_level
from .spec import lam_param, sampler

if TYPE_CHECKING:
    import torch
    from torch import Tensor

    from ..operators.base import LinearOperator


def pnp_sigmas(steps: int, sigma_max: float, sigma_end: float) -> list[float]:
    """``steps`` noise levels, geometric from ``sigma_max`` to ``sigma_end`` (both included)."""
    if steps == 1:
        return [float(sigma_end)]
    ratio = math.log(sigma_end / sigma_max) / (steps - 1)
    return [float(sigma_max * math.exp(ratio * k)) for k in range(steps)]


@sampler(
    summary="Plug-and-play HQS (Zhang et al. 2021, DPIR): fast, one deterministic estimate",
    params=(
        lam_param(0.25),
        Param("sigma_max", 0.3, "first denoiser level (data on [0, 1])", min=0.0, step=0.05),
        Param(
            "sigma_min",
            0.005,
            "floor of the last denoiser level (the last is max(sigma_y, sigma_min))",
            min=0.0,
            step=0.001,
        ),
        Param("cg_steps", 20, "conjugate-gradient steps of the data step", kind="int", min=1),
    ),
    needs_start_image=True,
    stochastic=False,
)
def pnp(
    denoiser: Denoiser,
    x: Tensor,
    sigmas: Tensor,
    *,
    op: LinearOperator,
    y: Tensor,
    lam: float = 0.25,
    sigma_max: float = 0.3,
    sigma_min: float = 0.005,
    cg_steps: int = 20,
    sigma_y: float | None = None,
    init: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> StepGenerator:
    """Plug-and-play HQS (Zhang et al. 2021, DPIR): proximal data steps and annealed denoising.

    Parameters
    ----------
    denoiser : Denoiser
        ``D(x, sigma)``, a Gaussian denoiser (the bundled prior, a classical one...).
    x : Tensor
        Ignored except for its shape (the start is ``init`` or ``A^T y``).
    sigmas : Tensor
        Only its length is used: ``len(sigmas) - 1`` iterations.
    op, y : LinearOperator, Tensor
        The forward model and the (normalised) measurement.
    lam : float
        Weight of the prior in the data step (DPIR's lambda).
    sigma_max, sigma_min : float
        First denoiser level and the floor of the last one (the last is
        ``max(sigma_y, sigma_min)``), on the [0, 1] data scale.
    cg_steps : int
        Conjugate-gradient iterations of the data step (closed forms where the
        operator has one).
    sigma_y : float, optional
        Measurement noise (default: the operator's).
    init : Tensor, optional
        Starting image (default ``A^T y``).
    generator : torch.Generator, optional
        Unused (the method is deterministic); accepted for a uniform interface.
    """
    import torch

    del generator
    n = max(1, len(sigmas) - 1)
    floor = noise_level(op, sigma_y, 1e-4)
    levels = pnp_sigmas(n, max(sigma_max, floor), max(floor, sigma_min))
    # no yield inside no_grad: a suspended generator would leave its thread without gradients
    with torch.no_grad():
        z = (init if init is not None else op.adjoint(y).real).to(x.dtype).expand_as(x).clone()
    for i, level in enumerate(levels):
        with torch.no_grad():
            estimate = op.prox(z, y, lam * floor**2 / level**2, steps=cg_steps)
            z = denoise(denoiser, estimate, level)
        yield Step(i + 1, n, level, estimate, z)
    with torch.no_grad():
        return op.prox(z, y, lam * floor**2 / levels[-1] ** 2, steps=cg_steps)
