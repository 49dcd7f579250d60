"""DiffPIR (Zhu et al. 2023): denoiser prior step, proximal data step, re-noising."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..specs import Param
from .base import Denoiser, StepGenerator, denoise, diffusion_loop, noise_level, noise_like
from .spec import lam_param, sampler

if TYPE_CHECKING:
    import torch
    from torch import Tensor

    from ..operators.base import LinearOperator


@sampler(
    summary="DiffPIR (Zhu et al. 2023): denoiser step, proximal data step, re-noising",
    params=(
        lam_param(7.0),
        Param(
            "zeta",
            1.0,
            "fresh noise in the re-noising: 1 restores best, 0.3 calibrates the spread",
            min=0.0,
            max=1.0,
            step=0.05,
        ),
    ),
)
def diffpir(
    denoiser: Denoiser,
    x: Tensor,
    sigmas: Tensor,
    *,
    op: LinearOperator,
    y: Tensor,
    lam: float = 7.0,
    zeta: float = 1.0,
    sigma_y: float | None = None,
    generator: torch.Generator | None = None,
) -> StepGenerator:
    """DiffPIR (Zhu et al. 2023): denoiser prior step, proximal data step, re-noising.

    The data step solves ``argmin ||y - A x||^2 + rho ||x - x0_hat||^2`` with
    ``rho = lam * sigma_y^2 / sigma^2`` (closed form where the operator has one,
    else conjugate gradients); ``zeta`` mixes fresh noise into the re-noising.
    The noise estimate is taken from the data-corrected ``x0``, so with
    ``zeta < 1`` each step undoes a fraction ``sqrt(1 - zeta) sigma_next / sigma``
    of its data correction.  ``zeta = 1`` restores best, ``0.3`` gives better
    calibrated spreads for super-resolution (figures: ``benchmarks/README.md``).
    """
    measurement_noise = noise_level(op, sigma_y, 1e-3)

    def update(x: Tensor, sigma: float, sigma_next: float) -> tuple[Tensor, Tensor]:
        x0 = denoise(denoiser, x, sigma)
        x0 = op.prox(x0, y, lam * measurement_noise**2 / sigma**2, steps=20)
        if sigma_next <= 0:
            return x0, x0
        eps = (x - x0) / sigma
        fresh = noise_like(x, generator)
        return x0 + sigma_next * ((1 - zeta) ** 0.5 * eps + zeta**0.5 * fresh), x0

    return (yield from diffusion_loop(x, sigmas, update))
