"""Multiscale output: a result written with 2x-downsampled levels, as an OME-Zarr (0.5) group.

A whole-layer result of a pyramidal source (a slide, a large mosaic) must be a
pyramid too, or napari would read the full-resolution plane to show it zoomed
out.  Level ``k`` is the mean of 2x2 blocks of level ``k - 1`` over the last
two axes (odd edges dropped), computed from the level already on disk.
"""

from __future__ import annotations

from pathlib import Path

import dask.array as da
import numpy as np
import zarr


def downsample(array: da.Array) -> da.Array:
    """Mean of 2x2 blocks over the last two axes, in ``array``'s dtype (odd edges dropped)."""
    y, x = array.ndim - 2, array.ndim - 1
    even = array[..., : array.shape[y] // 2 * 2, : array.shape[x] // 2 * 2]
    chunks = {y: max(2, even.chunksize[y] // 2 * 2), x: max(2, even.chunksize[x] // 2 * 2)}
    mean = da.coarsen(np.mean, even.rechunk(chunks), {y: 2, x: 2}, trim_excess=True)
    return mean.astype(array.dtype)


def level_count(shape: tuple[int, ...], wanted: int) -> int:
    """``wanted`` levels, fewer where the plane would drop below 2 x 2 pixels."""
    count, (h, w) = 1, shape[-2:]
    while count < wanted and h >= 4 and w >= 4:
        count, h, w = count + 1, h // 2, w // 2
    return count


def write_pyramid(
    array: da.Array, path: Path, chunks: tuple[int, ...], levels: int, callbacks: list | None
) -> None:
    """Write ``array`` as level "0" of an OME-Zarr group at ``path``, then the smaller levels."""
    group = zarr.open_group(str(path), mode="w", zarr_format=3)
    levels = level_count(array.shape, levels)
    current = array.rechunk(chunks)
    for k in range(levels):
        if k:
            current = downsample(current)
            current = current.rechunk(tuple(min(c, s) for c, s in zip(chunks, current.shape)))
        stored = group.create_array(
            str(k), shape=current.shape, chunks=current.chunksize, dtype=current.dtype
        )
        da.store(current, stored, lock=False, callbacks=callbacks)
        current = da.from_zarr(stored)  # the next level reads this one back, not the source
    factors = [[1.0] * (array.ndim - 2) + [2.0**k, 2.0**k] for k in range(levels)]
    group.attrs["ome"] = {
        "version": "0.5",
        "multiscales": [
            {
                "axes": [{"name": f"dim_{i}"} for i in range(array.ndim)],
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
    attrs = dict(node.attrs)
    multiscales = attrs.get("multiscales") or attrs.get("ome", {}).get("multiscales")
    if not multiscales:
        raise ValueError(f"{path} is a zarr group without OME-Zarr multiscales")
    return [da.from_zarr(node[str(d["path"])]) for d in multiscales[0]["datasets"]]
