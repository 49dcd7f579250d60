"""The base of the dock widgets: layer picker, scope, Run/Cancel, progress, status, live layers.

:class:`JobWidget` holds what every dock widget of the plugin repeats: an
image layer picker that follows the layer list, a scope (Shapes rectangle,
current view, current slice, whole layer), a Run and a Cancel button, a
progress bar, a status line, the one background :class:`~.jobs.Job` at a
time, and its throttled live preview layers (:class:`~.live.LiveLayers`).
A subclass makes its own controls, lays them out with :meth:`JobWidget.lay_out`
and starts its work with :meth:`JobWidget.start`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import napari
from magicgui.widgets import ComboBox, Container, Label, ProgressBar, PushButton, Widget

from ..data import ROI
from .eta import StepClock, describe_left
from .jobs import Job
from .layout import INPUT_ERRORS, compact_choices, fit_scroll, fit_width, reported
from .live import LiveLayers
from .removal import viewer_open, watch_jobs
from .results import Failed, whole_layer_job, whole_layer_stage
from .scope import SCOPES, describe, image_layer_names, roi_for
from .staging import Stage

__all__ = ["INPUT_ERRORS", "ROI_SCOPES", "JobWidget", "compact_choices", "fit_width", "reported"]

#: The status line shows at most this many characters (the tooltip has all).
STATUS_CHARS = 200
#: a job whose click added layers starts this much later (napari draws them first)
FIRST_DRAW_MS = 60
#: The scopes of one plane (all but "Whole layer").
ROI_SCOPES = tuple(s for s in SCOPES if s != "Whole layer")


class JobWidget(Container):
    """A dock widget that runs one background job at a time on (a region of) an image layer.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer whose image layers are offered.

    Attributes
    ----------
    job : Job or None
        The last job started.
    previews : LiveLayers
        The running job's preview layers (see :meth:`show_preview`).
    stage : Stage
        The last run's result layers, made ready before its job started (see :meth:`staged`).

    Subclasses configure the common controls with class attributes:
    ``layer_label``, ``layer_tooltip`` (the layer picker :attr:`layer`);
    ``scopes`` (choices of :attr:`scope`, from :data:`~.scope.SCOPES`; empty:
    no scope control), ``scope_label``, ``scope_value``, ``scope_tooltip``;
    ``run_text``, ``cancel_text`` (the buttons); ``preview_interval_s`` (at
    most one live update per this many seconds; the last step always shows).
    """

    layer_label, layer_tooltip = "image", "the image layer to work on"
    scopes: Sequence[str] = SCOPES
    scope_label, scope_value = "scope", "Current slice"
    scope_tooltip = (
        "the pixels to work on: the last Shapes rectangle, what the canvas shows (current "
        "view), the displayed plane (current slice) or all of the layer (tiled, to zarr)"
    )
    run_text, cancel_text = "Run", "Cancel"
    preview_interval_s = 0.25

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(labels=True, scrollable=True)  # the dock scrolls, never overflows
        self.viewer = viewer
        self.job: Job | None = None
        self.where = ""  # the region of the last run, in words (see scope.describe)
        self.previews = LiveLayers(viewer)
        self.stage = Stage(viewer)
        watch_jobs(viewer, self)  # no layer of this viewer is removed while a job runs
        self.clock = StepClock()  # times the running job's steps (see progressed)
        self.message, self.eta = "", ""  # the status line: the last message, the time left
        self._actions: list[tuple[Widget, Callable[[], bool]]] = []
        self.layer = ComboBox(
            label=self.layer_label, choices=self._image_names, tooltip=self.layer_tooltip
        )
        self.scope = ComboBox(
            label=self.scope_label, choices=list(self.scopes), tooltip=self.scope_tooltip
        )
        if self.scope_value in self.scopes:
            self.scope.value = self.scope_value
        self.run_button = PushButton(text=self.run_text, tooltip="start (in the background)")
        self.cancel_button = PushButton(
            text=self.cancel_text, enabled=False, tooltip="stop at the next step"
        )
        self.progress = ProgressBar(label="progress", value=0, max=1, tooltip="steps done")
        self.status = Label(label="status", value="")
        fit_width(self.status)
        self.action(self.run_button)
        self.cancel_button.clicked.connect(self.cancel)
        viewer.layers.events.inserted.connect(self._refresh_layers)
        viewer.layers.events.removed.connect(self._refresh_layers)

    # -- construction -------------------------------------------------------------------
    def lay_out(self, controls: Sequence[Widget] = (), after: Sequence[Widget] = ()) -> None:
        """Add the layer picker, ``controls``, scope, buttons, progress, status, then ``after``."""
        scope = [self.scope] if self.scope.choices else []
        self.extend([self.layer, *controls, *scope, self.run_button, self.cancel_button,
                     self.progress, self.status, *after])  # fmt: skip
        self.layer.reset_choices()
        compact_choices(self)
        fit_scroll(self)

    def action(self, button: Widget, ready: Callable[[], bool] = lambda: True) -> None:
        """Disable ``button`` while a job runs; afterwards enable it when ``ready()``."""
        self._actions.append((button, ready))
        button.enabled = ready()

    def _image_names(self, widget=None) -> list[str]:
        return image_layer_names(self.viewer)

    def _refresh_layers(self, event=None) -> None:
        self.layer.reset_choices()

    # -- inputs -------------------------------------------------------------------------
    def source_layer(self) -> napari.layers.Image:
        """The chosen image layer (a ``ValueError`` if there is none)."""
        if not self.layer.value:
            raise ValueError("open or select an image layer first")
        return self.viewer.layers[self.layer.value]

    def source_roi(self, scope: str | None = None) -> tuple[napari.layers.Image, ROI]:
        """The chosen layer and the ROI of ``scope`` (default: :attr:`scope`) on it."""
        layer = self.source_layer()
        scope = scope or self.scope.value
        roi = roi_for(scope, self.viewer, layer)
        self.where = describe(scope, roi, self.viewer.dims.ndisplay)
        return layer, roi

    # -- jobs ---------------------------------------------------------------------------
    def start(
        self,
        work: Callable[..., Any],
        *,
        on_done: Callable[[Any], None],
        on_step: Callable[[Any], None] | None = None,
    ) -> Job:
        """Run ``work`` as the widget's job (see :class:`~.jobs.Job`); a former one is cancelled.

        ``work`` is a generator function yielding ``Step`` (progress follows
        the steps; ``on_step`` sees each one) or a function of ``progress``.
        A :class:`~.results.Failed` result is reported instead of reaching
        ``on_done``.
        """

        def done(result: Any) -> None:
            if isinstance(result, Failed):
                self.failed(result.error)
            else:
                self.progress.value = self.progress.max
                on_done(result)
                self.previews.release(self.stage.layers())  # the staged layers are results
                self.stage.commit()

        def stepped(step: Any) -> None:
            self.progressed(step.i, step.n)
            if on_step is not None:
                on_step(step)

        job = Job(work, on_done=done, on_error=self.failed, on_step=stepped,
                  on_progress=self.progressed, on_finish=self.idle)  # fmt: skip
        return self.start_job(job)

    def start_whole(
        self, layer: napari.layers.Image, lazy: Any, target: str | Path, name: str,
        keep_rgb: bool = False,
    ):  # fmt: skip
        """Write ``lazy`` (the whole layer's result) to the zarr ``target``, then open it lazily.

        See :func:`~.results.whole_layer_job`; the result is the layer ``name``.
        """
        stage = self.staged()
        job = whole_layer_job(self.viewer, layer, lazy, target, name, on_error=self.failed,
                              on_progress=self.progressed, on_finish=self.idle,
                              on_done=self._wrote, keep_rgb=keep_rgb)  # fmt: skip
        whole_layer_stage(stage, layer, name, keep_rgb)
        self.say(f"writing {target}...")
        return self.start_job(job)

    def _wrote(self, path: Path) -> None:
        self.progress.value = self.progress.max
        self.previews.release(self.stage.layers())  # the staged layer is the result
        self.stage.commit()
        self.say(f"wrote {path}")

    def staged(self) -> Stage:
        """A new run's :class:`~.staging.Stage`: its result layers are made ready before it starts.

        The running job (if any) is cancelled first, its own layers restored.
        """
        self.abort()
        self.stage = Stage(self.viewer)
        return self.stage

    def start_job(self, job: Job) -> Job:
        """Cancel the running job, make ``job`` the widget's job and start it."""
        self.abort()
        self.job = job
        job.alive = lambda: viewer_open(self.viewer)  # a closed window's widget is gone
        for button, _ in self._actions:
            button.enabled = False
        self.cancel_button.enabled = True
        self.progress.value, self.progress.max = 0, 1
        self.clock, self.eta = StepClock(), ""
        if self.stage.new:  # the click added layers: napari draws them before the job starts
            return job.start_soon(FIRST_DRAW_MS)
        return job.start()

    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.running

    def abort(self) -> None:
        """Cancel the running job quietly (its result, if any, is discarded)."""
        if self.busy:
            self.job.cancel()

    def cancel(self) -> None:
        """Cancel the running job (its result, if any, is discarded)."""
        if self.busy:
            self.abort()
            self.say("cancelled")

    def idle(self) -> None:
        """The job is over: retire its live layers, enable the ready actions.

        A run that did not end well (cancelled, failed) gives its staged layers
        back: former results get their data again, new layers go.
        """
        restored = list(self.stage.former)
        new = self.stage.undo()
        self.previews.release(restored)
        self.previews.retire(self.job, also=new)  # hidden now, removed once the thread has ended
        self.refresh_actions()
        self.cancel_button.enabled = False
        if self.eta:
            self.eta = ""
            self.say(self.message)

    def refresh_actions(self) -> None:
        """Enable each action when no job runs and it is ready."""
        for button, ready in self._actions:
            button.enabled = not self.busy and ready()

    # -- display ------------------------------------------------------------------------
    def preview_due(self, step: Any) -> bool:
        """Whether ``step`` is to be shown: one update per :attr:`preview_interval_s`, and the last.

        True starts a new interval: show every live layer of this step then
        (with ``self.previews.show``).
        """
        return self.previews.due(self.preview_interval_s, final=step.i >= step.n)

    def show_preview(self, step: Any, name: str, data: Any, **kwargs: Any) -> bool:
        """Show ``data`` in the live layer ``name`` if an update is due (see :class:`LiveLayers`).

        Throttled by :meth:`preview_due`; ``kwargs`` go to ``add_image``
        (without ``contrast_limits`` the limits follow the data).  Returns
        whether it showed.
        """
        if not self.preview_due(step):
            return False
        self.previews.show(name, data, **kwargs)
        return True

    def keep_previews(self) -> None:
        """Keep the live layers as results (they are not removed when the job ends)."""
        self.previews.keep()

    def progressed(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` steps; the status adds the time left (from step times)."""
        self.progress.max = max(total, 1)
        self.progress.value = min(done, self.progress.max)
        eta = describe_left(self.clock.left(done, total)) if self.busy else ""
        if eta != self.eta:
            self.eta = eta
            self.say(self.message)

    def failed(self, error: Exception) -> None:
        self.say(f"failed: {type(error).__name__}: {error}")

    def say(self, text: str) -> None:
        """Show ``text`` in the status line (at most :data:`STATUS_CHARS`; all in the tooltip).

        While a job runs, the time left follows it (``"...; about 40 s left"``).
        """
        self.message = text
        if self.eta and self.busy:
            text = f"{text}; {self.eta}" if text else self.eta
        self.status.tooltip = text
        self.status.value = text if len(text) <= STATUS_CHARS else text[: STATUS_CHARS - 1] + "…"
