"""Classical reconstructions to compare the diffusion solvers with.

- ``tv_least_squares``: total-variation regularised least squares,
  ``argmin ||y - A x||^2 / 2 + weight * TV(x)``, by ADMM (plug-and-play form:
  the operator's proximal map alternates with Chambolle's TV denoiser).
- The operator's own ``baseline``: filtered back-projection for CT, the
  zero-filled inverse FFT for MRI.
"""

from __future__ import annotations

import numpy as np
import torch
from skimage.restoration import denoise_tv_chambolle

from .operators.base import LinearOperator


def tv_least_squares(
    op: LinearOperator,
    y: torch.Tensor,
    *,
    weight: float = 0.02,
    rho: float = 1.0,
    iterations: int = 60,
    x0: torch.Tensor | None = None,
) -> torch.Tensor:
    """ADMM for ``||y - A x||^2 / 2 + weight * TV(x)`` (images in [0, 1], shape (1, 1, H, W))."""
    x = op.baseline(y).real.clone() if x0 is None else x0.clone()
    z, u = x.clone(), torch.zeros_like(x)
    for _ in range(iterations):
        x = op.prox(z - u, y, rho, steps=10)
        v = (x + u)[0, 0].cpu().numpy()
        z = torch.from_numpy(denoise_tv_chambolle(v, weight=weight / rho).astype(np.float32))
        z = z[None, None].to(x)
        u = u + x - z
    return z
