"""The noise models: Gaussian, Poisson, Poisson-Gaussian, Gamma (no Qt, no torch at import).

``x`` is the clean image, ``y`` the measurement, ``s(y) = d/dy log p(y)`` the
score of the measurements' marginal density (what Noise2Score, Kim & Ye 2021,
learns).  Tweedie-type formulas turn the score into a posterior estimate:

========================  ===========================================  ====================
model                     estimate from the score                      estimates
========================  ===========================================  ====================
``y = x + sigma n``       ``y + sigma^2 s(y)``                         ``E[x | y]`` (exact)
``y = zeta Poisson(x/zeta)``  ``(y + zeta) exp(int_y^{y+zeta} s)``    ``E[x | y]`` (exact)
Poisson-Gaussian          ``(y + zeta + sigma^2 s(y + zeta))``         ``E[x | y]`` (exact)
                          ``* exp(int_y^{y+zeta} s)``
``y = x Gamma(k, 1/k)``   ``k y / ((k - 1) - y s(y))``                 ``1 / E[1/x | y]``
========================  ===========================================  ====================

Derivations.  Poisson (Robbins 1956): ``x Pois(z; x/zeta) = zeta (z + 1)
Pois(z + 1; x/zeta)``, so ``E[x | y] = (y + zeta) p(y + zeta) / p(y)`` and
``log p(y + zeta) - log p(y)`` is the integral of the score over one lattice
step; with one Gauss-Legendre node it is ``zeta s(y + zeta/2)``, exact up to
``O(zeta^3)`` in the exponent.  Noise2Score's published code uses
``(y + zeta/2) exp(zeta s(y))`` and ``(y + zeta/2) exp(zeta s(y + zeta/2))``
is also quoted; both agree to first order but are biased by about
``-zeta/2`` times the posterior shrinkage (checked on a Gamma prior, whose
counts are negative binomial, in ``tests/test_noise_models.py``).
Poisson-Gaussian: the same identity moves the Poisson count by one, leaving a
Gaussian Tweedie step at ``y + zeta``.  Gamma: the likelihood is an
exponential family in ``eta = -k/x`` with base measure ``y^(k-1)``, so
Efron's (2011) Tweedie formula gives ``E[-k/x | y] = s(y) - (k - 1)/y``; the
harmonic posterior mean ``1 / E[1/x | y]`` follows (Kim & Ye 2021 use it as
the estimate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..specs import Param
from . import estimation
from .base import NoiseModel, evaluate, score_integral
from .vst import AnscombeStabilizer, LogStabilizer

__all__ = ["GammaNoise", "GaussianNoise", "PoissonGaussianNoise", "PoissonNoise"]

SIGMA = Param(
    "sigma", None, "Gaussian noise standard deviation (auto: estimated)", min=0.0, image_units=True
)
ZETA = Param(
    "zeta",
    None,
    "Poisson scale: y = zeta Poisson(x / zeta) (auto: estimated)",
    min=0.0,
    image_units=True,
)
K = Param("k", None, "Gamma shape: y = x Gamma(k, 1/k) (auto: estimated)", min=0.0)


@dataclass(frozen=True)
class GaussianNoise(NoiseModel):
    """Additive white Gaussian noise ``y = x + sigma n``."""

    sigma: float
    name: ClassVar[str] = "gaussian"
    summary: ClassVar[str] = "additive white Gaussian noise: y = x + sigma n"
    params: ClassVar[tuple[Param, ...]] = (SIGMA,)
    variance_terms: ClassVar[tuple[int, ...]] = (0,)
    signal_dependent: ClassVar[bool] = False

    @classmethod
    def estimate(cls, image, *, sigma=None):
        """Immerkaer's block estimator of ``sigma`` (:func:`.estimation.estimate_sigma`)."""
        return cls(estimation.estimate_sigma(image) if sigma is None else sigma)

    def variance(self, means):
        return np.full_like(np.asarray(means, dtype=np.float64), self.sigma**2)

    def mean_variance(self, y):
        return float(self.sigma**2)

    def stabilizer(self):
        return None

    def risk_variance(self, y):
        """``sigma^2`` everywhere: Stein's unbiased risk estimate (SURE, Stein 1981)."""
        return np.full(np.shape(y), self.sigma**2, dtype=np.float64)

    def stabilise(self, y):
        """``y / sigma``: the noise is already Gaussian."""
        data = np.asarray(y, dtype=np.float32)
        return (data / max(float(self.sigma), 1e-12)).astype(np.float32)

    def sample(self, x, rng):
        x = np.asarray(x, dtype=np.float64)
        return x + self.sigma * rng.standard_normal(x.shape)

    def sample_torch(self, x, generator):
        import torch

        return x + self.sigma * torch.randn(x.shape, generator=generator, dtype=x.dtype)

    def log_likelihood(self, y, x):
        r = (np.asarray(y, np.float64) - x) / self.sigma
        return -0.5 * r**2 - np.log(self.sigma * np.sqrt(2 * np.pi))

    def tweedie(self, y, score):
        """Tweedie's formula (Robbins 1956, Miyasawa 1961): ``E[x | y] = y + sigma^2 s(y)``.

        ``score`` is callable or the array ``s(y)``.
        """
        y = np.asarray(y, dtype=np.float64)
        return y + self.sigma**2 * evaluate(score, y)


@dataclass(frozen=True)
class PoissonGaussianNoise(NoiseModel):
    """Mixed noise ``y = zeta Poisson(x / zeta) + sigma n`` (``x >= 0``)."""

    zeta: float
    sigma: float
    name: ClassVar[str] = "poisson_gaussian"
    summary: ClassVar[str] = "Poisson-Gaussian noise: y = zeta Poisson(x / zeta) + sigma n"
    params: ClassVar[tuple[Param, ...]] = (ZETA, SIGMA)
    variance_terms: ClassVar[tuple[int, ...]] = (1, 0)

    @classmethod
    def invalid(cls, values):
        """As for any model, except that the Gaussian part may be 0 (pure Poisson)."""
        return [n for n in super().invalid(values) if not (n == "sigma" and values[n] == 0)]

    @classmethod
    def estimate(cls, image, *, zeta=None, sigma=None):
        """Robust fit of ``variance = zeta mean + sigma^2``; a given parameter stays fixed."""
        if zeta is None or sigma is None:
            zeta, sigma = estimation.estimate_poisson_gaussian(image, zeta=zeta, sigma=sigma)
        return cls(zeta, sigma)

    def variance(self, means):
        return self.zeta * np.asarray(means, dtype=np.float64) + self.sigma**2

    def mean_variance(self, y):
        return float(self.zeta * max(np.mean(y), 0.0) + self.sigma**2)

    def stabilizer(self):
        """The generalised Anscombe transform."""
        return AnscombeStabilizer(zeta=self.zeta, sigma=self.sigma)

    def risk_variance(self, y):
        """``zeta y + sigma^2``: PURE / PG-URE to first order (Luisier, Blu & Unser 2011)."""
        return self.zeta * np.asarray(y, dtype=np.float64) + self.sigma**2

    def sample(self, x, rng):
        lam = np.maximum(np.asarray(x, dtype=np.float64), 0) / self.zeta
        counts = self.zeta * rng.poisson(lam)
        return counts + self.sigma * rng.standard_normal(counts.shape) if self.sigma else counts

    def sample_torch(self, x, generator):
        import torch

        lam = torch.clamp(x, min=0) / self.zeta
        counts = self.zeta * torch.poisson(lam, generator=generator)
        if self.sigma:
            counts = counts + self.sigma * torch.randn(x.shape, generator=generator, dtype=x.dtype)
        return counts

    def log_likelihood(self, y, x):
        """Poisson-Gaussian log-density ``log sum_z Pois(z; x/zeta) N(y; zeta z, sigma^2)``.

        The sum runs over all plausible counts (memory grows with ``max(x)/zeta``).
        """
        from scipy import special

        if self.sigma <= 0:
            return PoissonNoise(self.zeta).log_likelihood(y, x)
        y = np.asarray(y, dtype=np.float64)
        lam = np.maximum(np.asarray(x, dtype=np.float64), 1e-300) / self.zeta
        lam = np.broadcast_to(lam, y.shape)
        top = float(np.max(lam) + 12 * np.sqrt(np.max(lam)) + np.max(y) / self.zeta + 12)
        z = np.arange(0, int(np.ceil(top)) + 1, dtype=np.float64).reshape((-1,) + (1,) * y.ndim)
        terms = z * np.log(lam) - lam - special.gammaln(z + 1)
        terms = terms - 0.5 * ((y - self.zeta * z) / self.sigma) ** 2
        return special.logsumexp(terms, axis=0) - np.log(self.sigma * np.sqrt(2 * np.pi))

    def tweedie(self, y, score, nodes: int = 1):
        """Robbins-Tweedie posterior mean for Poisson-Gaussian noise (derived in the module).

        ``E[x | y] = (y + zeta + sigma^2 s(y + zeta)) exp(int_y^{y + zeta} s)``;
        ``score`` must be callable; ``nodes`` Gauss-Legendre nodes for the
        integral (1: ``zeta s(y + zeta/2)``).
        """
        y = np.asarray(y, dtype=np.float64)
        if not callable(score):
            raise TypeError("Poisson-Gaussian Tweedie needs the score as a function of y")
        shift = y + self.zeta + self.sigma**2 * evaluate(score, y + self.zeta)
        return shift * np.exp(score_integral(y, score, self.zeta, nodes))


@dataclass(frozen=True)
class PoissonNoise(PoissonGaussianNoise):
    """Scaled Poisson noise ``y = zeta Poisson(x / zeta)`` (``x >= 0``, ``y`` on ``zeta N``)."""

    sigma: float = 0.0
    name: ClassVar[str] = "poisson"
    summary: ClassVar[str] = "scaled Poisson (shot) noise: y = zeta Poisson(x / zeta)"
    params: ClassVar[tuple[Param, ...]] = (ZETA,)
    variance_terms: ClassVar[tuple[int, ...]] = (1,)

    @classmethod
    def estimate(cls, image, *, zeta=None):
        """Robust fit of ``variance = zeta mean`` (:func:`.estimation.estimate_poisson`)."""
        return cls(estimation.estimate_poisson(image) if zeta is None else zeta)

    def log_likelihood(self, y, x):
        """Scaled Poisson log-pmf ``log Pois(y/zeta; x/zeta)`` on the lattice ``zeta N``."""
        from scipy import special

        z = np.round(np.asarray(y, dtype=np.float64) / self.zeta)
        lam = np.asarray(x, dtype=np.float64) / self.zeta
        return special.xlogy(z, lam) - lam - special.gammaln(z + 1)

    def tweedie(self, y, score, nodes: int = 1):
        """Robbins (1956) posterior mean for Poisson noise, from the score (see the module).

        ``E[x | y] = (y + zeta) exp(int_y^{y + zeta} s)``; ``score`` must be
        callable; ``nodes`` Gauss-Legendre nodes (1: ``(y + zeta) exp(zeta s(y + zeta/2))``).
        """
        y = np.asarray(y, dtype=np.float64)
        if not callable(score):
            raise TypeError("Poisson Tweedie needs the score as a function of y")
        return (y + self.zeta) * np.exp(score_integral(y, score, self.zeta, nodes))


@dataclass(frozen=True)
class GammaNoise(NoiseModel):
    """Multiplicative Gamma noise ``y = x Gamma(k, 1/k)`` (mean 1, variance ``1/k``; ``x > 0``)."""

    k: float
    name: ClassVar[str] = "gamma"
    summary: ClassVar[str] = "multiplicative Gamma (speckle) noise: y = x Gamma(k, 1/k)"
    params: ClassVar[tuple[Param, ...]] = (K,)
    variance_terms: ClassVar[tuple[int, ...]] = (2,)
    positive_only: ClassVar[bool] = True

    @classmethod
    def estimate(cls, image, *, k=None):
        """Robust fit of ``variance = mean^2 / k`` (:func:`.estimation.estimate_gamma_k`)."""
        return cls(estimation.estimate_gamma_k(image) if k is None else k)

    def variance(self, means):
        m = np.asarray(means, dtype=np.float64)  # multiplicative noise needs a positive signal
        return np.where(m > 0, m**2 / self.k, np.nan)

    def mean_variance(self, y):
        return float(np.mean(y**2) / (self.k + 1))  # Var = x^2 / k, E[y^2] = E[x^2] (k + 1) / k

    def stabilizer(self):
        """``log y``, whose noise has variance ``trigamma(k)``."""
        return LogStabilizer(k=self.k)

    def sample(self, x, rng):
        x = np.asarray(x, dtype=np.float64)
        return x * rng.gamma(self.k, 1.0 / self.k, x.shape)

    def log_likelihood(self, y, x):
        from scipy import special

        y = np.asarray(y, dtype=np.float64)
        x = np.asarray(x, dtype=np.float64)
        k = self.k
        return k * np.log(k / x) - special.gammaln(k) + (k - 1) * np.log(y) - k * y / x

    def tweedie(self, y, score):
        """Noise2Score's Gamma inversion (Kim & Ye 2021, via Efron 2011): ``1 / E[1/x | y]``.

        ``k y / ((k - 1) - y s(y))``; ``score`` is callable or the array ``s(y)``.
        """
        y = np.asarray(y, dtype=np.float64)
        return self.k * y / ((self.k - 1) - y * evaluate(score, y))
