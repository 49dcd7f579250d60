"""The Denoise dock widget: pick a layer, a method and a scope; watch, accept, apply to all."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import napari
import numpy as np
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    PushButton,
)
from qtpy.QtCore import QTimer

from .. import api
from ..denoisers import DENOISERS
from ..devices import uses_device
from ..noise import NOISE_MODELS
from ..recipes import denoise_recipe, save_recipe
from ..specs import Param
from .base import JobWidget, reported
from .denoise_quality import DenoiseQuality
from .device import device_picker
from .jobs import Job
from .layout import compact_choices
from .params import param_values, seed_box, widget_for
from .results import output_edit, zarr_target
from .scope import full_resolution, overlay
from .shapes import ShapeControls, put_shaped, stage_shaped

LIVE_DELAY_MS = 300


class DenoiseWidget(JobWidget):
    """Dock widget running any registered denoiser on a region of an image layer.

    Results are added as layers named ``"<layer> [<method>]"`` with the
    source's scale and a ``translate`` that overlays them on the source;
    iterative methods show their current estimate meanwhile.  "Apply to
    whole layer" writes a zarr store tile by tile in the background and opens
    it lazily.
    """

    layer_tooltip = "image layer to denoise"

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(viewer)
        self.method = ComboBox(
            label="method",
            choices=sorted(DENOISERS),
            value=_default_method(),
            tooltip="denoiser (see the tooltip of each parameter)",
        )
        self.noise = ComboBox(
            label="noise",
            choices=list(NOISE_MODELS),
            value="gaussian",
            tooltip="; ".join(model.summary for model in NOISE_MODELS.values()),
        )
        self.sigma_auto = CheckBox(
            label="estimate noise",
            value=True,
            tooltip="estimate the noise level from the image (else: the value below)",
        )
        tip = "noise standard deviation in the image's units"
        self.sigma = widget_for(Param("sigma", 0.1, tip, min=0.0, max=1e6, step=0.005))
        self.sigma.enabled = False
        self.seed = seed_box(of=" of stochastic methods")
        self.device = device_picker()  # shown for torch methods
        self.params = Container(label="parameters", labels=True)
        self.live = CheckBox(label="live", value=False, tooltip="re-run fast methods on change")
        self.output = output_edit(
            lambda: f"{self.layer.value or 'image'}_{self.method.value}",
            self.layer.changed,
            self.method.changed,
        )
        self.apply_button = PushButton(
            text="Apply to whole layer (tiled, to zarr)",
            tooltip="denoise every plane tile by tile in the background; opened lazily",
        )
        self.recipe_button = PushButton(
            text="Save recipe...", tooltip="replay with: napari-tweedie run RECIPE INPUT OUTPUT"
        )
        self.quality = DenoiseQuality(self)
        self.shapes = ShapeControls(self, lambda: self.method.value)
        self.lay_out(
            [
                self.method,
                *self.shapes.widgets,
                self.noise,
                self.sigma_auto,
                self.sigma,
                self.seed,
                self.device,
                self.params,
            ],  # fmt: skip
            [self.live, self.quality, self.output, self.apply_button, self.recipe_button],
        )
        self.action(self.apply_button)
        self._live_timer = QTimer()
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_DELAY_MS)
        self._live_timer.timeout.connect(self.run)
        self._connect()
        self._rebuild_params()

    def _connect(self) -> None:
        self.method.changed.connect(self._rebuild_params)
        self.method.changed.connect(self.shapes.update_volumetric)
        self.sigma_auto.changed.connect(lambda auto: setattr(self.sigma, "enabled", not auto))
        for widget in (self.noise, self.sigma_auto, self.sigma, self.seed, self.device, self.scope,
                       *self.shapes.widgets):  # fmt: skip
            widget.changed.connect(self._schedule_live)
        self.run_button.clicked.connect(self.run)
        self.apply_button.clicked.connect(self.apply_to_whole_layer)
        self.recipe_button.clicked.connect(self._ask_recipe_path)

    def _rebuild_params(self, event=None) -> None:
        self.params.clear()
        spec = DENOISERS[self.method.value]
        self.device.visible = uses_device(spec.func)
        for param in spec.params:
            if param.name == "device":
                continue  # the shared device picker above
            widget = widget_for(param)
            widget.changed.connect(self._schedule_live)
            self.params.append(widget)
        compact_choices(self.params)
        self.method.tooltip = DENOISERS[self.method.value].summary
        self._schedule_live()

    # -- running ------------------------------------------------------------------------
    def settings(self) -> dict:
        """Method, noise and parameters as keyword arguments of :func:`napari_tweedie.denoise`."""
        return {
            "method": self.method.value,
            "noise": self.noise.value,
            "sigma": None if self.sigma_auto.value else float(self.sigma.value),
            "seed": int(self.seed.value),
            **self.shapes.options(),
            **param_values(self.params),
            **self._device(),
        }

    def _device(self) -> dict:
        """``{"device": ...}`` for torch methods (the picker's value), else ``{}``."""
        takes = uses_device(DENOISERS[self.method.value].func)
        return {"device": self.device.value} if takes else {}

    @reported("run")
    def run(self) -> Job | None:
        """Denoise the chosen scope in a background worker; the result replaces the last one."""
        layer, roi, place = self.shapes.source()
        data = full_resolution(layer)
        settings = self.settings()
        method = settings["method"]
        rated = self.quality.rater(settings)  # the result and its estimated quality
        if self.shapes.options(layer):  # channels or volumes: not rated (the panel is per plane)
            rated = partial(api.denoise_steps, **settings)
        where, name = self.where, f"{layer.name} [{method}]"
        stage = self.staged()  # the result layers are added now, not while the job runs
        stage_shaped(stage, layer, place, name)
        if not self.shapes.options(layer):
            self.quality.stage_maps(stage, layer, roi, settings)

        def work():  # reads the pixels in the worker: a large lazy scope never blocks the GUI
            return (yield from rated(roi.read(data)))

        def done(result):
            result = self.quality.rated(result, layer, roi, settings)
            metadata = {"roi": [(s.start, s.stop) for s in roi.slices], "source": layer.name}
            shown = put_shaped(self.viewer, layer, place, result, name, metadata=metadata)
            shown.metadata.update(metadata)  # also when a staged or former layer took it
            self.say(f"done: {method} on {where}")

        def stepped(step):
            self._show_sigma(step)
            self._preview(layer, roi, step, method)

        self.say(f"running {method} on {where}...")
        return self.start(work, on_done=done, on_step=stepped)

    @reported("apply")
    def apply_to_whole_layer(self) -> Job | None:
        """Denoise the whole layer tile by tile into the output zarr, then open it lazily."""
        layer = self.source_layer()
        settings = self.settings()
        target = zarr_target(self.output.value)
        data = full_resolution(layer)

        # the worker calls this after `job` is bound: Cancel then stops within a fitting step
        def lazy():
            return api.denoise_lazy(data, cancelled=lambda: job.cancelled, **settings)

        name = f"{layer.name} [{settings['method']}, whole]"
        job = self.start_whole(layer, lazy, target, name, keep_rgb="channel_axis" in settings)
        return job

    def save_recipe(self, path: str | Path) -> Path:
        """Write the current settings as a recipe (:mod:`napari_tweedie.recipes`) to ``path``."""
        path = save_recipe(denoise_recipe(**self.settings()), Path(path).expanduser())
        self.say(f"recipe saved: {path}")
        return path

    def _ask_recipe_path(self) -> None:
        from qtpy.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(None, "Save recipe", "recipe.json", "*.json")
        if path:
            self.save_recipe(path)

    # -- callbacks ----------------------------------------------------------------------
    def _preview(self, layer, roi, step, method: str) -> None:
        """Show an iterative method's current estimate in its result layer (fixed contrast)."""
        single_plane = all(n == 1 for n in roi.shape[:-2])
        estimate = step.x0_hat
        if not (DENOISERS[method].iterative and single_plane and estimate is not None):
            return
        estimate = np.asarray(estimate, dtype=np.float32)
        if estimate.shape[-2:] != roi.shape[-2:]:
            return
        self.show_preview(
            step,
            f"{layer.name} [{method}]",
            estimate.reshape(roi.shape),
            **overlay(layer, roi),
            contrast_limits=layer.contrast_limits,
            colormap=layer.colormap,
        )

    def _show_sigma(self, step) -> None:
        signal_dependent = NOISE_MODELS[self.noise.value].signal_dependent
        if self.sigma_auto.value and not signal_dependent and step.sigma:
            self.sigma.value = step.sigma  # show the estimated noise level (the image's units)

    def _schedule_live(self, event=None) -> None:
        if self.live.value and DENOISERS[self.method.value].fast:
            self._live_timer.start()


def _default_method() -> str:
    return "tv" if "tv" in DENOISERS else sorted(DENOISERS)[0]
