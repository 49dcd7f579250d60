"""The panel for a fitted model: apply it to a region or the whole layer, save it, load it.

Filter2Noise and Noise2Score fit a model in their :class:`~.base.JobWidget`
(with a live preview); this panel then applies it to a region (Shapes
rectangle, current view, current slice: an overlaid layer) or to the whole
layer (tile by tile, in the background, to a zarr store opened lazily), and
saves or loads it (``.safetensors``), or exports it as a bioimage.io package
(:mod:`.export`).  A model is anything with ``save(path)``
and a lazy, tiled ``apply_lazy(array)`` (or the host's ``lazy`` function).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from magicgui.widgets import ComboBox, Container, FileEdit, PushButton

from ..data import ROI, compute_with_progress
from ..denoisers import DENOISERS
from .base import ROI_SCOPES, JobWidget, reported
from .device import device_picker
from .export import export_button
from .jobs import Job
from .params import seed_box, widget_for
from .results import output_edit
from .scope import SCOPES, full_resolution, overlay
from .shapes import colour_region, put_shaped, stage_shaped

__all__ = ["FitWidget", "ModelPanel"]


def _apply_lazy(model: Any, data: Any, roi: ROI) -> Any:
    return model.apply_lazy(data)


def _apply_whole(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    return model.apply


class ModelPanel(Container):
    """Apply, save and load of the model a :class:`~.base.JobWidget` fits.

    Parameters
    ----------
    host : JobWidget
        The widget that fits the model: its layer, job, progress and status are used.
    name : str
        The method: result layers are ``"<layer> [<name><region_tag>]"`` and
        ``"<layer> [<name>, whole]"``; default file names follow it.
    load : callable
        Reads a model from a path (e.g. ``Filter2Noise.load``).
    lazy : callable, optional
        ``lazy(model, data, roi)``: the model's lazy result on ``data`` (the
        ``roi`` of the source layer, or all of it), built on the GUI thread and
        computed in the background; default ``model.apply_lazy(data)``.
    loaded : callable, optional
        Called with a model just loaded (e.g. to show it); input errors it
        raises are reported.
    region_tag : str
        Suffix of the region result's name (keeps it apart from the host's own layers).
    colour : callable, optional
        ``colour(model)``: the function (built on the GUI thread) that a colour
        model (``model.channel_last``, fitted on an RGB layer) applies to a
        region's (H, W, C) pixels; default ``model.apply``.
    """

    def __init__(
        self,
        host: JobWidget,
        name: str,
        load: Callable[[Path], Any],
        *,
        lazy: Callable[[Any, Any, ROI], Any] = _apply_lazy,
        loaded: Callable[[Any], None] | None = None,
        region_tag: str = "",
        colour: Callable[[Any], Callable[[np.ndarray], np.ndarray]] = _apply_whole,
    ):
        super().__init__(labels=True, label="fitted model")
        self.host, self.name, self.region_tag = host, name, region_tag
        self.model: Any | None = None
        self._load, self._lazy, self._loaded, self._colour = load, lazy, loaded, colour
        self.target = ComboBox(
            label="apply to",
            choices=list(SCOPES),
            value="Current slice",
            tooltip="where to apply the fitted model (see scope)",
        )
        self.output = output_edit(
            lambda: f"{host.layer.value or 'image'}_{name}", host.layer.changed
        )
        self.apply_button = PushButton(
            text="Apply fitted model", tooltip="denoise the chosen pixels with the model"
        )
        self.model_path = FileEdit(
            label="model file",
            mode="w",
            filter="*.safetensors",
            value=Path.cwd() / f"{name}.safetensors",
        )
        self.model_path.tooltip = "the model's file (.safetensors, with a .json of settings)"
        self.save_button = PushButton(text="Save model", tooltip="write the model file")
        self.load_button = PushButton(text="Load model", tooltip="read the model file")
        self.export_button = export_button(self)
        self.extend([self.target, self.output, self.apply_button, self.model_path,
                     self.save_button, self.load_button, self.export_button])  # fmt: skip
        self.margins = (0, 0, 0, 0)
        self.target.changed.connect(self._show_output)
        self._show_output()
        for button, ready in ((self.apply_button, self.ready), (self.save_button, self.ready),
                              (self.load_button, lambda: True),
                              (self.export_button, self.ready)):  # fmt: skip
            host.action(button, ready)
        self.apply_button.clicked.connect(self.apply)
        self.save_button.clicked.connect(self.save)
        self.load_button.clicked.connect(self.load)

    def ready(self) -> bool:
        """Whether there is a model to apply or save."""
        return self.model is not None

    def set_model(self, model: Any | None) -> None:
        """Make ``model`` the one applied and saved (None: none)."""
        self.model = model
        self.host.refresh_actions()

    def fit(self, work: Callable[[], Any], layer, roi: ROI, name: str,
            on_fitted: Callable[[Any], None], place: ROI | None = None) -> Job:  # fmt: skip
        """Fit a model on ``roi`` of ``layer`` as the host's job; the panel's model is cleared.

        ``work`` is a generator function yielding steps (their ``info["loss"]``
        goes to the status line, their ``x0_hat`` of the region is previewed
        over it as the layer ``name``, in the source's colours) and returning
        the fit; ``on_fitted(result)`` runs once the preview is the result layer.
        ``place``: the region that places results (an RGB layer's ``roi`` without
        its colour axis, see :meth:`FitWidget.region_of`); the preview is then RGB.
        """
        host = self.host
        self.set_model(None)
        colours = {"rgb": True} if layer.rgb else {"colormap": layer.colormap}
        where = roi if place is None else place
        stage_shaped(host.staged(), layer, where, name)  # the preview/result layer, at the click
        place = dict(overlay(layer, where), contrast_limits=layer.contrast_limits, **colours)

        def done(result: Any) -> None:
            host.keep_previews()  # the preview layer becomes the result layer
            on_fitted(result)

        def stepped(step) -> None:
            loss = (step.info or {}).get("loss")
            if loss is not None:
                host.say(f"step {step.i}/{step.n}, loss {loss:.4g}")
            estimate = np.asarray(step.x0_hat, np.float32).reshape(roi.shape)
            host.show_preview(step, name, estimate, **place)

        host.say(f"fitting on {host.where}...")
        return host.start(work, on_done=done, on_step=stepped)

    def say(self, text: str) -> None:
        """Show ``text`` in the host's status line."""
        self.host.say(text)

    def _show_output(self, event=None) -> None:
        self.output.visible = self.target.value == "Whole layer"

    @reported("apply")
    def apply(self) -> Job | None:
        """Apply the model to :attr:`target`: a region (overlaid) or the whole layer (zarr)."""
        if self.model is None:
            self.say("fit or load a model first")
            return None
        host, model = self.host, self.model
        layer = host.source_layer()
        full = full_resolution(layer)
        colour = bool(getattr(model, "channel_last", False))
        if self.target.value == "Whole layer":
            if colour:
                raise ValueError(
                    "a colour model applies to regions (Shapes rectangle, current view or "
                    "slice); denoise whole RGB layers in the Denoise widget"
                )
            lazy = self._lazy(model, full, ROI.whole(full.shape))
            name = f"{layer.name} [{self.name}, whole]"
            return host.start_whole(layer, lazy, self.output.value, name)
        _, roi, place = colour_region(host, self.target.value)
        if layer.rgb != colour:
            kind = "a colour model" if colour else "a grey model"
            raise ValueError(f"{kind} does not fit {layer.name!r}: fit or load one on it")
        if colour:
            block, apply = full[roi.slices], self._colour(model)
            work = lambda progress: apply(FitWidget.region_image(block, True))  # noqa: E731
        else:
            lazy = self._lazy(model, full[roi.slices], roi)  # read in the worker
            work = lambda progress: compute_with_progress(lazy, progress)  # noqa: E731

        name = f"{layer.name} [{self.name}{self.region_tag}]"
        stage_shaped(host.staged(), layer, place, name)  # the result layer, at the click

        def done(result) -> None:
            put_shaped(host.viewer, layer, place, result, name)
            host.say(f"applied to {roi.shape}")

        host.say(f"applying to {roi.shape}...")
        return host.start(work, on_done=done)

    def save(self, path: str | Path | None = None) -> Path | None:
        """Save the model (default: to :attr:`model_path`); returns the path written."""
        if self.model is None:
            self.say("nothing to save: fit or load a model first")
            return None
        try:
            written = self.model.save(Path(path or self.model_path.value).expanduser())
        except OSError as error:
            self.say(f"cannot save: {error}")
            return None
        self.say(f"saved {written}")
        return written

    @reported("load")
    def load(self, path: str | Path | None = None) -> Any | None:
        """Load a model saved by :meth:`save` (default: from :attr:`model_path`) and show it."""
        self.host.abort()
        source = Path(path or self.model_path.value).expanduser()
        model = self._load(source)
        if self._loaded is not None:
            self._loaded(model)
        self.set_model(model)
        self.say(f"loaded {source.name}")
        return model


class FitWidget(JobWidget):
    """A dock widget that fits a model of ``DENOISERS[method]`` on a region (one 2-D plane).

    It has a seed and one control per parameter of the method (:attr:`params`);
    subclasses add a :class:`ModelPanel` and fit with :meth:`ModelPanel.fit`.
    """

    method = ""
    layer_tooltip = "layer to fit"
    scopes, scope_label, run_text = ROI_SCOPES, "fit on", "Fit"
    preview_interval_s = 0.1

    def __init__(self, viewer) -> None:
        super().__init__(viewer)
        self.seed = seed_box("fit")
        self.device = device_picker()  # torch methods: where the model is fitted and applied
        self.params = Container(label="parameters", labels=True)
        for param in DENOISERS[self.method].params:
            self.params.append(widget_for(param))

    def region_of(self, scope: str | None = None) -> tuple[Any, ROI, ROI]:
        """The layer, the region of its data to read and the region that places results.

        An RGB layer's region keeps its colour axis (the model is fitted in
        colour, channel-last); the placing region is that region without it.
        """
        return colour_region(self, scope)

    @staticmethod
    def region_image(block: Any, rgb: bool) -> np.ndarray:
        """A region's pixels as float32 (H, W), or (H, W, C) for a region of an ``rgb`` layer."""
        data = np.asarray(block, np.float32)
        return data.reshape(data.shape[-3:] if rgb else data.shape[-2:])
