"""Regions of interest: slices in array coordinates, built from what a napari user points at.

A :class:`ROI` is plain data (no napari import): the widget layer converts a
Shapes rectangle, the current view or the current slice into one with the
constructors below, and :meth:`ROI.read` reads only the chunks it touches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ROI:
    """A box in array coordinates: one slice per axis, with unit steps.

    Attributes
    ----------
    slices : tuple of slice
        Start/stop per axis, clipped to the array (no negative or None bounds).
    """

    slices: tuple[slice, ...]

    @classmethod
    def whole(cls, shape: Sequence[int]) -> ROI:
        """The whole array."""
        return cls(tuple(slice(0, int(s)) for s in shape))

    @classmethod
    def current_slice(cls, shape: Sequence[int], index: Sequence[int]) -> ROI:
        """The whole Y, X plane at ``index`` of the leading axes (a napari ``current_step``)."""
        leading = tuple(slice(int(i), int(i) + 1) for i in index[: len(shape) - 2])
        return cls(leading + tuple(slice(0, int(s)) for s in shape[-2:])).clip(shape)

    @classmethod
    def from_corners(
        cls, shape: Sequence[int], corners: np.ndarray, index: Sequence[int] = ()
    ) -> ROI:
        """Bounding box of points in array coordinates on the plane at ``index``.

        Parameters
        ----------
        shape : sequence of int
            Shape of the array.
        corners : (N, 2) or (N, ndim) array
            Points (e.g. rectangle vertices or the view's corner pixels); only
            their last two coordinates (Y, X) are used.
        index : sequence of int
            Position on the leading axes (napari ``dims.current_step``); axes
            not given default to 0.
        """
        points = np.asarray(corners, dtype=float)[:, -2:]
        # pixels whose centre (integer coordinate, as in napari) lies in [low, high);
        # the tolerance absorbs round-off of world-to-data transforms
        low = np.ceil(points.min(axis=0) - 1e-6).astype(int)
        high = np.maximum(np.ceil(points.max(axis=0) - 1e-6).astype(int), low + 1)
        leading = [int(i) for i in index[: len(shape) - 2]]
        leading += [0] * (len(shape) - 2 - len(leading))
        spatial = tuple(slice(int(lo), int(hi)) for lo, hi in zip(low, high))
        roi = cls(tuple(slice(i, i + 1) for i in leading) + spatial).clip(shape)
        if roi.is_empty:
            raise ValueError("the region of interest lies outside the image")
        return roi

    def clip(self, shape: Sequence[int]) -> ROI:
        """Clip to ``shape``."""
        return ROI(
            tuple(
                slice(min(max(0, s.start), n), min(max(0, s.stop), n))
                for s, n in zip(self.slices, shape)
            )
        )

    def with_leading(self, full: Sequence[int]) -> ROI:
        """Extend the Y, X box over whole leading axes of ``full`` shape (e.g. all z-planes)."""
        lead = tuple(slice(0, int(n)) for n in full[: len(full) - 2])
        return ROI(lead + self.slices[-2:])

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(s.stop - s.start for s in self.slices)

    @property
    def offset(self) -> tuple[int, ...]:
        """Start of the box per axis: the ``translate`` (in pixels) of a result layer."""
        return tuple(s.start for s in self.slices)

    @property
    def is_empty(self) -> bool:
        return any(n <= 0 for n in self.shape)

    def read(self, array) -> np.ndarray:
        """Read the box of a numpy or dask array (only the chunks it touches)."""
        block = array[self.slices]
        return np.asarray(block.compute() if hasattr(block, "compute") else block)
