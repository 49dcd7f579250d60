"""DDIM (Song, Meng & Ermon 2021): unconditional sampling; from a noisy image, denoising."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..specs import Param
from .base import Denoiser, StepGenerator, ddim_update, denoise, diffusion_loop, karras_sigmas
from .spec import sampler

if TYPE_CHECKING:
    import torch
    from torch import Tensor


def denoising_schedule(steps: int, sigma_y: float) -> Tensor:
    """Karras levels from the measurement's noise level ``sigma_y`` down to 0."""
    return karras_sigmas(steps, sigma_min=min(0.002, sigma_y / 2), sigma_max=sigma_y)


@sampler(
    summary="DDIM (Song et al. 2021) from the noisy image at its noise level: denoising only",
    params=(
        Param(
            "eta",
            1.0,
            "stochasticity: 1 samples the posterior (ancestral), 0 is deterministic",
            min=0.0,
            max=1.0,
            step=0.05,
        ),
    ),
    data_term=False,
    schedule=denoising_schedule,
)
def ddim(
    denoiser: Denoiser,
    x: Tensor,
    sigmas: Tensor,
    *,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
) -> StepGenerator:
    """DDIM (Song, Meng & Ermon 2021): unconditional sampling, deterministic at ``eta=0``.

    ``eta=1`` is ancestral sampling (DDPM-like).  Started from a noisy image
    at its own noise level it samples the posterior of a denoising problem.
    """

    def update(x: Tensor, sigma: float, sigma_next: float) -> tuple[Tensor, Tensor]:
        x0 = denoise(denoiser, x, sigma)
        return ddim_update(x0, (x - x0) / sigma, sigma, sigma_next, eta, generator), x0

    return (yield from diffusion_loop(x, sigmas, update))
