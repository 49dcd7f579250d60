"""Shared pieces of the diffusion samplers: noise schedules, the DDIM update, the denoiser protocol.

All samplers work in the variance-exploding parametrisation ``x = x0 + sigma * n``
(equivalent to a variance-preserving process with
``sigma = sqrt((1 - abar) / abar)`` and ``x_vp = x / sqrt(1 + sigma^2)``), with
a denoiser ``D(x, sigma) = E[x0 | x]`` (Tweedie).  Any Gaussian denoiser is a
prior: its score is ``(D(x, sigma) - x) / sigma^2``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from ..steps import Step

if TYPE_CHECKING:
    import torch
    from torch import Tensor

    from ..operators.base import LinearOperator

#: what every sampler returns: a generator of steps whose value is the image batch
StepGenerator = Generator["Step", None, "Tensor"]


class Denoiser(Protocol):
    """Tweedie estimate ``E[x0 | x]`` for ``x = x0 + sigma * n`` (``sigma`` per batch item)."""

    def __call__(self, x: Tensor, sigma: Tensor) -> Tensor: ...


def karras_sigmas(
    steps: int, sigma_min: float = 0.002, sigma_max: float = 20.0, rho: float = 7.0
) -> Tensor:
    """Noise levels of Karras et al. (2022), decreasing, with a final 0 (``steps + 1`` values)."""
    import torch

    if steps < 1:
        raise ValueError(f"need at least one step, got {steps}")
    ramp = torch.linspace(0, 1, steps, dtype=torch.float64)
    inv_min, inv_max = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    sigmas = (inv_max + ramp * (inv_min - inv_max)) ** rho
    return torch.cat([sigmas, torch.zeros(1, dtype=torch.float64)]).float()


def denoise(denoiser: Denoiser, x: Tensor, sigma: float) -> Tensor:
    """Call ``denoiser`` with a per-item sigma tensor."""
    import torch

    return denoiser(x, torch.full((x.shape[0],), float(sigma), dtype=x.dtype, device=x.device))


def noise_like(x: Tensor, generator: torch.Generator | None) -> Tensor:
    """Standard normal noise shaped like ``x``, drawn on the CPU generator for reproducibility."""
    import torch

    return torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)


def ancestral_split(sigma: float, sigma_next: float, eta: float) -> tuple[float, float]:
    """(sigma_down, sigma_up) of a DDIM step with stochasticity ``eta`` (0: deterministic)."""
    if sigma_next <= 0:
        return 0.0, 0.0
    up = eta * math.sqrt(max(sigma_next**2 * (sigma**2 - sigma_next**2) / sigma**2, 0.0))
    up = min(up, sigma_next)
    return math.sqrt(sigma_next**2 - up**2), up


def ddim_update(
    x0: Tensor,
    eps: Tensor,
    sigma: float,
    sigma_next: float,
    eta: float,
    generator: torch.Generator | None,
) -> Tensor:
    """DDIM (Song et al. 2021) in VE form: ``x0 + sigma_down * eps + sigma_up * z``."""
    down, up = ancestral_split(sigma, sigma_next, eta)
    out = x0 + down * eps
    return out + up * noise_like(x0, generator) if up > 0 else out


def levels(sigmas: Tensor) -> Iterator[tuple[int, int, float, float]]:
    """``(i, n, sigma, sigma_next)`` for each step of a schedule ending with 0."""
    values = [float(s) for s in sigmas]
    n = len(values) - 1
    for i in range(n):
        yield i, n, values[i], values[i + 1]


def diffusion_loop(
    x: Tensor, sigmas: Tensor, update: Callable[[Tensor, float, float], tuple[Any, ...]]
) -> StepGenerator:
    """The loop every diffusion sampler shares: one ``update`` per noise level.

    ``update(x, sigma, sigma_next) -> (x, x0_hat)`` or ``(x, x0_hat, info)``
    runs without gradients (it may enable them itself); after each level a
    :class:`Step` reports ``x`` and ``x0_hat``.  Returns the last ``x``.
    """
    import torch

    for i, n, sigma, sigma_next in levels(sigmas):
        with torch.no_grad():
            x, x0, *info = update(x, sigma, sigma_next)
        yield Step(i + 1, n, sigma, x, x0, *info)
    return x


def noise_level(op: LinearOperator, sigma_y: float | None, floor: float) -> float:
    """The measurement noise a sampler weighs its data term by: ``sigma_y`` (default the
    operator's), at least ``floor``."""
    return max(op.sigma_y if sigma_y is None else sigma_y, floor)
