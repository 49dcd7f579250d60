"""Decomposed Diffusion Sampler (Chung, Lee & Ye 2024): Tweedie, CG data steps, DDIM."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..specs import Param
from .base import Denoiser, StepGenerator, ddim_update, denoise, diffusion_loop, noise_level
from .spec import lam_param, sampler

if TYPE_CHECKING:
    import torch
    from torch import Tensor

    from ..operators.base import LinearOperator


@sampler(
    summary="Decomposed Diffusion Sampler (Chung et al. 2024): Tweedie + CG data steps + DDIM",
    params=(
        Param(
            "gamma",
            None,
            "data weight of the CG step (auto: sigma_t^2 / (lam sigma_y^2), per level)",
            min=0.0,
        ),
        lam_param(7.0),
        Param("cg_steps", 5, "conjugate-gradient steps per level", kind="int", min=1, max=100),
        Param("eta", 0.85, "DDIM stochasticity (1: ancestral)", min=0.0, max=1.0, step=0.05),
    ),
)
def dds(
    denoiser: Denoiser,
    x: Tensor,
    sigmas: Tensor,
    *,
    op: LinearOperator,
    y: Tensor,
    gamma: float | None = None,
    lam: float = 7.0,
    cg_steps: int = 5,
    eta: float = 0.85,
    sigma_y: float | None = None,
    generator: torch.Generator | None = None,
) -> StepGenerator:
    """Decomposed Diffusion Sampler (Chung, Lee & Ye 2024): Tweedie, CG data steps, DDIM.

    At each level: ``x0_hat = D(x, sigma)``; a few conjugate-gradient steps on
    ``gamma ||y - A x||^2 + ||x - x0_hat||^2`` started at ``x0_hat`` (they stay
    in the Krylov subspace around the clean manifold); then DDIM re-noising with
    the denoiser's noise estimate.  ``gamma=None`` weighs the data by the
    noise levels, ``gamma_t = sigma_t^2 / (lam * sigma_y^2)``: the Tweedie
    estimate's error std is taken as ``sigma_t / sqrt(lam)`` (as in DiffPIR).
    """
    from ..operators.base import conjugate_gradient

    adjoint_y = op.adjoint(y)
    measurement_noise = noise_level(op, sigma_y, 1e-3)

    def update(x: Tensor, sigma: float, sigma_next: float) -> tuple[Tensor, Tensor]:
        weight = sigma**2 / (lam * measurement_noise**2) if gamma is None else gamma
        x0 = denoise(denoiser, x, sigma)
        eps = (x - x0) / sigma
        x0 = conjugate_gradient(
            lambda v: weight * op.normal(v) + v, weight * adjoint_y + x0, x0, cg_steps
        )
        return ddim_update(x0, eps, sigma, sigma_next, eta, generator), x0

    return (yield from diffusion_loop(x, sigmas, update))
