"""Filter2Noise (Sun et al. 2025) dock widget: fit on a region, then edit its sigma maps live.

Filter2Noise (Sun et al. 2025) fits an attention-guided bilateral filter to
the region of interest (Shapes rectangle, current view or current slice),
streaming the current estimate and the loss.  When the fit is done the
widget shows the chosen per-stage sigma map with its colour scale, three sliders multiply
``sigma_x``, ``sigma_y`` and ``sigma_r`` everywhere, and a paintable Labels
layer gives regions their own multipliers (set per label below the
sliders); every edit re-renders the region (debounced, no retraining).  The
fitted filter can then be applied to a region or to the whole layer (tiled,
in the background, to zarr), and saved or loaded (``.safetensors`` weights
plus a ``.json`` of settings).  An RGB layer is fitted in colour (one
sigma map per pixel shared by the channels, shown as for grey layers) and its
results are RGB layers; colour models apply to regions, not whole layers.
"""

from __future__ import annotations

import functools

import napari
import numpy as np
from magicgui.widgets import ComboBox, FloatSlider, FloatSpinBox, SpinBox
from qtpy.QtCore import QTimer

from ..data import ROI
from ..denoisers.filter2noise import Filter2Noise, fit_filter2noise
from .base import reported
from .f2n_quality import Filter2NoiseQuality
from .f2n_render import CHANNELS, DEFAULT_REGIONS, PLAIN_CHANNELS, Fitted, SigmaMapEditing
from .jobs import Job
from .panel import FitWidget, ModelPanel
from .params import param_values
from .scope import full_resolution

RENDER_DELAY_MS = 60


class Filter2NoiseWidget(SigmaMapEditing, FitWidget):
    """Dock widget for Filter2Noise: fit with live preview, edit sigma maps, apply, save, load.

    Editing lives in :class:`~.f2n_render.SigmaMapEditing`; apply, save and
    load in its :attr:`panel` (:class:`~.panel.ModelPanel`).
    """

    method = "filter2noise"
    scope_tooltip = "region the filter is trained on (one 2-D plane)"

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(viewer)
        self.fitted: Fitted | None = None
        self.regions: dict[int, tuple[float, float, float]] = dict(DEFAULT_REGIONS)
        self.last_render_s = 0.0
        tip = "{}: multiplies the fitted {} everywhere (1 = as fitted)"
        self.sigma_x, self.sigma_y, self.sigma_r = (
            FloatSlider(label=f"{plain} ×", value=1.0, min=0.1, max=4.0, step=0.05,
                        tooltip=tip.format(name, plain), enabled=False)
            for name, plain in zip(CHANNELS, PLAIN_CHANNELS)
        )  # fmt: skip
        self.region = SpinBox(
            label="region label",
            value=1,
            min=1,
            max=255,
            tooltip="label painted in the regions layer whose multipliers "
            "are shown below (follows the layer's selected label)",
        )
        self.region_x, self.region_y, self.region_r = (
            FloatSpinBox(label=f"region {plain} ×", value=1.0, min=0.05, max=10.0, step=0.05,
                         tooltip=f"{name}: multiplier of the {plain} where this label is painted")
            for name, plain in zip(CHANNELS, PLAIN_CHANNELS)
        )  # fmt: skip
        self._map_layer = None
        self.sigma_map = ComboBox(
            label="sigma map", choices=self.map_choices,
            tooltip="show one fitted sigma map (filter width or intensity width, per stage) "
            "over the region, with its colour scale",
        )  # fmt: skip
        self.sigma_map.changed.connect(self.show_map)
        self.panel = ModelPanel(self, "filter2noise", Filter2Noise.load, lazy=self._lazy,
                                loaded=self._show_loaded, region_tag=", region",
                                colour=self._colour)  # fmt: skip
        self._load_region_values()
        self.quality = Filter2NoiseQuality(self)
        self.lay_out(
            [self.seed, self.device, self.params],
            [self.sigma_map, self.sigma_x, self.sigma_y, self.sigma_r, self.region, self.region_x,
             self.region_y, self.region_r, self.quality, self.panel],
        )  # fmt: skip
        self._render_timer = QTimer()
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(RENDER_DELAY_MS)
        self._render_timer.timeout.connect(self.rerender)
        self._render_timer.timeout.connect(self.quality.rate)
        self._connect()

    def _connect(self) -> None:
        self.run_button.clicked.connect(self.fit)
        for slider in (self.sigma_x, self.sigma_y, self.sigma_r):
            slider.changed.connect(self.schedule_render)
        self.region.changed.connect(self._region_selected)
        for box in (self.region_x, self.region_y, self.region_r):
            box.changed.connect(self._region_edited)

    # -- fitting ------------------------------------------------------------------------
    def _region_plane(self) -> tuple[napari.layers.Image, ROI, ROI, np.ndarray]:
        """The layer, its region (read, placed) and the pixels: (H, W), or (H, W, C) for RGB."""
        layer, roi, place = self.region_of()
        return layer, roi, place, self.region_image(roi.read(full_resolution(layer)), layer.rgb)

    @reported("fit")
    def fit(self) -> Job | None:
        """Fit Filter2Noise on the chosen region in the background, previewing the estimate."""
        layer, roi, place, plane = self._region_plane()
        params = dict(param_values(self.params), channel_last=layer.rgb)
        seed, device = int(self.seed.value), self.device.value
        self.fitted = None
        for widget in (self.sigma_x, self.sigma_y, self.sigma_r):
            widget.enabled = False

        rated = self.quality.active.value and not layer.rgb
        regions, multipliers = dict(self.regions), self.multipliers()

        def work():
            model = yield from fit_filter2noise(plane, seed=seed, device=device, **params)
            # the maps, the quality estimate's noise model and first rating: off the GUI thread
            prepared = self.quality.prepare(plane, quiet=True) if rated else None
            rating = self.quality.first_rating(model, plane, prepared, regions, multipliers)
            return model, model.sigma_maps(plane), prepared, (multipliers, rating)

        def fitted(result: tuple):
            model, maps, prepared, rating = result
            self._fitted(model, layer, place, plane, maps, prepared, rating)
            self.say(f"fitted in {len(model.history)} steps, loss {model.history[-1]:.4g}")

        job = self.panel.fit(work, layer, roi, self._name("", layer.name), fitted, place)
        if self._name("f2n regions", layer.name) not in self.viewer.layers:
            self.stage.adopt(self._labels_layer(layer, place))  # at the click, not at the end
        self.quality.stage_map(self.stage, layer, place)
        return job

    def _fitted(
        self, model: Filter2Noise, layer, roi: ROI, plane: np.ndarray, maps=None, prepared=None,
        rating=None,
    ) -> None:  # fmt: skip
        maps = model.sigma_maps(plane) if maps is None else maps
        self.fitted = Fitted(model, layer.name, roi, plane, maps)
        self.quality.prepared(self.fitted, prepared)
        self._labels_layer(layer, roi)  # made at the Fit click: cleared and moved here
        for widget in (self.sigma_x, self.sigma_y, self.sigma_r):
            widget.enabled = True
        self.panel.set_model(model)
        self.rerender()
        multipliers, risk_out = rating or (None, None)
        if risk_out is not None and multipliers == self.multipliers():
            self.quality.show_rating(*risk_out)  # rated in the fit's worker
        else:
            self.quality.rate()
        self.sigma_map.reset_choices()
        self.show_map()  # the chosen map (if any) of the new fit, in place

    def _show_loaded(self, model: Filter2Noise) -> None:
        """Show a loaded model's sigma maps on the chosen region (no fitting)."""
        layer, _, place, plane = self._region_plane()
        self._fitted(model, layer, place, plane)

    def _lazy(self, model: Filter2Noise, data, roi: ROI):
        """The fitted (and edited) filter on ``data``, the ``roi`` of the layer (lazy, tiled)."""
        offset = np.subtract(self.fitted.roi.offset[-2:], roi.offset[-2:])
        return model.apply_lazy(data, labels=self.region_labels(), regions=self.regions,
                                label_offset=tuple(offset), **self.multipliers())  # fmt: skip

    def _colour(self, model: Filter2Noise):
        """A colour model's apply to a region's (H, W, C) pixels, with the global multipliers."""
        return functools.partial(model.apply, **self.multipliers())
