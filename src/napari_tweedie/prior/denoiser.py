"""The bundled diffusion prior used as a plain Gaussian denoiser on planes of any size and units.

The network expects clean values on [0, 1]; each plane is mapped there with its
0.5/99.5 percentiles (min/max if those coincide), ``sigma`` is scaled by the
same factor, and the result is mapped back.  Large planes are processed in
overlapping, linearly blended tiles (:func:`napari_tweedie.data.map_tiles`),
so memory stays bounded; tiles at the plane's border see the plane's own
edge, as a whole-plane run does.  The registry entry ``"prior"`` is
:mod:`napari_tweedie.denoisers.prior`.
"""

from __future__ import annotations

import functools

import numpy as np

from ..data.scaling import percentile_range

__all__ = ["denoise_prior", "unit_range"]

#: Planes are scaled by a range taken from at most this many pixels.
RANGE_PIXELS = 1 << 20


def unit_range(image: np.ndarray) -> tuple[float, float]:
    """The values mapped to the network's 0 and 1: the 0.5th and 99.5th percentiles."""
    return percentile_range(np.asarray(image, np.float32), max_pixels=RANGE_PIXELS)


@functools.lru_cache(maxsize=2)
def _prior(device: str):
    from .bundled import load_prior

    return load_prior(device)


def denoise_prior(
    image: np.ndarray,
    *,
    sigma: float,
    halo: int,
    tile: int = 512,
    ensemble: bool = False,
    device: str = "auto",
    data_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """Denoise with the bundled EDM prior (a UNet trained on offline images, see its model card).

    Parameters
    ----------
    image : ndarray, shape (H, W)
        Noisy plane, any units.
    sigma : float
        Noise standard deviation in the image's units.
    halo : int
        Context in pixels each tile sees beyond the pixels it contributes to
        (also the width of the blending band between tiles).
    tile : int
        Tile size in pixels for planes larger than that (at least ``4 * halo``).
    ensemble : bool
        Average over the eight rotations and flips of each tile
        (:func:`napari_tweedie.prior.ensemble.self_ensemble`): a little more
        accurate, eight times slower.
    device : str
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"`` or ``"mps"``.
    data_range : (low, high), optional
        The values mapped to the network's [0, 1] (default: :func:`unit_range`
        of the plane).

    Returns
    -------
    ndarray, float32
        The Tweedie estimate ``E[x0 | x]`` in the image's units.
    """
    import torch

    from ..data.tiles import map_tiles
    from .ensemble import self_ensemble

    plane = np.asarray(image, dtype=np.float32)
    low, high = unit_range(plane) if data_range is None else (float(v) for v in data_range)
    if not high > low or sigma <= 0:
        return plane.copy()
    scale = high - low
    prior = _prior(str(device))
    level = float(sigma) / scale
    count = 8 if ensemble else 1

    def denoise_tile(block: np.ndarray, *, seed: int, origin: tuple[int, int]) -> np.ndarray:
        # only the part inside the plane: the network sees the image's own border,
        # as in a whole-plane run (the reflected margin carries no weight)
        inside = tuple(
            slice(max(0, -start), min(length, size - start))
            for start, length, size in zip(origin, block.shape, plane.shape)
        )
        out = np.zeros_like(block)
        with torch.inference_mode():
            block_t = torch.from_numpy(np.ascontiguousarray(block[inside]))
            out[inside] = self_ensemble(prior, block_t, level, count).numpy()
        return out

    unit = (plane - low) / scale
    tiles = map_tiles(denoise_tile, unit, max(int(tile), 4 * halo), halo, origin=True)
    out = tiles.compute(scheduler="synchronous")
    return (out * scale + low).astype(np.float32)
