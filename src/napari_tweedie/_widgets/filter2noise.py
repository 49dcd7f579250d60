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
from dataclasses import dataclass
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

from ..data import ROI, compute_with_progress, open_array, store_atomic
from ..denoisers import DENOISERS
from ..denoisers.filter2noise import Filter2Noise, fit_filter2noise
from .jobs import Job
from .params import param_values, widget_for
from .scope import SCOPES, current_index, full_resolution, result_translate, roi_for

RENDER_DELAY_MS = 60
PREVIEW_INTERVAL_S = 0.1
FIT_SCOPES = tuple(s for s in SCOPES if s != "Whole layer")
TARGETS = ("Current slice", "Whole layer")
#: Multipliers (sigma_x, sigma_y, sigma_r) of labels 1 and 2 until the user changes them.
DEFAULT_REGIONS = {1: (0.5, 0.5, 0.5), 2: (2.0, 2.0, 2.0)}
CHANNELS = ("sigma_x", "sigma_y", "sigma_r")


@dataclass
class Fitted:
    """What the editing part works on: the model, its region and that region's sigma maps."""

    model: Filter2Noise
    layer: str
    roi: ROI
    plane: np.ndarray
    maps: list[np.ndarray]


class Filter2NoiseWidget(Container):
    """Dock widget for Filter2Noise: fit with live preview, edit sigma maps, apply, save, load."""

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
        self.output = FileEdit(
            label="output", mode="w", filter="*.zarr", value=Path.cwd() / "filter2noise.zarr"
        )
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
        names = [lay.name for lay in self.viewer.layers if isinstance(lay, napari.layers.Image)]
        return [n for n in names if "[" not in n] + [n for n in names if "[" in n]

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

    # -- editing ------------------------------------------------------------------------
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
        return data.reshape(self.fitted.plane.shape) if data.any() else None

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
            self._put_layer(layer, fit.roi, result, "")
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

    def _labels_layer(self, layer, roi: ROI) -> None:
        name = self._name("f2n regions", layer.name)
        if name in self.viewer.layers:
            self.viewer.layers.remove(name)
        labels = self.viewer.add_labels(
            np.zeros(roi.shape, np.int32),
            name=name,
            scale=layer.scale,
            translate=result_translate(layer, roi),
            opacity=0.4,
        )
        labels.selected_label = int(self.region.value)
        labels.events.paint.connect(self.schedule_render)
        labels.events.data.connect(self.schedule_render)
        labels.events.selected_label.connect(self._follow_selected_label)

    def _follow_selected_label(self, event=None) -> None:
        name = self._name("f2n regions")
        if name in self.viewer.layers:
            label = int(self.viewer.layers[name].selected_label)
            if label >= 1 and label != self.region.value:
                self.region.value = label

    # -- apply, save, load ---------------------------------------------------------------
    def apply(self) -> Job | None:
        """Apply the fitted (and edited) filter to the current slice or the whole layer."""
        if self.fitted is None:
            self._say("fit or load a model first")
            return None
        self.cancel()
        fit = self.fitted
        try:
            layer = self.source_layer()
            full = full_resolution(layer)
            roi = ROI.whole(full.shape)
            if self.target.value == "Current slice":
                roi = ROI.current_slice(full.shape, current_index(self.viewer, layer))
            lazy = fit.model.apply_lazy(
                full[roi.slices],
                labels=self.region_labels(),
                regions=self.regions,
                label_offset=fit.roi.offset[-2:],
                **self.multipliers(),
            )
            target = Path(self.output.value).expanduser()
            if self.target.value == "Whole layer" and target.suffix.lower() != ".zarr":
                raise ValueError("the output must be a .zarr store")
        except (ValueError, KeyError, TypeError) as error:
            self._say(f"cannot apply: {error}")
            return None
        source = getattr(layer.source, "path", None)
        whole = self.target.value == "Whole layer"

        def work(progress):
            if whole:
                return store_atomic(
                    lazy, target, inputs=[source] if source else [], callback=progress
                )
            return compute_with_progress(lazy, progress)

        def done(result):
            data = open_array(result) if whole else result
            suffix = "whole" if whole else "slice"
            name = f"{layer.name} [filter2noise, {suffix}]"
            if name in self.viewer.layers:
                self.viewer.layers.remove(name)
            self.viewer.add_image(
                data,
                name=name,
                scale=layer.scale,
                translate=result_translate(layer, roi),
                contrast_limits=layer.contrast_limits,
                colormap=layer.colormap,
            )
            self._say(f"applied to the {suffix}" + (f": {result}" if whole else ""))

        self._say("applying...")
        return self._start(
            Job(
                work,
                on_done=done,
                on_error=self._failed,
                on_progress=self._progressed,
                on_finish=self._idle,
            )
        )

    def save(self) -> Path | None:
        """Save the fitted model (weights ``.safetensors`` and settings ``.json``)."""
        if self.fitted is None:
            self._say("nothing to save: fit or load a model first")
            return None
        try:
            path = self.fitted.model.save(Path(self.model_path.value).expanduser())
        except OSError as error:
            self._say(f"cannot save: {error}")
            return None
        self._say(f"saved {path}")
        return path

    def load(self) -> Filter2Noise | None:
        """Load a model and show its sigma maps on the chosen region (no fitting)."""
        self.cancel()
        try:
            model = Filter2Noise.load(Path(self.model_path.value).expanduser())
            layer, roi, plane = self._region_plane()
        except (OSError, ValueError, KeyError) as error:
            self._say(f"cannot load: {error}")
            return None
        self._result_layer(layer, roi, plane)
        self._fitted(model, layer, roi, plane)
        self._say(f"loaded {self.model_path.value}")
        return model

    def cancel(self) -> None:
        """Cancel the running job (a cancelled fit leaves no model and adds no map layers)."""
        if self.job is not None and self.job.running:
            self.job.cancel()
            self._say("cancelled")

    # -- helpers ----------------------------------------------------------------------------
    def _name(self, what: str, layer: str | None = None) -> str:
        base = layer or (self.fitted.layer if self.fitted else self.layer.value)
        return f"{base} [filter2noise{', ' + what if what else ''}]"

    def _put_layer(self, layer, roi: ROI, values: np.ndarray, what: str, **kwargs):
        """Create or update the layer ``"<layer> [filter2noise, what]"`` over ``roi``."""
        name = self._name(what, layer.name)
        data = np.asarray(values, np.float32).reshape(roi.shape)
        translate = result_translate(layer, roi)
        if name in self.viewer.layers and self.viewer.layers[name].data.shape == data.shape:
            target = self.viewer.layers[name]
            target.data, target.translate = data, translate
            return target
        if name in self.viewer.layers:
            self.viewer.layers.remove(name)
        kwargs.setdefault("contrast_limits", layer.contrast_limits)
        kwargs.setdefault("colormap", layer.colormap)
        return self.viewer.add_image(
            data, name=name, scale=layer.scale, translate=translate, **kwargs
        )

    def _result_layer(self, layer, roi: ROI, plane: np.ndarray):
        """The preallocated preview/result layer (starts as the noisy region)."""
        return self._put_layer(layer, roi, plane, "")

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


def _limits(values: np.ndarray) -> tuple[float, float]:
    low, high = float(np.min(values)), float(np.max(values))
    return (low, high) if high > low else (low, low + 1e-6 + abs(low) * 1e-3)
