"""Noise inspector dock widget: estimate a region's noise model, see its variance curve and VST.

Pick an image layer and a region (Shapes rectangle, current view or current
slice); "Estimate" fits the chosen noise model, or picks one ("auto", see
:mod:`napari_tweedie.noise.inspection`), in the background and shows its
parameters and the variance-vs-mean plot (dots: the region's binned noise
variance; line: the model).  "Show stabilised view" adds (or updates) a layer
with the region transformed to unit-variance noise (generalised Anscombe,
log for Gamma, ``y / sigma`` for Gaussian), overlaid on the source.  An RGB
layer is estimated per channel: each channel's parameters are listed and
plotted in its colour, and the stabilised view is RGB (each channel its own
transform).
"""

from __future__ import annotations

from dataclasses import dataclass

import napari
import numpy as np
from magicgui.widgets import ComboBox, Label, PushButton

from ..data import ROI
from ..noise import NOISE_MODELS
from ..noise.inspection import NoiseInspection, inspect_noise
from .base import ROI_SCOPES, JobWidget, fit_width, reported
from .jobs import Job
from .live import show_image
from .plot import MiniPlot, Series
from .results import Failed, put_image
from .scope import full_resolution, overlay
from .shapes import colour_region

NOISE_CHOICES = ("auto", *NOISE_MODELS)
#: names and plot colours of an RGB layer's channels
CHANNELS = (("R", "#ff5050"), ("G", "#50d050"), ("B", "#5080ff"), ("A", "#c0c0c0"))


@dataclass(frozen=True)
class Inspected:
    """An estimate and where it came from (an RGB region: one estimate per channel)."""

    result: NoiseInspection
    layer: str
    roi: ROI
    block: np.ndarray
    #: an RGB region's estimates, one per channel (``result`` is the first's); else empty
    channels: tuple[NoiseInspection, ...] = ()


class NoiseInspectorWidget(JobWidget):
    """Dock widget estimating the noise of a region and showing its stabilised view."""

    layer_tooltip = "layer to inspect"
    scopes, scope_label, run_text = ROI_SCOPES, "region", "Estimate"
    scope_tooltip = "pixels the noise is estimated on (leading axes: the current plane)"

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(viewer)
        self.inspected: Inspected | None = None
        self.noise = ComboBox(
            label="noise model",
            choices=list(NOISE_CHOICES),
            value="auto",
            tooltip="auto: the model whose variance function fits the region best (AIC); "
            + "; ".join(model.summary for model in NOISE_MODELS.values()),
        )
        self.result = Label(label="estimate", value="")
        fit_width(self.result)
        self.stabilise_button = PushButton(
            text="Show stabilised view",
            tooltip="add the region transformed to unit-variance noise (Anscombe, log, ...)",
        )
        self.plot = MiniPlot("noise variance vs mean", logx=True, logy=True,
                             xlabel="mean (log)", ylabel="var")  # fmt: skip
        self.lay_out([self.noise], [self.result, self.stabilise_button])
        self.native.layout().addWidget(self.plot)
        self.action(self.stabilise_button, lambda: self.inspected is not None)
        self.run_button.clicked.connect(self.estimate)
        self.stabilise_button.clicked.connect(self.show_stabilised)

    # -- estimating ---------------------------------------------------------------------
    @reported("estimate")
    def estimate(self) -> Job | None:
        """Estimate the noise of the chosen region in the background; show it when done."""
        layer, read, roi = colour_region(self)  # RGB: read keeps the colour axis
        data, noise, rgb = full_resolution(layer), self.noise.value, layer.rgb

        def work(progress):  # the pixels are read here, off the GUI thread
            block = np.asarray(read.read(data), np.float32)
            planes = [block[..., c] for c in range(block.shape[-1])] if rgb else [block]
            try:
                return [inspect_noise(plane, noise) for plane in planes], block
            except ValueError as error:  # too small, constant, ...: say so in the status
                return Failed(error)

        def done(outcome: tuple[list[NoiseInspection], np.ndarray]) -> None:
            results, block = outcome
            channels = tuple(results) if rgb else ()
            self.inspected = Inspected(results[0], layer.name, roi, block, channels)
            self.result.value = "\n".join(
                f"{CHANNELS[c][0]}: {r.describe()}" if rgb else r.describe()
                for c, r in enumerate(results)
            )
            self._plot(results, rgb)
            per = " per channel" if rgb else ""
            self.say(f"estimated{per} on {block.shape}{' (auto)' if noise == 'auto' else ''}")

        self.say(f"estimating on {self.where}...")
        return self.start(work, on_done=done)

    def _plot(self, results: list[NoiseInspection], rgb: bool = False) -> None:
        series = []
        for c, result in enumerate(results):
            curve = result.curve
            grid = np.linspace(curve.means.min(), curve.means.max(), 64)  # log axes drop <= 0
            name, colour = CHANNELS[c] if rgb else ("", "#40c0ff")
            dots = colour if rgb else "#ffb000"
            series += [
                Series(curve.means, curve.variances, color=dots, dots=True,
                       label=f"{name} region" if rgb else "region"),
                Series(grid, result.model.variance(grid), color=colour,
                       label=f"{name} {result.name} model".strip()),
            ]  # fmt: skip
        self.plot.set_series(series)

    def failed(self, error: Exception) -> None:
        """Report ``error`` and drop the former estimate (it no longer describes the input)."""
        self.inspected = None
        self.result.value = ""
        self.plot.set_series([])
        self.refresh_actions()
        super().failed(error)

    # -- stabilised view ------------------------------------------------------------------
    def show_stabilised(self) -> napari.layers.Image | None:
        """Add or update the layer with the variance-stabilised region (unit noise)."""
        if self.inspected is None:
            self.say("estimate the noise first")
            return None
        fit = self.inspected
        if fit.layer not in self.viewer.layers:
            self.say(f"layer {fit.layer!r} is gone")
            return None
        if fit.channels:
            data = np.stack([r.model.stabilise(fit.block[..., c])
                             for c, r in enumerate(fit.channels)], axis=-1)  # fmt: skip
        else:
            data = fit.result.model.stabilise(fit.block)
        finite = data[np.isfinite(data)]
        low, high = (float(v) for v in np.percentile(finite, [0.5, 99.5]))
        high = high if high > low else low + 1.0
        source = self.viewer.layers[fit.layer]
        name = f"{fit.layer} [stabilised, {fit.result.name}]"
        if fit.channels:
            data = np.clip(data, low, high).reshape(fit.roi.shape + data.shape[-1:])
            layer = show_image(self.viewer, name, data, overlay(source, fit.roi), rgb=True,
                               contrast_limits=(low, high))  # fmt: skip
            self.say("stabilised view: each channel's noise -> unit standard deviation")
            return layer
        layer = put_image(
            self.viewer,
            source,
            fit.roi,
            data,
            name,
            contrast_limits=(low, high),
            colormap="gray",
        )
        layer.contrast_limits = (low, high)
        self.say(f"stabilised view: {fit.result.name} noise -> unit standard deviation")
        return layer
