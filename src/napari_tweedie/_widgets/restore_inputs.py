"""Restore widget helpers: controls from the specs, presets, the inpainting mask, placement."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
from magicgui.widgets import Widget

from ..data import ROI
from ..specs import Param
from .params import plain_label, widget_for
from .scope import result_translate

#: sampler, steps and samples follow the operator's defaults (set when it is chosen)
PRESETS = {
    "microscopy (denoise)": {"operator": "denoise"},
    "CT (60 views, simulated)": {
        "operator": "ct",
        # 10 steps and one sample, not the default 50 x the mean of 4: 18 s instead of 170 s
        # on a 2-core CPU, 22.9 dB against 23.0 (20 steps: 21.8, 40: 20.3; bench_presets.py)
        "steps": 10,
        "samples": 1,
        "angles": 60,
        "sigma_y": 0.5,
        "simulate": True,
    },
    "MRI (4x, simulated)": {"operator": "mri", "acceleration": 4.0, "simulate": True},
    # 12 PnP steps, not 50: the view doubled is ~1024 px (about a minute on a 2-core CPU)
    "astronomy (2x super-resolution)": {"operator": "superres", "factor": 2, "steps": 12},
}


class SpecControls:
    """One control per scalar parameter of each spec of a registry; only one spec's are shown.

    ``shared=True`` gives specs one control per parameter name (the operators'
    ``sigma_y`` keeps its value when the operator changes); otherwise each spec
    has its own controls, named ``<spec>_<param>`` (samplers' ``lam`` defaults
    differ).  ``start`` overrides the first value of some parameters.
    Array parameters (masks, PSFs) get no control.
    """

    def __init__(
        self,
        specs: Mapping[str, Any],
        *,
        shared: bool,
        start: Mapping | None = None,
        words: Mapping[str, str] | None = None,
    ):
        self.by_spec: dict[str, dict[str, tuple[Param, Widget]]] = {}
        made: dict[str, Widget] = {}
        for spec in specs.values():
            mine = {}
            for param in spec.params:
                if param.kind == "array":
                    continue
                key = param.name if shared else f"{spec.name}_{param.name}"
                if key not in made:
                    label = plain_label(param, dict(words or {}))
                    made[key] = _control(param, key, label, (start or {}).get(param.name))
                mine[param.name] = (param, made[key])
            self.by_spec[spec.name] = mine
        self.widgets: list[Widget] = list(made.values())

    def show(self, name: str) -> None:
        """Make the controls of spec ``name`` visible and hide the others."""
        chosen = {id(widget) for _, widget in self.by_spec[name].values()}
        for widget in self.widgets:
            widget.visible = id(widget) in chosen

    def values(self, name: str) -> dict[str, Any]:
        """Spec ``name``'s parameter values (``None``, "auto", left to the method)."""
        out = {}
        for key, (param, widget) in self.by_spec[name].items():
            value = widget.value
            if value is not None:
                out[key] = int(value) if param.kind == "int" else value
        return out


def _control(param: Param, name: str, label: str, start=None) -> Widget:
    if param.kind == "int" and param.default is None:
        param = replace(param, kind="float", step=param.step or 1)  # "auto" or a number
    widget = widget_for(param, name=name, label=label)
    if start is not None:
        widget.value = start
    return widget


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
