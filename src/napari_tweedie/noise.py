"""Noise models: level estimation and variance-stabilising transforms (no Qt, no torch).

The model objects (sampling, likelihood, Tweedie inversion) are in
:mod:`napari_tweedie.noise_models`; the estimators' machinery in
:mod:`napari_tweedie.noise_estimation`.

Conventions (``x`` the clean image, ``y`` the measurement):

- ``gaussian``: ``y = x + sigma * n``
- ``poisson``: ``y = zeta * Poisson(x / zeta)``
- ``poisson_gaussian``: ``y = zeta * Poisson(x / zeta) + sigma * n``
- ``gamma``: ``y = x * Gamma(k, 1 / k)`` (mean 1, variance ``1 / k``)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special

from . import noise_estimation

NOISE_MODELS = ("gaussian", "poisson", "poisson_gaussian", "gamma")
MIN_BLOCKS = 16
ANSCOMBE_TABLE_MAX = 1000.0


def estimate_sigma(image: np.ndarray) -> float:
    """Gaussian noise standard deviation from textureless blocks (Immerkaer 1996, trimmed).

    Robust block statistics (see :mod:`napari_tweedie.noise_estimation`):
    residuals of a second-difference filter, averaged over 8x8 blocks, keeping
    the blocks consistent with pure noise.  Pooled over leading axes; NaNs are
    ignored.  Images with fewer than 16 blocks fall back to
    :func:`estimate_sigma_mad`.
    """
    data = np.asarray(image, dtype=np.float64)
    _check_image(data)
    _, energies = noise_estimation.block_statistics(data)
    if energies.size < MIN_BLOCKS:
        return estimate_sigma_mad(data)
    return float(np.sqrt(noise_estimation.estimate_level(energies, noise_estimation.block_dof())))


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
    means, energies = noise_estimation.block_statistics(image)
    if means.size < MIN_BLOCKS:
        raise ValueError(f"image too small to estimate {what} noise (need about 40x40 pixels)")
    return means, energies


def estimate_poisson_gaussian(
    image: np.ndarray, *, zeta: float | None = None, sigma: float | None = None
) -> tuple[float, float]:
    """``(zeta, sigma)`` of ``y = zeta * Poisson(x / zeta) + sigma * n`` by a robust fit.

    Fits ``variance = zeta * mean + sigma^2`` to the textureless blocks
    (trimmed weighted least squares, in the spirit of Foi et al. 2008, see
    :mod:`napari_tweedie.noise_estimation`).  A given ``zeta`` or ``sigma`` is
    kept fixed and only the other one is fitted.
    """
    means, energies = _blocks(image, "Poisson-Gaussian")
    dof = noise_estimation.block_dof()
    fit = noise_estimation.estimate_variance_function
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
    dof = noise_estimation.block_dof()
    (slope,) = noise_estimation.estimate_variance_function(means, energies, dof, "proportional")
    return float(max(slope, 1e-12))


def estimate_gamma_k(image: np.ndarray) -> float:
    """Shape ``k`` of multiplicative Gamma noise: fits ``variance = mean^2 / k`` (robust)."""
    return noise_estimation.estimate_gamma_k_blocks(image)


@dataclass(frozen=True)
class Stabilizer:
    """A variance-stabilising transform to unit Gaussian noise, with its inverse.

    ``forward(y)`` has noise of standard deviation ``sigma`` (about 1);
    ``inverse(d)`` maps a denoised estimate back, unbiased where the model allows.
    """

    noise: str
    zeta: float = 1.0
    sigma: float = 0.0
    k: float = 1.0

    @property
    def stabilized_sigma(self) -> float:
        if self.noise == "gamma":
            return float(np.sqrt(special.polygamma(1, self.k)))
        return 1.0

    def forward(self, y: np.ndarray) -> np.ndarray:
        if self.noise == "gamma":
            return np.log(np.maximum(y, 1e-12)).astype(np.float32)
        return generalized_anscombe(y / self.zeta, self.sigma / self.zeta)

    def inverse(self, d: np.ndarray) -> np.ndarray:
        if self.noise == "gamma":
            bias = special.digamma(self.k) - np.log(self.k)
            return np.exp(d - bias).astype(np.float32)
        return (self.zeta * inverse_generalized_anscombe(d, self.sigma / self.zeta)).astype(
            np.float32
        )


def generalized_anscombe(z: np.ndarray, sigma: float = 0.0) -> np.ndarray:
    """Generalised Anscombe transform of ``z = Poisson(lambda) + N(0, sigma^2)`` (Murtagh 1995)."""
    return (2.0 * np.sqrt(np.maximum(z + 3.0 / 8.0 + sigma**2, 0.0))).astype(np.float32)


def inverse_generalized_anscombe(d: np.ndarray, sigma: float = 0.0) -> np.ndarray:
    """Exact unbiased inverse of :func:`generalized_anscombe` (Makitalo & Foi 2011, 2013).

    Maps ``D = E[GAT(z) | lambda]`` back to ``lambda``: ``D(lambda)`` is
    tabulated on a dense grid (Poisson pmf sums and a fine quadrature over
    the Gaussian part, cached per ``sigma``) and inverted by
    interpolation; above the table (``lambda > 1000``) the closed-form
    approximation, accurate there to ``1e-5`` relative, is used.
    """
    d = np.asarray(d, dtype=np.float64)
    lam, expected = _anscombe_table(round(float(sigma), 9))
    out = np.interp(d, expected, lam)
    high = d > expected[-1]
    if np.any(high):
        out[high] = _closed_form_inverse(d[high], sigma)
    return out.astype(np.float32)


def _closed_form_inverse(d: np.ndarray, sigma: float) -> np.ndarray:
    """Makitalo & Foi's closed-form approximation of the exact unbiased inverse."""
    d = np.maximum(d, 0.8)
    s = np.sqrt(1.5)
    exact = 0.25 * d**2 + 0.25 * s / d - 11.0 / 8.0 / d**2 + 0.625 * s / d**3 - 0.125
    return np.maximum(exact - sigma**2, 0.0)


@lru_cache(maxsize=32)
def _anscombe_table(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """``(lambda, E[GAT(Poisson(lambda) + sigma n)])`` on a grid from 0 to 1000."""
    lam = np.concatenate([[0.0], np.geomspace(1e-4, ANSCOMBE_TABLE_MAX, 1500)])
    counts = np.arange(0, int(ANSCOMBE_TABLE_MAX + 12 * np.sqrt(ANSCOMBE_TABLE_MAX) + 40))
    pmf = np.exp(
        special.xlogy(counts[None, :], lam[:, None]) - lam[:, None] - special.gammaln(counts + 1)
    )
    if sigma > 0:
        nodes = np.linspace(-7.0, 7.0, 281)  # the clip at 0 makes Gauss-Hermite inaccurate
        weights = np.exp(-0.5 * nodes**2)
        shifted = counts[:, None] + sigma * nodes[None, :] + 3.0 / 8.0 + sigma**2
        values = 2.0 * np.sqrt(np.maximum(shifted, 0.0)) @ (weights / weights.sum())
    else:
        values = 2.0 * np.sqrt(counts + 3.0 / 8.0)
    expected = np.maximum.accumulate(pmf @ values)
    return lam, expected


def stabilizer_for(image: np.ndarray, noise: str, *, zeta=None, sigma=None, k=None) -> Stabilizer:
    """The :class:`Stabilizer` of a noise model, estimating missing parameters from ``image``."""
    if noise not in NOISE_MODELS or noise == "gaussian":
        raise ValueError(f"no stabiliser for noise {noise!r}; expected one of {NOISE_MODELS[1:]}")
    if noise == "gamma":
        return Stabilizer("gamma", k=float(k) if k else estimate_gamma_k(image))
    if noise == "poisson":
        return Stabilizer("poisson", zeta=float(zeta) if zeta else estimate_poisson(image))
    if zeta is None or sigma is None:
        zeta, sigma = estimate_poisson_gaussian(image, zeta=zeta, sigma=sigma)
    return Stabilizer(noise, zeta=float(zeta), sigma=float(sigma))
