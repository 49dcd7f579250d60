"""Noise2Score (Kim & Ye 2021) dock widget: train on a layer, watch, stop, resume, apply, save.

Trains the score network on an image layer (a 2-D image, an (N, H, W) stack
of N images, or a lazy dask array) in the background, with a live loss plot
and a preview layer of a fixed central crop of the current plane.  Cancel
stops at the next step and keeps the partly trained model (it denoises,
saves and resumes); Resume continues training it.  The model denoises a
region (Shapes rectangle, current view, current slice) as an overlaid layer,
or the whole layer tile by tile into a zarr store opened lazily.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import napari
import numpy as np
from magicgui.widgets import (
    ComboBox,
    Container,
    FileEdit,
    FloatSpinBox,
    Label,
    ProgressBar,
    PushButton,
    SpinBox,
)

from ..denoisers.noise2score import DEFAULTS, Noise2Score
from ..noise import NOISE_MODELS
from .jobs import Job
from .n2s_actions import ModelActions
from .n2s_run import preview_roi, training_steps
from .params import param_values, widget_for
from .plot import MiniPlot, Series
from .results import Failed, follow_default_output, put_image
from .scope import SCOPES, current_index, full_resolution, image_layer_names

PREVIEW_SIDE = 96
PREVIEW_INTERVAL_S = 0.25
ROI_SCOPES = tuple(s for s in SCOPES if s != "Whole layer")
#: one widget per noise parameter name (sigma, zeta, k), shown for the models that have it
NOISE_WIDGETS = tuple({p.name: p for model in NOISE_MODELS.values() for p in model.params}.values())


class Noise2ScoreWidget(ModelActions, Container):
    """Dock widget for Noise2Score: train (cancel, resume), denoise a region or a layer, save."""

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self.viewer = viewer
        self.job: Job | None = None
        self.model: Noise2Score | None = None
        self.losses: list[tuple[int, float]] = []
        self.preview_updates = 0
        self._stop = threading.Event()
        self._training = False
        self._preview = ""
        self._last_preview = 0.0
        self._make_widgets()
        self._connect()
        self.layer.reset_choices()
        self._show_noise_params()

    # -- construction -------------------------------------------------------------------
    def _make_widgets(self) -> None:
        self.layer = ComboBox(
            label="training data",
            choices=self._image_names,
            tooltip="a 2-D image, a stack (N images of one dataset) or a lazy (dask) layer",
        )
        self.noise = ComboBox(label="noise", choices=["auto", *NOISE_MODELS], value="auto")
        self.noise_params = Container(label="noise parameters", labels=True)
        for param in NOISE_WIDGETS:
            self.noise_params.append(widget_for(param))
        self.minutes = FloatSpinBox(
            label="minutes", value=5.0, min=0.0, max=1440.0, step=0.5, tooltip="0: no limit"
        )
        self.steps = SpinBox(label="steps", value=DEFAULTS["steps"], min=1, max=1_000_000)
        self.batch = SpinBox(label="batch", value=DEFAULTS["batch"], min=1, max=256)
        self.patch = SpinBox(label="patch", value=DEFAULTS["patch"], min=8, max=512, step=8)
        self.init = ComboBox(
            label="init",
            choices=["prior", "scratch"],
            value="prior",
            tooltip="start from the bundled prior's weights or from random ones",
        )
        self.seed = SpinBox(label="seed", value=0, min=0, max=2**31 - 1)
        self.train_button = PushButton(text="Train")
        self.resume_button = PushButton(text="Resume training", enabled=False)
        self.cancel_button = PushButton(text="Cancel (keep model)", enabled=False)
        self.progress = ProgressBar(label="progress", value=0, max=1)
        self.status = Label(label="status", value="")
        self.scope = ComboBox(label="region", choices=list(ROI_SCOPES), value="Current slice")
        self.denoise_button = PushButton(text="Denoise region", enabled=False)
        self.output = FileEdit(label="output", mode="w", filter="*.zarr")
        self.apply_button = PushButton(text="Apply to whole layer (tiled, to zarr)", enabled=False)
        self.model_path = FileEdit(
            label="model",
            mode="w",
            filter="*.safetensors",
            value=Path.cwd() / "noise2score.safetensors",
        )
        self.save_button = PushButton(text="Save model", enabled=False)
        self.load_button = PushButton(text="Load model")
        self.plot = MiniPlot("training loss", logy=True)
        self.extend(
            [self.layer, self.noise, self.noise_params, self.minutes, self.steps, self.batch,
             self.patch, self.init, self.seed, self.train_button, self.resume_button,
             self.cancel_button, self.progress, self.status, self.scope, self.denoise_button,
             self.output, self.apply_button, self.model_path, self.save_button, self.load_button]
        )  # fmt: skip
        self.native.layout().addWidget(self.plot)

    def _connect(self) -> None:
        self.viewer.layers.events.inserted.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._refresh_layers)
        follow_default_output(
            self.output, lambda: f"{self.layer.value or 'image'}_noise2score", self.layer.changed
        )
        self.noise.changed.connect(self._show_noise_params)
        self.train_button.clicked.connect(self.train)
        self.resume_button.clicked.connect(self.resume)
        self.cancel_button.clicked.connect(self.cancel)
        self.denoise_button.clicked.connect(self.denoise_region)
        self.apply_button.clicked.connect(self.apply_to_whole_layer)
        self.save_button.clicked.connect(self.save)
        self.load_button.clicked.connect(self.load)

    def _image_names(self, widget=None) -> list[str]:
        return image_layer_names(self.viewer)

    def _refresh_layers(self, event=None) -> None:
        self.layer.reset_choices()

    def _show_noise_params(self, event=None) -> None:
        model = NOISE_MODELS.get(self.noise.value)
        used = model.param_names() if model else ()
        for widget in self.noise_params:
            widget.visible = widget.name in used
        self.noise_params.visible = bool(used)

    def source_layer(self) -> napari.layers.Image:
        if not self.layer.value:
            raise ValueError("open or select an image layer first")
        return self.viewer.layers[self.layer.value]

    # -- training -------------------------------------------------------------------------
    def train(self) -> Job | None:
        """Train a new model on the chosen layer in the background (live loss and preview)."""
        return self._train(state=None)

    def resume(self) -> Job | None:
        """Continue training the current model (same noise model and data scaling)."""
        if self.model is None:
            self._say("train or load a model first")
            return None
        return self._train(state=self.model)

    def _train(self, state: Noise2Score | None) -> Job | None:
        self._abort()
        try:
            layer = self.source_layer()
            data = full_resolution(layer)
            roi = preview_roi(data.shape, current_index(self.viewer, layer), PREVIEW_SIDE)
            crop = np.asarray(roi.read(data), np.float32)
        except (ValueError, KeyError, TypeError) as error:
            self._say(f"cannot train: {error}")
            return None
        self._preview = put_image(
            self.viewer, layer, roi, crop, f"{layer.name} [noise2score preview]"
        ).name
        options = dict(
            noise=self.noise.value, noise_params=param_values(self.noise_params), state=state,
            minutes=float(self.minutes.value) or None, steps=int(self.steps.value),
            batch=int(self.batch.value), patch=int(self.patch.value), init=self.init.value,
            seed=int(self.seed.value), preview_every=1, preview_crop=crop.reshape(crop.shape[-2:]),
        )  # fmt: skip
        stop = self._stop = threading.Event()
        if state is None:
            self.losses = []

        def work():
            try:
                return (yield from training_steps(data, stop, **options))
            except ValueError as error:
                return Failed(error)

        def done(model: Noise2Score | Failed) -> None:
            if isinstance(model, Failed):
                self._failed(model.error)
                return
            self.model = model
            what = "stopped early" if stop.is_set() else "trained"
            self._say(f"{what}: {model.step} steps, {model.noise_model}")

        self._say("training...")
        self._last_preview = 0.0
        job = Job(work, on_done=done, on_error=self._failed, on_step=self._stepped,
                  on_finish=self._idle)  # fmt: skip
        return self._start(job, training=True)

    def _stepped(self, step) -> None:
        info = step.info or {}
        if "noise" in info:
            self._say(f"noise: {info['noise']}; training...")
            return
        self.progress.max, self.progress.value = max(step.n, 1), min(step.i, max(step.n, 1))
        if "loss" in info:
            self.losses.append((step.i, float(info["loss"])))
        now = time.monotonic()
        if now - self._last_preview < PREVIEW_INTERVAL_S and step.i < step.n:
            return
        self._last_preview = now
        if self._preview in self.viewer.layers and step.x0_hat is not None:
            target = self.viewer.layers[self._preview]
            target.data = np.asarray(step.x0_hat, np.float32).reshape(target.data.shape)
            self.preview_updates += 1
        if self.losses:
            i, loss = np.array(self.losses).T
            self.plot.set_series([Series(i, loss, color="#40c0ff")])
            self._say(f"step {step.i}/{step.n}, loss {loss[-1]:.4g}")

    def cancel(self) -> None:
        """Stop: training ends at its next step keeping the model; other jobs are dropped."""
        if self.job is None or not self.job.running:
            return
        if self._training:
            self._stop.set()
            self.cancel_button.enabled = False
            self._say("stopping at the next step (the model is kept)...")
        else:
            self.job.cancel()
            self._say("cancelled")

    def _abort(self) -> None:
        if self.job is not None and self.job.running:
            self.job.cancel()

    # -- helpers --------------------------------------------------------------------------
    def _start(self, job: Job, training: bool = False) -> Job:
        self.job, self._training = job, training
        for button in (self.train_button, self.resume_button, self.denoise_button,
                       self.apply_button, self.save_button, self.load_button):  # fmt: skip
            button.enabled = False
        self.cancel_button.enabled = True
        self.progress.value, self.progress.max = 0, 1
        return job.start()

    def _idle(self) -> None:
        ready = self.model is not None
        self.train_button.enabled = self.load_button.enabled = True
        for button in (self.resume_button, self.denoise_button, self.apply_button,
                       self.save_button):  # fmt: skip
            button.enabled = ready
        self.cancel_button.enabled = False

    def _progressed(self, done: int, total: int) -> None:
        self.progress.max = max(total, 1)
        self.progress.value = min(done, self.progress.max)

    def _failed(self, error: Exception) -> None:
        self._say(f"failed: {type(error).__name__}: {error}")

    def _say(self, text: str) -> None:
        self.status.value = text
