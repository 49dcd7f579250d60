"""Multiscale output: a result written with 2x-downsampled levels, as an OME-Zarr (0.5) group.

A whole-layer result of a pyramidal source (a slide, a large mosaic) must be a
pyramid too, or napari would read the full-resolution plane to show it zoomed
out.  Level ``k`` is the mean of 2x2 blocks of level ``k - 1`` over the last
two axes (odd edges dropped), computed from the level already on disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import dask.array as da
import numpy as np
import zarr

from .io import ome_dataset_paths

if TYPE_CHECKING:
    from .writer import WriteGate

#: OME-Zarr axes for 2 to 5 dimensions (time, channel, then space, as 0.5 orders them)
AXES = {
    2: (("y", "space"), ("x", "space")),
    3: (("z", "space"), ("y", "space"), ("x", "space")),
    4: (("t", "time"), ("z", "space"), ("y", "space"), ("x", "space")),
    5: (("t", "time"), ("c", "channel"), ("z", "space"), ("y", "space"), ("x", "space")),
}


def _finite_mean(blocks: np.ndarray, axis=None) -> np.ndarray:
    """Mean over ``axis`` of the finite values only (NaN where there is none)."""
    finite = np.isfinite(blocks)
    total = np.where(finite, blocks, 0).sum(axis=axis, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / finite.sum(axis=axis)


def downsample(array: da.Array) -> da.Array:
    """Mean of 2x2 blocks over the last two axes (odd edges dropped), in ``array``'s dtype.

    Missing pixels (NaN) are left out of their block's mean, so that scattered
    gaps do not spread through the levels; integers are rounded, not truncated.
    """
    y, x = array.ndim - 2, array.ndim - 1
    even = array[..., : array.shape[y] // 2 * 2, : array.shape[x] // 2 * 2]
    chunks = {y: max(2, even.chunksize[y] // 2 * 2), x: max(2, even.chunksize[x] // 2 * 2)}
    mean = da.coarsen(_finite_mean, even.rechunk(chunks), {y: 2, x: 2}, trim_excess=True)
    if np.issubdtype(array.dtype, np.integer):
        mean = da.round(mean)
    return mean.astype(array.dtype)


def level_count(shape: tuple[int, ...], wanted: int) -> int:
    """``wanted`` levels, fewer where the plane would drop below 2 x 2 pixels."""
    count, (h, w) = 1, shape[-2:]
    while count < wanted and h >= 4 and w >= 4:
        count, h, w = count + 1, h // 2, w // 2
    return count


def write_pyramid(
    array: da.Array,
    path: Path,
    chunks: tuple[int, ...],
    levels: int,
    callbacks: list | None,
    gate: WriteGate,
) -> None:
    """Write ``array`` as level "0" of an OME-Zarr group at ``path``, then the smaller levels.

    Chunk writes go through ``gate``, so that none lands after a failed
    computation's clean-up.
    """
    if array.ndim not in AXES:
        raise ValueError(f"a multiscale output needs 2 to 5 axes, got {array.ndim}")
    axes = [{"name": name, "type": kind} for name, kind in AXES[array.ndim]]
    group = zarr.open_group(str(path), mode="w", zarr_format=3)
    levels = level_count(array.shape, levels)
    current = array.rechunk(chunks)
    for k in range(levels):
        if k:
            current = downsample(current)
            current = current.rechunk(tuple(min(c, s) for c, s in zip(chunks, current.shape)))
        stored = group.create_array(
            str(k),
            shape=current.shape,
            chunks=current.chunksize,
            dtype=current.dtype,
            dimension_names=[a["name"] for a in axes],
        )
        da.store(current, gate.target(stored), lock=False, callbacks=callbacks)
        current = da.from_zarr(stored)  # the next level reads this one back, not the source
    factors = [[1.0] * (array.ndim - 2) + [2.0**k, 2.0**k] for k in range(levels)]
    group.attrs["ome"] = {
        "version": "0.5",
        "multiscales": [
            {
                "axes": axes,
                "datasets": [
                    {"path": str(k), "coordinateTransformations": [{"type": "scale", "scale": f}]}
                    for k, f in enumerate(factors)
                ],
            }
        ],
    }


def open_levels(path: str | Path) -> list[da.Array]:
    """All levels of an OME-Zarr group written by :func:`write_pyramid` (or any OME-Zarr)."""
    node = zarr.open(str(path), mode="r")
    if isinstance(node, zarr.Array):
        return [da.from_zarr(node)]
    paths = ome_dataset_paths(dict(node.attrs))
    if not paths:
        raise ValueError(f"{path} is a zarr group without OME-Zarr multiscales")
    return [da.from_zarr(node[level]) for level in paths]
