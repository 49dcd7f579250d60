"""Denoising: the identity operator ``A = I``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import LinearOperator
from .spec import SIGMA_Y, operator

if TYPE_CHECKING:
    from torch import Tensor


class Identity(LinearOperator):
    """Denoising: ``A = I``."""

    name = "denoise"

    def forward(self, x: Tensor) -> Tensor:
        return x

    def adjoint(self, y: Tensor) -> Tensor:
        return y

    def prox(self, z, y, rho, steps: int = 0):
        return (y + rho * z) / (1 + rho)

    def _compute_norm(self, device) -> float:
        return 1.0


@operator(
    "denoise",
    summary="denoising: y = x + noise",
    params=(SIGMA_Y,),
    identity=True,
    # one Tweedie step D(y, sigma_y): the prior's MMSE estimate, deterministic
    default_sampler="ddim",
    default_steps=1,
    default_settings={"eta": 0.0},
)
def _identity(y_shape, sigma_y: float = 0.0) -> Identity:
    return Identity(y_shape, sigma_y)
