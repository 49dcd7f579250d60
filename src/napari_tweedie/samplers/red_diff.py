"""RED-Diff (Mardani et al. 2024): variational posterior mean with the denoiser as regulariser."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..specs import Param
from ..steps import Step
from .base import Denoiser, StepGenerator, denoise, levels, noise_level, noise_like
from .pnp import pnp_sigmas
from .spec import lam_param, sampler

if TYPE_CHECKING:
    import torch
    from torch import Tensor

    from ..operators.base import LinearOperator


@sampler(
    summary="RED-Diff (Mardani et al. 2024): Adam on the image, denoiser as regulariser",
    params=(
        lam_param(0.25),
        Param("lr", 0.02, "Adam learning rate on the image", min=0.0, step=0.005),
        Param(
            "sigma_max",
            0.2,
            "first noise level (data on [0, 1]); levels go geometrically down to 0.005",
            min=0.006,
            step=0.05,
        ),
    ),
    needs_start_image=True,
)
def red_diff(
    denoiser: Denoiser,
    x: Tensor,
    sigmas: Tensor,
    *,
    op: LinearOperator,
    y: Tensor,
    lam: float = 0.25,
    lr: float = 0.02,
    sigma_max: float | None = 0.2,
    sigma_y: float | None = None,
    init: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> StepGenerator:
    """RED-Diff: Adam on the image ``mu`` with data fidelity plus a score-matching regulariser.

    At each noise level (high to low) ``x_t = mu + sigma * eps``; the
    regulariser's gradient is ``lam * sigma * (eps_hat - eps)`` with
    ``eps_hat = (x_t - D(x_t, sigma)) / sigma`` (stop-gradient, so no backprop
    through the denoiser).  ``x`` only sets the shape unless ``init`` is None,
    in which case ``mu`` starts from zeros (:func:`napari_tweedie.restore` passes
    the classical reconstruction as ``init``).

    ``sigma_max`` replaces the levels of ``sigmas`` by as many levels
    geometric from ``sigma_max`` to 0.005: started from a classical
    reconstruction, the steps at diffusion's top levels (up to 20) only blur
    it.  ``sigma_max=None`` keeps ``sigmas``.  How the defaults were chosen:
    ``benchmarks/README.md``.
    """
    import torch

    if sigma_max is not None and not sigma_max > 0.005:
        raise ValueError(f"sigma_max must be > 0.005 (the last level), got {sigma_max}")
    mu = (init if init is not None else torch.zeros_like(x)).clone().requires_grad_(True)
    optimiser = torch.optim.Adam([mu], lr=lr, betas=(0.9, 0.99))
    measurement_noise = noise_level(op, sigma_y, 1e-2)
    if sigma_max is not None:
        geometric = pnp_sigmas(max(1, len(sigmas) - 1), sigma_max, 0.005)
        sigmas = torch.tensor(geometric + [0.0])
    for i, n, sigma, _ in levels(sigmas):
        sigma = max(sigma, 1e-3)
        eps = noise_like(x, generator)
        with torch.no_grad():
            eps_hat = (mu + sigma * eps - denoise(denoiser, mu + sigma * eps, sigma)) / sigma
        with torch.enable_grad():
            residual = (y - op.forward(mu)).abs().pow(2).flatten(1).sum(1)
            fidelity = residual.sum() / (2 * measurement_noise**2 * mu[0].numel())
            regulariser = (lam * sigma * (eps_hat - eps) * mu).flatten(1).sum(1).sum() / mu[
                0
            ].numel()
            optimiser.zero_grad()
            (fidelity + regulariser).backward()
        optimiser.step()
        current = mu.detach().clone()
        yield Step(i + 1, n, sigma, current, current, {"fidelity": float(fidelity.detach())})
    return mu.detach()
