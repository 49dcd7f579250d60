"""Filter2Noise (Sun et al. 2025) width edits: per-pixel multipliers of the sigma maps.

The fitted model's maps of ``sigma_x``, ``sigma_y`` and ``sigma_r`` are
scaled by global multipliers times per-region ones (``regions[k]`` where a
label image is ``k``) before :meth:`.model.Filter2Noise.render` re-filters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["Regions", "multiplier_maps"]

Regions = Mapping[int, tuple[float, float, float]]


def multiplier_maps(
    shape: tuple[int, int],
    sigma_x: float = 1.0,
    sigma_y: float = 1.0,
    sigma_r: float = 1.0,
    labels: np.ndarray | None = None,
    regions: Regions | None = None,
) -> tuple[Any, Any, Any]:
    """Per-pixel multipliers of ``(sigma_x, sigma_y, sigma_r)``: global times per-label.

    ``regions[k] = (mx, my, mr)`` applies where ``labels == k``; label 0 and
    labels without an entry keep the global multipliers.  Without labels the
    three multipliers are returned as floats.
    """
    if labels is None or not regions:
        return float(sigma_x), float(sigma_y), float(sigma_r)
    labels = np.asarray(labels)
    if labels.shape != tuple(shape):
        raise ValueError(f"labels of shape {labels.shape} do not match the image {shape}")
    top = max(int(labels.max(initial=0)), max(regions, default=0))
    table = np.ones((top + 1, 3), np.float32)
    for key, values in regions.items():
        if key > 0:
            table[int(key)] = values
    table *= np.array([sigma_x, sigma_y, sigma_r], np.float32)
    per_pixel = table[np.clip(labels, 0, top).astype(np.intp)]
    return per_pixel[..., 0], per_pixel[..., 1], per_pixel[..., 2]
