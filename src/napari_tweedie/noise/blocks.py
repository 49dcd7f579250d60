"""Robust block statistics of one noisy image, the basis of every noise estimator (no torch).

Method (after Immerkaer 1996 and the weak-texture selection of Liu, Tanaka &
Okutomi 2013, simplified): every pixel gets the residual of the 3x3 filter
``outer([1, -2, 1], [1, -2, 1]) / 6``, which removes constants, ramps and
straight horizontal/vertical edges and keeps the noise's variance.  Residual
energies are averaged over 8x8 blocks.  Under pure noise a block's energy
follows (about) a scaled Gamma law whose shape (the effective degrees of
freedom) is computed exactly from the filter and the noise's kurtosis; blocks
with texture only have *more* energy.  So the estimator starts from a low
quantile, then repeatedly keeps the blocks below the 99.5 % point of the
current noise-only law and re-estimates from their truncated mean (corrected
for the truncation), which converges to the level of the textureless blocks.
Signal-dependent noise fits ``variance = a * mean + b`` (or ``c * mean^2``)
the same way, by trimmed weighted least squares over the blocks.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "block_dof",
    "block_statistics",
    "estimate_level",
    "estimate_variance_function",
]

BLOCK = 8
KEEP_QUANTILE = 0.995
START_QUANTILE = 0.1
_FILTER = np.outer([1.0, -2.0, 1.0], [1.0, -2.0, 1.0]) / 6.0  # unit noise gain


def block_statistics(image: np.ndarray, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Immerkaer (1996) residual energies and local means of ``block`` x ``block`` squares.

    ``image`` is (..., H, W); leading axes are pooled.  Blocks touching a
    non-finite pixel are dropped, unless that leaves fewer than half of the
    usable blocks (scattered dead pixels touch almost every block): then the
    residuals that touch one are left out of their block's energy, and blocks
    with fewer than half of their residuals left are dropped.
    """
    from scipy import ndimage

    data = np.asarray(image, dtype=np.float64).reshape((-1,) + np.shape(image)[-2:])
    means, energies = [], []
    second = np.array([1.0, -2.0, 1.0])
    for plane in data:
        finite = np.isfinite(plane)
        filled = np.where(finite, plane, 0.0)
        residual = ndimage.correlate1d(filled, second, axis=0, mode="nearest")
        residual = ndimage.correlate1d(residual, second / 6.0, axis=1, mode="nearest")
        h, w = (plane.shape[0] - 2) // block * block, (plane.shape[1] - 2) // block * block
        if h == 0 or w == 0:
            continue
        shape = (h // block, block, w // block, block)
        inner = (slice(1, h + 1), slice(1, w + 1))
        clean = (ndimage.minimum_filter(finite, 3, mode="nearest")[inner] > 0).reshape(shape)
        count = clean.sum(axis=(1, 3))
        valid = count >= block * block // 2
        whole = count == block * block
        if whole.sum() >= valid.sum() / 2:  # enough untouched blocks: use only those
            valid = whole
        squares = np.where(clean, residual[inner].reshape(shape) ** 2, 0.0)
        energy = squares.sum(axis=(1, 3)) / np.maximum(count, 1)
        known = finite[inner].reshape(shape)
        values = np.where(known, filled[inner].reshape(shape), 0.0)
        mean = values.sum(axis=(1, 3)) / np.maximum(known.sum(axis=(1, 3)), 1)
        means.append(mean[valid])
        energies.append(energy[valid])
    if not means:
        return np.empty(0), np.empty(0)
    return np.concatenate(means), np.concatenate(energies)


@lru_cache(maxsize=64)
def block_dof(excess_kurtosis: float = 0.0, block: int = BLOCK) -> float:
    """Degrees of freedom of a block's Immerkaer residual energy under i.i.d. noise.

    ``2 E[v]^2 / Var[v]`` for ``v`` the block mean of squared filter outputs,
    from the filter's autocorrelation (Gaussian part) and the noise's excess
    kurtosis (fourth-cumulant part).
    """
    k = _FILTER
    size = k.shape[0]
    var = 0.0
    for di in range(-(size - 1), size):
        for dj in range(-(size - 1), size):
            a = np.zeros((3 * size, 3 * size))
            b = np.zeros_like(a)
            a[size : 2 * size, size : 2 * size] = k
            b[size + di : 2 * size + di, size + dj : 2 * size + dj] = k
            cross = float((a * b).sum())
            fourth = float((a**2 * b**2).sum())
            pairs = max(block - abs(di), 0) * max(block - abs(dj), 0)
            var += pairs * (2 * cross**2 + excess_kurtosis * fourth)
    return 2.0 * block**4 / var


def _gamma_ppf(q: float, dof: float) -> float:
    """``q`` quantile of a block energy divided by its mean (Gamma with shape ``dof / 2``)."""
    from scipy import stats

    shape = dof / 2
    return float(stats.gamma.ppf(q, shape) / shape)


def _truncated_mean(threshold: np.ndarray, dof: float) -> np.ndarray:
    """``E[v | v < t] / E[v]`` for ``t = threshold * E[v]`` under the Gamma law."""
    from scipy import special

    shape = dof / 2
    x = np.asarray(threshold) * shape
    return special.gammainc(shape + 1, x) / np.maximum(special.gammainc(shape, x), 1e-300)


def estimate_level(energies: np.ndarray, dof: float, iterations: int = 50) -> float:
    """Trimmed-mean noise variance of textureless blocks (iterated Gamma-law trimming).

    See the module docstring; ``dof`` from :func:`block_dof`.
    """
    v = np.asarray(energies, dtype=np.float64)
    positive = v[v > 0]
    if positive.size == 0:
        return 0.0
    level = np.quantile(positive, START_QUANTILE) / _gamma_ppf(START_QUANTILE, dof)
    cut = _gamma_ppf(KEEP_QUANTILE, dof)
    for _ in range(iterations):
        keep = v < level * cut
        if not keep.any():
            break
        new = v[keep].mean() / float(_truncated_mean(cut, dof))
        if abs(new - level) <= 1e-7 * level:
            return float(new)
        level = new
    return float(level)


def _design(means: np.ndarray, model: str) -> np.ndarray:
    if model == "linear":
        return np.stack([means, np.ones_like(means)], axis=1)
    if model == "proportional":
        return means[:, None]
    if model == "quadratic":
        return (means**2)[:, None]
    if model == "constant":
        return np.ones_like(means)[:, None]
    raise ValueError(f"unknown variance model {model!r}")


def _start(means: np.ndarray, energies: np.ndarray, dof: float, model: str) -> np.ndarray:
    """Initial coefficients from low quantiles of the energies in (up to ten) intensity bins."""
    bins = int(np.clip(means.size // 16, 1, 10))
    edges = np.quantile(means, np.linspace(0, 1, bins + 1))
    centres, levels, counts = [], [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (means >= lo) & (means <= hi)
        if inside.sum() >= 8:
            centres.append(np.mean(means[inside]))
            levels.append(estimate_level(energies[inside], dof, iterations=3))
            counts.append(inside.sum())
    x = _design(np.asarray(centres), model)
    w = np.sqrt(np.asarray(counts, dtype=np.float64))
    coef, *_ = np.linalg.lstsq(x * w[:, None], np.asarray(levels) * w, rcond=None)
    return coef


def estimate_variance_function(
    means: np.ndarray,
    energies: np.ndarray,
    dof: float,
    model: str = "linear",
    offset: float | np.ndarray = 0.0,
    iterations: int = 50,
) -> np.ndarray:
    """Noise-level function fitted to textureless blocks (trimmed least squares, after Foi 2008).

    ``model``: ``"linear"`` (``a * mean + b``, weighted least squares),
    ``"proportional"`` (``a * mean``), ``"quadratic"`` (``c * mean^2``) or
    ``"constant"`` (``b``).
    The multiplicative models ``v = c g(mean)`` use ordinary least squares,
    ``c = sum(g v) / sum(g^2)``, which weights bright blocks most: there a
    small additive noise of the "clean" image itself (sensor noise,
    quantisation) biases the estimate least.
    ``offset`` is a known variance added to the model, one value or one per
    block (e.g. a given Gaussian part ``sigma^2``, or a given Poisson part
    ``zeta * mean``); the trimming compares each block with the whole predicted
    variance, offset included.
    """
    m = np.asarray(means, dtype=np.float64)
    v = np.asarray(energies, dtype=np.float64)
    if m.size < 16:
        raise ValueError("image too small to estimate signal-dependent noise")
    offset = np.broadcast_to(np.asarray(offset, dtype=np.float64), m.shape)
    x = _design(m, model)
    if model == "constant":
        coef = np.array([max(float(np.median(v - offset)), 0.0)])
    else:
        coef = np.maximum(_start(m, v - offset, dof, model), 0.0)
    cut = _gamma_ppf(KEEP_QUANTILE, dof)
    correction = float(_truncated_mean(cut, dof))
    floor = 1e-9 * max(float(np.median(v)), 1e-30)
    for _ in range(iterations):
        predicted = np.maximum(x @ coef + offset, floor)
        keep = v < predicted * cut
        if keep.sum() < x.shape[1] + 2:
            break
        target = v[keep] / correction - offset[keep]
        if model in ("proportional", "quadratic"):
            g = x[keep, 0]
            new = np.array([(g * target).sum() / max((g * g).sum(), 1e-300)])
        else:
            w = 1.0 / predicted[keep]
            new, *_ = np.linalg.lstsq(x[keep] * w[:, None], target * w, rcond=None)
        if np.allclose(new, coef, rtol=1e-8, atol=1e-12 * float(np.max(np.abs(v)))):
            return new
        coef = new
    return coef
