"""Filter2Noise (Sun et al. 2025) dock widget, editing part: live re-rendering of the sigma maps.

:class:`SigmaMapEditing` is mixed into
:class:`~napari_tweedie._widgets.filter2noise.Filter2NoiseWidget`: three
sliders multiply the fitted ``sigma_x``, ``sigma_y`` and ``sigma_r``
everywhere, a paintable Labels layer gives regions their own multipliers, and
every edit re-renders the fitted region (debounced, no retraining).  It also
holds the helpers that name, create and update the widget's result layers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..data import ROI
from ..denoisers.filter2noise import Filter2Noise
from .live import same_placement
from .removal import remove_layers
from .results import put_image
from .scope import overlay
from .shapes import put_shaped

#: Multipliers (sigma_x, sigma_y, sigma_r) of labels 1 and 2 until the user changes them.
DEFAULT_REGIONS = {1: (0.5, 0.5, 0.5), 2: (2.0, 2.0, 2.0)}
CHANNELS = ("sigma_x", "sigma_y", "sigma_r")
#: what the user reads for each channel
PLAIN_CHANNELS = ("X width", "Y width", "intensity")
#: the sigma-map choice that shows none
NO_MAP = "(none)"

__all__ = ["CHANNELS", "DEFAULT_REGIONS", "NO_MAP", "PLAIN_CHANNELS", "Fitted", "SigmaMapEditing"]


@dataclass
class Fitted:
    """What the editing part works on: the model, its region and that region's sigma maps."""

    model: Filter2Noise
    layer: str
    roi: ROI
    plane: np.ndarray
    maps: list[np.ndarray]


class SigmaMapEditing:
    """Editing of a fitted Filter2Noise: global and per-region multipliers, re-rendered live.

    The host widget provides ``viewer``, ``fitted``, ``regions``, the
    ``sigma_*`` sliders, the ``region*`` boxes, ``layer`` and
    ``_render_timer``.
    """

    def schedule_render(self, event=None) -> None:
        """Re-render after a short pause (debounces slider drags and paint strokes)."""
        if self.fitted is not None:
            self._render_timer.start()

    def multipliers(self) -> dict[str, float]:
        return {
            "sigma_x": float(self.sigma_x.value),
            "sigma_y": float(self.sigma_y.value),
            "sigma_r": float(self.sigma_r.value),
        }

    def region_labels(self) -> np.ndarray | None:
        """The painted labels over the fitted region (2-D), or None."""
        name = self._name("f2n regions")
        if self.fitted is None or name not in self.viewer.layers:
            return None
        data = np.asarray(self.viewer.layers[name].data)
        return data.reshape(self.fitted.plane.shape[:2]) if data.any() else None

    def rerender(self) -> np.ndarray | None:
        """Filter the fitted region with the edited maps and show it (no retraining)."""
        if self.fitted is None:
            return None
        start = time.perf_counter()
        fit = self.fitted
        result = fit.model.render(
            fit.plane,
            fit.maps,
            labels=self.region_labels(),
            regions=self.regions,
            **self.multipliers(),
        )
        if fit.layer in self.viewer.layers:
            layer = self.viewer.layers[fit.layer]
            put_shaped(self.viewer, layer, fit.roi, result, self._name("", layer.name))
        self.last_render_s = time.perf_counter() - start
        return result

    def _region_selected(self, label: int) -> None:
        name = self._name("f2n regions")
        if name in self.viewer.layers and self.viewer.layers[name].selected_label != label:
            self.viewer.layers[name].selected_label = label
        self._load_region_values()

    def _load_region_values(self) -> None:
        values = self.regions.get(int(self.region.value), (1.0, 1.0, 1.0))
        for box, value in zip((self.region_x, self.region_y, self.region_r), values):
            with box.changed.blocked():
                box.value = value

    def _region_edited(self, event=None) -> None:
        self.regions[int(self.region.value)] = (
            float(self.region_x.value),
            float(self.region_y.value),
            float(self.region_r.value),
        )
        self.schedule_render()

    def _labels_layer(self, layer, roi: ROI):
        """The paintable regions layer over ``roi``: a former one is cleared and moved there."""
        name = self._name("f2n regions", layer.name)
        blank = np.zeros(roi.shape, np.int32)
        if name in self.viewer.layers:
            labels = self.viewer.layers[name]
            if labels.data.shape != blank.shape or labels.data.any():  # each set re-slices it
                labels.data = blank
            for key, value in overlay(layer, roi).items():
                if not same_placement(getattr(labels, key), value):
                    setattr(labels, key, value)
        else:
            labels = self.viewer.add_labels(blank, name=name, **overlay(layer, roi), opacity=0.4)
        labels.selected_label = int(self.region.value)
        labels.events.paint.connect(self.schedule_render)  # a connected callback is not doubled
        labels.events.data.connect(self.schedule_render)
        labels.events.selected_label.connect(self._follow_selected_label)
        return labels

    def _follow_selected_label(self, event=None) -> None:
        name = self._name("f2n regions")
        if name in self.viewer.layers:
            label = int(self.viewer.layers[name].selected_label)
            if label >= 1 and label != self.region.value:
                self.region.value = label

    # -- sigma maps ---------------------------------------------------------------------
    def map_choices(self, widget=None) -> list[str]:
        """The sigma maps of the fit: ``"<channel> stage <k>"``, after :data:`NO_MAP`."""
        stages = len(self.fitted.maps) if self.fitted is not None else 0
        return [NO_MAP] + [f"{c} stage {k}" for k in range(1, stages + 1) for c in CHANNELS]

    def show_map(self, event=None) -> None:
        """Show the chosen sigma map over the fitted region, with its name and colour scale.

        One layer shows the chosen map (renamed ``"... [filter2noise, f2n
        <map>]"``; made when the user first chooses one, then updated in
        place); :data:`NO_MAP` removes it.
        """
        shown = self._map_layer
        shown = shown if shown is not None and shown in self.viewer.layers else None
        choice = self.sigma_map.value
        if self.fitted is None or choice in (None, NO_MAP):
            if shown is not None:
                shown.opacity = 0.0
                remove_layers(self.viewer, [shown])
            self._map_layer = None
            return
        channel, _, stage = choice.split()
        values = self.fitted.maps[int(stage) - 1][CHANNELS.index(channel)]
        name = self._name(f"f2n {choice}", self.fitted.layer)
        if shown is not None:
            shown.name = name  # one map layer: it takes the new map's name and data
        layer = self.viewer.layers[self.fitted.layer]
        shown = self._put_layer(layer, self.fitted.roi, values, f"f2n {choice}",
                                colormap="viridis", contrast_limits=_limits(values))  # fmt: skip
        shown.contrast_limits = _limits(values)
        shown.colorbar.visible = shown.name_overlay.visible = True
        self._map_layer = shown

    # -- result layers ------------------------------------------------------------------
    def _name(self, what: str, layer: str | None = None) -> str:
        base = layer or (self.fitted.layer if self.fitted else self.layer.value)
        return f"{base} [filter2noise{', ' + what if what else ''}]"

    def _put_layer(self, layer, roi: ROI, values: np.ndarray, what: str, **kwargs):
        """Create or update the layer ``"<layer> [filter2noise, what]"`` over ``roi``."""
        data = np.asarray(values, np.float32)
        return put_image(self.viewer, layer, roi, data, self._name(what, layer.name), **kwargs)


def _limits(values: np.ndarray) -> tuple[float, float]:
    low, high = float(np.min(values)), float(np.max(values))
    return (low, high) if high > low else (low, low + 1e-6 + abs(low) * 1e-3)
