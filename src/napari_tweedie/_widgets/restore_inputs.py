"""Restore widget helpers: presets, the inpainting mask of a region, where results are drawn."""

from __future__ import annotations

import numpy as np

from ..data import ROI
from .scope import result_translate

PRESETS = {
    "microscopy (denoise)": {"operator": "denoise", "sampler": "dds", "steps": 30},
    "CT (60 views, simulated)": {
        "operator": "ct",
        "sampler": "dds",
        "steps": 50,
        "angles": 60,
        "simulate": True,
    },
    "MRI (4x, simulated)": {
        "operator": "mri",
        "sampler": "dds",
        "steps": 50,
        "acceleration": 4.0,
        "simulate": True,
    },
    "astronomy (2x super-resolution)": {
        "operator": "superres",
        "sampler": "dds",
        "steps": 40,
        "factor": 2,
    },
}


def observed_mask(labels, source_shape, roi: ROI, shape) -> np.ndarray:
    """1 where a pixel of the region is observed, from a Labels layer (painted = missing).

    The labels may cover the image (or each plane of a stack: a 2-D mask) or
    just the region ``shape``.
    """
    source = tuple(source_shape)
    if labels.shape == source:
        region = labels[roi.slices]
    elif labels.shape == source[-2:]:
        region = labels[roi.slices[-2:]]
    elif labels.shape[-2:] == tuple(shape):
        region = labels
    else:
        raise ValueError(
            f"the mask layer's shape {labels.shape} matches neither the image "
            f"{source} nor the region {tuple(shape)}"
        )
    return (np.asarray(region).reshape(shape) == 0).astype(np.float32)


def placement(layer, roi: ROI, shape) -> dict:
    """scale/translate (all the layer's axes) that overlay a (h, w) result on ``roi``.

    A finer grid (super-resolution: ``f`` result pixels per source pixel)
    keeps the source pixels' edges: its first pixel centre lies
    ``(f - 1) / 2f`` source pixels before the source's.
    """
    scale = np.asarray(layer.scale, dtype=float)
    ratio = np.ones(scale.size)
    ratio[-2:] = np.asarray(roi.shape[-2:]) / np.asarray(shape[-2:])
    translate = result_translate(layer, roi, shift=(ratio - 1) / 2)
    return {"scale": scale * ratio, "translate": translate}


def on_plane(data: np.ndarray, place: dict) -> np.ndarray:
    """``data`` (h, w) with the layer's leading axes (length 1) so that it sits on its plane."""
    ndim = len(place.get("scale", ())) or data.ndim
    return data.reshape((1,) * (ndim - data.ndim) + data.shape)
