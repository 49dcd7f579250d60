"""Noise-parameter estimators from one noisy image (no Qt, no torch).

All rest on robust block statistics (:mod:`.blocks`): Immerkaer's (1996)
second-difference residual, averaged over 8x8 blocks, keeping the blocks
consistent with pure noise.  Each :class:`~napari_tweedie.noise.NoiseModel`
estimates its parameters with one of these (``Model.estimate``).
"""

from __future__ import annotations

import numpy as np

from . import blocks

__all__ = [
    "estimate_gamma_k",
    "estimate_poisson",
    "estimate_poisson_gaussian",
    "estimate_sigma",
    "estimate_sigma_mad",
]

MIN_BLOCKS = 16


def estimate_sigma(image: np.ndarray) -> float:
    """Gaussian noise standard deviation from textureless blocks (Immerkaer 1996, trimmed).

    Robust block statistics (see :mod:`napari_tweedie.noise.blocks`):
    residuals of a second-difference filter, averaged over 8x8 blocks, keeping
    the blocks consistent with pure noise.  Pooled over leading axes; NaNs are
    ignored.  Images with fewer than 16 blocks fall back to
    :func:`estimate_sigma_mad`.
    """
    data = np.asarray(image, dtype=np.float64)
    _check_image(data)
    _, energies = blocks.block_statistics(data)
    if energies.size < MIN_BLOCKS:
        return estimate_sigma_mad(data)
    return float(np.sqrt(blocks.estimate_level(energies, blocks.block_dof())))


def estimate_sigma_mad(image: np.ndarray) -> float:
    """Gaussian noise standard deviation by the wavelet median absolute deviation (Donoho).

    Uses the finest diagonal Haar detail coefficients of the last two axes,
    ``sigma = median(|HH|) / 0.6745``, pooled over leading axes.  NaNs are ignored.
    Biased upwards on textured images; :func:`estimate_sigma` is more accurate.
    """
    data = np.asarray(image, dtype=np.float64)
    _check_image(data)
    h, w = (data.shape[-2] // 2) * 2, (data.shape[-1] // 2) * 2
    d = data[..., :h, :w]
    diagonal = (
        d[..., 0::2, 0::2] - d[..., 0::2, 1::2] - d[..., 1::2, 0::2] + d[..., 1::2, 1::2]
    ) / 2
    values = np.abs(diagonal[np.isfinite(diagonal)])
    return float(np.median(values) / 0.6745) if values.size else 0.0


def _check_image(data: np.ndarray) -> None:
    if data.ndim < 2 or min(data.shape[-2:]) < 2:
        raise ValueError(f"need an image of at least 2x2 pixels, got shape {data.shape}")


def _blocks(image: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    means, energies = blocks.block_statistics(image)
    if means.size < MIN_BLOCKS:
        raise ValueError(f"image too small to estimate {what} noise (need about 40x40 pixels)")
    return means, energies


def estimate_poisson_gaussian(
    image: np.ndarray, *, zeta: float | None = None, sigma: float | None = None
) -> tuple[float, float]:
    """``(zeta, sigma)`` of ``y = zeta * Poisson(x / zeta) + sigma * n`` by a robust fit.

    Fits ``variance = zeta * mean + sigma^2`` to the textureless blocks
    (trimmed weighted least squares, in the spirit of Foi et al. 2008, see
    :func:`napari_tweedie.noise.blocks.estimate_variance_function`).  A given
    ``zeta`` or ``sigma`` is kept fixed and only the other one is fitted.
    """
    means, energies = _blocks(image, "Poisson-Gaussian")
    dof = blocks.block_dof()
    fit = blocks.estimate_variance_function
    if zeta is not None and sigma is not None:
        return float(zeta), float(sigma)
    if sigma is not None:
        (slope,) = fit(means, energies, dof, "proportional", offset=float(sigma) ** 2)
        return float(max(slope, 1e-12)), float(sigma)
    if zeta is not None:
        (level,) = fit(means, energies, dof, "constant", offset=float(zeta) * means)
        return float(zeta), float(np.sqrt(max(level, 0.0)))
    slope, intercept = fit(means, energies, dof, "linear")
    return float(max(slope, 1e-12)), float(np.sqrt(max(intercept, 0.0)))


def estimate_poisson(image: np.ndarray) -> float:
    """``zeta`` of ``y = zeta * Poisson(x / zeta)``: fits ``variance = zeta * mean`` (robust)."""
    means, energies = _blocks(image, "Poisson")
    dof = blocks.block_dof()
    (slope,) = blocks.estimate_variance_function(means, energies, dof, "proportional")
    return float(max(slope, 1e-12))


def estimate_gamma_k(image: np.ndarray, iterations: int = 4) -> float:
    """Gamma-noise shape ``k`` of ``y = x Gamma(k, 1/k)``: fits ``variance = mean^2 / k``.

    Gamma noise has excess kurtosis ``6 / k``, which widens the block law; the
    fit alternates with ``k`` a few times.  Non-positive pixels are ignored.
    """
    data = np.asarray(image, dtype=np.float64)
    means, energies = blocks.block_statistics(np.where(data > 0, data, np.nan))
    if means.size < MIN_BLOCKS:
        raise ValueError("cannot estimate Gamma noise: too few positive blocks")
    k = np.inf
    for _ in range(iterations):
        dof = blocks.block_dof(round(min(6.0 / k, 60.0), 2))
        (c,) = blocks.estimate_variance_function(means, energies, dof, "quadratic")
        if c <= 0:
            return float("inf")
        k = 1.0 / c
    return float(k)
