"""Robust value range of an image: the percentiles that normalisations map to 0 and 1."""

from __future__ import annotations

import math

import numpy as np


def percentile_range(
    image: np.ndarray, *, low: float = 0.5, high: float = 99.5, max_pixels: int | None = None
) -> tuple[float, float]:
    """The ``low``-th and ``high``-th percentiles of ``image``; its min and max where they coincide.

    Parameters
    ----------
    image : ndarray, shape (..., H, W)
        Finite values.
    low, high : float
        Percentiles (default 0.5 and 99.5).
    max_pixels : int, optional
        Above this many pixels, the percentiles are those of a regular
        subsample (every ``s``-th row and column) of about this size.

    Returns
    -------
    (float, float)
        ``(p_low, p_high)``; ``(min, max)`` when ``p_high <= p_low``.
    """
    image = np.asarray(image)
    sample = image
    if max_pixels is not None:
        stride = max(1, int(math.ceil(math.sqrt(image.size / max_pixels))))
        sample = image[..., ::stride, ::stride]
    bottom, top = (float(v) for v in np.percentile(sample, [low, high]))
    if not top > bottom:
        bottom, top = float(image.min()), float(image.max())
    return bottom, top
