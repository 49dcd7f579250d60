"""Tiled processing of large arrays with overlap and linear blending (``map_tiles``).

How it works (two ``dask`` passes, each tile's function runs once):

1. The array is cut in tiles of about ``tile`` pixels along Y and X (one plane
   per tile on leading axes; in 3-D block mode, blocks of Z planes too, and a
   trailing channel axis stays whole).  Each tile is extended by a halo of
   ``depth = overlap + blend // 2`` pixels (reflected at the image border,
   ``dask.array.overlap.overlap``) and the user's function runs on it.  Its
   result is multiplied by a separable window that is 1 inside the tile,
   falls linearly to 0 across a band of ``blend`` pixels centred on each tile
   border, and is 0 on the outer ``overlap`` pixels of the halo.
2. An overlap-add pass (``overlap`` of the weighted results, then a block
   function) sums each tile's contribution with its neighbours' and divides
   by the summed weights.

So a local filter whose reach is at most ``overlap`` gives exactly the
whole-array result (the halo pixels it could not see carry zero weight), and
non-local methods get seamless, linearly blended tile borders.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import dask.array as da
import numpy as np

TileFunction = Callable[..., np.ndarray]


def even_chunks(size: int, tile: int, minimum: int = 1) -> tuple[int, ...]:
    """Split ``size`` in near-equal chunks of at most ``tile`` (each >= ``minimum`` if possible)."""
    count = max(1, math.ceil(size / max(1, tile)))
    while count > 1 and size // count < minimum:
        count -= 1
    base, extra = divmod(size, count)
    return tuple(base + 1 if i < extra else base for i in range(count))


def block_grid(array: da.Array, axes: dict[int, tuple[int, int, int]]) -> tuple[da.Array, dict]:
    """Overlapping-block grid of a dask array: rechunked array and halo depth per tiled axis.

    ``axes`` maps each tiled axis to (tile, depth, minimum): it is cut in
    :func:`even_chunks` of at most ``tile`` (at least ``minimum`` where
    possible), with a halo of ``depth`` if it is cut in several chunks, 0 if
    it is one (the ``depth`` mapping of ``dask.array.overlap``).  Axes before
    the first tiled axis get one index per chunk; axes after the last (a
    trailing channel axis) stay whole.
    """
    first = min(axes)
    chunks = []
    for axis, size in enumerate(array.shape):
        if axis in axes:
            chunks.append(even_chunks(size, axes[axis][0], axes[axis][2]))
        else:
            chunks.append((1,) * size if axis < first else (size,))
    x = array.rechunk(tuple(chunks))
    depths = {a: (axes[a][1] if len(x.chunks[a]) > 1 else 0) for a in sorted(axes)}
    return x, depths


def axis_weights(length: int, depth: int, blend: int) -> np.ndarray:
    """1-D blending window over a tile of core ``length`` extended by ``depth`` on both sides."""
    centre = np.arange(length + 2 * depth, dtype=np.float64) + 0.5 - depth
    if blend <= 0:
        return ((centre > 0) & (centre < length)).astype(np.float32)
    rising = (centre + blend / 2) / blend
    falling = (length + blend / 2 - centre) / blend
    return np.clip(np.minimum(rising, falling), 0.0, 1.0).astype(np.float32)


def map_tiles(
    fn: TileFunction,
    array,
    tile: int = 512,
    overlap: int = 32,
    *,
    blend: int | None = None,
    seed: int = 0,
    dtype=np.float32,
    origin: bool = False,
    volume: tuple[int, int] | None = None,
    channel_last: bool = False,
) -> da.Array:
    """Apply ``fn`` tile by tile with overlap and linear blending, lazily.

    Parameters
    ----------
    fn : callable
        ``fn(block, *, seed) -> ndarray`` of the same shape as ``block``;
        ``block`` has the array's leading axes (length 1 each) and a tile of
        Y, X with its halo.  ``seed`` is ``seed + tile index`` (C order over
        the tile grid), so results do not depend on the scheduler.
    array : numpy or dask array
        At least 2-D; the last two axes are Y, X.
    tile : int
        Approximate tile size in pixels along Y and X.
    overlap : int
        Context each tile sees beyond the pixels it contributes to: set it to
        the filter's radius or more.
    blend : int, optional
        Width of the linear blending band at tile borders (default ``overlap``).
    seed : int
        Base seed.
    dtype : dtype
        Output dtype.
    origin : bool
        Also pass ``fn`` the keyword ``origin=(y, x)``: the position in the
        Y, X plane of the block's first pixel (negative inside a reflected
        halo), e.g. to look up a labels image that belongs to the plane.
    volume : (int, int), optional
        3-D block mode: ``(z_tile, z_overlap)``.  The axis before Y is Z, cut
        in blocks of about ``z_tile`` planes that see ``z_overlap`` planes of
        context (blended over ``z_overlap`` planes); memory per block is
        flat in the volume's size.  ``None``: one plane per tile.
    channel_last : bool
        The last axis holds channels: Y, X are the two axes before it, and
        every tile keeps all channels.

    Returns
    -------
    dask.array.Array
        Lazy result with the input's shape.
    """
    array = da.asarray(array)
    if array.ndim < 2:
        raise ValueError(f"map_tiles needs an array with at least 2 axes, got shape {array.shape}")
    if tile < 1 or overlap < 0:
        raise ValueError("tile must be >= 1 and overlap >= 0")
    blend = overlap if blend is None else int(blend)
    full_depth = overlap + blend // 2
    y_axis = array.ndim - 2 - int(channel_last)
    if y_axis < 0 or (volume is not None and y_axis < 1):
        raise ValueError(f"map_tiles: too few axes in shape {array.shape} for this layout")
    minimum = max(full_depth, blend, 1)
    axes = {y_axis: (tile, full_depth, minimum), y_axis + 1: (tile, full_depth, minimum)}
    blends = {y_axis: blend, y_axis + 1: blend}
    if volume is not None:
        z_tile, z_overlap = int(volume[0]), int(volume[1])
        if z_tile < 1 or z_overlap < 0:
            raise ValueError("volume must be (z_tile >= 1, z_overlap >= 0)")
        z_depth = z_overlap + z_overlap // 2
        axes[y_axis - 1] = (z_tile, z_depth, max(z_depth, z_overlap, 1))
        blends[y_axis - 1] = z_overlap
    x, depths = block_grid(array, axes)
    blends = {axis: (blends[axis] if depths[axis] else 0) for axis in depths}
    origins = None
    if origin:
        origins = {a: np.cumsum((0,) + x.chunks[a][:-1]) - depths[a] for a in (y_axis, y_axis + 1)}
    extended = da.overlap.overlap(x, depth=depths, boundary="reflect")
    weighted = extended.map_blocks(
        _weighted_tile,
        fn=fn,
        seed=seed,
        depths=depths,
        blends=blends,
        origins=origins,
        new_axis=0,
        chunks=((2,),) + extended.chunks,
        dtype=np.float32,
    )
    double = {0: 0, **{axis + 1: 2 * depths[axis] for axis in depths}}
    gathered = da.overlap.overlap(weighted, depth=double, boundary=0)
    return gathered.map_blocks(
        _overlap_add, depths=depths, drop_axis=0, chunks=x.chunks, dtype=dtype
    ).astype(dtype)


def _weighted_tile(block, *, fn, seed, depths, blends, origins, block_info=None):
    info = block_info[0]
    location = info["chunk-location"]
    index = int(np.ravel_multi_index(location, info["num-chunks"]))
    where = {}
    if origins is not None:
        where["origin"] = tuple(int(origins[axis][location[axis]]) for axis in sorted(origins))
    result = np.asarray(fn(block, seed=seed + index, **where), dtype=np.float32)
    if result.shape != block.shape:
        raise ValueError(f"tile function returned shape {result.shape} for a {block.shape} tile")
    weight = np.ones(block.shape, dtype=np.float32)
    for axis, depth in depths.items():
        window = axis_weights(block.shape[axis] - 2 * depth, depth, blends[axis])
        shape = [1] * block.ndim
        shape[axis] = window.size
        weight = weight * window.reshape(shape)
    return np.stack([result * weight, weight])


def _axis_pieces(length: int, depth: int) -> list[tuple[slice, slice]]:
    """(source, destination) slices of the previous, own and next tile along one axis."""
    if depth == 0:
        return [(slice(0, length), slice(0, length))]
    core = length - 6 * depth
    return [
        (slice(depth, 2 * depth), slice(0, depth)),
        (slice(3 * depth, 3 * depth + core), slice(0, core)),
        (slice(core + 4 * depth, core + 5 * depth), slice(core - depth, core)),
    ]


def _overlap_add(block, *, depths):
    spatial = sorted(depths)
    pieces = [_axis_pieces(block.shape[axis + 1], depths[axis]) for axis in spatial]
    core_shape = list(block.shape)
    for axis in spatial:
        core_shape[axis + 1] = block.shape[axis + 1] - 6 * depths[axis]
    total = np.zeros(core_shape, dtype=np.float32)
    for combination in itertools.product(*pieces):
        source, destination = [slice(None)] * block.ndim, [slice(None)] * block.ndim
        for axis, (src, dst) in zip(spatial, combination, strict=True):
            source[axis + 1], destination[axis + 1] = src, dst
        total[tuple(destination)] += block[tuple(source)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return total[0] / total[1]
