"""Joint colour and 3-D bilateral filter (Tomasi & Manduchi 1998) with voxel spacing.

Extends :func:`.bilateral.bilateral_filter` to channel-last images (one range
kernel on the distance over all channels, each normalised by its own range
width, so that edges shared by the channels count once and are kept) and to
(Z, Y, X) volumes (a ball-shaped window in physical units: the spatial width
is in Y pixels and spans ``width * dy / dz`` slices along Z).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ball_offsets", "bilateral_filter_nd"]


def ball_offsets(
    radius: float, sigma_spatial: float, scales: tuple[float, ...], *, soft: bool = False
) -> tuple[np.ndarray, ...]:
    """Window offsets (dz, dy, dx) inside the physical ball of ``radius`` Y pixels.

    ``scales`` are voxels per Y pixel per axis (:func:`.layout.axis_scales`,
    with a leading 0 for a plane).  Returns the int64 offsets and their
    float32 spatial exponents ``|p - q|^2 / (2 sigma_spatial^2)`` in Y pixels.
    ``soft``: an anti-aliased ball (as :func:`.bilateral._soft_disc_offsets`):
    offsets between ``radius -+ 1/2`` weighed by ``radius + 1/2 - |d|``.
    """
    outer = radius + 0.5 if soft else radius
    reach = [int(math.floor(outer * s + 1e-9)) for s in scales]
    grids = np.meshgrid(*(np.arange(-r, r + 1) for r in reach), indexing="ij")
    # distance in Y pixels: a step of one voxel along an axis is 1 / scale Y pixels
    dist2 = sum(
        (g / s) ** 2 if s > 0 else np.zeros(g.shape) for g, s in zip(grids, scales, strict=True)
    )
    ramp = np.clip(outer - np.sqrt(dist2), 0.0, 1.0) if soft else np.ones(dist2.shape)
    inside = ramp > 0 if soft else dist2 <= radius**2 + 1e-9
    offsets = [np.ascontiguousarray(g[inside], dtype=np.int64) for g in grids]
    uspat = dist2[inside] * (0.5 / float(sigma_spatial) ** 2) - np.log(ramp[inside])
    return (*offsets, uspat.astype(np.float32))


def bilateral_filter_nd(
    image: np.ndarray,
    sigma_spatial: float,
    sigma_color,
    *,
    scales: tuple[float, float, float] = (1.0, 1.0, 1.0),
    radius: int | None = None,
) -> np.ndarray:
    """Bilateral filter (Tomasi & Manduchi 1998) of a (Z, Y, X, C) array, joint over channels.

    Parameters
    ----------
    image : ndarray, shape (Z, Y, X, C)
        Input (Z = 1 for a plane, C = 1 for grey); converted to float32.
    sigma_spatial : float
        Spatial width in Y pixels (> 0).
    sigma_color : float or array of shape (C,)
        Range width per channel in its units (> 0; ``inf`` ignores a channel's range).
    scales : tuple of 3 floats
        Voxels per Y pixel along Z, Y, X (``dy / dz``, 1, ``dy / dx``).
    radius : int, optional
        Window radius in Y pixels; default: an anti-aliased ball of radius
        ``1.5 * sigma_spatial`` (continuous in it, as the plane filter's soft disc).

    Returns
    -------
    ndarray, float32, same shape as ``image``
    """
    array = np.ascontiguousarray(image, dtype=np.float32)
    if array.ndim != 4:
        raise ValueError(f"expected a (Z, Y, X, C) array, got shape {array.shape}")
    widths = np.broadcast_to(np.asarray(sigma_color, np.float64), (array.shape[-1],))
    if not sigma_spatial > 0 or not np.all(widths > 0):
        raise ValueError("sigma_spatial and sigma_color must be positive")
    if radius is None:
        dzs, dys, dxs, uspat = ball_offsets(1.5 * sigma_spatial, sigma_spatial, scales, soft=True)
    else:
        dzs, dys, dxs, uspat = ball_offsets(int(radius), sigma_spatial, scales)
    crange = (0.5 / widths**2).astype(np.float32)
    out = np.empty_like(array)
    if array.size == 0:
        return out
    from .bilateral_nd_kernels import bilateral_nd_kernel

    bilateral_nd_kernel(array, dzs, dys, dxs, uspat, crange, out)
    return out
