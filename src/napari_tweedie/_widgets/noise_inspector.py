"""Noise inspector dock widget: estimate a region's noise model, see its variance curve and VST.

Pick an image layer and a region (Shapes rectangle, current view or current
slice); "Estimate" fits the chosen noise model, or picks one ("auto", see
:mod:`napari_tweedie.noise.inspection`), in the background and shows its
parameters and the variance-vs-mean plot (dots: the region's binned noise
variance; line: the model).  "Show stabilised view" adds (or updates) a layer
with the region transformed to unit-variance noise (generalised Anscombe,
log for Gamma, ``y / sigma`` for Gaussian), overlaid on the source.
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
from .plot import MiniPlot, Series
from .results import Failed, put_image
from .scope import full_resolution

NOISE_CHOICES = ("auto", *NOISE_MODELS)


@dataclass(frozen=True)
class Inspected:
    """An estimate and where it came from."""

    result: NoiseInspection
    layer: str
    roi: ROI
    block: np.ndarray


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
        layer, roi = self.source_roi()
        data = full_resolution(layer)
        noise = self.noise.value

        def work(progress):  # the pixels are read here, off the GUI thread
            block = np.asarray(roi.read(data), np.float32)
            try:
                return inspect_noise(block, noise), block
            except ValueError as error:  # too small, constant, ...: say so in the status
                return Failed(error)

        def done(outcome: tuple[NoiseInspection, np.ndarray]) -> None:
            result, block = outcome
            self.inspected = Inspected(result, layer.name, roi, block)
            self.result.value = result.describe()
            self._plot(result)
            self.say(f"estimated on {block.shape}{' (auto)' if noise == 'auto' else ''}")

        self.say(f"estimating on {self.where}...")
        return self.start(work, on_done=done)

    def _plot(self, result: NoiseInspection) -> None:
        curve = result.curve
        grid = np.linspace(curve.means.min(), curve.means.max(), 64)  # log axes drop <= 0
        self.plot.set_series(
            [
                Series(
                    curve.means, curve.variances, color="#ffb000", dots=True, label="region"
                ),  # fmt: skip
                Series(
                    grid, result.model.variance(grid), color="#40c0ff", label=f"{result.name} model"
                ),  # fmt: skip
            ]
        )

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
        data = fit.result.model.stabilise(fit.block)
        finite = data[np.isfinite(data)]
        low, high = (float(v) for v in np.percentile(finite, [0.5, 99.5]))
        layer = put_image(
            self.viewer,
            self.viewer.layers[fit.layer],
            fit.roi,
            data,
            f"{fit.layer} [stabilised, {fit.result.name}]",
            contrast_limits=(low, high if high > low else low + 1.0),
            colormap="gray",
        )
        layer.contrast_limits = (low, high if high > low else low + 1.0)
        self.say(f"stabilised view: {fit.result.name} noise -> unit standard deviation")
        return layer
