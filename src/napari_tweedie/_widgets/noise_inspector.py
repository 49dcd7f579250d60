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
from magicgui.widgets import ComboBox, Container, Label, PushButton

from ..data import ROI
from ..noise import NOISE_MODELS
from ..noise.inspection import NoiseInspection, inspect_noise
from .jobs import Job
from .plot import MiniPlot, Series
from .results import Failed, put_image
from .scope import SCOPES, full_resolution, image_layer_names, roi_for

INSPECT_SCOPES = tuple(s for s in SCOPES if s != "Whole layer")
NOISE_CHOICES = ("auto", *NOISE_MODELS)


@dataclass(frozen=True)
class Inspected:
    """An estimate and where it came from."""

    result: NoiseInspection
    layer: str
    roi: ROI
    block: np.ndarray


class NoiseInspectorWidget(Container):
    """Dock widget estimating the noise of a region and showing its stabilised view."""

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self.viewer = viewer
        self.job: Job | None = None
        self.inspected: Inspected | None = None
        self.layer = ComboBox(label="image", choices=self._image_names, tooltip="layer to inspect")
        self.scope = ComboBox(
            label="region",
            choices=list(INSPECT_SCOPES),
            value="Current slice",
            tooltip="pixels the noise is estimated on (leading axes: the current plane)",
        )
        self.noise = ComboBox(
            label="noise model",
            choices=list(NOISE_CHOICES),
            value="auto",
            tooltip="auto: the model whose variance function fits the region best (AIC); "
            + "; ".join(model.summary for model in NOISE_MODELS.values()),
        )
        self.estimate_button = PushButton(text="Estimate")
        self.result = Label(label="estimate", value="")
        self.stabilise_button = PushButton(text="Show stabilised view", enabled=False)
        self.status = Label(label="status", value="")
        self.plot = MiniPlot("noise variance vs mean (log-log)", logx=True, logy=True)
        self.extend(
            [
                self.layer,
                self.scope,
                self.noise,
                self.estimate_button,
                self.result,
                self.stabilise_button,
                self.status,
            ]
        )
        self.native.layout().addWidget(self.plot)
        self.estimate_button.clicked.connect(self.estimate)
        self.stabilise_button.clicked.connect(self.show_stabilised)
        self.viewer.layers.events.inserted.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._refresh_layers)
        self.layer.reset_choices()

    def _image_names(self, widget=None) -> list[str]:
        return image_layer_names(self.viewer)

    def _refresh_layers(self, event=None) -> None:
        self.layer.reset_choices()

    def source_layer(self) -> napari.layers.Image:
        if not self.layer.value:
            raise ValueError("open or select an image layer first")
        return self.viewer.layers[self.layer.value]

    # -- estimating ---------------------------------------------------------------------
    def estimate(self) -> Job | None:
        """Estimate the noise of the chosen region in the background; show it when done."""
        self.cancel()
        try:
            layer = self.source_layer()
            roi = roi_for(self.scope.value, self.viewer, layer)
            data = full_resolution(layer)
        except (ValueError, KeyError, TypeError) as error:
            self._say(f"cannot estimate: {error}")
            return None
        noise = self.noise.value

        def work(progress):  # the pixels are read here, off the GUI thread
            block = np.asarray(roi.read(data), np.float32)
            try:
                return inspect_noise(block, noise), block
            except ValueError as error:  # too small, constant, ...: say so in the status
                return Failed(error)

        def done(outcome: tuple[NoiseInspection, np.ndarray] | Failed) -> None:
            if isinstance(outcome, Failed):
                self._failed(outcome.error)
                return
            result, block = outcome
            self.inspected = Inspected(result, layer.name, roi, block)
            self.result.value = result.describe()
            self._plot(result)
            self.stabilise_button.enabled = True
            self._say(f"estimated on {block.shape}{' (auto)' if noise == 'auto' else ''}")

        self._say(f"estimating on {roi.shape}...")
        self.estimate_button.enabled = False
        self.job = Job(work, on_done=done, on_error=self._failed, on_finish=self._idle)
        return self.job.start()

    def cancel(self) -> None:
        """Forget a running estimate (its result is discarded)."""
        if self.job is not None and self.job.running:
            self.job.cancel()

    def _plot(self, result: NoiseInspection) -> None:
        curve = result.curve
        grid = np.linspace(curve.means.min(), curve.means.max(), 64)  # log axes drop <= 0
        self.plot.set_series(
            [
                Series(curve.means, curve.variances, color="#ffb000", dots=True),
                Series(grid, result.model.variance(grid), color="#40c0ff"),
            ]
        )

    # -- stabilised view ------------------------------------------------------------------
    def show_stabilised(self) -> napari.layers.Image | None:
        """Add or update the layer with the variance-stabilised region (unit noise)."""
        if self.inspected is None:
            self._say("estimate the noise first")
            return None
        fit = self.inspected
        if fit.layer not in self.viewer.layers:
            self._say(f"layer {fit.layer!r} is gone")
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
        self._say(f"stabilised view: {fit.result.name} noise -> unit standard deviation")
        return layer

    # -- helpers ----------------------------------------------------------------------------
    def _idle(self) -> None:
        self.estimate_button.enabled = True

    def _failed(self, error: Exception) -> None:
        self._say(f"failed: {type(error).__name__}: {error}")

    def _say(self, text: str) -> None:
        self.status.value = text
