"""What every noise model owns: :class:`NoiseModel`, the interface of ``NOISE_MODELS`` (no torch).

A model is a frozen dataclass whose fields are its parameters; its class is
the registry entry (``NOISE_MODELS[name]``), with ``name``, ``summary`` and
``params`` (one :class:`~napari_tweedie.specs.Param` per field, named as in
:func:`napari_tweedie.denoise`).  Callers use its methods and fields and never
compare its name: the variance function and its stabilising transform
(:mod:`.vst`), sampling and likelihood, the Tweedie inversion of a learned
score, the estimation of its parameters (:mod:`.estimation`), and the shape
of its variance function for the noise inspector (:mod:`.inspection`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..specs import Param

if TYPE_CHECKING:
    import torch

    from .vst import Stabilizer

__all__ = ["NoiseModel", "Score"]

Score = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class NoiseModel:
    """A noise model ``y ~ p(y | x)`` for a clean image ``x`` and measurement ``y``.

    Attributes
    ----------
    name : str
        Class attribute, like the others here (the registry's spec): the
        registry key (``nt.denoise(..., noise=name)``).
    summary : str
        One line for tooltips and help texts.
    params : tuple of Param
        The parameters (the dataclass fields users set), ``default=None``
        meaning "estimated from the image".
    variance_terms : tuple of int
        The variance function is ``sum_i c_i mean^p_i`` for these powers
        ``p_i`` (``(0,)`` additive, ``(1,)`` Poisson, ``(2,)`` multiplicative);
        the noise inspector fits and compares models through it.
    signal_dependent : bool
        The noise depends on the signal: the model is not shift-invariant, and
        Gaussian denoisers see the data through :meth:`stabilizer`.
    positive_only : bool
        Defined for positive signals only (multiplicative noise).
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    variance_terms: ClassVar[tuple[int, ...]] = ()
    signal_dependent: ClassVar[bool] = True
    positive_only: ClassVar[bool] = False

    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        """Names of :attr:`params`, in order."""
        return tuple(p.name for p in cls.params)

    def values(self) -> dict[str, float]:
        """The parameter values by name, e.g. ``{"zeta": 0.01}``."""
        return {name: float(getattr(self, name)) for name in self.param_names()}

    @classmethod
    def invalid(cls, values: dict[str, float]) -> list[str]:
        """Names of given parameter values the model cannot take (each must be finite and > 0)."""
        return [n for n, v in values.items() if not (math.isfinite(float(v)) and float(v) > 0)]

    # -- estimation ------------------------------------------------------------------
    @classmethod
    def estimate(cls, image: np.ndarray, **known: float | None) -> NoiseModel:
        """The model with the ``known`` parameters, others (``None``) estimated from ``image``."""
        raise NotImplementedError

    # -- variance and its stabilisation ----------------------------------------------
    def variance(self, means: np.ndarray) -> np.ndarray:
        """Noise variance at mean intensities ``means`` (NaN where the model is undefined)."""
        raise NotImplementedError

    def mean_variance(self, y: np.ndarray) -> float:
        """Mean noise variance over the (finite) noisy sample ``y``."""
        raise NotImplementedError

    def stabilizer(self) -> Stabilizer | None:
        """The variance-stabilising transform to Gaussian noise (``None``: no need).

        ``None`` means the noise already is ``sigma n``, ``sigma`` a field of the model.
        """
        raise NotImplementedError

    def stabilise(self, y: np.ndarray) -> np.ndarray:
        """``y`` transformed so that its noise has unit standard deviation everywhere (float32)."""
        stabilizer = self.stabilizer()
        data = np.asarray(y, dtype=np.float32)
        return (stabilizer.forward(data) / stabilizer.stabilized_sigma).astype(np.float32)

    def risk_variance(self, y: np.ndarray) -> np.ndarray | None:
        """Per-pixel weights ``v(y)`` of the unbiased risk estimate, or ``None`` if there is none.

        ``v`` satisfies, to first order in the denoiser's derivatives,
        ``E[(y_i - x_i) g_i(y)] = E[v_i(y) dg_i/dy_i]`` and ``E[(y_i - x_i)^2] = E[v_i(y)]``
        (Stein's lemma for Gaussian noise; its Poisson and Poisson-Gaussian
        forms, Luisier, Blu & Unser 2011), so that
        ``mean(|f(y) - y|^2 - v + 2 v div f)`` estimates the per-pixel MSE of
        ``f(y)`` against ``x`` without ``x`` (:mod:`napari_tweedie.tuning`).
        ``None``: the model has no such identity (e.g. multiplicative noise).
        """
        return None

    # -- sampling, likelihood, Tweedie inversion ---------------------------------------
    def sample(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A noisy measurement of ``x`` drawn with ``rng``."""
        raise NotImplementedError

    def sample_torch(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Torch version of :meth:`sample`, drawn with ``generator``."""
        import torch

        seed = int(torch.randint(0, 2**63 - 1, (1,), generator=generator))
        noisy = self.sample(x.detach().cpu().numpy(), np.random.default_rng(seed))
        return torch.as_tensor(noisy, dtype=x.dtype, device=x.device)

    def log_likelihood(self, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Per-pixel ``log p(y | x)`` (a log-density, or a log-pmf on Poisson lattices)."""
        raise NotImplementedError

    def tweedie(self, y: np.ndarray, score: Score | np.ndarray) -> np.ndarray:
        """Estimate of ``x`` from ``y`` and the marginal score (see :mod:`.models`)."""
        raise NotImplementedError

    def plausible(self, y: np.ndarray, estimate: np.ndarray, spread: float = 3.0) -> np.ndarray:
        """``estimate`` of ``x`` clipped to within ``spread`` noise standard deviations of ``y``.

        A guard on Tweedie estimates from a learned score (Noise2Score, Kim &
        Ye 2021): where the score is off, the Poisson-Gaussian formula's
        ``exp(int s)`` turns it into values far outside the data (white
        speckles).  A clean value ``x`` with ``|y - x| > spread sd(x)`` makes
        ``y`` an unlikely draw, so such estimates are moved to the bound; the
        bounds use the noise's standard deviation at ``y`` and, above it, at
        the first upper bound (the variance grows with the signal).  NaN
        variances (outside the model's domain) leave the estimate as it is.
        """
        y = np.asarray(y, np.float64)
        estimate = np.asarray(estimate, np.float64)
        with np.errstate(invalid="ignore"):
            sd = np.sqrt(np.maximum(self.variance(np.maximum(y, 0.0)), 0.0))
            high = y + spread * np.sqrt(np.maximum(self.variance(y + spread * sd), 0.0))
            low = y - spread * sd
        low, high = np.where(np.isnan(low), -np.inf, low), np.where(np.isnan(high), np.inf, high)
        return np.clip(estimate, low, high)


def evaluate(score: Score | np.ndarray, points: np.ndarray) -> np.ndarray:
    """``score(points)`` for a callable score, else the given array ``s(y)`` (float64)."""
    if callable(score):
        return np.asarray(score(points), dtype=np.float64)
    return np.asarray(score, dtype=np.float64)


def score_integral(y: np.ndarray, score: Score, step: float, nodes: int) -> np.ndarray:
    """``int_y^{y + step} s(t) dt`` by ``nodes``-point Gauss-Legendre quadrature."""
    points, weights = np.polynomial.legendre.leggauss(nodes)
    total = np.zeros_like(y, dtype=np.float64)
    for t, w in zip(points, weights):
        total += w * np.asarray(score(y + step * (t + 1) / 2), dtype=np.float64)
    return total * step / 2
