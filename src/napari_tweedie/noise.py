"""Noise models: level estimation and variance-stabilising transforms (no Qt, no torch).

Conventions (``x`` the clean image, ``y`` the measurement):

- ``gaussian``: ``y = x + sigma * n``
- ``poisson``: ``y = zeta * Poisson(x / zeta)``
- ``poisson_gaussian``: ``y = zeta * Poisson(x / zeta) + sigma * n``
- ``gamma``: ``y = x * Gamma(k, 1 / k)`` (mean 1, variance ``1 / k``)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

NOISE_MODELS = ("gaussian", "poisson", "poisson_gaussian", "gamma")


def estimate_sigma(image: np.ndarray) -> float:
    """Gaussian noise standard deviation by the wavelet median absolute deviation (Donoho).

    Uses the finest diagonal Haar detail coefficients of the last two axes,
    ``sigma = median(|HH|) / 0.6745``, pooled over leading axes.  NaNs are ignored.
    """
    data = np.asarray(image, dtype=np.float64)
    if data.ndim < 2 or min(data.shape[-2:]) < 2:
        raise ValueError(f"need an image of at least 2x2 pixels, got shape {data.shape}")
    h, w = (data.shape[-2] // 2) * 2, (data.shape[-1] // 2) * 2
    d = data[..., :h, :w]
    diagonal = (
        d[..., 0::2, 0::2] - d[..., 0::2, 1::2] - d[..., 1::2, 0::2] + d[..., 1::2, 1::2]
    ) / 2
    values = np.abs(diagonal[np.isfinite(diagonal)])
    return float(np.median(values) / 0.6745) if values.size else 0.0


def _block_moments(image: np.ndarray, block: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Local means and noise variances (from diagonal Haar details) over ``block`` squares."""
    data = np.asarray(image, dtype=np.float64).reshape((-1,) + image.shape[-2:])
    h, w = (data.shape[1] // block) * block, (data.shape[2] // block) * block
    d = data[:, :h, :w]
    diagonal = (d[:, 0::2, 0::2] - d[:, 0::2, 1::2] - d[:, 1::2, 0::2] + d[:, 1::2, 1::2]) / 2
    half = block // 2
    detail = diagonal.reshape(d.shape[0], h // block, half, w // block, half)
    means = d.reshape(d.shape[0], h // block, block, w // block, block).mean(axis=(2, 4))
    variances = (detail**2).mean(axis=(2, 4))
    return means.ravel(), variances.ravel()


def estimate_poisson_gaussian(image: np.ndarray) -> tuple[float, float]:
    """``(zeta, sigma)`` of ``y = zeta * Poisson(x / zeta) + sigma * n`` by a robust fit.

    Fits ``var = zeta * mean + sigma^2`` to block means and detail variances
    (a simplified Foi et al. 2008 scheme), keeping the flattest half of blocks
    by variance within mean bins so that edges do not bias the fit.
    """
    means, variances = _block_moments(image)
    keep = np.isfinite(means) & np.isfinite(variances)
    means, variances = means[keep], variances[keep]
    if means.size < 4:
        raise ValueError("image too small to estimate Poisson-Gaussian noise")
    edges = np.quantile(means, np.linspace(0, 1, 11))
    bin_means, bin_vars = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (means >= lo) & (means <= hi)
        if inside.sum() >= 3:
            bin_means.append(np.median(means[inside]))
            bin_vars.append(np.median(variances[inside]) / 0.959)
    slope, intercept = np.polyfit(bin_means, bin_vars, 1)
    return float(max(slope, 1e-8)), float(np.sqrt(max(intercept, 0.0)))


def estimate_gamma_k(image: np.ndarray) -> float:
    """Shape ``k`` of multiplicative Gamma noise from block ``mean^2 / variance`` (median)."""
    means, variances = _block_moments(image)
    ratio = means**2 / np.maximum(variances, 1e-12)
    ratio = ratio[np.isfinite(ratio) & (means > 0)]
    if ratio.size == 0:
        raise ValueError("cannot estimate Gamma noise: no positive blocks")
    return float(np.median(ratio) * 0.959)


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
    """Closed-form approximation of the exact unbiased inverse (Makitalo & Foi 2011, 2013)."""
    d = np.maximum(np.asarray(d, dtype=np.float64), 0.8)
    s = np.sqrt(1.5)
    exact = 0.25 * d**2 + 0.25 * s / d - 11.0 / 8.0 / d**2 + 0.625 * s / d**3 - 0.125
    return np.maximum(exact - sigma**2, 0.0).astype(np.float32)


def stabilizer_for(image: np.ndarray, noise: str, *, zeta=None, sigma=None, k=None) -> Stabilizer:
    """The :class:`Stabilizer` of a noise model, estimating missing parameters from ``image``."""
    if noise not in NOISE_MODELS or noise == "gaussian":
        raise ValueError(f"no stabiliser for noise {noise!r}; expected one of {NOISE_MODELS[1:]}")
    if noise == "gamma":
        return Stabilizer("gamma", k=float(k) if k else estimate_gamma_k(image))
    if zeta is None or (noise == "poisson_gaussian" and sigma is None):
        est_zeta, est_sigma = estimate_poisson_gaussian(image)
        zeta = est_zeta if zeta is None else zeta
        sigma = est_sigma if sigma is None else sigma
    return Stabilizer(
        noise, zeta=float(zeta), sigma=float(sigma or 0.0) if noise != "poisson" else 0.0
    )
