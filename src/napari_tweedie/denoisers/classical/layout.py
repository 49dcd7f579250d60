"""Array layouts of the classical denoisers: grey planes, colour images, volumes.

Registry contract (``DenoiserSpec.channels`` / ``.volumetric``): a method
flagged ``channels="joint"`` gets a channel-last image with ``sigma`` an array
of shape (C,); one flagged ``volumetric=True`` gets a (Z, Y, X) volume with a
scalar ``sigma`` and ``spacing=(dz, dy, dx)``; with both flags, (Z, Y, X, C).
So the layout follows from the array's rank and ``sigma``'s rank alone:
a 1-D ``sigma`` means "the last axis holds channels", and what is left is
2-D (a plane) or 3-D (a volume).

Widths given in parameters (``sigma_spatial`` ...) are in Y/X pixels; along
an axis of voxel size ``s`` they span ``width * dy / s`` voxels
(:func:`axis_scales`), so ``dz = inf`` gives no z reach at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Layout", "axis_scales", "equalise", "layout"]


@dataclass(frozen=True)
class Layout:
    """How an input array is laid out.

    Attributes
    ----------
    colour : bool
        The last axis holds channels (``sigma`` was a 1-D array).
    volume : bool
        The spatial axes are (Z, Y, X); otherwise (Y, X).
    spacing : tuple of float
        Voxel size per spatial axis ((dz, dy, dx) or (dy, dx)).
    sigma : ndarray
        Noise standard deviation per channel, float64 of shape (C,) (C = 1 for grey).
    """

    colour: bool
    volume: bool
    spacing: tuple[float, ...]
    sigma: np.ndarray

    @property
    def plane(self) -> bool:
        """A grey 2-D plane: the methods' original, unchanged path."""
        return not (self.colour or self.volume)


def layout(image: np.ndarray, sigma, spacing=None) -> Layout:
    """The :class:`Layout` of ``image`` given the ``sigma`` and ``spacing`` it came with.

    Raises
    ------
    ValueError
        If the rank does not fit (a plane or volume, plus a channel axis when
        ``sigma`` is per channel), ``sigma`` has the wrong length, or
        ``spacing`` is not one positive size per spatial axis.
    """
    sig = np.asarray(sigma, dtype=np.float64)
    colour = sig.ndim == 1
    spatial = image.ndim - int(colour)
    if sig.ndim > 1 or spatial not in (2, 3):
        raise ValueError(
            f"expected a (Y, X) plane or (Z, Y, X) volume{', channel last' if colour else ''}; "
            f"got shape {image.shape} with sigma of shape {sig.shape}"
        )
    if colour and sig.shape[0] != image.shape[-1]:
        raise ValueError(f"sigma has {sig.shape[0]} values for {image.shape[-1]} channels")
    if spacing is None:
        spacing = (1.0,) * spatial
    spacing = tuple(float(s) for s in spacing)
    if spatial == 2 and len(spacing) == 3:  # a volume's spacing on one of its planes
        spacing = spacing[1:]
    if len(spacing) != spatial or not all(s > 0 for s in spacing):
        raise ValueError(f"spacing must be {spatial} positive voxel sizes, got {spacing}")
    return Layout(colour, spatial == 3, spacing, np.atleast_1d(sig))


def axis_scales(spacing: tuple[float, ...]) -> tuple[float, ...]:
    """Voxels per Y pixel along each spatial axis: ``dy / s`` (0 for an infinite size)."""
    dy = spacing[-2]
    if not math.isfinite(dy):
        raise ValueError(f"the Y voxel size must be finite, got {dy}")
    return tuple(dy / s if math.isfinite(s) else 0.0 for s in spacing)


def equalise(image: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Scale each channel of a channel-last image so that all share one noise level.

    Returns the scaled image (float32), that common level (the mean of
    ``sigma``) and the per-channel factors to divide the result by.  Channels
    without noise keep their scale.
    """
    common = float(np.mean(sigma))
    factors = np.where(sigma > 0, common / np.where(sigma > 0, sigma, 1.0), 1.0)
    scaled = np.asarray(image, np.float32) * factors.astype(np.float32)
    return scaled, common, factors.astype(np.float32)
