"""Zero-shot Noise2Noise (Mansour & Heckel 2023) dock widget: fit on a region, apply, save, load.

Fits the tiny ZS-N2N network to the region of interest (Shapes rectangle,
current view or current slice) in the background, streaming the current
estimate over the region and the loss; Cancel drops the fit.  The fitted
network (with the normalisation it was fitted with) then denoises another
region as an overlaid layer, or the whole layer tile by tile into a zarr
store opened lazily, and saves or loads as one ``.safetensors`` file
(:class:`~.panel.ModelPanel`).
"""

from __future__ import annotations

from pathlib import Path

import napari
import numpy as np
from magicgui.widgets import Container, SpinBox

from ..data.finite import fill_non_finite
from ..denoisers import DENOISERS
from .base import ROI_SCOPES, JobWidget, reported
from .jobs import Job
from .panel import ModelPanel
from .params import param_values, widget_for
from .results import put_image
from .scope import full_resolution, overlay

__all__ = ["ZSN2NWidget"]

METHOD = "zs_n2n"


def _load(path: Path):
    """Read a saved model (torch loads here, not when the widget module is imported)."""
    from ..denoisers.zs_n2n import ZSN2NModel

    return ZSN2NModel.load(path)


class ZSN2NWidget(JobWidget):
    """Dock widget for zero-shot Noise2Noise: fit with a live preview; apply, save, load.

    Apply, save and load live in :attr:`panel` (:class:`~.panel.ModelPanel`).
    """

    layer_tooltip = "layer to fit"
    scopes, scope_label, run_text = ROI_SCOPES, "fit on", "Fit"
    scope_tooltip = "region the network is fitted to (one 2-D plane)"
    preview_interval_s = 0.1

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(viewer)
        self.seed = SpinBox(label="seed", value=0, min=0, max=2**31 - 1)
        self.params = Container(label="parameters", labels=True)
        for param in DENOISERS[METHOD].params:
            self.params.append(widget_for(param))
        self.panel = ModelPanel(self, METHOD, _load, region_tag=", region")
        self.lay_out([self.seed, self.params], [self.panel])
        self.run_button.clicked.connect(self.fit)

    @reported("fit")
    def fit(self) -> Job | None:
        """Fit the network to the chosen region in the background, previewing its estimate."""
        from ..denoisers.zs_n2n import fit_zs_n2n

        layer, roi = self.source_roi()
        block = roi.read(full_resolution(layer))
        plane = np.asarray(block, np.float32).reshape(block.shape[-2:])
        plane = fill_non_finite(plane)[0]  # missing pixels: the median (all missing: an error)
        options = dict(param_values(self.params), seed=int(self.seed.value), preview_every=10)
        self.panel.set_model(None)
        name = f"{layer.name} [{METHOD}]"
        place = dict(overlay(layer, roi), contrast_limits=layer.contrast_limits,
                     colormap=layer.colormap)  # fmt: skip

        def work():
            return (yield from fit_zs_n2n(plane, **options))

        def done(model) -> None:
            self.keep_previews()  # the preview layer becomes the result layer
            put_image(self.viewer, layer, roi, model.estimate, name)  # the final (ensemble) one
            self.panel.set_model(model)
            early = ", stopped early" if model.stopped_early else ""
            self.say(f"fitted in {model.iterations} steps{early}, loss {model.losses[-1]:.4g}")

        def stepped(step) -> None:
            loss = (step.info or {}).get("loss")
            if loss is not None:
                self.say(f"step {step.i}/{step.n}, loss {loss:.4g}")
            estimate = np.asarray(step.x0_hat, np.float32).reshape(roi.shape)
            self.show_preview(step, name, estimate, **place)

        self.say(f"fitting on {plane.shape}...")
        return self.start(work, on_done=done, on_step=stepped)
