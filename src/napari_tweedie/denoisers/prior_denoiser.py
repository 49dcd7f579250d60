"""The bundled diffusion prior used as a plain Gaussian denoiser (registry name ``"prior"``).

The network expects clean values on [0, 1]; each plane is mapped there with its
0.5/99.5 percentiles (min/max if those coincide), ``sigma`` is scaled by the
same factor, and the result is mapped back.  Large planes are processed in
overlapping tiles blended with linear ramps, so memory stays bounded.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .registry import DenoiserSpec, Param, register

__all__ = ["PRIOR_HALO", "denoise_prior", "prior_available"]

#: Tile overlap in pixels (the network's effective reach is well inside it).
PRIOR_HALO = 32


def prior_available() -> str | None:
    """``None`` if the bundled weights are present, else a message saying so."""
    from ..prior.bundled import weights_missing_message

    return weights_missing_message()


@functools.lru_cache(maxsize=2)
def _prior(device: str):
    from ..prior.bundled import load_prior

    return load_prior(device)


def _unit_range(image: np.ndarray) -> tuple[float, float]:
    stride = max(1, int(math.ceil(math.sqrt(image.size / (1 << 20)))))
    sample = image[::stride, ::stride]
    low, high = (float(v) for v in np.percentile(sample, [0.5, 99.5]))
    if not high > low:
        low, high = float(image.min()), float(image.max())
    return low, high


def _resolve_range(sample: np.ndarray, sigma: float, params: dict) -> dict:
    """Fix the data range once for the whole image (the same scaling for every tile)."""
    if params.get("data_range") is not None:
        return params
    return params | {"data_range": _unit_range(np.asarray(sample, np.float32))}


def _ramp(length: int, halo: int, first: bool, last: bool) -> np.ndarray:
    weight = np.ones(length, np.float32)
    if halo > 0:
        edge = (np.arange(halo, dtype=np.float32) + 0.5) / halo
        if not first:
            weight[:halo] = edge
        if not last:
            weight[-halo:] = edge[::-1]
    return weight


def _starts(size: int, tile: int, halo: int) -> list[int]:
    if size <= tile:
        return [0]
    step = tile - 2 * halo
    starts = list(range(0, size - tile, step)) + [size - tile]
    return sorted(set(starts))


def denoise_prior(
    image: np.ndarray,
    *,
    sigma: float,
    seed: int = 0,
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
    seed : int
        Unused (the network is deterministic).
    tile : int
        Tile size in pixels for large planes (overlap :data:`PRIOR_HALO`).
    ensemble : bool
        Average over the eight rotations and flips of each tile
        (:func:`napari_tweedie.prior.ensemble.self_ensemble`): a little more
        accurate, eight times slower.
    device : str
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"`` or ``"mps"``.
    data_range : (low, high), optional
        The values mapped to the network's [0, 1] (default: the plane's 0.5 and
        99.5 percentiles).  ``nt.denoise`` and ``denoise_lazy`` fix it once
        for the whole array (from the sample the noise is estimated on), so that
        every tile and every plane of a stack is scaled alike.

    Returns
    -------
    ndarray, float32
        The Tweedie estimate ``E[x0 | x]`` in the image's units.
    """
    import torch

    from ..prior.ensemble import self_ensemble

    plane = np.asarray(image, dtype=np.float32)
    low, high = _unit_range(plane) if data_range is None else (float(v) for v in data_range)
    if not high > low or sigma <= 0:
        return plane.copy()
    scale = high - low
    unit = (plane - low) / scale
    prior = _prior(str(device))
    level = float(sigma) / scale
    h, w = unit.shape
    tile = max(int(tile), 4 * PRIOR_HALO)
    halo = PRIOR_HALO if max(h, w) > tile else 0
    out = np.zeros_like(unit)
    total = np.zeros_like(unit)
    ys, xs = _starts(h, tile, halo), _starts(w, tile, halo)
    with torch.inference_mode():
        for y in ys:
            for x in xs:
                block = unit[y : y + tile, x : x + tile]
                block_t = torch.from_numpy(np.ascontiguousarray(block))
                count = 8 if ensemble else 1
                result = self_ensemble(prior, block_t, level, count).numpy()
                weight = np.outer(
                    _ramp(block.shape[0], halo, y == ys[0], y == ys[-1]),
                    _ramp(block.shape[1], halo, x == xs[0], x == xs[-1]),
                )
                out[y : y + tile, x : x + tile] += weight * result
                total[y : y + tile, x : x + tile] += weight
    return (out / total * scale + low).astype(np.float32)


register(
    DenoiserSpec(
        name="prior",
        func=denoise_prior,
        params=(
            Param(
                "tile",
                512,
                "Tile size (pixels) for large planes",
                kind="int",
                min=128,
                max=4096,
                step=64,
            ),
            Param(
                "ensemble",
                False,
                "Average over 8 rotations/flips (slightly better, 8x slower)",
                kind="bool",
            ),
            Param(
                "device",
                "auto",
                "Where the network runs (auto: CUDA, then MPS, then CPU)",
                kind="choice",
                choices=("auto", "cpu", "cuda", "mps"),
            ),
        ),
        summary=(
            "Bundled diffusion prior: bias-free UNet with EDM preconditioning trained on "
            "offline images (scikit-image, pydicom, stardist, matplotlib); Tweedie estimate"
        ),
        fast=True,
        radius=lambda sigma, **params: PRIOR_HALO,
        requires=prior_available,
        resolve=_resolve_range,
    )
)
