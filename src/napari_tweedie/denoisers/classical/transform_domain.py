"""Transform-domain denoisers: wavelet shrinkage (BayesShrink, cycle spinning) and BM3D.

Same conventions as :mod:`.filters`: one float32 (H, W) plane ``image`` in
the image's units, the Gaussian noise standard deviation ``sigma`` in those
units, and a ``seed`` that is ignored (the methods are deterministic).
"""

from __future__ import annotations

import threading

import numpy as np

from .filters import copy32

__all__ = ["BM3D_HINT", "bm3d_missing", "denoise_bm3d", "denoise_wavelet"]

#: Tile halo (pixels) of the transform-domain methods.
WAVELET_HALO = 32
BM3D_HALO = 32

BM3D_HINT = (
    "BM3D needs the optional 'bm3d' package (non-commercial licence): "
    "pip install 'napari-tweedie[bm3d]'"
)


BM3D_MIN_SIDE = 16

#: The ``bm3d`` library's native thread pool is not re-entrant: two calls at once
#: (threaded tiles, a dask stack, user threads) abort the process or hang in it.
#: Every call in this process goes through this lock.
BM3D_LOCK = threading.Lock()


def _wavelet_once(image: np.ndarray, sigma: float, wavelet: str, mode: str) -> np.ndarray:
    from skimage import restoration

    return restoration.denoise_wavelet(
        image, sigma=sigma, wavelet=wavelet, mode=mode, method="BayesShrink", rescale_sigma=True
    )


def _cycle_spin(image: np.ndarray, func, max_shift: int) -> np.ndarray:
    """Average of ``func`` over all circular shifts ``0..max_shift`` along Y and X."""
    total = np.zeros(image.shape, np.float64)
    shifts = range(max_shift + 1)
    for dy in shifts:
        for dx in shifts:
            shifted = np.roll(image, (dy, dx), axis=(0, 1))
            total += np.roll(func(shifted), (-dy, -dx), axis=(0, 1))
    return total / (max_shift + 1) ** 2


def denoise_wavelet(
    image: np.ndarray,
    *,
    sigma: float,
    seed: int = 0,
    wavelet: str = "sym4",
    mode: str = "soft",
    shifts: int = 2,
) -> np.ndarray:
    """Wavelet shrinkage with BayesShrink thresholds (Chang, Yu & Vetterli 2000), cycle-spun.

    Parameters
    ----------
    image, sigma, seed
        Noisy plane, noise level, unused seed (see the module docstring).
    wavelet : str
        PyWavelets name; ``"sym4"`` was best of db1/db2/db4/sym4/sym8/coif1 on
        the tuning set.
    mode : {"soft", "hard"}
        Thresholding rule.
    shifts : int
        Cycle spinning (Coifman & Donoho 1995): average over all circular
        shifts up to this many pixels in Y and X, ``(shifts + 1)^2`` transforms.
        Default 2 (+0.65 dB over no spinning on the tuning set); 0 turns it off.

    Returns
    -------
    ndarray, float32
    """
    plane = np.asarray(image, np.float32)
    if sigma <= 0:
        return copy32(plane)

    def shrink(x: np.ndarray) -> np.ndarray:
        return _wavelet_once(x, float(sigma), wavelet, mode)

    if int(shifts) <= 0:
        return np.asarray(shrink(plane), dtype=np.float32)
    return _cycle_spin(plane, shrink, int(shifts)).astype(np.float32)


def bm3d_missing() -> str | None:
    """``None`` when the optional ``bm3d`` package imports, else how to install it."""
    try:
        import bm3d  # noqa: F401
    except ImportError:
        return BM3D_HINT
    return None


def denoise_bm3d(
    image: np.ndarray,
    *,
    sigma: float,
    seed: int = 0,
    stage: str = "all",
    profile: str = "np",
) -> np.ndarray:
    """BM3D: block-matching and 3-D collaborative filtering (Dabov et al. 2007).

    Uses the reference ``bm3d`` package (Makinen, Azzari & Foi), an optional
    extra under a non-commercial licence: ``pip install 'napari-tweedie[bm3d]'``.

    Parameters
    ----------
    image, sigma, seed
        The noisy (H, W) plane, the noise standard deviation in its units
        (``sigma_psd`` of white noise), and an unused seed.
    stage : {"all", "hard"}
        ``"all"``: hard thresholding then Wiener filtering (the full method);
        ``"hard"``: the first stage only, about 2.5x faster.
    profile : {"np", "refilter", "vn", "high", "deb"}
        The package's parameter profile (``"np"``: normal).

    Notes
    -----
    Calls are serialised by a process-wide lock (:data:`BM3D_LOCK`: the
    library's thread pool is not re-entrant) and run the library single-threaded
    (``num_threads = 1``), the one setting in which its aggregation order, and
    so its result, is the same bits on every run; tiles of a large image still
    run one after the other.

    Returns
    -------
    ndarray, float32
    """
    message = bm3d_missing()
    if message:
        raise ImportError(message)
    import bm3d

    plane = np.asarray(image, np.float32)
    if sigma <= 0:
        return copy32(plane)
    stages = {"all": bm3d.BM3DStages.ALL_STAGES, "hard": bm3d.BM3DStages.HARD_THRESHOLDING}
    if stage not in stages:
        raise ValueError(f"stage must be one of {sorted(stages)}, got {stage!r}")
    h, w = plane.shape[-2:]
    # BM3D needs a few 8x8 blocks: a smaller plane is mirrored out, then cropped back
    pad_y, pad_x = max(0, BM3D_MIN_SIDE - h), max(0, BM3D_MIN_SIDE - w)
    padded = np.pad(plane, ((0, pad_y), (0, pad_x)), mode="symmetric")
    settings = _profile(bm3d, profile)
    with BM3D_LOCK:
        result = bm3d.bm3d(padded, float(sigma), profile=settings, stage_arg=stages[stage])
    return np.asarray(result, dtype=np.float32).reshape(padded.shape)[:h, :w]


def _profile(bm3d, name: str):
    """The library's profile ``name``, single-threaded (deterministic aggregation)."""
    profiles = {
        "np": bm3d.BM3DProfile,
        "refilter": bm3d.BM3DProfileRefilter,
        "vn": bm3d.BM3DProfileVN,
        "high": bm3d.BM3DProfileHigh,
        "vn_old": bm3d.BM3DProfileVNOld,
        "deb": bm3d.BM3DProfileDeb,
    }
    if name not in profiles:
        raise ValueError(f"profile must be one of {sorted(profiles)}, got {name!r}")
    settings = profiles[name]()
    settings.num_threads = 1
    return settings
