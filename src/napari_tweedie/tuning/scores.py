"""Scores shown to users: an estimated PSNR, the signal range it is measured on, block means."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["block_means", "estimated_psnr", "signal_range"]


def block_means(values: np.ndarray, block: int) -> np.ndarray:
    """Means of ``values`` over ``block`` x ``block`` tiles of its last two axes (edges partial)."""
    if block < 1:
        raise ValueError(f"block must be >= 1, got {block}")
    h, w = values.shape[-2:]
    rows, cols = np.arange(0, h, block), np.arange(0, w, block)
    sums = np.add.reduceat(np.add.reduceat(values, rows, axis=-2), cols, axis=-1)
    counts = np.outer(np.diff(np.append(rows, h)), np.diff(np.append(cols, w)))
    return sums / counts


def estimated_psnr(mse: float, data_range: float) -> float:
    """PSNR in dB of an (estimated) MSE for ``data_range``; ``inf`` for ``mse <= 0``."""
    return float(10 * math.log10(data_range**2 / mse)) if mse > 0 else math.inf


def signal_range(image) -> float:
    """The range of the signal under the noise: fixed for a region, whatever the parameters.

    The 0.1 to 99.9 percentiles of a 3 x 3 box mean of the last two axes
    (the noise's extremes mostly averaged out); the scale of the estimated PSNR.
    """
    from scipy import ndimage

    data = np.asarray(image, np.float32)
    smooth = ndimage.uniform_filter(data, size=(1,) * (data.ndim - 2) + (3, 3), mode="reflect")
    low, high = np.percentile(smooth, (0.1, 99.9))
    return float(high - low) or 1.0
