"""Zero-shot Noise2Noise (Mansour & Heckel 2023) dock widget: fit on a region, apply, save, load.

Fits the tiny ZS-N2N network to the region of interest (Shapes rectangle,
current view or current slice) in the background, streaming the current
estimate over the region and the loss; Cancel drops the fit.  The fitted
network (with the normalisation it was fitted with) then denoises another
region as an overlaid layer (RGB layers: a colour network, fitted and
applied to the region's colour pixels; the result is RGB), or the whole
layer tile by tile into a zarr store opened lazily, and saves or loads as one ``.safetensors`` file
(:class:`~.panel.ModelPanel`).
"""

from __future__ import annotations

from pathlib import Path

import napari

from ..data.finite import fill_non_finite
from .base import reported
from .jobs import Job
from .panel import FitWidget, ModelPanel
from .params import param_values
from .scope import full_resolution
from .shapes import put_shaped

__all__ = ["ZSN2NWidget"]

METHOD = "zs_n2n"


def _load(path: Path):
    """Read a saved model (torch loads here, not when the widget module is imported)."""
    from ..denoisers.zs_n2n import ZSN2NModel

    return ZSN2NModel.load(path)


class ZSN2NWidget(FitWidget):
    """Dock widget for zero-shot Noise2Noise: fit with a live preview; apply, save, load.

    Apply, save and load live in :attr:`panel` (:class:`~.panel.ModelPanel`).
    """

    method = METHOD
    scope_tooltip = "region the network is fitted to (one 2-D plane)"

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(viewer)
        self.panel = ModelPanel(self, METHOD, _load, region_tag=", region")
        self.lay_out([self.seed, self.device, self.params], [self.panel])
        self.run_button.clicked.connect(self.fit)

    @reported("fit")
    def fit(self) -> Job | None:
        """Fit the network to the chosen region in the background, previewing its estimate."""
        from ..denoisers.zs_n2n import fit_zs_n2n

        layer, roi, place = self.region_of()  # RGB layers: (H, W, C), a colour network
        plane = self.region_image(roi.read(full_resolution(layer)), layer.rgb)
        plane = fill_non_finite(plane)[0]  # missing pixels: the median (all missing: an error)
        options = dict(param_values(self.params), seed=int(self.seed.value), preview_every=10,
                       device=self.device.value, channel_last=layer.rgb)  # fmt: skip
        name = f"{layer.name} [{METHOD}]"

        def work():
            return (yield from fit_zs_n2n(plane, **options))

        def fitted(model) -> None:
            put_shaped(self.viewer, layer, place, model.estimate, name)  # final (ensemble) one
            self.panel.set_model(model)
            early = ", stopped early" if model.stopped_early else ""
            self.say(f"fitted in {model.iterations} steps{early}, loss {model.losses[-1]:.4g}")

        return self.panel.fit(work, layer, roi, name, fitted, place=place)
