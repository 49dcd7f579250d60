"""Noise models as objects: sampling, log-likelihood, Tweedie inversion, estimation (no Qt).

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
Poisson-Gaussian: the
same identity moves the Poisson count by one, leaving a Gaussian Tweedie step
at ``y + zeta``.  Gamma: the likelihood is an exponential family in
``eta = -k/x`` with base measure ``y^(k-1)``, so Efron's (2011) Tweedie
formula gives ``E[-k/x | y] = s(y) - (k - 1)/y``; the harmonic posterior mean
``1 / E[1/x | y]`` follows (Kim & Ye 2021 use it as the estimate).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from scipy import special

from . import noise

__all__ = [
    "GammaNoise",
    "GaussianNoise",
    "NoiseModel",
    "PoissonGaussianNoise",
    "PoissonNoise",
    "make_noise_model",
]

Score = Callable[[np.ndarray], np.ndarray]


def _score_integral(y: np.ndarray, score: Score, step: float, nodes: int) -> np.ndarray:
    """``int_y^{y + step} s(t) dt`` by ``nodes``-point Gauss-Legendre quadrature."""
    points, weights = np.polynomial.legendre.leggauss(nodes)
    total = np.zeros_like(y, dtype=np.float64)
    for t, w in zip(points, weights):
        total += w * np.asarray(score(y + step * (t + 1) / 2), dtype=np.float64)
    return total * step / 2


@dataclass(frozen=True)
class NoiseModel:
    """Base class: ``sample``, ``log_likelihood``, ``tweedie``, ``estimate``, ``stabilizer``."""

    name: ClassVar[str] = ""

    def sample(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A noisy measurement of ``x`` drawn with ``rng``."""
        raise NotImplementedError

    def sample_torch(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Torch version of :meth:`sample`, drawn with ``generator``."""
        seed = int(torch.randint(0, 2**63 - 1, (1,), generator=generator))
        noisy = self.sample(x.detach().cpu().numpy(), np.random.default_rng(seed))
        return torch.as_tensor(noisy, dtype=x.dtype, device=x.device)

    def log_likelihood(self, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Per-pixel ``log p(y | x)`` (a log-density, or a log-pmf on Poisson lattices)."""
        raise NotImplementedError

    def tweedie(self, y: np.ndarray, score: Score | np.ndarray) -> np.ndarray:
        """Estimate of ``x`` from ``y`` and the marginal score (see the module table)."""
        raise NotImplementedError

    def stabilizer(self) -> noise.Stabilizer | None:
        """The variance-stabilising transform to unit Gaussian noise (``None`` if Gaussian)."""
        raise NotImplementedError

    @classmethod
    def estimate(cls, y: np.ndarray) -> NoiseModel:
        """The model with its parameters estimated from the noisy ``y``."""
        raise NotImplementedError


def _evaluate(score: Score | np.ndarray, points: np.ndarray) -> np.ndarray:
    if callable(score):
        return np.asarray(score(points), dtype=np.float64)
    return np.asarray(score, dtype=np.float64)


@dataclass(frozen=True)
class GaussianNoise(NoiseModel):
    """Additive white Gaussian noise ``y = x + sigma n``."""

    sigma: float
    name: ClassVar[str] = "gaussian"

    def sample(self, x, rng):
        x = np.asarray(x, dtype=np.float64)
        return x + self.sigma * rng.standard_normal(x.shape)

    def sample_torch(self, x, generator):
        return x + self.sigma * torch.randn(x.shape, generator=generator, dtype=x.dtype)

    def log_likelihood(self, y, x):
        r = (np.asarray(y, np.float64) - x) / self.sigma
        return -0.5 * r**2 - np.log(self.sigma * np.sqrt(2 * np.pi))

    def tweedie(self, y, score):
        """Tweedie's formula (Robbins 1956, Miyasawa 1961): ``E[x | y] = y + sigma^2 s(y)``.

        ``score`` is callable or the array ``s(y)``.
        """
        y = np.asarray(y, dtype=np.float64)
        return y + self.sigma**2 * _evaluate(score, y)

    def stabilizer(self):
        return None

    @classmethod
    def estimate(cls, y):
        return cls(noise.estimate_sigma(y))


@dataclass(frozen=True)
class PoissonGaussianNoise(NoiseModel):
    """Mixed noise ``y = zeta Poisson(x / zeta) + sigma n`` (``x >= 0``)."""

    zeta: float
    sigma: float
    name: ClassVar[str] = "poisson_gaussian"

    def sample(self, x, rng):
        lam = np.maximum(np.asarray(x, dtype=np.float64), 0) / self.zeta
        counts = self.zeta * rng.poisson(lam)
        return counts + self.sigma * rng.standard_normal(counts.shape) if self.sigma else counts

    def sample_torch(self, x, generator):
        lam = torch.clamp(x, min=0) / self.zeta
        counts = self.zeta * torch.poisson(lam, generator=generator)
        if self.sigma:
            counts = counts + self.sigma * torch.randn(x.shape, generator=generator, dtype=x.dtype)
        return counts

    def log_likelihood(self, y, x):
        """Poisson-Gaussian log-density ``log sum_z Pois(z; x/zeta) N(y; zeta z, sigma^2)``.

        The sum runs over all plausible counts (memory grows with ``max(x)/zeta``).
        """
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
        shift = y + self.zeta + self.sigma**2 * _evaluate(score, y + self.zeta)
        return shift * np.exp(_score_integral(y, score, self.zeta, nodes))

    def stabilizer(self):
        return noise.Stabilizer("poisson_gaussian", zeta=self.zeta, sigma=self.sigma)

    @classmethod
    def estimate(cls, y):
        zeta, sigma = noise.estimate_poisson_gaussian(y)
        return cls(zeta, sigma)


@dataclass(frozen=True)
class PoissonNoise(PoissonGaussianNoise):
    """Scaled Poisson noise ``y = zeta Poisson(x / zeta)`` (``x >= 0``, ``y`` on ``zeta N``)."""

    sigma: float = 0.0
    name: ClassVar[str] = "poisson"

    def log_likelihood(self, y, x):
        """Scaled Poisson log-pmf ``log Pois(y/zeta; x/zeta)`` on the lattice ``zeta N``."""
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
        return (y + self.zeta) * np.exp(_score_integral(y, score, self.zeta, nodes))

    def stabilizer(self):
        return noise.Stabilizer("poisson", zeta=self.zeta)

    @classmethod
    def estimate(cls, y):
        return cls(noise.estimate_poisson(y))


@dataclass(frozen=True)
class GammaNoise(NoiseModel):
    """Multiplicative Gamma noise ``y = x Gamma(k, 1/k)`` (mean 1, variance ``1/k``; ``x > 0``)."""

    k: float
    name: ClassVar[str] = "gamma"

    def sample(self, x, rng):
        x = np.asarray(x, dtype=np.float64)
        return x * rng.gamma(self.k, 1.0 / self.k, x.shape)

    def log_likelihood(self, y, x):
        y = np.asarray(y, dtype=np.float64)
        x = np.asarray(x, dtype=np.float64)
        k = self.k
        return k * np.log(k / x) - special.gammaln(k) + (k - 1) * np.log(y) - k * y / x

    def tweedie(self, y, score):
        """Noise2Score's Gamma inversion (Kim & Ye 2021, via Efron 2011): ``1 / E[1/x | y]``.

        ``k y / ((k - 1) - y s(y))``; ``score`` is callable or the array ``s(y)``.
        """
        y = np.asarray(y, dtype=np.float64)
        return self.k * y / ((self.k - 1) - y * _evaluate(score, y))

    def stabilizer(self):
        return noise.Stabilizer("gamma", k=self.k)

    @classmethod
    def estimate(cls, y):
        return cls(noise.estimate_gamma_k(y))


_MODELS: dict[str, type[NoiseModel]] = {
    "gaussian": GaussianNoise,
    "poisson": PoissonNoise,
    "poisson_gaussian": PoissonGaussianNoise,
    "gamma": GammaNoise,
}


def make_noise_model(name: str, image: np.ndarray | None = None, **params: float) -> NoiseModel:
    """The noise model ``name`` with ``params``; with ``image``, missing ones are estimated.

    Parameters are named as in :func:`napari_tweedie.denoise`: ``sigma``
    (gaussian), ``zeta`` (poisson), ``zeta`` and ``sigma`` (poisson_gaussian),
    ``k`` (gamma).
    """
    if name not in _MODELS:
        raise ValueError(f"unknown noise {name!r}; expected one of {tuple(_MODELS)}")
    cls = _MODELS[name]
    if image is None:
        return cls(**params)
    if name == "gaussian" and params.get("sigma") is None:
        params = {"sigma": noise.estimate_sigma(image)}
    elif name == "poisson" and params.get("zeta") is None:
        params = {"zeta": noise.estimate_poisson(image)}
    elif name == "gamma" and params.get("k") is None:
        params = {"k": noise.estimate_gamma_k(image)}
    elif name == "poisson_gaussian" and None in (params.get("zeta"), params.get("sigma")):
        zeta, sigma = noise.estimate_poisson_gaussian(
            image, zeta=params.get("zeta"), sigma=params.get("sigma")
        )
        params = {"zeta": zeta, "sigma": sigma}
    return cls(**params)
