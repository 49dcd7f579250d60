"""DDIM (Song, Meng & Ermon 2021): unconditional sampling; from a noisy image, denoising."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..specs import Param
from ..steps import Step
from .base import Denoiser, StepGenerator, ddim_update, denoise, karras_sigmas, levels
from .spec import SamplerSpec, register

if TYPE_CHECKING:
    import torch
    from torch import Tensor


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
    import torch

    for i, n, sigma, sigma_next in levels(sigmas):
        with torch.no_grad():
            x0 = denoise(denoiser, x, sigma)
            x = ddim_update(x0, (x - x0) / sigma, sigma, sigma_next, eta, generator)
        yield Step(i + 1, n, sigma, x, x0)
    return x


def denoising_schedule(steps: int, sigma_y: float) -> Tensor:
    """Karras levels from the measurement's noise level ``sigma_y`` down to 0."""
    return karras_sigmas(steps, sigma_min=min(0.002, sigma_y / 2), sigma_max=sigma_y)


SPEC = register(
    SamplerSpec(
        name="ddim",
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
        func=ddim,
        data_term=False,
        schedule=denoising_schedule,
    )
)
