"""The Denoise dock widget: pick a layer, a method and a scope; watch, accept, apply to all."""

from __future__ import annotations

from pathlib import Path

import napari
import numpy as np
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    FloatSpinBox,
    Label,
    ProgressBar,
    PushButton,
    SpinBox,
)
from qtpy.QtCore import QTimer

from .. import api
from ..denoisers import DENOISERS
from ..noise import NOISE_MODELS
from ..recipes import denoise_recipe, save_recipe
from .jobs import Job
from .live import LiveLayers
from .params import param_values, widget_for
from .results import follow_default_output, put_image, whole_layer_job, zarr_target
from .scope import SCOPES, full_resolution, image_layer_names, overlay, roi_for

LIVE_DELAY_MS = 300
PREVIEW_INTERVAL_S = 0.25


class DenoiseWidget(Container):
    """Dock widget running any registered denoiser on a region of an image layer.

    Results are added as layers named ``"<layer> [<method>]"`` with the
    source's scale and a ``translate`` that overlays them on the source.
    "Apply to whole layer" writes a zarr store tile by tile in the background
    and opens it lazily.
    """

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self.viewer = viewer
        self.job: Job | None = None
        self._previews = LiveLayers(viewer)
        self._make_widgets()
        self._live_timer = QTimer()
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_DELAY_MS)
        self._live_timer.timeout.connect(self.run)
        self._connect()
        self._refresh_layers()
        self._rebuild_params()

    # -- construction -------------------------------------------------------------------
    def _make_widgets(self) -> None:
        self.layer = ComboBox(
            label="image", choices=self._image_names, tooltip="image layer to denoise"
        )
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
        self.sigma_auto = CheckBox(label="estimate noise", value=True)
        self.sigma = FloatSpinBox(
            label="sigma",
            value=0.1,
            min=0.0,
            max=1e6,
            step=0.005,
            enabled=False,
            tooltip="noise standard deviation in the image's units",
        )
        self.seed = SpinBox(label="seed", value=0, min=0, max=2**31 - 1)
        self.params = Container(label="parameters", labels=True)
        self.scope = ComboBox(label="scope", choices=list(SCOPES), value="Current slice")
        self.live = CheckBox(label="live", value=False, tooltip="re-run fast methods on change")
        self.run_button = PushButton(text="Run")
        self.cancel_button = PushButton(text="Cancel", enabled=False)
        self.output = FileEdit(label="output", mode="w", filter="*.zarr")
        self.apply_button = PushButton(text="Apply to whole layer (tiled, to zarr)")
        self.recipe_button = PushButton(
            text="Save recipe...", tooltip="replay with: napari-tweedie run RECIPE INPUT OUTPUT"
        )
        self.progress = ProgressBar(label="progress", value=0, max=1)
        self.status = Label(label="status", value="")
        self.extend(
            [
                self.layer,
                self.method,
                self.noise,
                self.sigma_auto,
                self.sigma,
                self.seed,
                self.params,
                self.scope,
                self.live,
                self.run_button,
                self.cancel_button,
                self.output,
                self.apply_button,
                self.recipe_button,
                self.progress,
                self.status,
            ]
        )

    def _connect(self) -> None:
        self.viewer.layers.events.inserted.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._refresh_layers)
        self.method.changed.connect(self._rebuild_params)
        follow_default_output(
            self.output,
            lambda: f"{self.layer.value or 'image'}_{self.method.value}",
            self.layer.changed,
            self.method.changed,
        )
        self.sigma_auto.changed.connect(lambda auto: setattr(self.sigma, "enabled", not auto))
        for widget in (self.noise, self.sigma_auto, self.sigma, self.seed, self.scope):
            widget.changed.connect(self._schedule_live)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.apply_button.clicked.connect(self.apply_to_whole_layer)
        self.recipe_button.clicked.connect(self._ask_recipe_path)

    def _image_names(self, widget=None) -> list[str]:
        return image_layer_names(self.viewer)

    def _refresh_layers(self, event=None) -> None:
        self.layer.reset_choices()

    def _rebuild_params(self, event=None) -> None:
        self.params.clear()
        for param in DENOISERS[self.method.value].params:
            widget = widget_for(param)
            widget.changed.connect(self._schedule_live)
            self.params.append(widget)
        self.method.tooltip = DENOISERS[self.method.value].summary
        self._schedule_live()

    # -- running ------------------------------------------------------------------------
    def source_layer(self) -> napari.layers.Image:
        if not self.layer.value:
            raise ValueError("open or select an image layer first")
        return self.viewer.layers[self.layer.value]

    def settings(self) -> dict:
        """Method, noise and parameters as keyword arguments of :func:`napari_tweedie.denoise`."""
        return {
            "method": self.method.value,
            "noise": self.noise.value,
            "sigma": None if self.sigma_auto.value else float(self.sigma.value),
            "seed": int(self.seed.value),
            **param_values(self.params),
        }

    def run(self) -> Job | None:
        """Denoise the chosen scope in a background worker; the result replaces the last one."""
        self.cancel()
        try:
            layer = self.source_layer()
            roi = roi_for(self.scope.value, self.viewer, layer)
            data = full_resolution(layer)
            settings = self.settings()
        except (ValueError, KeyError, TypeError) as error:
            self._say(f"cannot run: {error}")
            return None

        def work():  # reads the pixels in the worker: a large lazy scope never blocks the GUI
            return (yield from api.denoise_steps(roi.read(data), **settings))

        def done(result):
            self._previews.retire(self.job)
            self._show_result(layer, roi, result, settings["method"])
            self._say(f"done: {settings['method']} on {roi.shape}")

        def stepped(step):
            self._stepped(step)
            self._update_preview(layer, roi, step, settings["method"])

        self._say(f"running {settings['method']} on {roi.shape}...")
        return self._start(
            Job(work, on_done=done, on_error=self._failed, on_step=stepped, on_finish=self._idle)
        )

    def apply_to_whole_layer(self) -> Job | None:
        """Denoise the whole layer tile by tile into the output zarr, then open it lazily."""
        self.cancel()
        try:
            layer = self.source_layer()
            settings = self.settings()
            target = zarr_target(self.output.value)
            data = full_resolution(layer)

            # the worker calls this after `job` is bound: Cancel then stops within a fitting step
            def lazy():
                return api.denoise_lazy(data, cancelled=lambda: job.cancelled, **settings)

            job = whole_layer_job(
                self.viewer, layer, lazy, target,
                f"{layer.name} [{settings['method']}, whole]",
                on_error=self._failed, on_progress=self._progressed, on_finish=self._idle,
                on_done=lambda path: self._say(f"wrote {path}"),
            )  # fmt: skip
        except (ValueError, KeyError, TypeError, ImportError) as error:
            self._say(f"cannot apply: {error}")
            return None
        self._say(f"writing {target}...")
        return self._start(job)

    def save_recipe(self, path: str | Path) -> Path:
        """Write the current settings as a recipe (:mod:`napari_tweedie.recipes`) to ``path``."""
        path = save_recipe(denoise_recipe(**self.settings()), Path(path).expanduser())
        self._say(f"recipe saved: {path}")
        return path

    def _ask_recipe_path(self) -> None:
        from qtpy.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(None, "Save recipe", "recipe.json", "*.json")
        if path:
            self.save_recipe(path)

    def cancel(self) -> None:
        """Cancel the running job (its result, if any, is discarded)."""
        if self.job is not None and self.job.running:
            self.job.cancel()
            self._say("cancelled")

    # -- callbacks ----------------------------------------------------------------------
    def _start(self, job: Job) -> Job:
        self.job = job
        self.run_button.enabled = self.apply_button.enabled = False
        self.cancel_button.enabled = True
        self.progress.value, self.progress.max = 0, 1
        return job.start()

    def _idle(self) -> None:
        self._previews.retire(self.job)  # hidden now, removed once the worker thread has ended
        self.run_button.enabled = self.apply_button.enabled = True
        self.cancel_button.enabled = False

    def _update_preview(self, layer, roi, step, method: str) -> None:
        """Show an iterative method's current estimate (one layer, throttled, fixed contrast)."""
        single_plane = all(n == 1 for n in roi.shape[:-2])
        estimate = step.x0_hat
        if not (DENOISERS[method].iterative and single_plane and estimate is not None):
            return
        estimate = np.asarray(estimate, dtype=np.float32)
        if estimate.shape[-2:] != roi.shape[-2:] or not self._previews.due(PREVIEW_INTERVAL_S):
            return
        self._previews.show(
            f"{layer.name} [{method} preview]",
            estimate.reshape(roi.shape),
            **overlay(layer, roi),
            contrast_limits=layer.contrast_limits,
            colormap=layer.colormap,
        )

    def _stepped(self, step) -> None:
        self._progressed(step.i, step.n)
        signal_dependent = NOISE_MODELS[self.noise.value].signal_dependent
        if self.sigma_auto.value and not signal_dependent and step.sigma:
            self.sigma.value = step.sigma  # show the estimated noise level (the image's units)

    def _progressed(self, done: int, total: int) -> None:
        self.progress.max = max(total, 1)
        self.progress.value = min(done, self.progress.max)

    def _failed(self, error: Exception) -> None:
        self._say(f"failed: {type(error).__name__}: {error}")

    def _say(self, text: str) -> None:
        self.status.value = text

    def _schedule_live(self, event=None) -> None:
        if self.live.value and DENOISERS[self.method.value].fast:
            self._live_timer.start()

    def _show_result(self, layer, roi, result: np.ndarray, method: str):
        metadata = {"roi": [(s.start, s.stop) for s in roi.slices], "source": layer.name}
        return put_image(self.viewer, layer, roi, result, f"{layer.name} [{method}]",
                         metadata=metadata)  # fmt: skip


def _default_method() -> str:
    return "tv" if "tv" in DENOISERS else sorted(DENOISERS)[0]
