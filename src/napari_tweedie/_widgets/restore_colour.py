"""RGB measurements in the Restore widget (issue 16): the region keeps its colour axis.

An RGB layer is restored region by region (Shapes rectangle, current view,
current slice) with ``channel_axis=-1``: the prior runs per channel in the
opponent colour space (:mod:`napari_tweedie.restoration_colour`), so the live
layers show the channel being restored (luminance first, then the two
chrominances) and the mean is an RGB layer clipped to the source's contrast
range; the std is the mean of the channels' std.  Operators whose measurement
is not an image on the layer's grid (CT sinograms, complex k-space) and the
whole-layer scope take grey layers only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..data import ROI
from ..operators import OPERATORS
from .scope import full_resolution
from .shapes import colour_region

__all__ = ["check_whole", "restore_region", "per_channel", "rgb_mean", "spatial_shape"]


def check_whole(layer) -> None:
    """Refuse the whole-layer scope for an RGB layer, saying what works instead."""
    if layer.rgb:
        raise ValueError(
            f"{layer.name!r} is an RGB layer: restore a region of it (Shapes rectangle, "
            "current view or current slice); whole-layer Restore takes grey planes"
        )


def restore_region(widget) -> tuple[object, ROI, ROI]:
    """:func:`~.shapes.colour_region` of the widget's scope, for operators that take RGB."""
    layer = widget.source_layer()
    spec = OPERATORS[widget.operator.value]
    if layer.rgb and (not spec.image_grid or spec.complex_measurement):
        raise ValueError(
            f"{spec.name} measurements are grey (not an RGB image on the layer's grid); "
            "split the RGB layer's channels first (layer list: right-click > Split RGB)"
        )
    return colour_region(widget)


def spatial_shape(layer) -> tuple[int, ...]:
    """The shape of the layer's pixels without an RGB colour axis."""
    shape = tuple(full_resolution(layer).shape)
    return shape[:-1] if layer.rgb else shape


def per_channel(func: Callable[[np.ndarray, int], np.ndarray], image: np.ndarray, seed: int):
    """``func(plane, seed)`` of a (H, W) image, or of each channel of a (H, W, C) one."""
    if image.ndim == 2:
        return func(image, seed)
    return np.stack([func(image[..., c], seed + c) for c in range(image.shape[-1])], axis=-1)


def rgb_mean(mean: np.ndarray, place: dict, layer) -> tuple[np.ndarray, dict]:
    """An RGB mean (h, w, C) on its plane, clipped to the source's range, and its look."""
    low, high = (float(v) for v in layer.contrast_limits)
    ndim = len(place.get("scale", ())) or 2
    data = np.clip(np.asarray(mean, np.float32), low, high)
    return data.reshape((1,) * (ndim - 2) + data.shape), {
        "rgb": True,
        "contrast_limits": (low, high),
    }
