"""Filter2Noise (Sun et al. 2025) planes in and out: the fit's padded input, NaN kept on output."""

from __future__ import annotations

import numpy as np

__all__ = ["MIN_SIDE", "keep_nans", "prepare"]

#: Smallest side the fit works on (two 8x8 patches after 2x downsampling).
MIN_SIDE = 32


def prepare(image: np.ndarray) -> np.ndarray:
    """Even-sided image of at least :data:`MIN_SIDE` pixels (symmetric padding if smaller)."""
    h, w = image.shape
    pad = (max(0, MIN_SIDE - h), max(0, MIN_SIDE - w))
    if any(pad):
        image = np.pad(image, ((0, pad[0]), (0, pad[1])), mode="symmetric")
    h, w = image.shape
    return np.ascontiguousarray(image[: h - h % 2, : w - w % 2])


def keep_nans(image: np.ndarray, result: np.ndarray) -> np.ndarray:
    """``result`` with NaN where ``image`` was not finite (missing pixels stay missing)."""
    bad = ~np.isfinite(np.asarray(image))
    if bad.any():
        result = result.copy()
        result[bad] = np.nan
    return result
