"""Noise2Score (Kim & Ye 2021) dock widget: train on a layer, watch, stop, resume, apply, save.

Trains the score network on an image layer (a 2-D image, an (N, H, W) stack
of N images, or a lazy dask array) in the background, with a live loss plot
and a preview layer of a fixed central crop of the current plane.  Cancel
stops at the next step and keeps the partly trained model (it denoises,
saves and resumes); Resume continues training it.  The model (in the
:class:`~.panel.ModelPanel`) denoises a region (Shapes rectangle, current
view, current slice) as an overlaid layer, or the whole layer tile by tile
into a zarr store opened lazily.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import napari
import numpy as np
from magicgui.widgets import ComboBox, Container, PushButton

from ..denoisers.noise2score import SPECS, Noise2Score
from ..noise import NOISE_MODELS
from .base import JobWidget, reported
from .device import device_picker
from .jobs import Job
from .n2s_run import preview_roi, training_steps
from .panel import ModelPanel
from .params import param_values, seed_box, widget_for
from .plot import MiniPlot, Series
from .results import Failed
from .scope import current_index, full_resolution, overlay

PREVIEW_SIDE = 96
#: one widget per noise parameter name (sigma, zeta, k), shown for the models that have it
NOISE_WIDGETS = tuple({p.name: p for model in NOISE_MODELS.values() for p in model.params}.values())


class Noise2ScoreWidget(JobWidget):
    """Dock widget for Noise2Score: train (cancel, resume); apply, save, load in :attr:`panel`."""

    layer_label = "training data"
    layer_tooltip = "a 2-D image, a stack (N images of one dataset) or a lazy (dask) layer"
    scopes, run_text, cancel_text = (), "Train", "Cancel (keep model)"

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(viewer)
        self.losses: list[tuple[int, float]] = []
        self.preview_updates = 0
        self._stop = threading.Event()
        self._training: Job | None = None
        self.noise = ComboBox(
            label="noise",
            choices=["auto", *NOISE_MODELS],
            value="auto",
            tooltip="the data's noise model (auto: chosen from the data); "
            + "; ".join(model.summary for model in NOISE_MODELS.values()),
        )
        self.noise_params = Container(label="noise parameters", labels=True)
        for param in NOISE_WIDGETS:
            self.noise_params.append(widget_for(param))
        # the training settings are the denoiser's own parameters (a 5-minute budget here)
        training = {p.name: p for p in SPECS[0].params}
        training["minutes"] = replace(training["minutes"], default=5.0)
        self.minutes, self.steps, self.batch, self.patch, self.init = (
            widget_for(training[name]) for name in ("minutes", "steps", "batch", "patch", "init")
        )
        self.seed = seed_box("model")
        self.device = device_picker()
        self.resume_button = PushButton(
            text="Resume training", tooltip="continue training the current model"
        )
        self.panel = ModelPanel(self, "noise2score", Noise2Score.load, loaded=self._show_loaded)
        self.plot = MiniPlot("training loss", logy=True, xlabel="step", ylabel="loss")
        self.lay_out(
            [self.noise, self.noise_params, self.minutes, self.steps, self.batch, self.patch,
             self.init, self.seed, self.device],
            [self.resume_button, self.panel],
        )  # fmt: skip
        self.native.layout().addWidget(self.plot)
        self.action(self.resume_button, self.panel.ready)
        self.noise.changed.connect(self._show_noise_params)
        self.run_button.clicked.connect(self.train)
        self.resume_button.clicked.connect(self.resume)
        self._show_noise_params()

    def _show_noise_params(self, event=None) -> None:
        model = NOISE_MODELS.get(self.noise.value)
        used = model.param_names() if model else ()
        for widget in self.noise_params:
            widget.visible = widget.name in used
        self.noise_params.visible = bool(used)

    def _show_loaded(self, model: Noise2Score) -> None:
        self.noise.value = model.noise_model.name

    # -- training -------------------------------------------------------------------------
    def train(self) -> Job | None:
        """Train a new model on the chosen layer in the background (live loss and preview)."""
        return self._train(state=None)

    def resume(self) -> Job | None:
        """Continue training the current model (same noise model and data scaling)."""
        if self.panel.model is None:
            self.say("train or load a model first")
            return None
        return self._train(state=self.panel.model)

    @reported("train")
    def _train(self, state: Noise2Score | None) -> Job | None:
        layer = self.source_layer()
        data = full_resolution(layer)
        roi = preview_roi(data.shape, current_index(self.viewer, layer), PREVIEW_SIDE)
        crop = np.asarray(roi.read(data), np.float32)
        options = dict(
            noise=self.noise.value, noise_params=param_values(self.noise_params), state=state,
            minutes=float(self.minutes.value) or None, steps=int(self.steps.value),
            batch=int(self.batch.value), patch=int(self.patch.value), init=self.init.value,
            seed=int(self.seed.value), preview_every=1, preview_crop=crop.reshape(crop.shape[-2:]),
            device=self.device.value,
        )  # fmt: skip
        stop = self._stop = threading.Event()
        if state is None:
            self.losses = []
        name = f"{layer.name} [noise2score preview]"
        look = dict(contrast_limits=layer.contrast_limits, colormap=layer.colormap)
        self.staged().image(name, tuple(roi.shape), overlay(layer, roi), **look)  # at the click
        place = dict(overlay(layer, roi), **look)

        def work():
            try:
                return (yield from training_steps(data, stop, **options))
            except ValueError as error:
                return Failed(error)

        def done(model: Noise2Score) -> None:
            self.keep_previews()  # the preview stays: the model's estimate of the crop
            self.panel.set_model(model)
            what = "stopped early" if stop.is_set() else "trained"
            self.say(f"{what}: {model.step} steps, {model.noise_model}")

        def stepped(step) -> None:
            info = step.info or {}
            if "noise" in info:
                self.say(f"noise: {info['noise']}; training...")
                return
            if "loss" in info:
                self.losses.append((step.i, float(info["loss"])))
            if step.x0_hat is None:
                return
            estimate = np.asarray(step.x0_hat, np.float32).reshape(roi.shape)
            if self.show_preview(step, name, estimate, **place):
                self.preview_updates += 1
                self._plot_losses(step)

        self.say("training...")
        self._training = self.start(work, on_done=done, on_step=stepped)
        return self._training

    def _plot_losses(self, step) -> None:
        if self.losses:
            i, loss = np.array(self.losses).T
            self.plot.set_series([Series(i, loss, color="#40c0ff")])
            self.say(f"step {step.i}/{step.n}, loss {loss[-1]:.4g}")

    def cancel(self) -> None:
        """Stop: training ends at its next step keeping the model; other jobs are dropped."""
        if not self.busy or self.job is not self._training:
            super().cancel()
            return
        self._stop.set()
        self.cancel_button.enabled = False
        self.say("stopping at the next step (the model is kept)...")
