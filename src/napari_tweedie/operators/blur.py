"""Deblurring: convolution with a point-spread function (Gaussian, motion or given)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..specs import Param
from .base import LinearOperator
from .spec import SIGMA_Y, operator

if TYPE_CHECKING:
    from torch import Tensor


def gaussian_psf(sigma: float, radius: int | None = None) -> np.ndarray:
    """A normalised 2-D Gaussian point-spread function."""
    radius = radius if radius is not None else max(1, math.ceil(3 * sigma))
    grid = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-(grid[:, None] ** 2 + grid[None, :] ** 2) / (2 * sigma**2))
    return (kernel / kernel.sum()).astype(np.float32)


def motion_psf(length: int, angle_deg: float = 0.0) -> np.ndarray:
    """A normalised linear motion-blur PSF of ``length`` pixels at ``angle_deg``."""
    size = length if length % 2 else length + 1
    kernel = np.zeros((size, size), np.float32)
    centre, theta = size // 2, np.deg2rad(angle_deg)
    for t in np.linspace(-(length - 1) / 2, (length - 1) / 2, 4 * length):
        row = int(round(centre - t * np.sin(theta)))
        col = int(round(centre + t * np.cos(theta)))
        kernel[row, col] = 1.0
    return kernel / kernel.sum()


class Blur(LinearOperator):
    """Convolution with a PSF (zero boundary); the adjoint is the correlation (transpose)."""

    name = "blur"

    def __init__(self, image_shape, psf: np.ndarray, sigma_y: float = 0.0):
        import torch

        super().__init__(image_shape, sigma_y)
        psf = np.asarray(psf, np.float32)
        if psf.ndim != 2 or psf.shape[0] % 2 == 0 or psf.shape[1] % 2 == 0:
            raise ValueError(f"psf must be a 2-D array of odd sizes, got shape {psf.shape}")
        if not np.isfinite(psf).all() or abs(float(psf.sum())) < 1e-6:
            raise ValueError("psf must be finite and sum to a non-zero value (usually 1)")
        self.kernel = torch.from_numpy(psf[::-1, ::-1].copy())[None, None]
        self.padding = (psf.shape[0] // 2, psf.shape[1] // 2)

    def forward(self, x: Tensor) -> Tensor:
        import torch.nn.functional as F

        return F.conv2d(x, self.kernel.to(x), padding=self.padding)

    def adjoint(self, y: Tensor) -> Tensor:
        import torch.nn.functional as F

        return F.conv_transpose2d(y, self.kernel.to(y), padding=self.padding)

    def baseline(self, y: Tensor) -> Tensor:
        return y


@operator(
    "blur",
    summary="deblurring: y = psf * x + noise (Gaussian, linear motion or a given PSF)",
    params=(
        Param("psf", None, "point-spread function (2-D, odd sizes); else from below", "array"),
        Param("sigma_blur", 2.0, "Gaussian PSF width (pixels)", min=0.3, max=20.0, step=0.1),
        Param("motion", 0, "linear motion blur length (pixels; 0: Gaussian)", "int", 0, 200),
        Param("motion_angle", 0.0, "motion direction (degrees)", min=-180.0, max=180.0),
        SIGMA_Y,
    ),
    # DDS beat PnP and TV on Gaussian deblurring (restore_set12_blur_all.md): mean of 4
    default_sampler="dds",
    default_samples=4,
)
def _blur(
    y_shape,
    psf=None,
    sigma_blur: float | None = None,
    motion: int | None = None,
    motion_angle: float = 0.0,
    sigma_y: float = 0.0,
) -> Blur:
    if psf is None:
        if motion:
            psf = motion_psf(int(motion), motion_angle)
        else:
            psf = gaussian_psf(2.0 if sigma_blur is None else float(sigma_blur))
    return Blur(y_shape, psf, sigma_y)
