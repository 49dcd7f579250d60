"""Simple forward models: identity (denoising), blur, inpainting mask, block averaging."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .base import LinearOperator


def _as_image_tensor(array, device=None) -> Tensor:
    tensor = torch.as_tensor(np.asarray(array, dtype=np.float32), device=device)
    return tensor.reshape(1, 1, *tensor.shape[-2:])


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
        super().__init__(image_shape, sigma_y)
        psf = np.asarray(psf, np.float32)
        if psf.ndim != 2 or psf.shape[0] % 2 == 0 or psf.shape[1] % 2 == 0:
            raise ValueError(f"psf must be a 2-D array of odd sizes, got shape {psf.shape}")
        self.kernel = torch.from_numpy(psf[::-1, ::-1].copy())[None, None]
        self.padding = (psf.shape[0] // 2, psf.shape[1] // 2)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.kernel.to(x), padding=self.padding)

    def adjoint(self, y: Tensor) -> Tensor:
        return F.conv_transpose2d(y, self.kernel.to(y), padding=self.padding)

    def baseline(self, y: Tensor) -> Tensor:
        return y


class Inpaint(LinearOperator):
    """Pixel mask: ``y = mask * x`` with ``mask = 1`` where a pixel is observed."""

    name = "inpaint"

    def __init__(self, image_shape, mask: np.ndarray, sigma_y: float = 0.0):
        super().__init__(image_shape, sigma_y)
        mask = np.asarray(mask)
        if mask.shape[-2:] != tuple(image_shape):
            raise ValueError(f"mask shape {mask.shape} does not match the image {image_shape}")
        self.mask = _as_image_tensor(mask != 0)

    def _compute_norm(self, device) -> float:
        return 1.0 if bool(self.mask.any()) else 0.0

    def forward(self, x: Tensor) -> Tensor:
        return x * self.mask.to(x)

    adjoint = forward
    observed = forward

    def prox(self, z, y, rho, steps: int = 0):
        mask = self.mask.to(z)
        return (mask * y + rho * z) / (mask + rho)

    def baseline(self, y: Tensor) -> Tensor:
        """Fill missing pixels by normalised Gaussian interpolation of the observed ones."""
        mask = self.mask.to(y)
        kernel = torch.from_numpy(gaussian_psf(3.0))[None, None].to(y)
        pad = kernel.shape[-1] // 2
        weights = F.conv2d(mask, kernel, padding=pad).clamp_min(1e-6)
        smooth = F.conv2d(y * mask, kernel, padding=pad) / weights
        return mask * y + (1 - mask) * smooth


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
        return F.interpolate(y, scale_factor=self.factor, mode="bicubic", align_corners=False)
