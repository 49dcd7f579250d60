"""A prior applied in overlapping, linearly blended tiles: large planes at every sampler step.

A sampler calls its denoiser once per step on the whole plane; wrapped in
:class:`TiledPrior`, that call runs tile by tile (each tile with ``overlap``
pixels of context, clipped at the image border) and the tiles are blended
with the same separable linear windows as :func:`~napari_tweedie.data.map_tiles`.
The blending happens inside each step, so the sampler's data term (CG, FFT,
proximal steps) stays global and no seam can build up over the steps.  A
denoiser whose reach is at most ``overlap`` pixels gives the untiled result
exactly (up to rounding).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from ..data.tiles import axis_weights, even_chunks


def axis_tiles(length: int, tile: int, overlap: int, blend: int) -> list[tuple[int, int, Tensor]]:
    """``(start, stop, weight)`` of each tile along one axis of ``length`` pixels.

    Cores are :func:`~napari_tweedie.data.tiles.even_chunks` of ``tile``; each
    is extended by ``overlap + blend // 2`` pixels (clipped to the axis), and
    its weight falls linearly to 0 across a band of ``blend`` pixels centred
    on the core's borders.  One tile covers a short axis with weight 1.
    """
    depth = overlap + blend // 2
    cores = even_chunks(length, tile, max(depth, blend, 1))
    if len(cores) == 1:
        return [(0, length, torch.ones(length))]
    out = []
    start = 0
    for size in cores:
        window = axis_weights(size, depth, blend)
        lo, hi = max(0, start - depth), min(length, start + size + depth)
        crop = window[lo - (start - depth) : hi - (start - depth)]
        out.append((lo, hi, torch.from_numpy(np.ascontiguousarray(crop))))
        start += size
    return out


class TiledPrior:
    """A denoiser ``D(x, sigma)`` applied in overlapping tiles blended linearly.

    Parameters
    ----------
    denoiser : callable
        ``D(x, sigma)`` on (B, 1, H, W) images, ``sigma`` per batch item.
    tile : int
        Core tile size (pixels along Y and X); planes no larger run whole.
    overlap : int
        Context each tile sees beyond its core: the denoiser's reach or more.
    blend : int, optional
        Width of the blending band (default ``overlap``).
    """

    def __init__(self, denoiser: Callable, tile: int = 512, overlap: int = 32, blend=None):
        if tile < 1 or overlap < 0:
            raise ValueError("tile must be >= 1 and overlap >= 0")
        self.denoiser = denoiser
        self.tile, self.overlap = int(tile), int(overlap)
        self.blend = self.overlap if blend is None else int(blend)
        self.differentiable = getattr(denoiser, "differentiable", True)
        self.metadata = getattr(denoiser, "metadata", {})

    def __call__(self, x: Tensor, sigma: Tensor) -> Tensor:
        height, width = x.shape[-2:]
        rows = axis_tiles(height, self.tile, self.overlap, self.blend)
        cols = axis_tiles(width, self.tile, self.overlap, self.blend)
        if len(rows) == len(cols) == 1:
            return self.denoiser(x, sigma)
        out = torch.zeros_like(x)
        total = torch.zeros((height, width), dtype=x.dtype, device=x.device)
        for y0, y1, wy in rows:
            for x0, x1, wx in cols:
                weight = (wy[:, None] * wx[None, :]).to(device=x.device, dtype=x.dtype)
                piece = self.denoiser(x[..., y0:y1, x0:x1].contiguous(), sigma)
                out[..., y0:y1, x0:x1] += piece * weight
                total[y0:y1, x0:x1] += weight
        return out / total

    def __repr__(self) -> str:
        return f"TiledPrior({self.denoiser!r}, tile={self.tile}, overlap={self.overlap})"
