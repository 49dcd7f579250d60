"""Noise inspection: the variance-vs-mean curve, noise-model selection, a stabilised view (no Qt).

The image is cut into 8x8 blocks (:func:`napari_tweedie.noise_estimation.block_statistics`:
local mean and Immerkaer residual energy).  The blocks are grouped into up to
ten intensity bins (quantiles of the block means) and each bin gets a robust
noise variance (:func:`~napari_tweedie.noise_estimation.estimate_level`, which
keeps the textureless blocks): the points of the *variance function*.

Model selection ("auto").  Every candidate's variance function is fitted to
the binned points by weighted least squares (:func:`curve_fits`):

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
are considered equally supported and the first of the order gaussian,
poisson, gamma, poisson_gaussian wins (Burnham & Anderson's rule of thumb;
it also picks Gaussian when the intensity range is too narrow to tell).
A Poisson-Gaussian winner whose Poisson (or Gaussian) part is under 10 % of
the fitted variance at the median intensity is reported as Gaussian (or
Poisson): the minor part is not worth a parameter.

Limits: texture that survives the block selection raises the variance of
some bins, so on strongly textured regions with weak noise "auto" may
prefer a signal-dependent model; a narrow intensity range cannot tell
Poisson from Gamma (both then fit).  The variance curve shown next to the
choice lets the user judge, and a model can always be forced.
The chosen model's parameters are then estimated with the project's
block-level estimators (:func:`napari_tweedie.noise_models.make_noise_model`),
which are more accurate than the ten-point curve fit used for the choice.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy import optimize

from . import noise_estimation
from .noise import NOISE_MODELS
from .noise_models import NoiseModel, make_noise_model

__all__ = [
    "NoiseInspection",
    "VarianceCurve",
    "aic_scores",
    "choose_model",
    "inspect_noise",
    "stabilise",
    "variance_curve",
    "variance_function",
]

#: Preference order among equally supported models (simplest first).
PREFERENCE = ("gaussian", "poisson", "gamma", "poisson_gaussian")
PARAMETER_COUNT = {"gaussian": 1, "poisson": 1, "gamma": 1, "poisson_gaussian": 2}
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
        return {f.name: float(getattr(self.model, f.name)) for f in fields(self.model)}

    def describe(self) -> str:
        """One line: the model and its parameters, e.g. ``poisson: zeta=0.0102``."""
        values = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        return f"{self.name}: {values}"


def variance_function(model: NoiseModel, means: np.ndarray) -> np.ndarray:
    """Noise variance of ``model`` at mean intensities ``means`` (see the module table)."""
    m = np.asarray(means, dtype=np.float64)
    if model.name == "gaussian":
        return np.full_like(m, model.sigma**2)
    if model.name == "gamma":  # multiplicative noise needs a positive signal
        return np.where(m > 0, m**2 / model.k, np.nan)
    if model.name in ("poisson", "poisson_gaussian"):
        return model.zeta * m + model.sigma**2
    raise ValueError(f"unknown noise model {model.name!r}")


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
    means, energies = noise_estimation.block_statistics(np.asarray(image, dtype=np.float64))
    dof = noise_estimation.block_dof()
    if means.size < 2 * MIN_BIN_BLOCKS:
        raise ValueError("region too small to inspect its noise (need about 40x40 pixels)")
    count = int(np.clip(means.size // (2 * MIN_BIN_BLOCKS), 1, bins))
    order = np.argsort(means, kind="stable")
    rows = []
    for group in np.array_split(order, count):
        level = noise_estimation.estimate_level(energies[group], dof)
        if level > 0:
            rows.append((means[group].mean(), level, group.size))
    if not rows:
        raise ValueError("the region has no noise (constant image?)")
    m, v, n = (np.array(column, dtype=np.float64) for column in zip(*rows))
    return VarianceCurve(m, v, n, dof)


def curve_fits(curve: VarianceCurve) -> dict[str, tuple[float, ...]]:
    """Weighted least-squares fits of each model's variance function to the binned curve.

    One-parameter models are fitted in log space (closed form: a weighted mean
    of ``log v_b - log g(m_b)``); Poisson-Gaussian by non-negative least squares
    on ``v_b`` with rows weighted by ``1 / (v_b s_b)`` (the linearised log
    misfit).  Returns the coefficients: ``(sigma^2,)``, ``(zeta,)``, ``(1/k,)``,
    ``(zeta, sigma^2)``; models whose variance function cannot be positive on
    the bins (Poisson or Gamma with non-positive means) are left out.
    """
    m, v = curve.means, curve.variances
    w = 1.0 / curve.log_sd() ** 2
    log_v = np.log(v)
    fits: dict[str, tuple[float, ...]] = {}
    fits["gaussian"] = (float(np.exp(np.average(log_v, weights=w))),)
    if np.all(m > 0):
        fits["poisson"] = (float(np.exp(np.average(log_v - np.log(m), weights=w))),)
        fits["gamma"] = (float(np.exp(np.average(log_v - 2 * np.log(m), weights=w))),)
    row = 1.0 / (v * curve.log_sd())
    design = np.stack([m, np.ones_like(m)], axis=1) * row[:, None]
    coef, _ = optimize.nnls(design, v * row)
    fits["poisson_gaussian"] = (float(coef[0]), float(coef[1]))
    return fits


def _predict(name: str, coef: tuple[float, ...], m: np.ndarray) -> np.ndarray:
    if name == "gaussian":
        return np.full_like(m, coef[0])
    if name == "poisson":
        return coef[0] * m
    if name == "gamma":
        return coef[0] * m**2
    return coef[0] * m + coef[1]


def aic_scores(curve: VarianceCurve) -> dict[str, float]:
    """Akaike's criterion ``chi2 + 2 p`` of each model's best fit to ``curve`` (lower: better)."""
    scores = {}
    for name, coef in curve_fits(curve).items():
        predicted = _predict(name, coef, curve.means)
        if not np.all(np.isfinite(predicted) & (predicted > 0)):
            scores[name] = float("inf")
            continue
        residual = (np.log(curve.variances) - np.log(predicted)) / curve.log_sd()
        scores[name] = float(np.sum(residual**2) + 2 * PARAMETER_COUNT[name])
    return scores


def choose_model(curve: VarianceCurve, scores: dict[str, float] | None = None) -> str:
    """The model "auto" picks for ``curve`` (see the module docstring).

    The first model of :data:`PREFERENCE` within :data:`AIC_TIE` of the best
    AIC; a Poisson-Gaussian choice with a minor part (under :data:`MINOR_PART`
    of the variance at the median intensity) is reduced to its major part.
    """
    scores = aic_scores(curve) if scores is None else scores
    best = min(scores.values(), default=float("inf"))
    if not np.isfinite(best):
        return "gaussian"
    chosen = next(n for n in PREFERENCE if n in scores and scores[n] <= best + AIC_TIE)
    if chosen == "poisson_gaussian":
        zeta, variance = curve_fits(curve)["poisson_gaussian"]
        signal = zeta * max(float(np.median(curve.means)), 0.0)
        if signal < MINOR_PART * (signal + variance):
            return "gaussian"
        if variance < MINOR_PART * (signal + variance) and "poisson" in scores:
            return "poisson"
    return chosen


def inspect_noise(image: np.ndarray, noise: str = "auto") -> NoiseInspection:
    """Estimate the noise of ``image``: its variance curve and a model with parameters.

    Parameters
    ----------
    image : (..., H, W) array
        The noisy region (at least about 40x40 pixels).
    noise : {"auto", "gaussian", "poisson", "poisson_gaussian", "gamma"}
        The model to fit; ``"auto"`` chooses one by AIC on the variance curve
        (see the module docstring).

    Returns
    -------
    NoiseInspection
    """
    if noise != "auto" and noise not in NOISE_MODELS:
        raise ValueError(f"unknown noise {noise!r}; expected 'auto' or one of {NOISE_MODELS}")
    data = np.asarray(image, dtype=np.float64)
    curve = variance_curve(data)
    scores = aic_scores(curve)
    chosen = choose_model(curve, scores) if noise == "auto" else noise
    model = make_noise_model(chosen, data)
    return NoiseInspection(model, curve, scores)


def stabilise(image: np.ndarray, model: NoiseModel) -> np.ndarray:
    """``image`` transformed so that its noise has unit standard deviation everywhere.

    Gaussian: ``y / sigma``.  Poisson and Poisson-Gaussian: the generalised
    Anscombe transform of the model's :meth:`~NoiseModel.stabilizer`.  Gamma:
    ``log(y) / sqrt(trigamma(k))``.
    """
    data = np.asarray(image, dtype=np.float32)
    stabilizer = model.stabilizer()
    if stabilizer is None:
        return (data / max(float(model.sigma), 1e-12)).astype(np.float32)
    return (stabilizer.forward(data) / stabilizer.stabilized_sigma).astype(np.float32)
