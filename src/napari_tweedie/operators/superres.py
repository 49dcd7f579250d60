"""Super-resolution: averages of ``factor x factor`` blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..specs import Param
from .base import LinearOperator
from .spec import SIGMA_Y, operator

if TYPE_CHECKING:
    from torch import Tensor


class SuperResolution(LinearOperator):
    """``y`` = averages of ``factor x factor`` blocks (low-resolution shape H/f, W/f)."""

    name = "superres"

    def __init__(self, image_shape, factor: int, sigma_y: float = 0.0):
        super().__init__(image_shape, sigma_y)
        self.factor = int(factor)
        if self.factor < 1 or any(n % self.factor for n in self.image_shape):
            raise ValueError(f"image shape {image_shape} is not a multiple of factor {factor}")

    def _compute_norm(self, device) -> float:
        return 1.0 / self.factor  # A A^T = I / f^2

    def forward(self, x: Tensor) -> Tensor:
        import torch.nn.functional as F

        return F.avg_pool2d(x, self.factor)

    def adjoint(self, y: Tensor) -> Tensor:
        f = self.factor
        return y.repeat_interleave(f, dim=-2).repeat_interleave(f, dim=-1) / (f * f)

    def prox(self, z, y, rho, steps: int = 0):
        # A A^T = I / f^2, so (A^T A + rho I)^-1 has a closed form (Sherman-Morrison-Woodbury).
        f2 = self.factor**2
        rhs = self.adjoint(y) + rho * z
        return (rhs - self.adjoint(self.forward(rhs)) * f2 / (1 + rho * f2)) / rho

    def baseline(self, y: Tensor) -> Tensor:
        import torch.nn.functional as F

        return F.interpolate(y, scale_factor=self.factor, mode="bicubic", align_corners=False)


def _from_image(image_shape, factor: int = 4, sigma_y: float = 0.0) -> SuperResolution:
    return SuperResolution(image_shape, int(factor), sigma_y)


@operator(
    "superres",
    summary="super-resolution: y = averages of factor x factor blocks + noise",
    params=(
        Param("factor", 4, "resolution gain: y has 1/factor of the rows and columns", "int", 1, 16),
        SIGMA_Y,
    ),
    from_image=_from_image,
    default_sampler="pnp",  # PnP-HQS: the best measured at 4x (restore_set12_4img.md)
)
def _from_low_resolution(y_shape, factor: int = 4, sigma_y: float = 0.0) -> SuperResolution:
    return SuperResolution(tuple(int(n) * int(factor) for n in y_shape), factor, sigma_y)
