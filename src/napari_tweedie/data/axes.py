"""Axis layout of an image (channels, volumes): checked once, moved channel-last and back.

:class:`Layout` says which axis holds channels (as scikit-image's
``channel_axis``), whether the last spatial axes are Z, Y, X
(``volumetric``) and the voxel size (``spacing``).  Internally every shaped
image is channel-last, ``(..., [Z,] Y, X, C)``, with ``C = 1`` when there
is no channel axis (:meth:`Layout.inner`); :meth:`Layout.outer` puts the
axes back where they were.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Layout", "check_spacing", "make_layout"]


@dataclass(frozen=True)
class Layout:
    """Where the channels are, whether the image is a volume, and its voxel size.

    Attributes
    ----------
    channel_axis : int or None
        The input's channel axis (non-negative), or None.
    volumetric : bool
        The last three spatial axes are Z, Y, X and methods see whole volumes.
    spacing : tuple of 3 floats
        Voxel size (dz, dy, dx); (1, 1, 1) by default.
    """

    channel_axis: int | None = None
    volumetric: bool = False
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def shaped(self) -> bool:
        """A channel axis or a volume: anything but the default plane-by-plane layout."""
        return self.channel_axis is not None or self.volumetric

    @property
    def spatial(self) -> int:
        """How many trailing spatial axes a method sees at once (3 for volumes, else 2)."""
        return 3 if self.volumetric else 2

    def inner(self, array):
        """``array`` channel-last (numpy or dask), with a channel axis of 1 if it has none."""
        if self.channel_axis is None:
            return array[..., None]
        xp = _namespace(array)
        return xp.moveaxis(array, self.channel_axis, -1)

    def outer(self, array):
        """The inverse of :meth:`inner`."""
        if self.channel_axis is None:
            return array[..., 0]
        xp = _namespace(array)
        return xp.moveaxis(array, -1, self.channel_axis)

    def z_overlap(self, overlap: int) -> int:
        """Planes of Z context for an in-plane reach of ``overlap`` pixels: ceil(overlap*dy/dz)."""
        dz, dy, _ = self.spacing
        return int(math.ceil(overlap * dy / dz - 1e-9))


def _namespace(array):
    if hasattr(array, "dask"):
        import dask.array as da

        return da
    return np


def check_spacing(spacing, volumetric: bool) -> tuple[float, float, float]:
    """``spacing`` as (dz, dy, dx): positive and finite; 3 values, or 2 (dy, dx) for planes."""
    if spacing is None:
        return (1.0, 1.0, 1.0)
    if isinstance(spacing, str) or not isinstance(spacing, Sequence | np.ndarray):
        raise ValueError(f"spacing must be a sequence of numbers, got {spacing!r}")
    values = [float(v) for v in np.asarray(spacing, dtype=np.float64).ravel()]
    allowed = (3,) if volumetric else (2, 3)
    if len(values) not in allowed:
        what = "3 values (dz, dy, dx)" if volumetric else "2 values (dy, dx) or 3 (dz, dy, dx)"
        raise ValueError(f"spacing needs {what}, got {list(spacing)}")
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"spacing values must be finite and > 0, got {list(spacing)}")
    return tuple([1.0] * (3 - len(values)) + values)


def make_layout(ndim: int, channel_axis, volumetric: bool, spacing) -> Layout:
    """A checked :class:`Layout` for an image of ``ndim`` axes (ValueError on a bad choice)."""
    if channel_axis is not None:
        if isinstance(channel_axis, bool) or not isinstance(channel_axis, int | np.integer):
            raise ValueError(f"channel_axis must be an integer axis, got {channel_axis!r}")
        if not -ndim <= int(channel_axis) < ndim:
            raise ValueError(f"channel_axis={channel_axis} is out of range for {ndim} axes")
        channel_axis = int(channel_axis) % ndim
    if not isinstance(volumetric, bool | np.bool_):
        raise ValueError(f"volumetric must be True or False, got {volumetric!r}")
    spatial = ndim - (channel_axis is not None)
    needed = 3 if volumetric else 2
    if spatial < needed:
        what = "Z, Y, X" if volumetric else "Y, X"
        raise ValueError(f"the image has {spatial} non-channel axes; {what} need {needed}")
    return Layout(channel_axis, bool(volumetric), check_spacing(spacing, bool(volumetric)))
