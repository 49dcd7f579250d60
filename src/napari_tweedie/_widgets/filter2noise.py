"""Filter2Noise (Sun et al. 2025) dock widget: fit on a region, then edit its sigma maps live.

Filter2Noise (Sun et al. 2025) fits an attention-guided bilateral filter to
the region of interest (Shapes rectangle, current view or current slice),
streaming the current estimate and the loss.  When the fit is done the
widget shows the per-stage sigma maps as layers, three sliders multiply
``sigma_x``, ``sigma_y`` and ``sigma_r`` everywhere, and a paintable Labels
layer gives regions their own multipliers (set per label below the
sliders); every edit re-renders the region (debounced, no retraining).  The
fitted filter can then be applied to the current slice or to the whole
layer (tiled, in the background, to zarr), and saved or loaded
(``.safetensors`` weights plus a ``.json`` of settings).
"""

from __future__ import annotations

import time
from pathlib import Path

import napari
import numpy as np
from magicgui.widgets import (
    ComboBox,
    Container,
    FileEdit,
    FloatSlider,
    FloatSpinBox,
    Label,
    ProgressBar,
    PushButton,
    SpinBox,
)
from qtpy.QtCore import QTimer

from ..data import ROI
from ..denoisers import DENOISERS
from ..denoisers.filter2noise import Filter2Noise, fit_filter2noise
from .f2n_actions import ModelActions
from .f2n_render import CHANNELS, DEFAULT_REGIONS, Fitted, SigmaMapEditing, _limits
from .jobs import Job
from .params import param_values, widget_for
from .results import follow_default_output
from .scope import SCOPES, full_resolution, image_layer_names, roi_for

RENDER_DELAY_MS = 60
PREVIEW_INTERVAL_S = 0.1
FIT_SCOPES = tuple(s for s in SCOPES if s != "Whole layer")
TARGETS = ("Current slice", "Whole layer")


class Filter2NoiseWidget(SigmaMapEditing, ModelActions, Container):
    """Dock widget for Filter2Noise: fit with live preview, edit sigma maps, apply, save, load.

    Editing lives in :class:`~.f2n_render.SigmaMapEditing`, apply/save/load
    in :class:`~.f2n_actions.ModelActions`.
    """

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self.viewer = viewer
        self.job: Job | None = None
        self.fitted: Fitted | None = None
        self.regions: dict[int, tuple[float, float, float]] = dict(DEFAULT_REGIONS)
        self.last_render_s = 0.0
        self._last_preview = 0.0
        self._preview = ""
        self._make_widgets()
        self._render_timer = QTimer()
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(RENDER_DELAY_MS)
        self._render_timer.timeout.connect(self.rerender)
        self._connect()
        self.layer.reset_choices()

    # -- construction -------------------------------------------------------------------
    def _make_widgets(self) -> None:
        self.layer = ComboBox(label="image", choices=self._image_names, tooltip="layer to fit")
        self.scope = ComboBox(
            label="fit on",
            choices=list(FIT_SCOPES),
            value="Current slice",
            tooltip="region the filter is trained on (one 2-D plane)",
        )
        self.seed = SpinBox(label="seed", value=0, min=0, max=2**31 - 1)
        self.params = Container(label="parameters", labels=True)
        for param in DENOISERS["filter2noise"].params:
            self.params.append(widget_for(param))
        self.fit_button = PushButton(text="Fit")
        self.cancel_button = PushButton(text="Cancel", enabled=False)
        self.progress = ProgressBar(label="progress", value=0, max=1)
        self.status = Label(label="status", value="")
        tip = "multiplies the fitted {} everywhere (1 = as fitted)"
        self.sigma_x, self.sigma_y, self.sigma_r = (
            FloatSlider(
                label=f"{name} x",
                value=1.0,
                min=0.1,
                max=4.0,
                step=0.05,
                tooltip=tip.format(name),
                enabled=False,
            )
            for name in CHANNELS
        )
        self.region = SpinBox(
            label="region label",
            value=1,
            min=1,
            max=255,
            tooltip="label painted in the regions layer whose multipliers "
            "are shown below (follows the layer's selected label)",
        )
        self.region_x, self.region_y, self.region_r = (
            FloatSpinBox(
                label=f"region {name} x",
                value=1.0,
                min=0.05,
                max=10.0,
                step=0.05,
                tooltip=f"multiplier of {name} where this label is painted",
            )
            for name in CHANNELS
        )
        self.target = ComboBox(label="apply to", choices=list(TARGETS), value="Current slice")
        self.output = FileEdit(label="output", mode="w", filter="*.zarr")
        self.apply_button = PushButton(text="Apply fitted filter", enabled=False)
        self.model_path = FileEdit(
            label="model",
            mode="w",
            filter="*.safetensors",
            value=Path.cwd() / "filter2noise.safetensors",
        )
        self.save_button = PushButton(text="Save model", enabled=False)
        self.load_button = PushButton(text="Load model")
        self._load_region_values()
        self.extend(
            [
                self.layer,
                self.scope,
                self.seed,
                self.params,
                self.fit_button,
                self.cancel_button,
                self.progress,
                self.status,
                self.sigma_x,
                self.sigma_y,
                self.sigma_r,
                self.region,
                self.region_x,
                self.region_y,
                self.region_r,
                self.target,
                self.output,
                self.apply_button,
                self.model_path,
                self.save_button,
                self.load_button,
            ]
        )

    def _connect(self) -> None:
        self.viewer.layers.events.inserted.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._refresh_layers)
        follow_default_output(
            self.output, lambda: f"{self.layer.value or 'image'}_filter2noise", self.layer.changed
        )
        self.fit_button.clicked.connect(self.fit)
        self.cancel_button.clicked.connect(self.cancel)
        self.apply_button.clicked.connect(self.apply)
        self.save_button.clicked.connect(self.save)
        self.load_button.clicked.connect(self.load)
        for slider in (self.sigma_x, self.sigma_y, self.sigma_r):
            slider.changed.connect(self.schedule_render)
        self.region.changed.connect(self._region_selected)
        for box in (self.region_x, self.region_y, self.region_r):
            box.changed.connect(self._region_edited)

    def _image_names(self, widget=None) -> list[str]:
        return image_layer_names(self.viewer)

    def _refresh_layers(self, event=None) -> None:
        self.layer.reset_choices()

    # -- fitting ------------------------------------------------------------------------
    def source_layer(self) -> napari.layers.Image:
        if not self.layer.value:
            raise ValueError("open or select an image layer first")
        return self.viewer.layers[self.layer.value]

    def _region_plane(self) -> tuple[napari.layers.Image, ROI, np.ndarray]:
        layer = self.source_layer()
        roi = roi_for(self.scope.value, self.viewer, layer)
        block = roi.read(full_resolution(layer))
        return layer, roi, np.asarray(block, np.float32).reshape(block.shape[-2:])

    def fit(self) -> Job | None:
        """Fit Filter2Noise on the chosen region in the background, previewing the estimate."""
        self.cancel()
        try:
            layer, roi, plane = self._region_plane()
            params = param_values(self.params)
            seed = int(self.seed.value)
        except (ValueError, KeyError, TypeError) as error:
            self._say(f"cannot fit: {error}")
            return None
        self.fitted = None
        for widget in (self.sigma_x, self.sigma_y, self.sigma_r, self.save_button):
            widget.enabled = False
        self._preview = self._result_layer(layer, roi, plane).name

        def work():
            model = yield from fit_filter2noise(plane, seed=seed, **params)
            return model, model.sigma_maps(plane)  # the maps too, off the GUI thread

        def done(result: tuple[Filter2Noise, list[np.ndarray]]):
            model, maps = result
            self._fitted(model, layer, roi, plane, maps)
            self._say(f"fitted in {len(model.history)} steps, loss {model.history[-1]:.4g}")

        self._say(f"fitting on {plane.shape}...")
        self._last_preview = 0.0
        return self._start(
            Job(
                work,
                on_done=done,
                on_error=self._failed,
                on_step=self._stepped,
                on_finish=self._idle,
            )
        )

    def _stepped(self, step) -> None:
        self._progressed(step.i, step.n)
        loss = (step.info or {}).get("loss")
        if loss is not None:
            self._say(f"step {step.i}/{step.n}, loss {loss:.4g}")
        now = time.monotonic()
        name = self._preview
        if now - self._last_preview >= PREVIEW_INTERVAL_S and name in self.viewer.layers:
            target = self.viewer.layers[name]
            target.data = np.asarray(step.x0_hat, np.float32).reshape(target.data.shape)
            self._last_preview = now

    def _fitted(self, model: Filter2Noise, layer, roi: ROI, plane: np.ndarray, maps=None) -> None:
        maps = model.sigma_maps(plane) if maps is None else maps
        self.fitted = Fitted(model, layer.name, roi, plane, maps)
        for stage, stage_maps in enumerate(maps, start=1):
            for channel, values in zip(CHANNELS, stage_maps):
                self._put_layer(
                    layer,
                    roi,
                    values,
                    f"f2n {channel} stage {stage}",
                    colormap="viridis",
                    visible=False,
                    contrast_limits=_limits(values),
                )
        self._labels_layer(layer, roi)
        for widget in (self.sigma_x, self.sigma_y, self.sigma_r):
            widget.enabled = True
        self.apply_button.enabled = self.save_button.enabled = True
        self.rerender()

    def cancel(self) -> None:
        """Cancel the running job (a cancelled fit leaves no model and adds no map layers)."""
        if self.job is not None and self.job.running:
            self.job.cancel()
            self._say("cancelled")

    # -- job state ---------------------------------------------------------------------------
    def _start(self, job: Job) -> Job:
        self.job = job
        self.fit_button.enabled = self.apply_button.enabled = self.load_button.enabled = False
        self.cancel_button.enabled = True
        self.progress.value, self.progress.max = 0, 1
        return job.start()

    def _idle(self) -> None:
        self.fit_button.enabled = self.load_button.enabled = True
        self.apply_button.enabled = self.fitted is not None
        self.cancel_button.enabled = False

    def _progressed(self, done: int, total: int) -> None:
        self.progress.max = max(total, 1)
        self.progress.value = min(done, self.progress.max)

    def _failed(self, error: Exception) -> None:
        self._say(f"failed: {type(error).__name__}: {error}")

    def _say(self, text: str) -> None:
        self.status.value = text
