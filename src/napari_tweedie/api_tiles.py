"""Tile functions of :func:`napari_tweedie.denoise_lazy`: planes, and channels or volumes.

:class:`_TileDenoiser` denoises the planes of a tile (the default layout);
:func:`shaped_lazy` tiles a channel-last image (:mod:`.api_shapes`) with
:func:`~.data.tiles.map_tiles`: every tile keeps all channels, and volumes are
cut in 3-D blocks of about :data:`Z_TILE` planes whose Z overlap is the
in-plane overlap times dy / dz, so memory stays flat in the volume's size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dask.array as da
import numpy as np

from .api_shapes import Plan, channel_sigmas, make_plan
from .data.axes import Layout
from .data.finite import fill_non_finite
from .data.tiles import map_tiles
from .data.writer import Cancelled
from .denoisers import DenoiserSpec
from .noise.setup import NoiseSetup
from .steps import run

Z_TILE = 64  # planes per 3-D block (a 64x512x512 float32 block is 64 MiB)


def shaped_lazy(
    spec, array: da.Array, layout: Layout, noise, sigma, seed, noise_params, method_params,
    *, tile: int, overlap: int | None, cancelled: Callable[[], bool] | None = None,
) -> da.Array:  # fmt: skip
    """Tiled :func:`shaped_steps`: 3-D blocks with Z overlap for volumes, all channels per tile.

    The Z overlap is ``ceil(overlap * dy / dz)`` planes (the in-plane reach
    converted with the spacing); memory per block is flat in the volume's size.
    """
    inner = layout.inner(array.astype(np.float32))
    sigmas = channel_sigmas(sigma, layout, inner.shape[-1])
    if spec.extra.get("lazy"):
        if layout.volumetric or (layout.channel_axis is not None and spec.channels == "joint"):
            raise ValueError(f"denoise_lazy: {spec.name!r} has no tiled path for this layout")
        parts = [
            spec.extra["lazy"](inner[..., c], noise=noise, sigma=sigmas[c], seed=seed, tile=tile,
                               overlap=overlap, **noise_params, **method_params)
            for c in range(inner.shape[-1])
        ]  # fmt: skip
        return layout.outer(da.stack(parts, axis=-1))
    plan = make_plan(spec, inner, layout, noise, sigmas, noise_params, method_params)
    overlap = plan.radius() if overlap is None else int(overlap)
    volume = (max(Z_TILE, 2 * layout.z_overlap(overlap)), layout.z_overlap(overlap))
    fn = _ShapedTiles(plan, layout.spatial, cancelled)
    result = map_tiles(
        fn, inner, tile, overlap, seed=seed, channel_last=True,
        volume=volume if layout.volumetric else None,
    )  # fmt: skip
    return layout.outer(result)


@dataclass(frozen=True)
class _ShapedTiles:
    plan: Plan
    spatial: int
    cancelled: Callable[[], bool] | None = None

    def __call__(self, block: np.ndarray, *, seed: int) -> np.ndarray:
        units = block.reshape((-1,) + block.shape[-(self.spatial + 1) :])
        out = np.empty_like(units)
        for index, unit in enumerate(units):
            out[index] = self._apply(unit, seed)
        return out.reshape(block.shape)

    def __reduce__(self):
        # pickled for a dask.distributed worker, which cannot see the GUI's Cancel flag
        return (_ShapedTiles, (self.plan, self.spatial, None))

    def _apply(self, unit: np.ndarray, seed: int) -> np.ndarray:
        cancelled = self.cancelled
        if cancelled is not None and cancelled():
            raise Cancelled("cancelled by the user")
        watch = cancelled is not None and self.plan.spec.iterative
        keep_going = (lambda step: not cancelled()) if watch else None
        result = run(self.plan.unit_steps(unit, seed, keep_empty=True), keep_going)
        if result is None:
            raise Cancelled("cancelled by the user")
        return result


@dataclass(frozen=True)
class _TileDenoiser:
    spec: DenoiserSpec
    setup: NoiseSetup
    params: dict
    cancelled: Callable[[], bool] | None = None

    def __call__(self, block: np.ndarray, *, seed: int) -> np.ndarray:
        planes = block.reshape((-1,) + block.shape[-2:])
        out = np.empty_like(planes)
        for index, plane in enumerate(planes):
            if not np.isfinite(plane).any():  # a masked or padded tile: nothing to denoise
                out[index] = plane
                continue
            filled, bad = fill_non_finite(plane)
            out[index] = self._apply(filled, seed)
            if bad is not None:
                out[index][bad] = np.nan
        return out.reshape(block.shape)

    def __reduce__(self):
        # pickled for a dask.distributed worker, which cannot see the GUI's Cancel flag
        return (_TileDenoiser, (self.spec, self.setup, self.params, None))

    def _apply(self, plane: np.ndarray, seed: int) -> np.ndarray:
        """One plane; with ``cancelled``, checked before it and at each step of a fitting method."""
        cancelled = self.cancelled
        if cancelled is not None and cancelled():
            raise Cancelled("cancelled by the user")
        watch = cancelled is not None and self.spec.iterative
        keep_going = (lambda step: not cancelled()) if watch else None
        result = run(self.setup.apply_steps(self.spec, plane, seed, self.params), keep_going)
        if result is None:  # run() closed the generator between two steps
            raise Cancelled("cancelled by the user")
        return result
