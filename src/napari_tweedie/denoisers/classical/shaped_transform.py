"""Colour and volume paths of the transform-domain denoisers, and BM4D.

* wavelet: colour images go through the orthonormal opponent transform
  (:mod:`napari_tweedie.data.colour`), each decorrelated channel shrunk with
  its own noise level; volumes get an n-D wavelet transform, cycle-spun over
  Z, Y and X (the transform is in voxels: ``spacing`` is not used);
* bm3d: CBM3D (Dabov et al. 2007) for three channels, through the ``bm3d``
  package's colour path (opponent transform, grouping on luminance shared by
  the chrominance channels); other channel counts per channel;
* bm4d: BM4D (Maggioni et al. 2013) on (Z, Y, X) volumes with the ``bm4d``
  package (optional extra, non-commercial licence).  A plane is run as a
  1-slice volume mirrored to the package's minimal depth, which makes it a
  2-D block-matching filter: prefer bm3d for planes.  The package's blocks
  are cubes of voxels: ``spacing`` is not used.
"""

from __future__ import annotations

import threading

import numpy as np

from ...data.colour import from_opponent, opponent_matrix, to_opponent
from .filters import copy32
from .layout import Layout, layout
from .transform_domain import (
    BM3D_LOCK,
    BM3D_MIN_SIDE,
    _profile,
    bm3d_missing,
    denoise_bm3d,
    denoise_wavelet,
)

__all__ = ["BM4D_HINT", "bm3d", "bm4d", "bm4d_missing", "wavelet"]

BM4D_HINT = (
    "BM4D needs the optional 'bm4d' package (non-commercial licence): "
    "pip install 'napari-tweedie[bm4d]'"
)
#: Volumes are mirrored out to at least this many voxels per axis (blocks of 4-5 voxels).
BM4D_MIN_SIDE = 8
#: The ``bm4d`` library's native code is not re-entrant either (see ``BM3D_LOCK``).
BM4D_LOCK = threading.Lock()


def _opponent_sigma(sigma: np.ndarray) -> np.ndarray:
    """Noise std of each opponent channel for independent per-channel noise ``sigma``."""
    matrix = opponent_matrix(sigma.shape[0]).astype(np.float64)
    return np.sqrt((matrix**2) @ (sigma**2))


def _cycle_spin_nd(volume: np.ndarray, func, max_shift: int) -> np.ndarray:
    """Average of ``func`` over all circular shifts ``0..max_shift`` along every axis."""
    total = np.zeros(volume.shape, np.float64)
    grids = np.indices((max_shift + 1,) * volume.ndim).reshape(volume.ndim, -1).T
    axes = tuple(range(volume.ndim))
    for shift in grids:
        shifted = np.roll(volume, tuple(shift), axis=axes)
        total += np.roll(func(shifted), tuple(-shift), axis=axes)
    return total / len(grids)


def _wavelet_channel(channel, sigma: float, lay: Layout, wavelet: str, mode: str, shifts: int):
    if not lay.volume:
        return denoise_wavelet(channel, sigma=sigma, wavelet=wavelet, mode=mode, shifts=shifts)
    if sigma <= 0:
        return copy32(channel)
    from .transform_domain import _wavelet_once

    def shrink(x: np.ndarray) -> np.ndarray:
        return _wavelet_once(x, sigma, wavelet, mode)

    return _cycle_spin_nd(np.asarray(channel, np.float32), shrink, max(int(shifts), 0))


def wavelet(
    image: np.ndarray,
    *,
    sigma,
    seed: int = 0,
    wavelet: str = "sym4",
    mode: str = "soft",
    shifts: int = 2,
    spacing: tuple[float, ...] | None = None,
) -> np.ndarray:
    """Wavelet shrinkage, BayesShrink (Chang, Yu & Vetterli 2000), opponent colour and n-D.

    Colour: shrink each channel of :func:`~napari_tweedie.data.colour.to_opponent`
    with its own noise level, then transform back.  Volumes: a 3-D transform,
    cycle-spun over ``(shifts + 1)^3`` shifts.
    """
    lay = layout(np.asarray(image), sigma, spacing)
    if lay.plane:
        return denoise_wavelet(image, sigma=float(sigma), wavelet=wavelet, mode=mode, shifts=shifts)
    if not lay.colour:
        return _wavelet_channel(image, float(sigma), lay, wavelet, mode, shifts).astype(np.float32)
    decorrelated = to_opponent(np.asarray(image, np.float32))
    noise = _opponent_sigma(lay.sigma)
    out = np.stack(
        [
            _wavelet_channel(decorrelated[..., c], float(noise[c]), lay, wavelet, mode, shifts)
            for c in range(noise.shape[0])
        ],
        axis=-1,
    )
    return from_opponent(out).astype(np.float32)


def bm3d(
    image: np.ndarray,
    *,
    sigma,
    seed: int = 0,
    stage: str = "all",
    profile: str = "np",
) -> np.ndarray:
    """BM3D (Dabov et al. 2007); CBM3D for three channels (the bm3d package's colour path).

    CBM3D: the package's opponent transform (``bm3d.rgb_to``, normalised to
    [0, 1] per channel), block matching on the luminance shared by the two
    chrominance channels, and the inverse transform.  Other channel counts
    are denoised channel by channel.
    """
    lay = layout(np.asarray(image), sigma)
    if lay.plane:
        return denoise_bm3d(image, sigma=float(sigma), stage=stage, profile=profile)
    if lay.volume:
        raise ValueError("bm3d filters (H, W) or (H, W, C) planes; bm4d filters volumes")
    data = np.asarray(image, np.float32)
    if data.shape[-1] != 3 or not np.all(lay.sigma > 0):
        planes = [
            denoise_bm3d(data[..., c], sigma=float(s), stage=stage, profile=profile)
            for c, s in enumerate(lay.sigma)
        ]
        return np.stack(planes, axis=-1)
    return _cbm3d(data, lay.sigma, stage, profile)


def _cbm3d(data: np.ndarray, sigma: np.ndarray, stage: str, profile: str) -> np.ndarray:
    message = bm3d_missing()
    if message:
        raise ImportError(message)
    import bm3d as package

    stages = {"all": package.BM3DStages.ALL_STAGES, "hard": package.BM3DStages.HARD_THRESHOLDING}
    if stage not in stages:
        raise ValueError(f"stage must be one of {sorted(stages)}, got {stage!r}")
    h, w = data.shape[:2]
    pad = ((0, max(0, BM3D_MIN_SIDE - h)), (0, max(0, BM3D_MIN_SIDE - w)), (0, 0))
    padded = np.pad(data.astype(np.float64), pad, mode="symmetric")
    opp, o_max, o_min, _, forward = package.rgb_to(padded, "opp")
    spread = o_max - o_min
    if not np.all(spread > 0):  # a flat opponent channel: per channel instead
        planes = [
            denoise_bm3d(data[..., c], sigma=float(s), stage=stage, profile=profile)
            for c, s in enumerate(sigma)
        ]
        return np.stack(planes, axis=-1)
    noise = np.sqrt((sigma**2) @ (forward.T**2)) / spread
    settings = _profile(package, profile)
    with BM3D_LOCK:
        result = package.bm3d(opp, noise, profile=settings, stage_arg=stages[stage])
    rgb = package.rgb_to(np.asarray(result), "opp", True, o_max, o_min)[0]
    return np.asarray(rgb, np.float32)[:h, :w]


def bm4d_missing() -> str | None:
    """``None`` when the optional ``bm4d`` package imports, else how to install it."""
    try:
        import bm4d  # noqa: F401
    except ImportError:
        return BM4D_HINT
    return None


def bm4d(
    image: np.ndarray,
    *,
    sigma,
    seed: int = 0,
    stage: str = "all",
    profile: str = "np",
    spacing: tuple[float, ...] | None = None,
) -> np.ndarray:
    """BM4D: block matching and 4-D collaborative filtering of volumes (Maggioni et al. 2013).

    The reference ``bm4d`` package (optional extra, non-commercial licence).
    A (Z, Y, X) volume is filtered in 3-D cubes of voxels; a plane as a
    1-slice volume (see the module docstring).  Calls are serialised and run
    single-threaded, as for bm3d.
    """
    message = bm4d_missing()
    if message:
        raise ImportError(message)
    import bm4d as package

    lay = layout(np.asarray(image), sigma, spacing)
    if lay.colour:
        raise ValueError("bm4d filters one channel at a time (channels='per_channel')")
    data = np.asarray(image, np.float32)
    volume = data if lay.volume else data[None]
    if float(sigma) <= 0:
        return copy32(data)
    stages = {"all": package.BM4DStages.ALL_STAGES, "hard": package.BM4DStages.HARD_THRESHOLDING}
    profiles = {"np": package.BM4DProfile, "refilter": package.BM4DProfileRefilter}
    if stage not in stages:
        raise ValueError(f"stage must be one of {sorted(stages)}, got {stage!r}")
    if profile not in profiles:
        raise ValueError(f"profile must be one of {sorted(profiles)}, got {profile!r}")
    settings = profiles[profile]()
    settings.num_threads = 1
    pad = [(0, max(0, BM4D_MIN_SIDE - n)) for n in volume.shape]
    padded = np.pad(volume, pad, mode="symmetric")
    with BM4D_LOCK:
        result = package.bm4d(padded, float(sigma), profile=settings, stage_arg=stages[stage])
    crop = tuple(slice(0, n) for n in volume.shape)
    out = np.asarray(result, np.float32).reshape(padded.shape)[crop]
    return out if lay.volume else out[0]
