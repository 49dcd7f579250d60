"""An i.i.d. Gaussian image prior: its exact Tweedie denoiser and closed-form posteriors.

With ``x0 ~ N(mean, std^2 I)`` the MMSE denoiser of ``x = x0 + sigma n`` is the
linear shrinkage ``D(x, sigma) = mean + std^2 / (std^2 + sigma^2) (x - mean)``,
and for a linear problem ``y = A x0 + sigma_y n`` the posterior of ``x0`` is
Gaussian with precision ``A^T A / sigma_y^2 + I / std^2``.  The samplers' tests
and ``benchmarks/bench_calibration.py`` run the samplers on this denoiser and
compare their samples with that posterior (deepinv and the DDS paper check
their solvers the same way).  Only for tiny images: the posterior is dense.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..operators.base import LinearOperator


@dataclass(frozen=True)
class GaussianPrior:
    """Every pixel independent ``N(mean, std^2)``."""

    mean: float
    std: float

    def __call__(self, x: Tensor, sigma: Tensor) -> Tensor:
        """Exact Tweedie estimate ``E[x0 | x]`` (``sigma`` per batch item or a scalar)."""
        s2 = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1) ** 2
        v = self.std**2
        return (v * x + s2 * self.mean) / (v + s2)

    def posterior(self, op: LinearOperator, y: Tensor, sigma_y: float) -> tuple[Tensor, Tensor]:
        """Closed-form posterior mean and per-pixel std of ``x0`` given ``y``, shaped (H, W).

        The matrix of ``op`` is built column by column, so keep ``H * W`` in the
        hundreds; real operators only.  Computed in float64, returned as float32.
        """
        h, w = op.image_shape
        eye = torch.eye(h * w)
        a = torch.stack([op.forward(e.view(1, 1, h, w)).flatten() for e in eye], 1).double()
        y = y.flatten()
        precision = a.T @ a / sigma_y**2 + torch.eye(h * w, dtype=torch.float64) / self.std**2
        covariance = torch.linalg.inv(precision)
        mean = covariance @ (a.T @ y.double() / sigma_y**2 + self.mean / self.std**2)
        return mean.view(h, w).float(), covariance.diagonal().sqrt().view(h, w).float()
