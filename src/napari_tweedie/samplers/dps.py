"""Diffusion Posterior Sampling (Chung et al. 2023): DDIM plus a likelihood gradient."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..specs import Param
from .base import Denoiser, StepGenerator, ddim_update, denoise, diffusion_loop
from .spec import sampler

if TYPE_CHECKING:
    import torch
    from torch import Tensor

    from ..operators.base import LinearOperator


@sampler(
    summary="Diffusion Posterior Sampling (Chung et al. 2023): DDIM + likelihood gradient",
    params=(
        Param(
            "zeta",
            6.0,
            "likelihood step, divided by ||A||: larger follows the data harder",
            min=0.0,
            step=0.5,
        ),
        Param("eta", 1.0, "DDIM stochasticity (1: ancestral)", min=0.0, max=1.0, step=0.05),
    ),
    needs_differentiable_prior=True,
)
def dps(
    denoiser: Denoiser,
    x: Tensor,
    sigmas: Tensor,
    *,
    op: LinearOperator,
    y: Tensor,
    zeta: float = 6.0,
    eta: float = 1.0,
    generator: torch.Generator | None = None,
) -> StepGenerator:
    """Diffusion Posterior Sampling (Chung et al. 2023): DDIM plus a likelihood gradient.

    The gradient of ``||y - A x0_hat(x)||`` is taken through the denoiser
    (autograd) and subtracted with step ``zeta / ||A||`` (the paper's
    ``zeta / ||y - A x0_hat||`` scaling of the squared residual's gradient,
    divided by the operator norm so that one ``zeta`` suits operators of any
    scale: the paper's operators have ``||A|| <= 1``, a Radon transform's is
    in the tens).  How the default was chosen and how its samples are
    calibrated: ``benchmarks/README.md``.
    """
    import torch

    step = zeta / max(op.norm(device=x.device), 1e-12)

    def update(x: Tensor, sigma: float, sigma_next: float) -> tuple[Tensor, Tensor, dict]:
        with torch.enable_grad():
            x_in = x.detach().requires_grad_(True)
            x0 = denoise(denoiser, x_in, sigma)
            residual = (y - op.forward(x0)).abs().pow(2).flatten(1).sum(1).sqrt()
            (grad,) = torch.autograd.grad(residual.sum(), x_in)
        x0 = x0.detach()
        x = ddim_update(x0, (x - x0) / sigma, sigma, sigma_next, eta, generator) - step * grad
        return x, x0, {"residual": float(residual.detach().mean())}

    return (yield from diffusion_loop(x, sigmas, update))
