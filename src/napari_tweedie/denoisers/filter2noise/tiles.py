"""Filter2Noise (Sun et al. 2025) on large arrays: a fitted filter applied lazily, tile by tile.

:func:`apply_lazy` maps :meth:`.Filter2Noise.apply` over every Y, X plane of
an n-D dask array in overlapping tiles (:func:`napari_tweedie.data.map_tiles`),
placing a 2-D labels image of per-region multipliers at an offset of each plane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import dask.array as da

    from .model import Filter2Noise, Regions

__all__ = ["apply_lazy"]


def apply_lazy(
    model: Filter2Noise,
    array,
    *,
    tile: int = 2048,
    labels: np.ndarray | None = None,
    label_offset: tuple[int, int] = (0, 0),
    regions: Regions | None = None,
    **multipliers: float,
) -> da.Array:
    """Apply ``model`` to every plane of an n-D array, tile by tile, lazily (dask in, dask out).

    Parameters
    ----------
    model : Filter2Noise
        The fitted filter (this function is also its method
        :meth:`.Filter2Noise.apply_lazy`, ``model`` being the instance).
    array : array_like, shape (..., Y, X)
        Input (numpy or dask); converted to float32.
    tile : int
        Largest Y, X tile side; tiles get a halo of ``stages * radius + 32``
        pixels of context, and each output pixel comes from the one tile
        whose core holds it (no blending).
    labels : ndarray of int, shape (h, w), optional
        Region labels placed at ``label_offset`` (Y, X) of each plane; they
        carry the ``regions`` multipliers (0 outside).
    regions : mapping, optional
        ``label -> (mx, my, mr)`` multipliers, as :meth:`.Filter2Noise.render`.
    **multipliers : float
        Global ``sigma_x``, ``sigma_y``, ``sigma_r`` multipliers.

    Returns
    -------
    dask.array.Array
        The filtered array, float32, same shape.
    """
    import dask.array as da

    from ...data.tiles import map_tiles

    x = da.asarray(array).astype(np.float32)
    plane = x.shape[-2:]

    def block(b: np.ndarray, *, seed: int, origin: tuple[int, int]) -> np.ndarray:
        rows, cols = (_symmetric(origin[k], b.shape[-2 + k], plane[k]) for k in range(2))
        lab = _labels_at(labels, label_offset, rows, cols)
        out = [
            model.apply(p, labels=lab, regions=regions, **multipliers)
            for p in b.reshape((-1,) + b.shape[-2:])
        ]
        return np.stack(out).reshape(b.shape)

    halo = model.stages * model.radius + 32
    return map_tiles(block, x, int(tile), halo, blend=0, origin=True)


def _symmetric(start: int, length: int, size: int) -> np.ndarray:
    """Indices ``start .. start + length`` reflected into ``[0, size)`` (symmetric, as dask)."""
    index = np.arange(start, start + length) % (2 * size)
    return np.where(index >= size, 2 * size - 1 - index, index)


def _labels_at(labels, offset, rows: np.ndarray, cols: np.ndarray) -> np.ndarray | None:
    """Labels placed at ``offset`` of a plane, read at plane ``rows`` x ``cols`` (0 outside)."""
    if labels is None:
        return None
    labels = np.asarray(labels)
    r, c = rows - int(offset[0]), cols - int(offset[1])
    r_ok = (r >= 0) & (r < labels.shape[0])
    c_ok = (c >= 0) & (c < labels.shape[1])
    out = np.zeros((rows.size, cols.size), labels.dtype)
    out[np.ix_(r_ok, c_ok)] = labels[np.ix_(r[r_ok], c[c_ok])]
    return out
