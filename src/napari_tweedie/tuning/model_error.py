"""Calibration of the one-pass posterior std: adaptive cell averaging and SURE's model error.

Two corrections to ``sigma^2 diag(dD/dy)`` (:mod:`.uncertainty`), both from
the probes already made (no extra denoiser call):

1. Adaptive cell averaging.  The lattice-probe estimate of each diagonal
   entry carries the couplings to same-class pixels, with random signs; the
   mean over an ``s x s`` cell cancels most of them, but where the denoiser
   averages widely (flat regions, small ``dD_i/dy_i``) what is left is of the
   order of the entry itself, some cell means fall below zero, and sorting
   pixels by such a noisy std puts the low ones at the bottom (regression
   dilution).  Where a cell mean is not ``CELL_SIGNIFICANCE`` standard errors
   above zero (the spread of the ``s^2`` raw estimates in the cell, divided by
   ``s``), it is blended towards the mean over a ``4 s`` window.
2. Model error (Stein 1981 per pixel).  A learned denoiser is not the exact
   MMSE estimator, so its error has a part, its bias, that the Jacobian (the
   posterior covariance of the exact one) does not see.  Per pixel,
   ``s_i = (y_i - D_i)^2 - sigma^2 + 2 sigma^2 dD_i/dy_i`` has expectation
   ``E (D_i - x_i)^2`` (SURE's terms; their mean is SURE), so
   ``s_i - sigma^2 diag_i`` is, in expectation, the error not explained by
   the posterior variance: zero for the exact MMSE denoiser.  Its local mean
   (a Gaussian window of ``MODEL_ERROR_WINDOW`` pixels, normalised inside
   the image) is soft-thresholded by ``MODEL_ERROR_THRESHOLD`` of its standard
   errors, so that the term stays zero where the excess is not significant:
   the noise energy in ``s_i`` (``sqrt(2) sigma^2`` per pixel) would
   otherwise add a positive bias after clipping.  A single global excess
   (``max(0, SURE - sigma^2 mean diag)``) calibrates worse: the bias of a
   learned denoiser sits in textures and edges, not uniformly.
"""

from __future__ import annotations

import numpy as np

__all__ = ["adaptive_cell_average", "model_error_variance"]

CELL_SIGNIFICANCE = 4.0  # standard errors above zero for a cell mean to stand alone
WIDE_CELLS = 4  # the fallback window: this many cells across
MODEL_ERROR_WINDOW = 8.0  # Gaussian window (std, pixels) of the local excess
MODEL_ERROR_THRESHOLD = 3.0  # standard errors subtracted from the local excess


def _planar(function, array: np.ndarray, *others: np.ndarray) -> np.ndarray:
    """``function`` applied to each (Y, X) plane of ``array`` (and of ``others``, alike)."""
    shape = array.shape
    planes = [np.asarray(a, np.float64).reshape((-1,) + shape[-2:]) for a in (array, *others)]
    out = np.stack([function(*group) for group in zip(*planes)])
    return out.reshape(shape)


def adaptive_cell_average(diagonal: np.ndarray, side: int) -> np.ndarray:
    """Mean of the raw diagonal over a moving ``side`` x ``side`` cell, widened where it is noisy.

    Parameters
    ----------
    diagonal : ndarray
        Raw per-pixel estimates of ``dD_i/dy_i`` (last two axes Y, X).
    side : int
        Lattice period of the probes (one pixel of each class per cell).

    Returns
    -------
    ndarray
        float64, the shape of ``diagonal``; unchanged if ``side < 2``.
    """
    if side < 2:
        return np.asarray(diagonal, np.float64)
    from scipy import ndimage

    def plane(raw: np.ndarray) -> np.ndarray:
        cell = ndimage.uniform_filter(raw, side, mode="reflect")
        spread = ndimage.uniform_filter(raw**2, side, mode="reflect") - cell**2
        error = np.sqrt(np.clip(spread, 0.0, None)) / side  # standard error of the cell mean
        bound = CELL_SIGNIFICANCE * error
        weight = np.ones_like(cell)
        np.divide(cell, bound, out=weight, where=bound > 0)
        weight = np.clip(weight, 0.0, 1.0)
        wide = ndimage.uniform_filter(raw, WIDE_CELLS * side, mode="reflect")
        return weight * cell + (1 - weight) * wide

    return _planar(plane, diagonal)


def model_error_variance(
    image: np.ndarray, output: np.ndarray, diagonal: np.ndarray, variance: np.ndarray,
    sigma: float,
) -> np.ndarray:  # fmt: skip
    """Local SURE excess over the posterior variance: the denoiser's error its Jacobian misses.

    Parameters
    ----------
    image, output : ndarray
        The noisy image ``y`` and the denoised ``D(y)``.
    diagonal : ndarray
        Raw per-pixel estimates of ``dD_i/dy_i`` (unbiased over the probes).
    variance : ndarray
        The posterior variance predicted per pixel (``sigma^2`` times the
        averaged diagonal).
    sigma : float
        Gaussian noise std.

    Returns
    -------
    ndarray
        float64, ``>= 0``, the shape of ``image``: zero except where the local
        mean of ``s_i - variance_i`` exceeds ``MODEL_ERROR_THRESHOLD`` of its
        standard errors (see the module).
    """
    from scipy import ndimage

    width = MODEL_ERROR_WINDOW

    def plane(y, out, raw, var):
        s2 = float(sigma) ** 2
        excess = (y - out) ** 2 - s2 + 2 * s2 * raw - var
        ones = np.ones_like(excess)
        mass = ndimage.gaussian_filter(ones, width, mode="constant")
        local = ndimage.gaussian_filter(excess, width, mode="constant") / mass
        # sum of the squared normalised weights: the square of a Gaussian of std w is a
        # Gaussian of std w / sqrt(2), times 1 / (4 pi w^2) in two dimensions
        squares = ndimage.gaussian_filter(ones, width / np.sqrt(2), mode="constant")
        error = excess.std() * np.sqrt(squares / (4 * np.pi * width**2)) / mass
        return np.clip(local - MODEL_ERROR_THRESHOLD * error, 0.0, None)

    return _planar(plane, image, output, diagonal, variance)
