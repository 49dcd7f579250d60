"""Noise inspection: the variance-vs-mean curve and the choice of a noise model (no Qt).

The image is cut into 8x8 blocks (:func:`napari_tweedie.noise.blocks.block_statistics`:
local mean and Immerkaer residual energy).  The blocks are grouped into up to
ten intensity bins (quantiles of the block means) and each bin gets a robust
noise variance (:func:`~napari_tweedie.noise.blocks.estimate_level`, which
keeps the textureless blocks): the points of the *variance function*.

Model selection ("auto").  Every model of ``NOISE_MODELS`` declares the shape
of its variance function, ``sum_i c_i m^p_i`` (``NoiseModel.variance_terms``),
and that shape is fitted to the binned points by weighted least squares
(:func:`curve_fits`):

============================  ================================  ==========
model                         variance at mean ``m``            parameters
============================  ================================  ==========
``gaussian``                  ``sigma^2``                       1
``poisson``                   ``zeta m``                        1
``gamma``                     ``m^2 / k``                       1
``poisson_gaussian``          ``zeta m + sigma^2``              2
============================  ================================  ==========

The misfit is ``chi2 = sum_b (log v_b - log f(m_b))^2 / s_b^2`` with
``s_b^2 = 2 / (dof n_b) + 0.05^2`` (the sampling variance of a bin's log-level
from ``n_b`` blocks of ``dof`` degrees of freedom, plus a 3 % floor for
residual texture), and the score is Akaike's ``AIC = chi2 + 2 p``.  A model
whose variance function is not positive at every bin (Poisson or Gamma on
data with non-positive means) is ruled out.  Models within 2 of the best AIC
are considered equally supported and the simplest (fewest terms; registry
order among equals: gaussian, poisson, gamma, poisson_gaussian) wins
(Burnham & Anderson's rule of thumb; it also picks Gaussian when the
intensity range is too narrow to tell).  A winner with several terms
(Poisson-Gaussian) one of whose parts is under 10 % of the fitted variance at
the median intensity is reported as the model of its other part: the minor
part is not worth a parameter.

Limits: texture that survives the block selection raises the variance of
some bins, so on strongly textured regions with weak noise "auto" may
prefer a signal-dependent model; a narrow intensity range cannot tell
Poisson from Gamma (both then fit).  The variance curve shown next to the
choice lets the user judge, and a model can always be forced.
The chosen model's parameters are then estimated with the project's
block-level estimators (``NoiseModel.estimate``), which are more accurate
than the ten-point curve fit used for the choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import blocks
from .base import NoiseModel
from .registry import NOISE_MODELS

__all__ = [
    "NoiseInspection",
    "VarianceCurve",
    "aic_scores",
    "choose_model",
    "curve_fits",
    "inspect_noise",
    "variance_curve",
]

MAX_BINS = 10
MIN_BIN_BLOCKS = 8
TEXTURE_FLOOR = 0.05
MINOR_PART = 0.1
AIC_TIE = 2.0


@dataclass(frozen=True)
class VarianceCurve:
    """Binned noise variance against intensity: ``variances[b]`` at ``means[b]``.

    Attributes
    ----------
    means, variances : ndarray
        Mean intensity and robust noise variance of each bin.
    counts : ndarray
        Number of 8x8 blocks in each bin.
    dof : float
        Degrees of freedom of one block's energy (for the bins' uncertainty).
    """

    means: np.ndarray
    variances: np.ndarray
    counts: np.ndarray
    dof: float

    def log_sd(self) -> np.ndarray:
        """Standard error of ``log(variances)`` per bin (sampling plus a texture floor)."""
        return np.sqrt(2.0 / (self.dof * self.counts) + TEXTURE_FLOOR**2)


@dataclass(frozen=True)
class NoiseInspection:
    """Result of :func:`inspect_noise`.

    Attributes
    ----------
    model : NoiseModel
        The chosen (or requested) model with its estimated parameters.
    curve : VarianceCurve
        The binned variance function of the image.
    scores : dict
        AIC of every candidate's fit to ``curve`` (lower is better; see
        :func:`aic_scores`), also when a model was requested.
    """

    model: NoiseModel
    curve: VarianceCurve
    scores: dict[str, float]

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def params(self) -> dict[str, float]:
        """The model's parameters by name (``sigma``, ``zeta``, ``k``)."""
        return self.model.values()

    def describe(self) -> str:
        """One line: the model and its parameters, e.g. ``poisson: zeta=0.0102``."""
        values = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        return f"{self.name}: {values}"


def variance_curve(image: np.ndarray, bins: int = MAX_BINS) -> VarianceCurve:
    """Binned robust noise variance against mean intensity (see the module docstring).

    Parameters
    ----------
    image : (..., H, W) array
        The noisy image; leading axes are pooled, NaNs ignored.
    bins : int
        At most this many intensity bins (quantiles of the block means, at
        least 8 blocks each).
    """
    means, energies = blocks.block_statistics(np.asarray(image, dtype=np.float64))
    dof = blocks.block_dof()
    if means.size < 2 * MIN_BIN_BLOCKS:
        raise ValueError("region too small to inspect its noise (need about 40x40 pixels)")
    count = int(np.clip(means.size // (2 * MIN_BIN_BLOCKS), 1, bins))
    order = np.argsort(means, kind="stable")
    rows = []
    for group in np.array_split(order, count):
        level = blocks.estimate_level(energies[group], dof)
        if level > 0:
            rows.append((means[group].mean(), level, group.size))
    if not rows:
        raise ValueError("the region has no noise (constant image?)")
    m, v, n = (np.array(column, dtype=np.float64) for column in zip(*rows))
    return VarianceCurve(m, v, n, dof)


def curve_fits(curve: VarianceCurve) -> dict[str, tuple[float, ...]]:
    """Weighted least-squares fits of each model's variance function to the binned curve.

    The coefficients ``c_i`` of ``sum_i c_i m^p_i`` (``NoiseModel.variance_terms``)
    by model name: ``(sigma^2,)``, ``(zeta,)``, ``(1/k,)``, ``(zeta, sigma^2)``.
    One-term models are fitted in log space (closed form: a weighted mean of
    ``log v_b - p log m_b``); several terms by non-negative least squares on
    ``v_b`` with rows weighted by ``1 / (v_b s_b)`` (the linearised log misfit).
    Models whose variance function cannot be positive on the bins (Poisson or
    Gamma with non-positive means) are left out.
    """
    fits = {}
    for name, model in NOISE_MODELS.items():
        coef = _fit_terms(curve, model.variance_terms)
        if coef is not None:
            fits[name] = coef
    return fits


def _fit_terms(curve: VarianceCurve, powers: tuple[int, ...]) -> tuple[float, ...] | None:
    m, v = curve.means, curve.variances
    if len(powers) == 1:
        log_v = np.log(v)
        if powers[0]:
            if not np.all(m > 0):
                return None
            log_v = log_v - powers[0] * np.log(m)
        return (float(np.exp(np.average(log_v, weights=1.0 / curve.log_sd() ** 2))),)
    from scipy import optimize

    row = 1.0 / (v * curve.log_sd())
    design = np.stack([m**p for p in powers], axis=1) * row[:, None]
    coef, _ = optimize.nnls(design, v * row)
    return tuple(float(c) for c in coef)


def _predict(powers: tuple[int, ...], coef: tuple[float, ...], m: np.ndarray) -> np.ndarray:
    return sum(c * m**p for c, p in zip(coef, powers))


def aic_scores(curve: VarianceCurve) -> dict[str, float]:
    """Akaike's criterion ``chi2 + 2 p`` of each model's best fit to ``curve`` (lower: better)."""
    scores = {}
    for name, coef in curve_fits(curve).items():
        predicted = _predict(NOISE_MODELS[name].variance_terms, coef, curve.means)
        if not np.all(np.isfinite(predicted) & (predicted > 0)):
            scores[name] = float("inf")
            continue
        residual = (np.log(curve.variances) - np.log(predicted)) / curve.log_sd()
        scores[name] = float(np.sum(residual**2) + 2 * len(NOISE_MODELS[name].params))
    return scores


def preference() -> list[str]:
    """Model names, simplest first (fewest variance terms; registry order among equals)."""
    return sorted(NOISE_MODELS, key=lambda name: len(NOISE_MODELS[name].variance_terms))


def choose_model(curve: VarianceCurve, scores: dict[str, float] | None = None) -> str:
    """The model "auto" picks for ``curve`` (see the module docstring).

    The first model of :func:`preference` within :data:`AIC_TIE` of the best
    AIC; a choice with several terms, one of them minor (under
    :data:`MINOR_PART` of the variance at the median intensity), is reduced to
    the model of its other terms.
    """
    scores = aic_scores(curve) if scores is None else scores
    best = min(scores.values(), default=float("inf"))
    if not np.isfinite(best):
        return preference()[0]
    chosen = next(n for n in preference() if n in scores and scores[n] <= best + AIC_TIE)
    powers = NOISE_MODELS[chosen].variance_terms
    if len(powers) > 1:
        median = max(float(np.median(curve.means)), 0.0)
        parts = [c * median**p for c, p in zip(curve_fits(curve)[chosen], powers)]
        for index, part in enumerate(parts):
            rest = powers[:index] + powers[index + 1 :]
            simpler = next((n for n, m in NOISE_MODELS.items() if m.variance_terms == rest), None)
            if part < MINOR_PART * sum(parts) and simpler in scores:
                return simpler
    return chosen


def inspect_noise(image: np.ndarray, noise: str = "auto") -> NoiseInspection:
    """Estimate the noise of ``image``: its variance curve and a model with parameters.

    Parameters
    ----------
    image : (..., H, W) array
        The noisy region (at least about 40x40 pixels).
    noise : {"auto"} or a name of ``NOISE_MODELS``
        The model to fit; ``"auto"`` chooses one by AIC on the variance curve
        (see the module docstring).

    Returns
    -------
    NoiseInspection
    """
    if noise != "auto" and noise not in NOISE_MODELS:
        raise ValueError(
            f"unknown noise {noise!r}; expected 'auto' or one of {tuple(NOISE_MODELS)}"
        )
    data = np.asarray(image, dtype=np.float64)
    curve = variance_curve(data)
    scores = aic_scores(curve)
    chosen = choose_model(curve, scores) if noise == "auto" else noise
    return NoiseInspection(NOISE_MODELS[chosen].estimate(data), curve, scores)
