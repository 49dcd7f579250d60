"""Parallel-beam CT: the Radon transform in torch (rotate + sum), its exact adjoint, and FBP."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .base import LinearOperator

ANGLE_CHUNK = 32


def view_angles(angles: int | np.ndarray, limited: float = 180.0) -> np.ndarray:
    """Projection angles in degrees: a count (evenly over ``[0, limited)``) or an explicit array."""
    if np.ndim(angles) == 0:
        count = int(angles)
        if count < 1:
            raise ValueError(f"need at least one projection angle, got {angles}")
        return np.linspace(0.0, float(limited), count, endpoint=False)
    return np.asarray(angles, dtype=np.float64)


class Radon(LinearOperator):
    """Parallel-beam projections of an (H, W) image at the given angles (degrees).

    The image is zero-padded to its diagonal ``D`` so that nothing leaves the
    field of view, rotated by each angle (bilinear ``grid_sample``) and summed
    along the rays: ``y`` has shape (B, 1, n_angles, D), in units of pixel
    length.  The adjoint (back-projection) is computed by autograd, hence
    exact; ``photons`` enables Poisson transmission noise in :meth:`simulate`,
    where the image times ``attenuation`` is the attenuation per pixel length
    (default ``3 / D``: a ray across the whole field through values of 1
    transmits ``e^-3``, 5 %).
    """

    name = "ct"

    def __init__(
        self,
        image_shape,
        angles: int | np.ndarray = 60,
        sigma_y: float = 0.0,
        photons: float | None = None,
        limited: float = 180.0,
        attenuation: float | None = None,
    ):
        super().__init__(image_shape, sigma_y)
        self.angles = view_angles(angles, limited)
        self.photons = photons
        self.diagonal = int(math.ceil(math.hypot(*self.image_shape)))
        self.diagonal += (self.diagonal - self.image_shape[0]) % 2  # centre on a pixel
        self.attenuation = 3.0 / self.diagonal if attenuation is None else float(attenuation)
        if self.attenuation <= 0:
            raise ValueError(f"attenuation must be > 0, got {attenuation}")

    def _pad(self, x: Tensor) -> Tensor:
        h, w = self.image_shape
        dh, dw = self.diagonal - h, self.diagonal - (w + (self.diagonal - w) % 2)
        return F.pad(x, (dw // 2 + (self.diagonal - w) % 2, dw - dw // 2, dh // 2, dh - dh // 2))

    def _grids(self, angles: np.ndarray, batch: int, device, dtype) -> Tensor:
        theta = torch.as_tensor(np.deg2rad(angles), dtype=dtype, device=device)
        cos, sin = torch.cos(theta), torch.sin(theta)
        zero = torch.zeros_like(cos)
        matrices = torch.stack(
            [torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1
        )
        size = (len(angles), 1, self.diagonal, self.diagonal)
        grid = F.affine_grid(matrices, size, align_corners=False)
        return grid.repeat(batch, 1, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        padded = self._pad(x)
        batch = x.shape[0]
        out = []
        for start in range(0, len(self.angles), ANGLE_CHUNK):
            chunk = self.angles[start : start + ANGLE_CHUNK]
            grid = self._grids(chunk, batch, x.device, x.dtype)
            images = padded.repeat_interleave(len(chunk), dim=0)
            rotated = F.grid_sample(images, grid, mode="bilinear", align_corners=False)
            out.append(rotated.sum(dim=-2).reshape(batch, len(chunk), self.diagonal))
        return torch.cat(out, dim=1)[:, None]

    def measurement_shape(self) -> tuple[int, int]:
        return (len(self.angles), self.diagonal)

    def baseline(self, y: Tensor) -> Tensor:
        """Filtered back-projection with the discrete Ram-Lak filter (Kak & Slaney, eq. 3.61)."""
        n = y.shape[-1]
        size = 2 ** math.ceil(math.log2(2 * n))
        offsets = torch.arange(size, device=y.device)
        offsets = torch.minimum(offsets, size - offsets).to(y.dtype)
        kernel = torch.where(offsets % 2 == 1, -1.0 / (math.pi * offsets) ** 2, 0.0)
        kernel[0] = 0.25
        spectrum = torch.fft.rfft(y, n=size, dim=-1) * torch.fft.rfft(kernel).real
        filtered = torch.fft.irfft(spectrum, n=size, dim=-1)[..., :n]
        return self.adjoint(filtered) * (math.pi / len(self.angles))

    def simulate(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Noisy sinogram: Poisson photon counts if ``photons`` is set, else Gaussian noise.

        With photons, ``counts ~ Poisson(photons exp(-attenuation A x))`` and the
        returned sinogram is ``-log(counts / photons) / attenuation``, in the units
        of ``A x``; its noise std is about ``1 / (attenuation sqrt(counts))``.
        """
        clean = self.forward(x)
        if self.photons:
            mu = self.attenuation
            counts = torch.poisson(self.photons * torch.exp(-mu * clean), generator=generator)
            return -torch.log(counts.clamp_min(1.0) / self.photons) / mu
        noise = torch.randn(clean.shape, generator=generator, dtype=clean.dtype)
        return clean + self.sigma_y * noise.to(clean.device)
