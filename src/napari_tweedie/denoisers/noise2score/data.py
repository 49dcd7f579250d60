"""Noise2Score (Kim & Ye, NeurIPS 2021) training data: random patches from a noisy dataset.

A dataset is any of: one 2-D array, an (N, H, W) stack (or n-D: the last two
axes are Y, X), a list of 2-D arrays of different sizes, a dask array, or a
folder of ``.tif``/``.tiff``/``.png``/``.npy`` files.  Planes are kept as they
are (numpy views or lazy dask slices): a patch reads only the chunks it
touches, so a 50 GB volume is never loaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import dask.array as da
import numpy as np

__all__ = ["PatchSource", "as_planes"]

FOLDER_SUFFIXES = (".tif", ".tiff", ".png", ".npy")
SAMPLE_PLANES = 8
SAMPLE_SIDE = 256
MIN_SIDE = 8


def _plane_list(array) -> list:
    if array.ndim < 2:
        raise ValueError(f"expected images with at least 2 axes (Y, X), got shape {array.shape}")
    if array.dtype == bool or np.iscomplexobj(array[(0,) * array.ndim]):
        raise ValueError(f"cannot train on images of dtype {array.dtype}")
    flat = array.reshape((-1,) + tuple(array.shape[-2:]))
    return [flat[i] for i in range(flat.shape[0])]


def as_planes(images) -> list:
    """Noise2Score (Kim & Ye 2021) dataset planes: 2-D numpy or lazy dask arrays, any input form."""
    if isinstance(images, (str, os.PathLike)):
        folder = Path(images)
        if folder.is_dir():
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in FOLDER_SUFFIXES)
            if not files:
                raise ValueError(f"no {'/'.join(FOLDER_SUFFIXES)} images in folder {folder}")
            from ...data.io import open_array

            return [plane for path in files for plane in _plane_list(open_array(path))]
        from ...data.io import open_array

        return _plane_list(open_array(folder))
    if isinstance(images, (list, tuple)):
        if not images:
            raise ValueError("empty list of images")
        return [plane for image in images for plane in as_planes(image)]
    if isinstance(images, da.Array):
        return _plane_list(images)
    return _plane_list(np.asarray(images))


def _read(plane, top: int, left: int, size: int) -> np.ndarray:
    window = plane[top : top + size, left : left + size]
    if isinstance(window, da.Array):
        window = window.compute()
    return np.asarray(window, dtype=np.float32)


@dataclass
class PatchSource:
    """Noise2Score (Kim & Ye 2021) training patches: random squares, area-weighted over planes.

    Attributes
    ----------
    planes : list
        2-D numpy or dask arrays.
    patch : int
        Patch side; reduced to the smallest plane side (rounded down to a
        multiple of 4, the network's stride) if needed.
    """

    planes: list
    patch: int

    def __post_init__(self) -> None:
        if not self.planes:
            raise ValueError("no images to train on")
        smallest = min(min(p.shape) for p in self.planes)
        if smallest < MIN_SIDE:
            raise ValueError(f"images must be at least {MIN_SIDE}x{MIN_SIDE} pixels")
        self.patch = int(min(self.patch, smallest)) // 4 * 4
        areas = np.array([p.shape[0] * p.shape[1] for p in self.planes], dtype=np.float64)
        self.weights = areas / areas.sum()
        self.fill = 0.0

    @classmethod
    def from_images(cls, images, patch: int) -> PatchSource:
        """Build from anything :func:`as_planes` accepts."""
        return cls(as_planes(images), int(patch))

    def sample(self, batch: int, rng: np.random.Generator) -> np.ndarray:
        """A (batch, 1, patch, patch) float32 array of random patches (NaNs replaced by the median).

        Patches with non-finite pixels are redrawn a few times before their
        non-finite pixels are filled.
        """
        out = np.empty((batch, 1, self.patch, self.patch), np.float32)
        for b in range(batch):
            for _attempt in range(8):
                window = self._random_window(rng)
                if np.isfinite(window).all():
                    break
            out[b, 0] = _fill(window, self.fill)
        return out

    def _random_window(self, rng: np.random.Generator) -> np.ndarray:
        plane = self.planes[int(rng.choice(len(self.planes), p=self.weights))]
        h, w = plane.shape
        top = int(rng.integers(0, h - self.patch + 1))
        left = int(rng.integers(0, w - self.patch + 1))
        return _read(plane, top, left, self.patch)

    def statistics_sample(self) -> np.ndarray:
        """A small (M, s, s) stack of central crops of up to 8 planes, for noise estimation."""
        picks = np.unique(np.linspace(0, len(self.planes) - 1, SAMPLE_PLANES).astype(int))
        side = min(SAMPLE_SIDE, min(min(self.planes[i].shape) for i in picks))
        crops = []
        for i in picks:
            h, w = self.planes[i].shape
            crops.append(_read(self.planes[i], (h - side) // 2, (w - side) // 2, side))
        stack = np.stack(crops)
        if not np.isfinite(stack).any():
            raise ValueError("the images have no finite values")
        self.fill = float(np.nanmedian(stack))
        return stack

    def preview(self, size: int = 128) -> np.ndarray:
        """The fixed central crop (at most ``size`` pixels) of the first plane."""
        plane = self.planes[0]
        h, w = plane.shape
        side_y, side_x = min(size, h), min(size, w)
        window = plane[(h - side_y) // 2 : (h - side_y) // 2 + side_y]
        window = window[:, (w - side_x) // 2 : (w - side_x) // 2 + side_x]
        if isinstance(window, da.Array):
            window = window.compute()
        return _fill(np.asarray(window, np.float32), self.fill)


def _fill(window: np.ndarray, default: float) -> np.ndarray:
    """``window`` with non-finite pixels set to the median of the others (or ``default``)."""
    bad = ~np.isfinite(window)
    if not bad.any():
        return window
    filled = window.copy()
    filled[bad] = default if bad.all() else np.median(window[~bad])
    return filled
