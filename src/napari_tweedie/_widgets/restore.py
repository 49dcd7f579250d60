"""The Restore dock widget: diffusion inverse solvers with the live Tweedie estimate in napari."""

from __future__ import annotations

import napari
import numpy as np
from magicgui.widgets import CheckBox, ComboBox
from qtpy.QtCore import QTimer

from ..operators import OPERATORS
from ..restoration import restore_steps, simulate_measurement
from ..samplers import SAMPLERS
from ..specs import Param
from .base import INPUT_ERRORS, JobWidget, reported
from .device import device_picker
from .eta import describe_seconds, restore_seconds, time_prior_call
from .jobs import Job
from .params import seed_box, widget_for
from .prior_choice import PriorChoice
from .restore_colour import check_whole, per_channel, restore_region, spatial_shape
from .restore_inputs import PRESETS, SpecControls, observed_mask, placement
from .restore_layers import show_live, show_restored, stage_restore
from .restore_whole import start_whole_restore
from .results import output_edit
from .scope import SCOPES, full_resolution, oriented

#: first values that differ from the API's defaults (a real measurement is noisy)
START_VALUES = {"sigma_y": 0.05}
#: the run's own settings (the sampler's and operator's come from their specs)
RUN_PARAMS = (
    Param("steps", 50, "sampler steps (each operator's default is the best measured)", "int",
          1, 1000),
    Param("samples", 1, "posterior samples: their mean is the result; > 1 also gives a "
          "per-pixel std (uncertainty); each costs a full run", "int", 1, 64),
)  # fmt: skip
#: a preset's run time is estimated this long after it is chosen, unless a run started
ESTIMATE_DELAY_MS = 500


class RestoreWidget(JobWidget):
    """Run ``napari_tweedie.restore`` on a region and watch ``x0_hat = E[x0 | x_t]`` sharpen.

    While it runs, the "mean" layer shows the Tweedie estimate and the
    "sample" layer the sampler state (throttled to one update per 0.25 s,
    contrast following the data); afterwards they hold the posterior mean and
    the last sample, with the per-pixel std (with several samples) and the
    trajectory of estimates (scrub it with the slider); a new run replaces
    them (see :mod:`.restore_layers`: all are made at the Run click).

    Choosing an operator sets the sampler, steps and samples to its default
    (``OperatorSpec.default_sampler`` ...: the best point estimate measured,
    as ``nt.restore`` with nothing set).  The "Whole layer" scope restores
    every plane into the output OME-Zarr store (mean and std) in the
    background; a cancelled run resumes where it stopped.
    """

    layer_label = "measurement"
    layer_tooltip = "the measured image y (a sinogram for CT unless simulated)"
    scopes, scope_value = SCOPES, "Current view"
    scope_tooltip = (
        "region of the measurement to restore (one 2-D plane), or every plane of the "
        "layer into a zarr store (resumable)"
    )
    preview_interval_s = 0.2

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(viewer)
        self.trajectory: list[np.ndarray] = []
        self.preview_updates = 0
        self._make_widgets()
        self.scope.changed.connect(self._scope_chosen)
        self._scope_chosen(self.scope.value)
        self.preset.changed.connect(self.apply_preset)
        self.operator.changed.connect(self._operator_chosen)
        self.sampler.changed.connect(self._sampler_chosen)
        self._operator_chosen(self.operator.value)
        self._sampler_chosen(self.sampler.value)
        self.run_button.clicked.connect(self.run)
        self.timing = None  # the worker timing one prior call (see estimate_time)
        self._estimate_soon = QTimer()  # a preset chosen and no Run soon after: time it
        self._estimate_soon.setSingleShot(True)
        self._estimate_soon.setInterval(ESTIMATE_DELAY_MS)
        self._estimate_soon.timeout.connect(self.estimate_time)
        self.preset.changed.connect(lambda _: self._estimate_soon.start())

    def _make_widgets(self) -> None:
        self.preset = ComboBox(
            label="preset",
            choices=["(custom)", *PRESETS],
            value="(custom)",
            tooltip="fill operator, sampler, steps and noise for a kind of data "
            "(about a minute on a laptop CPU for a 256x256 region)",
        )
        self.simulate = CheckBox(
            label="simulate from image",
            value=False,
            tooltip="treat the region as the truth and simulate y = A x + n",
        )
        self.operator = ComboBox(label="what to undo", choices=list(OPERATORS), value="denoise")
        self.operator_controls = SpecControls(OPERATORS, shared=True, start=START_VALUES)
        for control in self.operator_controls.widgets:
            setattr(self, control.name, control)  # widget.sigma_y, widget.angles, ...
        self.mask_layer = ComboBox(
            label="inpaint mask",
            choices=self._labels_names,
            tooltip="Labels layer: painted pixels (> 0) are missing",
        )
        self.sampler = ComboBox(label="sampler", choices=list(SAMPLERS), value="dds")
        self.sampler_controls = SpecControls(
            SAMPLERS, shared=False, words={"zeta": "re-noise fraction"}
        )
        self.prior_choice = PriorChoice()
        self.prior = self.prior_choice.combo
        self.steps, self.samples = (widget_for(param) for param in RUN_PARAMS)
        self.seed = seed_box()
        self.device = device_picker()
        self.show_live = CheckBox(
            label="live preview",
            value=True,
            tooltip="show the current estimate x0_hat and the state x_t while it runs",
        )
        self.output = output_edit(
            lambda: f"{self.layer.value or 'image'}_{self.operator.value}",
            self.layer.changed,
            self.operator.changed,
        )
        self.lay_out(
            [self.preset, self.simulate, self.operator, *self.operator_controls.widgets,
             self.mask_layer, self.sampler, *self.sampler_controls.widgets,
             *self.prior_choice.widgets, self.steps, self.samples, self.seed, self.device,
             self.show_live],
            [self.output]
        )  # fmt: skip

    def _image_names(self, widget=None) -> list[str]:
        return [name for name in super()._image_names() if not name.startswith("restore:")]

    def _labels_names(self, widget=None) -> list[str]:
        return [lay.name for lay in self.viewer.layers if isinstance(lay, napari.layers.Labels)]

    def _refresh_layers(self, event=None) -> None:
        super()._refresh_layers(event)
        self.mask_layer.reset_choices()

    def _operator_chosen(self, name: str) -> None:
        spec = OPERATORS[name]
        self.operator_controls.show(name)
        self.mask_layer.visible = spec.needs_mask
        self.operator.tooltip = spec.summary
        # the operator's default: the best point estimate measured (as nt.restore's)
        self.sampler.value = spec.default_sampler
        controls = self.sampler_controls.by_spec[spec.default_sampler]
        for key, value in spec.default_settings.items():
            controls[key][1].value = value
        self.steps.value = spec.default_steps
        stochastic = SAMPLERS[spec.default_sampler].stochastic
        self.samples.value = spec.default_samples if stochastic else 1

    def _scope_chosen(self, scope: str) -> None:
        self.output.visible = scope == "Whole layer"

    def _sampler_chosen(self, name: str) -> None:
        self.sampler_controls.show(name)
        self.sampler.tooltip = SAMPLERS[name].summary

    def apply_preset(self, name: str) -> None:
        """Fill the operator (and its default sampler, steps, samples) and a preset's settings."""
        preset = dict(PRESETS.get(name, {}))
        operator = preset.pop("operator", self.operator.value)
        if operator == self.operator.value:
            self._operator_chosen(operator)  # no change event: its defaults again
        self.operator.value = operator
        for key, value in preset.items():
            getattr(self, key).value = value

    def estimate_time(self, event=None):
        """Time one prior call at the region's size in the background; the status says the time.

        Nothing is timed while a job runs (its steps give the time left), and
        a result that arrives after a run started is dropped.  Returns the worker.
        """
        try:
            if self.busy or not self.layer.value:
                return None
            _, roi = self.source_roi()
        except (*INPUT_ERRORS, RuntimeError):  # RuntimeError: the window is already closed
            return None
        from napari.qt.threading import create_worker

        shape, where = tuple(roi.shape[-2:]), self.where
        steps, samples = int(self.steps.value), int(self.samples.value)
        self.timing = create_worker(time_prior_call, self.prior_choice.value, shape,
                                    self.device.value, _start_thread=False,
                                    _ignore_errors=True)  # fmt: skip

        def timed(call_s: float) -> None:
            if not self.busy:
                total = describe_seconds(restore_seconds(call_s, steps, samples))
                self.say(f"estimate: {total} for {steps} steps on {where} "
                         f"(one prior call: {call_s:.2f} s)")  # fmt: skip

        self.timing.returned.connect(timed)
        self.timing.start()
        return self.timing

    # -- running ------------------------------------------------------------------------
    def operator_params(self, shape: tuple[int, ...]) -> dict:
        """The chosen operator's parameters (and the mask of a region of ``shape``)."""
        params = self.operator_controls.values(self.operator.value)
        if OPERATORS[self.operator.value].needs_mask:
            params["mask"] = self._observed_mask(shape)
        return params

    def _observed_mask(self, shape) -> np.ndarray:
        if not self.mask_layer.value:
            raise ValueError("paint the missing pixels in a Labels layer and choose it as mask")
        labels = self.viewer.layers[self.mask_layer.value].data
        return observed_mask(labels, self._source_shape, self._roi, shape)

    def measurement(self):
        """(y, operator params, ROI, source layer) for the current settings."""
        self._refresh_layers()
        layer, read, self._roi = restore_region(self)  # RGB: read keeps the colour axis
        self._source_shape = spatial_shape(layer)
        block = np.asarray(read.read(full_resolution(layer)), dtype=np.float32)
        plane = block.reshape(block.shape[-3:] if layer.rgb else block.shape[-2:])
        params = self.operator_params(plane.shape[:2])
        spec = OPERATORS[self.operator.value]
        # a napari layer holds no complex k-space: such measurements are simulated
        simulated = self.simulate.value or spec.complex_measurement
        if not simulated and spec.check is not None:
            spec.check(plane[..., 0] if layer.rgb else plane, params)  # e.g. CT: a sinogram
        if simulated:
            operator = self.operator.value
            plane = per_channel(lambda p, s: simulate_measurement(p, operator, seed=s, **params),
                                plane, int(self.seed.value))  # fmt: skip
            if spec.shape_param is not None:
                params[spec.shape_param] = tuple(self._roi.shape[-2:])
        return plane, params, self._roi, layer

    @reported("run")
    def run(self) -> Job | None:
        """Start the solver on the region (or every plane) in a background worker."""
        self._estimate_soon.stop()  # its steps will tell the time left
        settings = dict(
            sampler=self.sampler.value,
            prior=self.prior_choice.value,
            steps=int(self.steps.value),
            samples=int(self.samples.value),
            seed=int(self.seed.value),
            device=self.device.value,
        )
        if self.scope.value == "Whole layer":
            check_whole(self.source_layer())
            name = f"{self.layer.value} [{self.operator.value}, {settings['sampler']}, whole]"
            return start_whole_restore(self, settings, name)
        y, params, roi, layer = self.measurement()
        params |= self.sampler_controls.values(self.sampler.value)
        if layer.rgb:
            settings["channel_axis"] = -1
        operator = self.operator.value
        self.trajectory, self.preview_updates = [], 0
        tag = f"{layer.name} [{operator}, {settings['sampler']}]"
        shape = tuple(roi.shape[-2:])
        stage_restore(
            self.staged(),
            layer,
            self._placement(layer, roi, shape),
            shape,
            tag,
            settings["samples"],
        )  # the layers are added now, not while it runs

        def work():
            return (yield from restore_steps(y, operator, **settings, **params))

        self.say(f"running {settings['sampler']} ({operator}) on {self.where}...")
        return self.start(
            work,
            on_done=lambda r: self._finished(r, layer, roi, tag),
            on_step=lambda s: self._stepped(s, layer, roi, tag),
        )

    # -- display ------------------------------------------------------------------------
    def _placement(self, layer, roi, shape) -> dict:
        if not OPERATORS[self.operator.value].image_grid and not self.simulate.value:
            return {}  # e.g. a sinogram: the image grid is not the layer's
        return placement(layer, roi, shape) | oriented(layer)

    def _stepped(self, step, layer, roi, tag: str) -> None:
        if not self.preview_due(step):
            return
        estimate = np.asarray(step.x0_hat).mean(axis=0)  # RGB: the current opponent channel
        if layer.rgb:
            return  # its layers are colour: the live estimate of one opponent channel is not
        self.trajectory.append(estimate)
        if self.show_live.value:
            show_live(self.previews, tag, step, estimate,
                      self._placement(layer, roi, estimate.shape))  # fmt: skip
            self.preview_updates += 1

    def _finished(self, result, layer, roi, tag: str) -> None:
        """Put the mean, the last sample, the std and the trajectory into the run's layers."""
        grid = result.mean.shape[:2] if layer.rgb else result.mean.shape
        place = self._placement(layer, roi, grid)
        show_restored(self.viewer, layer, result, place, tag, self.trajectory)
        self.say(f"done: {tag}")
